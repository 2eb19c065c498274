package vector

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/quarry-rag/quarry/internal/kernels"
)

// Add inserts v under id, replacing an existing id (the old vector is
// tombstoned). v is copied.
func (h *HNSW) Add(id uint32, v []float32) error {
	defer h.maybeTrainSQ() // after the shared lock below is released
	s := h.getSearcher()
	defer h.putSearcher(s)
	vec, err := prep(s.qbuf, v, h.dim, h.cfg.Metric)
	if err != nil {
		return fmt.Errorf("vector: add id %d: %w", id, err)
	}
	ids := [1]uint32{id}
	first := h.allocate(ids[:])
	defer h.mu.RUnlock()
	h.store(first, vec)
	h.insert(s, first, vec)
	h.finish(id, first)
	return nil
}

// AddBatch inserts vecs[i] under ids[i] on workers goroutines (≤ 0 means
// GOMAXPROCS). Every vector is validated before any is inserted, so a bad
// input leaves the index unchanged. Ids repeated in the batch keep the last
// vector.
func (h *HNSW) AddBatch(ids []uint32, vecs [][]float32, workers int) error {
	if len(ids) != len(vecs) {
		return fmt.Errorf("%w: AddBatch with %d ids and %d vectors", ErrConfig, len(ids), len(vecs))
	}
	if len(ids) == 0 {
		return nil
	}
	buf := make([]float32, h.dim)
	for i, v := range vecs {
		if _, err := prep(buf, v, h.dim, Dot); err != nil {
			return fmt.Errorf("vector: add id %d: %w", ids[i], err)
		}
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(ids))
	defer h.maybeTrainSQ() // after the shared lock below is released
	first := h.allocate(ids)
	defer h.mu.RUnlock()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := h.getSearcher()
			defer h.putSearcher(s)
			for {
				k := int(next.Add(1) - 1)
				if k >= len(ids) {
					return
				}
				slot := first + uint32(k)
				vec, _ := prep(s.qbuf, vecs[k], h.dim, h.cfg.Metric)
				h.store(slot, vec)
				h.insert(s, slot, vec)
				h.finish(ids[k], slot)
			}
		}()
	}
	wg.Wait()
	return nil
}

// allocate reserves consecutive slots for ids, draws their levels and maps
// the ids to them (tombstoning replaced vectors). It returns the first slot
// with h.mu held shared.
func (h *HNSW) allocate(ids []uint32) uint32 {
	for {
		h.mu.RLock()
		h.alloc.Lock()
		if h.alloc.n+len(ids) <= h.capN {
			first := uint32(h.alloc.n)
			for k, id := range ids {
				slot := first + uint32(k)
				if old, ok := h.alloc.byID[id]; ok && h.isLive(old) {
					h.setLive(old, false)
					h.liveCount.Add(-1)
				}
				h.alloc.byID[id] = slot
				lvl := h.randomLevel()
				h.levels[slot] = uint8(lvl)
				h.ids[slot] = id
				if lvl > 0 {
					h.upper[slot] = make([]uint32, lvl*(h.m+1))
				}
			}
			h.alloc.n += len(ids)
			h.count.Store(int64(h.alloc.n))
			h.alloc.Unlock()
			return first
		}
		h.alloc.Unlock()
		h.mu.RUnlock()
		h.grow(len(ids))
	}
}

// store writes the prepared vector of slot.
func (h *HNSW) store(slot uint32, vec []float32) {
	o := int(slot) * h.dim
	if h.keepFull {
		copy(h.vec(slot), vec)
	}
	if h.quant {
		quantize(h.codes[o:o+h.dim], h.meta[int(slot)*metaStride:int(slot)*metaStride+metaStride], vec)
	}
	if h.sq.ready {
		h.sqEncode(slot, vec)
	}
}

// finish makes slot live unless id was deleted or replaced meanwhile.
func (h *HNSW) finish(id, slot uint32) {
	h.alloc.Lock()
	if cur, ok := h.alloc.byID[id]; ok && cur == slot {
		h.setLive(slot, true)
		h.liveCount.Add(1)
	}
	h.alloc.Unlock()
}

// setQuery prepares q for v; sum and norm only matter for int8 codes.
func (h *HNSW) setQuery(q *query, v []float32) {
	q.sq = false
	if h.quant {
		q.set(v)
		return
	}
	q.v = v
}

