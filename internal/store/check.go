package store

import (
	"fmt"
	"math"

	"github.com/quarry-rag/quarry/internal/base"
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

// CheckDocChunks reports a document without an id, or a chunk whose id,
// document id or ordinal does not follow from its position (base.ChunkID):
// both backends rely on that numbering to replace and delete chunks.
func CheckDocChunks(dc *DocChunks) error {
	if dc.Doc.ID == "" {
		return fmt.Errorf("store: document without id")
	}
	for i, c := range dc.Chunks {
		if c.DocID != dc.Doc.ID || c.Ordinal != i || c.ID != base.ChunkID(dc.Doc.ID, i) {
			return fmt.Errorf("store: document %q: chunk %d has id %q, doc %q, ordinal %d", dc.Doc.ID, i, c.ID, c.DocID, c.Ordinal)
		}
	}
	return nil
}
