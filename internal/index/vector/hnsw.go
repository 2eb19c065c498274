package vector

import (
	"fmt"
	"math"
	"math/rand"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/quarry-rag/quarry/internal/kernels"
)

// lockStripes is the number of link-list locks; node i uses i%lockStripes.
const lockStripes = 1024

// HNSW is a hierarchical navigable small-world graph over uint32 ids. Safe
// for concurrent use (see the package doc for the locking scheme).
type HNSW struct {
	cfg      Config
	dim      int
	m, m0    int     // link capacity on upper levels and on level 0
	ml       float64 // level multiplier 1/ln(M)
	quant    bool    // int8 codes drive traversal
	l2       bool    // Metric == L2
	keepFull bool    // the index holds float32 vectors
	full     atomic.Pointer[FullFunc]
	sq       sqState // codes of TraverseSQ8 (sq8.go)

	// mu is held shared by every operation that reads or links nodes, and
	// exclusively to grow the arrays below and by Compact, WriteTo. The
	// slice headers below change only under mu held exclusively; their
	// elements are written as described on each field.
	mu   sync.RWMutex
	capN int
	// blk holds, per slot, one block of stride words: the float32 vector
	// (dim words, only when keepFull), then the level-0 list (count, then
	// m0 neighbours), then padding to a multiple of 16 words so that every
	// block, and so every vector, starts on a 64-byte cache line (large Go
	// allocations are page aligned). A search that scores a node and then
	// expands it touches one region instead of two arrays (as hnswlib's
	// data_level0_memory_). The vector words are read as float32 through
	// unsafe.Slice over the same memory (vec): a reinterpretation of
	// in-memory words, not an encoding, so byte order does not matter; the
	// file format keeps separate vector and link sections (persist.go).
	// The vector is written once per slot before it is linked; the list
	// words only with atomics.
	blk    []uint32
	stride int        // words per block
	lOff   int        // offset of the level-0 list in a block (dim or 0)
	codes  []int8     // capN·dim int8 codes (quant)
	meta   []float32  // capN·metaStride quantization parameters (quant)
	upper  [][]uint32 // per slot, levels 1..L as L·(m+1) (count, neighbours); atomics only
	levels []uint8    // written once per slot before it is linked
	ids    []uint32   // slot → caller id; written once per slot before it is linked
	live   []uint32   // bitset of live slots; atomics only

	// alloc serialises slot allocation and the id map.
	alloc struct {
		sync.Mutex
		n    int               // slots in use (also in count)
		byID map[uint32]uint32 // live (or being inserted) id → slot
		rng  *rand.Rand
	}
	count     atomic.Int64  // slots in use, readable without alloc
	liveCount atomic.Int64  // live vectors
	ep        atomic.Uint64 // entry point: level<<32 | slot; emptyEP when empty
	epMu      sync.Mutex    // held by an insert that raises the top level
	locks     [lockStripes]sync.Mutex

	// free holds idle searchers. Not a sync.Pool: that is emptied at every
	// GC, and re-allocating visited lists (2 bytes per slot) per query
	// would itself drive the GC.
	free struct {
		sync.Mutex
		list []*searcher
	}
}

// emptyEP is the entry point of an empty graph.
const emptyEP = math.MaxUint64

// New returns an empty index.
func New(cfg Config) (*HNSW, error) {
	cfg.ensureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &HNSW{
		cfg: cfg, dim: cfg.Dim, m: cfg.M, m0: 2 * cfg.M,
		ml:    1 / math.Log(float64(cfg.M)),
		quant: cfg.Quantize == QuantInt8,
		l2:    cfg.Metric == L2,
	}
	h.setKeepFull(!h.quant || cfg.Full == nil)
	if cfg.Full != nil {
		f := cfg.Full
		h.full.Store(&f)
	}
	h.cfg.Full = nil
	if cfg.Traverse == TraverseSQ8 {
		h.sqInit()
	}
	h.alloc.byID = map[uint32]uint32{}
	h.alloc.rng = rand.New(rand.NewSource(cfg.Seed))
	h.ep.Store(emptyEP)
	return h, nil
}

