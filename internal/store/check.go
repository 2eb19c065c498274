package store

import (
	"fmt"
	"math"
)

// MaxDimension bounds a collection's vector dimension.
const MaxDimension = 65536

// CheckVectors validates a write's vectors against the collection's
// dimension (dim 0 = not fixed yet) and returns the dimension they fix:
// one vector per chunk, all of one dimension in 1..MaxDimension, finite
// components, and no vectorless document once the collection has vectors.
// Every backend calls it before writing anything.
func CheckVectors(docs []DocChunks, dim int) (int, error) {
	for i := range docs {
		d := &docs[i]
		if d.Vectors == nil {
			if dim > 0 && len(d.Chunks) > 0 {
				return dim, fmt.Errorf("store: document %q has no vectors but the collection has %d-dimensional ones", d.Doc.ID, dim)
			}
			continue
		}
		if len(d.Vectors) != len(d.Chunks) {
			return dim, fmt.Errorf("store: document %q: %d vectors for %d chunks", d.Doc.ID, len(d.Vectors), len(d.Chunks))
		}
		for j, v := range d.Vectors {
			if dim == 0 {
				dim = len(v)
			}
			if len(v) != dim || dim == 0 || dim > MaxDimension {
				return dim, fmt.Errorf("%w: document %q chunk %d has %d dimensions, the collection %d", ErrDimension, d.Doc.ID, j, len(v), dim)
			}
			for _, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					return dim, fmt.Errorf("store: document %q chunk %d: vector has NaN or infinite components", d.Doc.ID, j)
				}
			}
		}
	}
	return dim, nil
}
