package vector

import (
	"math"
	"sync/atomic"
	"unsafe"

	"github.com/quarry-rag/quarry/internal/kernels"
)

// Quantized traversal (Config.Traverse = TraverseSQ8). Every slot also has
// an 8-bit code per dimension, x[i] ≈ lo[i] + step[i]·code[i], with lo and
// step trained per dimension on the index's own vectors (min and max over
// at most sqMaxTrain slots). A query q is folded into the codes' space
// once: p[i] = q[i]·step[i] is rounded to int8 with one scale s, so
//
//	q·x ≈ Σ q[i]·lo[i] + s·Σ cq[i]·code[i],
//
// whose second sum is one integer dot product (kernels.DotU8I8: one
// VPDPBUSD per 64 bytes) over Dim bytes instead of 4·Dim. The graph is
// built with float32 distances (the same graph as without codes); only
// Search's level-0 walk scores codes, and its ef best candidates are
// re-scored with the float32 vectors, so the returned scores and order
// are exact. Until sqMinTrain vectors are present the walk uses float32.

const (
	sqMinTrain = 1024    // first training when the index reaches this many slots
	sqMaxTrain = 1 << 16 // ranges are retrained at each doubling up to this many slots
	sqAlign    = 64      // codes are padded with zeros to a multiple of 64 bytes
)

// sqState is the code table of TraverseSQ8. The slices and ready change
// only under HNSW.mu held exclusively; codes of a slot are written by
// store under mu held shared, before the slot is linked.
type sqState struct {
	on            bool         // Config.Traverse == TraverseSQ8
	ready         bool         // trained; every stored slot has its code
	pad           int          // bytes per code: Dim rounded up to sqAlign
	codes         []uint8      // capN·pad
	nn            []float32    // capN squared norms of the float32 vectors (L2)
	lo, step, inv []float32    // per dimension; inv = 1/step (0 for a constant dimension)
	next          atomic.Int64 // slot count at which to (re)train
}

// sqInit sets up the code table for an index of dim dimensions.
func (h *HNSW) sqInit() {
	h.sq.on = true
	h.sq.pad = (h.dim + sqAlign - 1) &^ (sqAlign - 1)
	h.sq.next.Store(sqMinTrain)
}

// sqResizeLocked reallocates the per-slot code arrays to capacity nc,
// keeping the first n slots.
func (h *HNSW) sqResizeLocked(n, nc int) {
	codes := makeHuge[uint8](nc * h.sq.pad)
	copy(codes, h.sq.codes[:min(len(h.sq.codes), n*h.sq.pad)])
	h.sq.codes = codes
	if h.l2 {
		h.sq.nn = resize(h.sq.nn, min(len(h.sq.nn), n), nc)
	}
}

// sqEncode writes slot's code for its float32 vector v.
func (h *HNSW) sqEncode(slot uint32, v []float32) {
	c := h.sq.codes[int(slot)*h.sq.pad : int(slot)*h.sq.pad+h.dim]
	lo, inv := h.sq.lo[:len(v)], h.sq.inv[:len(v)]
	for i, x := range v {
		t := (x-lo[i])*inv[i] + 0.5
		t = min(max(t, 0), 255)
		c[i] = uint8(t)
	}
	if h.l2 {
		h.sq.nn[slot] = kernels.Dot(v, v)
	}
}

// maybeTrainSQ trains (or retrains) the ranges when the index has grown to
// the next training size. Caller holds nothing.
func (h *HNSW) maybeTrainSQ() {
	if !h.sq.on || h.count.Load() < h.sq.next.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.count.Load() >= h.sq.next.Load() {
		h.trainSQLocked()
	}
}

// trainSQLocked sets lo and step per dimension from the min and max over
// the stored vectors (an even stride of sqMaxTrain of them when there are
// more) and encodes every slot. Caller holds mu exclusively (or owns h).
func (h *HNSW) trainSQLocked() {
	n := int(h.count.Load())
	if n < sqMinTrain || !h.keepFull {
		return
	}
	if len(h.sq.codes) < h.capN*h.sq.pad {
		h.sqResizeLocked(0, h.capN)
	}
	lo, hi := make([]float32, h.dim), make([]float32, h.dim)
	copy(lo, h.vec(0))
	copy(hi, lo)
	m := min(n, sqMaxTrain)
	for j := range m {
		v := h.vec(uint32(int64(j) * int64(n) / int64(m)))
		for i, x := range v {
			lo[i], hi[i] = min(lo[i], x), max(hi[i], x)
		}
	}
	step, inv := make([]float32, h.dim), make([]float32, h.dim)
	for i := range lo {
		step[i] = (hi[i] - lo[i]) / 255
		if step[i] > 0 {
			inv[i] = 1 / step[i]
		}
	}
	h.sq.lo, h.sq.step, h.sq.inv = lo, step, inv
	for i := range uint32(n) {
		h.sqEncode(i, h.vec(i))
	}
	h.sq.ready = true
	next := int64(2 * n)
	if n >= sqMaxTrain {
		next = math.MaxInt64
	}
	h.sq.next.Store(next)
}

// setSQQuery folds the prepared query v into code space: s.cq (padded with
// zeros) and its scale. The constant term Σ v[i]·lo[i] is left out: it is
// the same for every node, so it changes no comparison of the walk (the
// re-rank computes exact distances). Caller holds mu shared and h.sq.ready.
func (h *HNSW) setSQQuery(s *searcher, q *query, v []float32) {
	if cap(s.cq) < h.sq.pad {
		s.cq = make([]int8, h.sq.pad)
	}
	cq := s.cq[:h.sq.pad]
	step := h.sq.step[:len(v)]
	var amax float32
	for i, x := range v {
		a := math.Float32frombits(math.Float32bits(x*step[i]) &^ (1 << 31))
		if a > amax {
			amax = a
		}
	}
	var scale, inv float32
	if amax > 0 {
		scale, inv = amax/127, 127/amax
	}
	for i, x := range v {
		// Round to nearest: adding 1.5·2²³ leaves the integer in the low
		// mantissa bits (|x·step·inv| ≤ 127).
		t := x*step[i]*inv + 12582912
		cq[i] = int8(int32(math.Float32bits(t)) - 0x4b400000)
	}
	q.cq, q.cs, q.sq = cq, scale, true
	if h.l2 {
		q.nn = kernels.Dot(v, v)
	}
}

// distS is the approximate distance from q (set by setSQQuery) to slot i,
// up to a constant shared by all nodes.
func (h *HNSW) distS(q *query, i uint32) float32 {
	o := int(i) * h.sq.pad
	dot := q.cs * float32(kernels.DotU8I8(h.sq.codes[o:o+h.sq.pad], q.cq))
	if h.l2 {
		return q.nn - 2*dot + h.sq.nn[i]
	}
	return -dot
}

// prefetchS hints slot i's code (sqAlign-aligned, at most a few lines).
func (h *HNSW) prefetchS(i uint32) {
	o := int(i) * h.sq.pad
	for k := 0; k < h.sq.pad; k += 128 {
		kernels.Prefetch(unsafe.Pointer(&h.sq.codes[o+k]))
	}
}