// setKeepFull chooses whether blocks hold the float32 vector and sets the
// block geometry accordingly. Only before any slot is allocated.
func (h *HNSW) setKeepFull(on bool) {
	h.keepFull = on
	h.lOff, h.stride = 0, h.m0+1
	if on {
		h.lOff = h.dim
		h.stride = (h.dim + h.m0 + 1 + 15) &^ 15
	}
}

// SetFull sets (or, with nil, clears) the source of float32 vectors used to
// rescore int8 candidates; see Config.Full. It matters only for an int8
// index that does not hold float32 vectors itself.
func (h *HNSW) SetFull(f FullFunc) {
	if f == nil {
		h.full.Store(nil)
		return
	}
	h.full.Store(&f)
}

// Config returns the index's configuration (without Full).
func (h *HNSW) Config() Config { return h.cfg }

// Len is the number of live vectors.
func (h *HNSW) Len() int { return int(h.liveCount.Load()) }

// isLive reports slot i's live bit.
func (h *HNSW) isLive(i uint32) bool {
	return atomic.LoadUint32(&h.live[i>>5])&(1<<(i&31)) != 0
}

// setLive sets or clears slot i's live bit.
func (h *HNSW) setLive(i uint32, on bool) {
	w := &h.live[i>>5]
	bit := uint32(1) << (i & 31)
	for {
		old := atomic.LoadUint32(w)
		nw := old &^ bit
		if on {
			nw = old | bit
		}
		if atomic.CompareAndSwapUint32(w, old, nw) {
			return
		}
	}
}

// linksOf returns node i's list at level l: [count, n1, …, ncap].
func (h *HNSW) linksOf(i uint32, l int) []uint32 {
	if l == 0 {
		o := int(i)*h.stride + h.lOff
		return h.blk[o : o+h.m0+1]
	}
	o := (l - 1) * (h.m + 1)
	return h.upper[i][o : o+h.m+1]
}

// vec is slot i's float32 vector (only when the index keeps them).
func (h *HNSW) vec(i uint32) []float32 {
	b := h.blk[int(i)*h.stride:]
	_ = b[h.dim-1]
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), h.dim)
}

// dist is the distance from q to node i (int8 codes when quantized).
func (h *HNSW) dist(q *query, i uint32) float32 {
	if q.sq {
		return h.distS(q, i)
	}
	if h.quant {
		return h.distQ(q, i)
	}
	return h.distF(q, i)
}

// distF is dist for float32 vectors; small enough to inline.
func (h *HNSW) distF(q *query, i uint32) float32 {
	v := h.vec(i)
	if h.l2 {
		return kernels.L2Sq(q.v, v)
	}
	return -kernels.DotF32(q.v, v)
}

// distQ is dist for int8 codes.
func (h *HNSW) distQ(q *query, i uint32) float32 {
	o, mo := int(i)*h.dim, int(i)*metaStride
	return qdist(h.cfg.Metric, q, h.codes[o:o+h.dim], h.meta[mo:mo+metaStride])
}

// nodeQuery makes node i the query of s.nq (decoding its code when
// quantized) for distances from i to other nodes.
func (h *HNSW) nodeQuery(s *searcher, i uint32) *query {
	if !h.quant {
		s.nq.v = h.vec(i)
		return &s.nq
	}
	o, mo := int(i)*h.dim, int(i)*metaStride
	s.nq.sum = dequantize(s.nbuf[:h.dim], h.codes[o:o+h.dim], h.meta[mo:mo+metaStride])
	s.nq.v, s.nq.nn = s.nbuf[:h.dim], h.meta[mo+2]
	return &s.nq
}

// searcher is the per-goroutine scratch of a traversal.
type searcher struct {
	vis   visited
	cand  minHeap
	res   maxHeap
	sel   []item
	tmp   []item
	sel2  []item
	batch []uint32
	tmp2  []item
	q, nq query
	qbuf  []float32
	nbuf  []float32
	nbuf2 []float32
	cq    []int8 // the query's sq8 code (TraverseSQ8)
}

