// Package vector is Quarry's approximate nearest-neighbour index: an HNSW
// graph over caller-supplied uint32 ids. The index keeps its own copy of each
// float32 vector (Dim*4 bytes per vector plus links).
//
// Concurrency: one sync.RWMutex; Search holds the read lock (searches run in
// parallel), Add/Delete/Compact hold the write lock. Coarse but race-free.
//
// Status: int8 quantization is not implemented yet (Config.Quantize must be "").
package vector

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"sort"
	"sync"

	"github.com/quarry-rag/quarry/internal/kernels"
)

// Metric selects the similarity; scores are "higher is better".
type Metric uint8

const (
	Dot    Metric = iota // inner product, for normalised vectors (default)
	Cosine               // vectors are normalised on Add and Search
	L2                   // score is -squared distance
)

var (
	ErrDim     = errors.New("vector: wrong dimension")
	ErrNotFin  = errors.New("vector: NaN or infinite component")
	ErrConfig  = errors.New("vector: invalid config")
	ErrCorrupt = errors.New("vector: corrupt index file")
)

// Config of an index. Zero fields take the documented defaults in New.
type Config struct {
	Dim            int    // required, 1..65536
	Metric         Metric // default Dot
	M              int    // default 16, 2..128
	EfConstruction int    // default 200, M..4096
	EfSearch       int    // default 64, 1..4096
	Quantize       string // "" only (int8 not yet implemented)
	Seed           int64
}

func (c *Config) ensureDefaults() {
	if c.M == 0 {
		c.M = 16
	}
	if c.EfConstruction == 0 {
		c.EfConstruction = 200
	}
	if c.EfSearch == 0 {
		c.EfSearch = 64
	}
}

// Validate reports a config that New would reject (after defaults).
func (c Config) Validate() error {
	c.ensureDefaults()
	switch {
	case c.Dim < 1 || c.Dim > 65536:
		return fmt.Errorf("%w: Dim %d out of range 1..65536", ErrConfig, c.Dim)
	case c.Metric > L2:
		return fmt.Errorf("%w: unknown metric %d", ErrConfig, c.Metric)
	case c.M < 2 || c.M > 128:
		return fmt.Errorf("%w: M %d out of range 2..128", ErrConfig, c.M)
	case c.EfConstruction < c.M || c.EfConstruction > 4096:
		return fmt.Errorf("%w: EfConstruction %d out of range M..4096", ErrConfig, c.EfConstruction)
	case c.EfSearch < 1 || c.EfSearch > 4096:
		return fmt.Errorf("%w: EfSearch %d out of range 1..4096", ErrConfig, c.EfSearch)
	case c.Quantize != "":
		return fmt.Errorf("%w: Quantize %q not supported", ErrConfig, c.Quantize)
	}
	return nil
}

// Result is one hit, best first.
type Result struct {
	ID    uint32
	Score float32
}

// Stats describes memory use.
type Stats struct{ Vectors, Deleted, BytesPerVector, Bytes int }

type node struct {
	id      uint32
	vec     []float32
	links   [][]uint32 // per level, internal node indices
	deleted bool
}

// HNSW is the index. Safe for concurrent use.
type HNSW struct {
	mu    sync.RWMutex
	cfg   Config
	nodes []*node
	byID  map[uint32]uint32
	entry int32
	maxL  int
	live  int
	rng   *rand.Rand
	ml    float64
}

// New returns an empty index.
func New(cfg Config) (*HNSW, error) {
	cfg.ensureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &HNSW{cfg: cfg, byID: map[uint32]uint32{}, entry: -1,
		rng: rand.New(rand.NewSource(cfg.Seed)), ml: 1 / math.Log(float64(cfg.M))}, nil
}

func (h *HNSW) prep(v []float32) ([]float32, error) {
	if len(v) != h.cfg.Dim {
		return nil, fmt.Errorf("%w: got %d, want %d", ErrDim, len(v), h.cfg.Dim)
	}
	out := make([]float32, len(v))
	var n float64
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("%w at %d", ErrNotFin, i)
		}
		out[i] = x
		n += float64(x) * float64(x)
	}
	if h.cfg.Metric == Cosine && n > 0 {
		s := float32(1 / math.Sqrt(n))
		for i := range out {
			out[i] *= s
		}
	}
	return out, nil
}

func (h *HNSW) score(a, b []float32) float32 {
	if h.cfg.Metric == L2 {
		var s float32
		for i := range a {
			d := a[i] - b[i]
			s += d * d
		}
		return -s
	}
	return kernels.Dot(a, b)
}

