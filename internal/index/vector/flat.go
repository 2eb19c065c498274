package vector

import (
	"container/heap"
	"io"

	"github.com/quarry-rag/quarry/internal/kernels"
)

// Flat is an exact scan over float32 vectors kept in memory by id, scored
// by inner product (the vectors are expected normalised, as the store's
// are). It keeps the slices it is given (the caller must not modify them)
// and persists nothing: its owner rebuilds it from where the vectors live.
// Not safe for concurrent use with writes; the owner locks.
type Flat struct {
	dim  int
	vecs [][]float32 // by id; nil = none
	n    int
}

var _ Index = (*Flat)(nil)

// NewFlat returns an empty exact index of dim-dimensional vectors.
func NewFlat(dim int) *Flat { return &Flat{dim: dim} }

// Add stores v under id (replacing any vector it had).
func (f *Flat) Add(id uint32, v []float32) error {
	for int(id) >= len(f.vecs) {
		f.vecs = append(f.vecs, nil)
	}
	if f.vecs[id] == nil {
		f.n++
	}
	f.vecs[id] = v
	return nil
}

// Delete drops id's vector and reports whether it had one.
func (f *Flat) Delete(id uint32) bool {
	if int(id) >= len(f.vecs) || f.vecs[id] == nil {
		return false
	}
	f.vecs[id] = nil
	f.n--
	return true
}

// Get returns id's vector, or nil.
func (f *Flat) Get(id uint32) []float32 {
	if int(id) >= len(f.vecs) {
		return nil
	}
	return f.vecs[id]
}

// All yields every stored vector in id order.
func (f *Flat) All(yield func(id uint32, v []float32)) {
	for id, v := range f.vecs {
		if v != nil {
			yield(uint32(id), v)
		}
	}
}

// Search returns the k best accepted vectors by inner product with q, best
// first (ties: lower id first). The effort is ignored: the scan is exact.
func (f *Flat) Search(q []float32, k, _ int, accept func(id uint32) bool) ([]Result, error) {
	return TopK(k, func(yield func(id uint32, v []float32)) {
		for id, v := range f.vecs {
			if v != nil && (accept == nil || accept(uint32(id))) {
				yield(uint32(id), v)
			}
		}
	}, q), nil
}

// Len is the number of stored vectors.
func (f *Flat) Len() int { return f.n }

// Stats estimates the memory of the table: the floats and a slice header
// per vector, a header per empty slot.
func (f *Flat) Stats() Stats {
	per := 4*f.dim + 24
	st := Stats{Vectors: f.n, Bytes: f.n*per + 24*(len(f.vecs)-f.n)}
	if f.n > 0 {
		st.BytesPerVector = st.Bytes / f.n
	}
	return st
}

// WriteTo writes nothing: a Flat is rebuilt from its owner's store.
func (f *Flat) WriteTo(io.Writer) (int64, error) { return 0, nil }

// TopK scores every vector each yields against q by inner product and
// keeps the k best, best first (ties: lower id first). each may reuse the
// slice it yields.
func TopK(k int, each func(yield func(id uint32, v []float32)), q []float32) []Result {
	h := make(scoreHeap, 0, k+1)
	each(func(id uint32, v []float32) {
		s := kernels.Dot(q, v)
		if len(h) < k {
			heap.Push(&h, Result{id, s})
		} else if s > h[0].Score || (s == h[0].Score && id < h[0].ID) {
			h[0] = Result{id, s}
			heap.Fix(&h, 0)
		}
	})
	out := make([]Result, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		out[i] = heap.Pop(&h).(Result)
	}
	return out
}

// scoreHeap is a min-heap on score (ties: higher id first out, so the kept
// set prefers lower ids, deterministically).
type scoreHeap []Result

func (h scoreHeap) Len() int { return len(h) }
func (h scoreHeap) Less(i, j int) bool {
	if h[i].Score != h[j].Score {
		return h[i].Score < h[j].Score
	}
	return h[i].ID > h[j].ID
}
func (h scoreHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *scoreHeap) Push(x any)   { *h = append(*h, x.(Result)) }
func (h *scoreHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
