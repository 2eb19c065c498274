package vector

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Compact removes tombstones. First every live node whose links reach a
// tombstone is repaired: its candidates are its live neighbours and their
// neighbours plus the live nodes reachable through its tombstoned
// neighbours (up to two tombstones deep), and the neighbour heuristic picks
// its new list; the reverse of each new link is then added as an insert
// would. Then the
// slots are renumbered densely and the arrays shrink to the live count.
// Searches and inserts wait while it runs.
func (h *HNSW) Compact() {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := int(h.count.Load())
	live := int(h.liveCount.Load())
	if n == live {
		return
	}
	// Phase 1 rewrites the lists of live nodes (reading only their own
	// list and tombstones' lists, so workers do not interfere) and records
	// the links that are new. Phase 2 adds the reverse of each new link,
	// as an insert would, so that nodes which lost in-links through
	// tombstones are reachable again.
	workers := max(1, runtime.GOMAXPROCS(0))
	added := make([][]backlink, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := h.getSearcher()
			defer h.putSearcher(s)
			for {
				i := uint32(next.Add(1) - 1)
				if int(i) >= n {
					return
				}
				if !h.isLive(i) {
					continue
				}
				for l := 0; l <= int(h.levels[i]); l++ {
					added[w] = h.repair(s, i, l, n, added[w])
				}
			}
		}()
	}
	wg.Wait()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := h.getSearcher()
			defer h.putSearcher(s)
			for _, b := range added[w] {
				h.addLink(s, b.to, b.from, b.d, int(b.l))
			}
		}()
	}
	wg.Wait()
	h.renumberLocked(n, live)
}

// repair rewrites node i's list at level l without tombstones. Only i's
// worker writes i's list; other lists are read with atomic loads, so
// workers can repair in parallel.
func (h *HNSW) repair(s *searcher, i uint32, l, n int, added []backlink) []backlink {
	lk := h.linksOf(i, l)
	cnt := int(lk[0])
	dead := false
	for _, x := range lk[1 : 1+cnt] {
		if !h.isLive(x) {
			dead = true
			break
		}
	}
	if !dead {
		return added
	}
	s.vis.reset(n)
	s.vis.visit(i)
	old := append(s.sel[:0], make([]item, cnt)...)
	for j, x := range lk[1 : 1+cnt] {
		old[j].i = x
	}
	s.sel = old
	fq := h.nodeQuery(s, i)
	c := s.tmp2[:0]
	// Candidates: live neighbours and their neighbours, and the live nodes
	// behind tombstoned neighbours (up to two tombstones deep).
	const widen = true
	var add func(x uint32, depth int)
	add = func(x uint32, depth int) {
		if s.vis.visit(x) {
			return
		}
		if h.isLive(x) {
			c = append(c, item{h.dist(fq, x), x})
			if depth > 0 || !widen {
				return
			}
		}
		if depth == 2 {
			return
		}
		// Live lists may be rewritten by other workers meanwhile: atomic
		// loads, and any torn view still holds valid slots.
		dl := h.linksOf(x, l)
		for j, n := uint32(1), atomic.LoadUint32(&dl[0]); j <= n; j++ {
			add(atomic.LoadUint32(&dl[j]), depth+1)
		}
	}
	for _, x := range lk[1 : 1+cnt] {
		add(x, 0)
	}
	sortAsc(c)
	s.tmp2 = c
	mmax := h.m
	if l == 0 {
		mmax = h.m0
	}
	sel := h.heuristic(s, c, mmax, s.sel2[:0])
	s.sel2 = sel
	for j, x := range sel {
		atomic.StoreUint32(&lk[1+j], x.i)
		isNew := true
		for _, o := range old {
			if o.i == x.i {
				isNew = false
				break
			}
		}
		if isNew {
			added = append(added, backlink{from: i, to: x.i, d: x.d, l: uint8(l)})
		}
	}
	atomic.StoreUint32(&lk[0], uint32(len(sel)))
	return added
}

// backlink is a link from→to made by repair whose reverse is still due.
type backlink struct {
	from, to uint32
	d        float32
	l        uint8
}