type cand struct {
	n int32
	s float32
}
type minH []cand // worst on top

func (q minH) Len() int           { return len(q) }
func (q minH) Less(i, j int) bool { return q[i].s < q[j].s }
func (q minH) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *minH) Push(x any)        { *q = append(*q, x.(cand)) }
func (q *minH) Pop() any          { o := *q; x := o[len(o)-1]; *q = o[:len(o)-1]; return x }

type maxH struct{ minH }

func (q maxH) Less(i, j int) bool { return q.minH[i].s > q.minH[j].s }

// searchLayer returns up to ef best nodes at level l, best first.
func (h *HNSW) searchLayer(q []float32, eps []cand, ef, l int, keep func(int32) bool) []cand {
	visited := make(map[int32]struct{}, ef*4)
	var res minH
	cands := &maxH{}
	for _, e := range eps {
		visited[e.n] = struct{}{}
		heap.Push(cands, e)
		if keep == nil || keep(e.n) {
			heap.Push(&res, e)
		}
	}
	for cands.Len() > 0 {
		c := heap.Pop(cands).(cand)
		if res.Len() >= ef && c.s < res[0].s {
			break
		}
		nd := h.nodes[c.n]
		if l >= len(nd.links) {
			continue
		}
		for _, nb := range nd.links[l] {
			if _, ok := visited[int32(nb)]; ok {
				continue
			}
			visited[int32(nb)] = struct{}{}
			s := h.score(q, h.nodes[nb].vec)
			if res.Len() < ef || s > res[0].s {
				heap.Push(cands, cand{int32(nb), s})
				if keep == nil || keep(int32(nb)) {
					heap.Push(&res, cand{int32(nb), s})
					if res.Len() > ef {
						heap.Pop(&res)
					}
				}
			}
		}
	}
	out := []cand(res)
	sort.Slice(out, func(i, j int) bool { return out[i].s > out[j].s })
	return out
}

// selectNeighbors applies the HNSW heuristic to candidates (best first).
func (h *HNSW) selectNeighbors(cs []cand, m int) []uint32 {
	out := make([]uint32, 0, m)
	for _, c := range cs {
		if len(out) >= m {
			break
		}
		ok := true
		for _, o := range out {
			if h.score(h.nodes[c.n].vec, h.nodes[o].vec) > c.s {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, uint32(c.n))
		}
	}
	for _, c := range cs { // fill up to m
		if len(out) >= m {
			break
		}
		dup := false
		for _, o := range out {
			dup = dup || o == uint32(c.n)
		}
		if !dup {
			out = append(out, uint32(c.n))
		}
	}
	return out
}

// Add inserts v under id, replacing an existing id.
func (h *HNSW) Add(id uint32, v []float32) error {
	vec, err := h.prep(v)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if old, ok := h.byID[id]; ok && !h.nodes[old].deleted {
		h.deleteLocked(old)
	}
	lvl := int(-math.Log(1-h.rng.Float64()) * h.ml)
	h.insertLocked(&node{id: id, vec: vec, links: make([][]uint32, lvl+1)})
	return nil
}

func (h *HNSW) insertLocked(nd *node) {
	idx := int32(len(h.nodes))
	h.nodes = append(h.nodes, nd)
	h.byID[nd.id] = uint32(idx)
	h.live++
	lvl := len(nd.links) - 1
	if h.entry < 0 {
		h.entry, h.maxL = idx, lvl
		return
	}
	ep := []cand{{h.entry, h.score(nd.vec, h.nodes[h.entry].vec)}}
	for l := h.maxL; l > lvl; l-- {
		ep = h.searchLayer(nd.vec, ep, 1, l, nil)[:1]
	}
	for l := min(lvl, h.maxL); l >= 0; l-- {
		cs := h.searchLayer(nd.vec, ep, h.cfg.EfConstruction, l, nil)
		m := h.cfg.M
		if l == 0 {
			m *= 2
		}
		nd.links[l] = h.selectNeighbors(cs, m)
		for _, nb := range nd.links[l] {
			h.linkLocked(nb, uint32(idx), l, m)
		}
		ep = cs
	}
	if lvl > h.maxL {
		h.entry, h.maxL = idx, lvl
	}
}