// insert links slot (holding vec) into the graph, as in the HNSW paper's
// INSERT: greedy descent to the node's level, then per level a beam
// search of EfConstruction, the neighbour heuristic, and back links.
func (h *HNSW) insert(s *searcher, slot uint32, vec []float32) {
	q := &s.q
	h.setQuery(q, vec)
	lvl := int(h.levels[slot])
	var e uint64
	for {
		e = h.ep.Load()
		if e != emptyEP {
			break
		}
		h.epMu.Lock()
		if h.ep.Load() == emptyEP {
			h.ep.Store(uint64(lvl)<<32 | uint64(slot))
			h.epMu.Unlock()
			return
		}
		h.epMu.Unlock()
	}
	top := int(e >> 32)
	raised := false
	if lvl > top {
		h.epMu.Lock()
		e = h.ep.Load()
		top = int(e >> 32)
		if raised = lvl > top; !raised {
			h.epMu.Unlock()
		}
	}
	cur := uint32(e)
	curD := h.dist(q, cur)
	for l := top; l > lvl; l-- {
		cur, curD = h.greedy(q, cur, curD, l)
	}
	for l := min(lvl, top); l >= 0; l-- {
		h.searchLayer(s, q, cur, curD, l, h.cfg.EfConstruction, false, nil)
		cands := drainAsc(&s.res, s.tmp[:0])
		s.tmp = cands
		for k := 0; k < len(cands); k++ { // a concurrent insert may have linked us
			if cands[k].i == slot {
				cands = append(cands[:k], cands[k+1:]...)
				break
			}
		}
		if len(cands) == 0 {
			continue
		}
		sel := h.heuristic(s, cands, h.m, s.sel[:0])
		s.sel = sel
		own := h.linksOf(slot, l)
		mu := &h.locks[slot%lockStripes]
		mu.Lock()
		for j, x := range sel {
			atomic.StoreUint32(&own[1+j], x.i)
		}
		atomic.StoreUint32(&own[0], uint32(len(sel)))
		mu.Unlock()
		for _, x := range sel {
			h.addLink(s, x.i, slot, x.d, l)
		}
		cur, curD = cands[0].i, cands[0].d
	}
	if raised {
		h.ep.Store(uint64(lvl)<<32 | uint64(slot))
		h.epMu.Unlock()
	}
}

// drainAsc empties a result heap into dst, nearest first (a sort of the
// heap's array: cheaper than popping it item by item).
func drainAsc(res *maxHeap, dst []item) []item {
	dst = append(dst[:0], (*res)...)
	*res = (*res)[:0]
	slices.SortFunc(dst, func(a, b item) int { return cmp.Compare(a.d, b.d) })
	return dst
}

// addLink adds to to from's list at level l (d is their distance),
// shrinking the list with the heuristic when it is full.
func (h *HNSW) addLink(s *searcher, from, to uint32, d float32, l int) {
	mmax := h.m
	if l == 0 {
		mmax = h.m0
	}
	mu := &h.locks[from%lockStripes]
	mu.Lock()
	defer mu.Unlock()
	lk := h.linksOf(from, l)
	n := int(lk[0])
	for _, x := range lk[1 : 1+n] {
		if x == to {
			return
		}
	}
	if n < mmax {
		atomic.StoreUint32(&lk[1+n], to)
		atomic.StoreUint32(&lk[0], uint32(n+1))
		return
	}
	fq := h.nodeQuery(s, from)
	c := append(s.tmp2[:0], item{d, to})
	for _, x := range lk[1 : 1+n] {
		c = append(c, item{h.dist(fq, x), x})
	}
	sortAsc(c)
	s.tmp2 = c
	sel := h.heuristic(s, c, mmax, s.sel2[:0])
	s.sel2 = sel
	for j, x := range sel {
		atomic.StoreUint32(&lk[1+j], x.i)
	}
	atomic.StoreUint32(&lk[0], uint32(len(sel)))
}

// heuristic is the paper's SELECT-NEIGHBORS-HEURISTIC: walking candidates
// nearest first (cands sorted ascending by distance to the base), keep c
// unless an already kept r is closer to c than the base is. With
// Config.KeepPruned the rest is filled with the nearest discarded ones.
func (h *HNSW) heuristic(s *searcher, cands []item, mmax int, out []item) []item {
	if len(cands) <= mmax {
		return append(out, cands...)
	}
	var cq query
	for _, c := range cands {
		if len(out) >= mmax {
			break
		}
		good := true
		if len(out) > 0 {
			h.candQuery(s, &cq, c.i)
			for _, r := range out {
				if h.dist(&cq, r.i) < c.d {
					good = false
					break
				}
			}
		}
		if good {
			out = append(out, c)
		}
	}
	if h.cfg.KeepPruned && len(out) < mmax {
		for _, c := range cands {
			if len(out) >= mmax {
				break
			}
			dup := false
			for _, r := range out {
				if r.i == c.i {
					dup = true
					break
				}
			}
			if !dup {
				out = append(out, c)
			}
		}
	}
	return out
}

// candQuery makes node i the query cq, decoding into s.nbuf2 when quantized.
func (h *HNSW) candQuery(s *searcher, cq *query, i uint32) {
	if !h.quant {
		cq.v = h.vec(i)
		return
	}
	o, mo := int(i)*h.dim, int(i)*metaStride
	cq.sum = dequantize(s.nbuf2[:h.dim], h.codes[o:o+h.dim], h.meta[mo:mo+metaStride])
	cq.v, cq.nn = s.nbuf2[:h.dim], h.meta[mo+2]
}