// getSearcher takes an idle searcher or makes one.
func (h *HNSW) getSearcher() *searcher {
	h.free.Lock()
	if n := len(h.free.list); n > 0 {
		s := h.free.list[n-1]
		h.free.list = h.free.list[:n-1]
		h.free.Unlock()
		return s
	}
	h.free.Unlock()
	return &searcher{qbuf: make([]float32, h.dim), nbuf: make([]float32, h.dim), nbuf2: make([]float32, h.dim)}
}

// putSearcher returns s to the free list (at most 64 are kept).
func (h *HNSW) putSearcher(s *searcher) {
	h.free.Lock()
	if len(h.free.list) < 64 {
		h.free.list = append(h.free.list, s)
	}
	h.free.Unlock()
}

// grow makes room for need more slots. Caller holds nothing.
func (h *HNSW) grow(need int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.alloc.Lock()
	n := h.alloc.n
	h.alloc.Unlock()
	if n+need <= h.capN {
		return
	}
	// A batch larger than the growth step is sized exactly (one AddBatch
	// of everything allocates once); smaller ones grow geometrically, so
	// many small batches do not copy the arrays once each.
	h.resizeLocked(max(n+need, growCap(h.capN), 256))
}

// growCap is the capacity after c when one more slot is needed: doubling
// while small, then 1.25× (every slot array is copied on growth, so the
// peak while growing is old + new: 3× the old size when doubling, 2.25× at
// 1.25×, and the slack left after the last growth is at most 25%).
func growCap(c int) int {
	if c < 1<<14 {
		return 2 * c
	}
	return c + c/4
}

// Reserve makes room for n slots in total (live, tombstoned and being
// inserted), so that adding up to n vectors one at a time allocates the
// per-slot arrays once instead of growing them. A smaller n than the
// current capacity does nothing. Returns an error for n out of range.
func (h *HNSW) Reserve(n int) error {
	if n < 0 || n > 1<<31 {
		return fmt.Errorf("%w: Reserve %d out of range 0..%d", ErrConfig, n, 1<<31)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if n > h.capN {
		h.resizeLocked(n)
	}
	return nil
}

// resizeLocked reallocates every per-slot array to capacity nc ≥ count.
func (h *HNSW) resizeLocked(nc int) {
	n := int(h.count.Load())
	blk := makeHuge[uint32](nc * h.stride)
	copy(blk, h.blk[:n*h.stride])
	h.blk = blk
	if h.quant {
		codes := makeHuge[int8](nc * h.dim)
		copy(codes, h.codes[:n*h.dim])
		h.codes = codes
		h.meta = resize(h.meta, n*metaStride, nc*metaStride)
	}
	if h.sq.on {
		h.sqResizeLocked(n, nc)
	}
	h.upper = resize(h.upper, n, nc)
	h.levels = resize(h.levels, n, nc)
	h.ids = resize(h.ids, n, nc)
	h.live = resize(h.live, (n+31)/32, (nc+31)/32)
	h.capN = nc
}

// makeHuge allocates a slice of n items, hinted to huge pages before it is
// first touched (the big arrays that searches read at random).
func makeHuge[T uint32 | int8 | uint8](n int) []T {
	s := make([]T, n)
	if n > 0 {
		adviseHuge(unsafe.Pointer(&s[0]), uintptr(n)*unsafe.Sizeof(s[0]))
	}
	return s
}

// resize returns a slice of length n holding the first keep items of s.
func resize[T any](s []T, keep, n int) []T {
	out := make([]T, n)
	copy(out, s[:keep])
	return out
}

// randomLevel draws a node level from the geometric distribution of the
// paper (mL = 1/ln M). Caller holds alloc.
func (h *HNSW) randomLevel() int {
	l := int(-math.Log(1-h.alloc.rng.Float64()) * h.ml)
	return min(l, maxLvl)
}