func (h *HNSW) linkLocked(from, to uint32, l, m int) {
	f := h.nodes[from]
	f.links[l] = append(f.links[l], to)
	if len(f.links[l]) <= m {
		return
	}
	cs := make([]cand, len(f.links[l]))
	for i, n := range f.links[l] {
		cs[i] = cand{int32(n), h.score(f.vec, h.nodes[n].vec)}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].s > cs[j].s })
	f.links[l] = h.selectNeighbors(cs, m)
}

// Delete tombstones id; it is never returned again. Reports whether id was live.
func (h *HNSW) Delete(id uint32) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	i, ok := h.byID[id]
	if !ok || h.nodes[i].deleted {
		return false
	}
	h.deleteLocked(i)
	return true
}

func (h *HNSW) deleteLocked(i uint32) {
	h.nodes[i].deleted = true
	delete(h.byID, h.nodes[i].id)
	h.live--
}

// Len is the number of live vectors.
func (h *HNSW) Len() int { h.mu.RLock(); defer h.mu.RUnlock(); return h.live }

// Stats reports counts and approximate memory.
func (h *HNSW) Stats() Stats {
	h.mu.RLock()
	defer h.mu.RUnlock()
	b := 0
	for _, n := range h.nodes {
		b += 4*len(n.vec) + 64
		for _, l := range n.links {
			b += 4*cap(l) + 24
		}
	}
	s := Stats{Vectors: h.live, Deleted: len(h.nodes) - h.live, Bytes: b}
	if len(h.nodes) > 0 {
		s.BytesPerVector = b / len(h.nodes)
	}
	return s
}

// Search returns the k best live ids accepted by accept (nil accepts all).
// ef <= 0 uses Config.EfSearch. Selective filters (< 3% of a 256-id sample)
// fall back to an exact scan.
func (h *HNSW) Search(q []float32, k int, ef int, accept func(id uint32) bool) ([]Result, error) {
	qv, err := h.prep(q)
	if err != nil {
		return nil, err
	}
	if k < 1 || ef > 4096 || ef < 0 {
		return nil, fmt.Errorf("%w: k %d / ef %d out of range", ErrConfig, k, ef)
	}
	if ef == 0 {
		ef = h.cfg.EfSearch
	}
	ef = max(ef, k)
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.entry < 0 || h.live == 0 {
		return nil, nil
	}
	keep := func(n int32) bool {
		nd := h.nodes[n]
		return !nd.deleted && (accept == nil || accept(nd.id))
	}
	if accept != nil || h.live*10 < len(h.nodes)*7 {
		r := rand.New(rand.NewSource(int64(len(h.nodes))))
		hit, tot := 0, min(256, len(h.nodes))
		for range tot {
			if keep(int32(r.Intn(len(h.nodes)))) {
				hit++
			}
		}
		sel := float64(hit) / float64(tot)
		if sel < 0.03 {
			return h.exactLocked(qv, k, keep), nil
		}
		ef = min(4096, int(float64(ef)/math.Max(sel, 0.1)))
	}
	ep := []cand{{h.entry, h.score(qv, h.nodes[h.entry].vec)}}
	for l := h.maxL; l > 0; l-- {
		ep = h.searchLayer(qv, ep, 1, l, nil)[:1]
	}
	cs := h.searchLayer(qv, ep, ef, 0, keep)
	out := make([]Result, 0, k)
	for _, c := range cs {
		if len(out) == k {
			break
		}
		out = append(out, Result{h.nodes[c.n].id, c.s})
	}
	return out, nil
}

func (h *HNSW) exactLocked(q []float32, k int, keep func(int32) bool) []Result {
	var res minH
	for i := range h.nodes {
		if !keep(int32(i)) {
			continue
		}
		s := h.score(q, h.nodes[i].vec)
		if res.Len() < k {
			heap.Push(&res, cand{int32(i), s})
		} else if s > res[0].s {
			res[0] = cand{int32(i), s}
			heap.Fix(&res, 0)
		}
	}
	sort.Slice(res, func(i, j int) bool { return res[i].s > res[j].s })
	out := make([]Result, len(res))
	for i, c := range res {
		out[i] = Result{h.nodes[c.n].id, c.s}
	}
	return out
}

// Compact drops tombstones by rebuilding the graph from live vectors.
func (h *HNSW) Compact() {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.nodes
	h.nodes, h.byID, h.entry, h.maxL, h.live = nil, map[uint32]uint32{}, -1, 0, 0
	for _, n := range old {
		if !n.deleted {
			h.insertLocked(&node{id: n.id, vec: n.vec, links: make([][]uint32, len(n.links))})
		}
	}
}