// greedy walks level l from cur to a local minimum of the distance to q.
func (h *HNSW) greedy(q *query, cur uint32, curD float32, l int) (uint32, float32) {
	for changed := true; changed; {
		changed = false
		lk := h.linksOf(cur, l)
		n := atomic.LoadUint32(&lk[0])
		for j := uint32(1); j <= n; j++ {
			nb := atomic.LoadUint32(&lk[j])
			if d := h.dist(q, nb); d < curD {
				cur, curD, changed = nb, d, true
			}
		}
	}
	return cur, curD
}

// searchLayer is the beam search of the paper (SEARCH-LAYER) at level l from
// ep, leaving the ef nearest accepted nodes in s.res. With results, only
// live nodes whose id accept admits (nil admits all) enter s.res; every node
// is still traversed, so tombstones and filtered-out nodes keep the graph
// connected.
func (h *HNSW) searchLayer(s *searcher, q *query, ep uint32, epD float32, l, ef int, results bool, accept func(uint32) bool) {
	s.vis.reset(h.capN)
	s.cand = s.cand[:0]
	s.res = s.res[:0]
	s.vis.visit(ep)
	lower := float32(inf32)
	if !results || h.keep(ep, accept) {
		s.res.push(item{epD, ep})
		lower = epD
	}
	s.cand.push(item{epD, ep})
	for len(s.cand) > 0 {
		c := s.cand.pop()
		if c.d > lower && len(s.res) >= ef {
			break
		}
		lk := h.linksOf(c.i, l)
		n := atomic.LoadUint32(&lk[0])
		// Two passes: collect the unvisited neighbours and hint the first
		// lines of their vectors, then score them, hinting the whole
		// vector of the neighbour lookahead places ahead while scoring the
		// current one, so the cache misses overlap the arithmetic. (A
		// 384-d vector spans 24 cache lines; the hardware prefetcher alone
		// leaves most of them as misses inside the dot product.)
		batch := s.batch[:0]
		for j := uint32(1); j <= n; j++ {
			nb := atomic.LoadUint32(&lk[j])
			if s.vis.visit(nb) {
				continue
			}
			batch = append(batch, nb)
			if q.sq {
				h.prefetchS(nb) // a whole code is a few lines
			} else {
				h.prefetch(nb)
			}
		}
		s.batch = batch
		if !q.sq {
			for j := 0; j < lookahead && j < len(batch); j++ {
				h.prefetchRest(batch[j])
			}
		}
		for j, nb := range batch {
			if !q.sq && j+lookahead < len(batch) {
				h.prefetchRest(batch[j+lookahead])
			}
			var d float32
			if q.sq {
				d = h.distS(q, nb)
			} else if h.quant {
				d = h.distQ(q, nb)
			} else {
				d = h.distF(q, nb)
			}
			if len(s.res) < ef || d < lower {
				s.cand.push(item{d, nb})
				if !results || h.keep(nb, accept) {
					if len(s.res) < ef {
						s.res.push(item{d, nb})
					} else {
						s.res.replaceTop(item{d, nb})
					}
					lower = s.res[0].d
				}
			}
		}
		if l == 0 && len(s.cand) > 0 {
			kernels.Prefetch(unsafe.Pointer(&h.blk[int(s.cand[0].i)*h.stride+h.lOff]))
		}
	}
}

// prefetch hints node i's vector (or code) into the cache.
func (h *HNSW) prefetch(i uint32) {
	if h.quant {
		kernels.Prefetch(unsafe.Pointer(&h.codes[int(i)*h.dim]))
		return
	}
	kernels.Prefetch(unsafe.Pointer(&h.blk[int(i)*h.stride]))
}

// lookahead is how many neighbours ahead searchLayer hints a whole vector
// (measured on 116k × 384 WordNet vectors: 3 beat 1, 2, 4, 6 and all).
const lookahead = 3

// prefetchRest hints the rest of node i's vector or code (prefetch covered
// its first 128 bytes).
func (h *HNSW) prefetchRest(i uint32) {
	if h.quant {
		c := h.codes[int(i)*h.dim : (int(i)+1)*h.dim]
		for o := 128; o < len(c); o += 128 {
			kernels.Prefetch(unsafe.Pointer(&c[o]))
		}
		return
	}
	b := h.blk[int(i)*h.stride : int(i)*h.stride+h.dim]
	for o := 32; o < len(b); o += 32 {
		kernels.Prefetch(unsafe.Pointer(&b[o]))
	}
}

const inf32 = 3.4028234663852886e+38

// keep reports whether slot i may be a result: live and accepted.
func (h *HNSW) keep(i uint32, accept func(uint32) bool) bool {
	return h.isLive(i) && (accept == nil || accept(h.ids[i]))
}

// Delete tombstones id: it is never returned again, but its node keeps
// routing searches until Compact. Reports whether id was present.
func (h *HNSW) Delete(id uint32) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	h.alloc.Lock()
	defer h.alloc.Unlock()
	slot, ok := h.alloc.byID[id]
	if !ok {
		return false
	}
	delete(h.alloc.byID, id)
	if h.isLive(slot) {
		h.setLive(slot, false)
		h.liveCount.Add(-1)
	}
	return true
}
