package embedded

import (
	"container/heap"
	"context"
	"encoding/binary"
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/kernels"
	"github.com/quarry-rag/quarry/internal/store"
)

// Vectors live in the bbolt bucket "vectors" (chunk id → little-endian
// float32s) and, for search, in memory indexed by the chunk's internal id.
// Search is exact (a flat scan with the SIMD dot product); the approximate
// indexes (HNSW, IVF) are a later layer over the same table.

var (
	bucketVectors = []byte("vectors")
	keyDim        = []byte("dim")
)

func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeVector(b []byte, dim int) ([]float32, error) {
	if len(b) != 4*dim {
		return nil, fmt.Errorf("%w: vector of %d bytes, want %d", store.ErrCorrupt, len(b), 4*dim)
	}
	v := make([]float32, dim)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// checkVectors validates a write's vectors against the collection's
// dimension (dim 0 = not fixed yet) and returns the dimension they fix.
func checkVectors(docs []store.DocChunks, dim int) (int, error) {
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
			if len(v) != dim || dim == 0 {
				return dim, fmt.Errorf("%w: document %q chunk %d has %d dimensions, the collection %d", store.ErrDimension, d.Doc.ID, j, len(v), dim)
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

// setVectorLocked records the vector of internal id (nil clears it).
func (b *Backend) setVectorLocked(id uint32, v []float32) {
	for int(id) >= len(b.mu.vecs) {
		b.mu.vecs = append(b.mu.vecs, nil)
	}
	if b.mu.vecs[id] != nil {
		b.mu.nvec--
	}
	b.mu.vecs[id] = v
	if v != nil {
		b.mu.nvec++
	}
}

// readVectors reads the stored vectors of a document's chunks.
func readVectors(tx *bolt.Tx, docID string, n, dim int) ([][]float32, error) {
	if dim == 0 {
		return nil, nil
	}
	vb := tx.Bucket(bucketVectors)
	out := make([][]float32, n)
	for i := range out {
		raw := vb.Get([]byte(base.ChunkID(docID, i)))
		if raw == nil {
			return nil, fmt.Errorf("%w: chunk %q has no vector", store.ErrCorrupt, base.ChunkID(docID, i))
		}
		v, err := decodeVector(raw, dim)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// loadVectorsLocked fills the in-memory table for every catalogued chunk.
func (b *Backend) loadVectorsLocked() error {
	b.mu.vecs, b.mu.nvec = nil, 0
	if b.dim == 0 {
		return nil
	}
	return b.db.View(func(tx *bolt.Tx) error {
		for i := range b.mu.cat.docs {
			e := &b.mu.cat.docs[i]
			if !e.live {
				continue
			}
			vs, err := readVectors(tx, e.attrs.ID, len(e.ids), b.dim)
			if err != nil {
				return err
			}
			for j, id := range e.ids {
				b.setVectorLocked(id, vs[j])
			}
		}
		return nil
	})
}

// Dense implements store.Backend with an exact scan.
func (b *Backend) Dense(ctx context.Context, q store.DenseQuery) ([]base.Hit, error) {
	if q.K <= 0 {
		return nil, nil
	}
	b.mu.RLock()
	if b.mu.closed {
		b.mu.RUnlock()
		return nil, store.ErrClosed
	}
	if b.dim == 0 || b.mu.nvec == 0 {
		b.mu.RUnlock()
		return nil, nil
	}
	if len(q.Vector) != b.dim {
		b.mu.RUnlock()
		return nil, fmt.Errorf("%w: query has %d dimensions, the collection %d", store.ErrDimension, len(q.Vector), b.dim)
	}
	accept := b.mu.cat.acceptFunc(q.Scope)
	h := make(scoreHeap, 0, q.K+1)
	for id, v := range b.mu.vecs {
		if v == nil || (accept != nil && !accept(uint32(id))) {
			continue
		}
		s := kernels.Dot(q.Vector, v)
		if len(h) < q.K {
			heap.Push(&h, scored{uint32(id), s})
		} else if s > h[0].score {
			h[0] = scored{uint32(id), s}
			heap.Fix(&h, 0)
		}
	}
	hits := make([]base.Hit, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		x := heap.Pop(&h).(scored)
		key := b.mu.ix.Key(x.id)
		docID, ord, _ := base.ParseChunkID(key)
		a := &b.mu.cat.docs[b.mu.cat.byID[x.id]].attrs
		hits[i] = base.Hit{ChunkID: key, DocID: docID, Ordinal: ord, Score: float64(x.score), Title: a.Title}
	}
	b.mu.RUnlock()
	if q.NoText {
		return hits, nil
	}
	return hits, b.fillText(hits)
}

type scored struct {
	id    uint32
	score float32
}

// scoreHeap is a min-heap on score (ties: higher id first out, so the kept
// set prefers lower ids, deterministically).
type scoreHeap []scored

func (h scoreHeap) Len() int { return len(h) }
func (h scoreHeap) Less(i, j int) bool {
	if h[i].score != h[j].score {
		return h[i].score < h[j].score
	}
	return h[i].id > h[j].id
}
func (h scoreHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *scoreHeap) Push(x any)   { *h = append(*h, x.(scored)) }
func (h *scoreHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