// renumberLocked drops tombstoned slots, keeping live ones in order.
func (h *HNSW) renumberLocked(n, live int) {
	const gone = ^uint32(0)
	remap := make([]uint32, n)
	k := uint32(0)
	epSlot, top := gone, -1
	old := uint32(h.ep.Load())
	for i := range uint32(n) {
		remap[i] = gone
		if h.isLive(i) {
			remap[i] = k
			k++
			if lv := int(h.levels[i]); lv > top || i == old && lv == top {
				epSlot, top = i, lv
			}
		}
	}
	if h.ep.Load() != emptyEP && h.isLive(old) && int(h.levels[old]) == top {
		epSlot = old
	}
	nh := &HNSW{dim: h.dim, m: h.m, m0: h.m0, quant: h.quant, l2: h.l2}
	nh.sq.on, nh.sq.pad = h.sq.on, h.sq.pad
	nh.setKeepFull(h.keepFull)
	nh.resizeLocked(live)
	for i := range uint32(n) {
		j := remap[i]
		if j == gone {
			continue
		}
		if h.keepFull {
			copy(nh.vec(j), h.vec(i))
		}
		if h.quant {
			copy(nh.codes[int(j)*h.dim:int(j+1)*h.dim], h.codes[int(i)*h.dim:int(i+1)*h.dim])
			copy(nh.meta[int(j)*metaStride:int(j+1)*metaStride], h.meta[int(i)*metaStride:int(i+1)*metaStride])
		}
		if h.sq.ready {
			p := h.sq.pad
			copy(nh.sq.codes[int(j)*p:int(j+1)*p], h.sq.codes[int(i)*p:int(i+1)*p])
			if h.l2 {
				nh.sq.nn[j] = h.sq.nn[i]
			}
		}
		nh.ids[j], nh.levels[j] = h.ids[i], h.levels[i]
		nh.live[j>>5] |= 1 << (j & 31)
		if h.levels[i] > 0 {
			nh.upper[j] = make([]uint32, len(h.upper[i]))
		}
		for l := 0; l <= int(h.levels[i]); l++ {
			src, dst := h.linksOf(i, l), nh.linksOf(j, l)
			w := 0
			for _, x := range src[1 : 1+int(src[0])] {
				if y := remap[x]; y != gone {
					dst[1+w] = y
					w++
				}
			}
			dst[0] = uint32(w)
		}
	}
	h.blk, h.codes, h.meta, h.upper = nh.blk, nh.codes, nh.meta, nh.upper
	h.sq.codes, h.sq.nn = nh.sq.codes, nh.sq.nn
	h.levels, h.ids, h.live, h.capN = nh.levels, nh.ids, nh.live, nh.capN
	h.alloc.Lock()
	h.alloc.n = live
	h.alloc.byID = make(map[uint32]uint32, live)
	for j, id := range h.ids {
		h.alloc.byID[id] = uint32(j)
	}
	h.alloc.Unlock()
	h.count.Store(int64(live))
	if epSlot == gone {
		h.ep.Store(emptyEP)
	} else {
		h.ep.Store(uint64(top)<<32 | uint64(remap[epSlot]))
	}
}

// Stats reports counts and memory (see Stats).
func (h *HNSW) Stats() Stats {
	h.mu.RLock()
	defer h.mu.RUnlock()
	h.alloc.Lock()
	defer h.alloc.Unlock()
	n := h.alloc.n
	b := 4*cap(h.blk) + cap(h.codes) + 4*cap(h.meta) + cap(h.sq.codes) + 4*cap(h.sq.nn) + 24*cap(h.upper) +
		cap(h.levels) + 4*cap(h.ids) + 4*cap(h.live) + 16*len(h.alloc.byID) + 8*lockStripes
	for _, u := range h.upper[:n] {
		b += 4 * cap(u)
	}
	st := Stats{Vectors: int(h.liveCount.Load()), Deleted: n - int(h.liveCount.Load()), Bytes: b,
		Quantize: h.cfg.Quantize, FullInIndex: h.keepFull}
	if n > 0 {
		st.BytesPerVector = b / n
	}
	return st
}
