package vector

import (
	"fmt"
	"math"
)

// Filtered search policy. The fraction of live nodes that accept admits is
// estimated from selSamples pseudo-random slots; below exactSel (or when the
// expected matches are few) an exact scan of the admitted vectors is both
// faster and exact, above it the graph search runs with ef scaled by
// 1/fraction (capped at 4096) since only that fraction of visited nodes
// can become results.
const (
	selSamples = 512
	exactSel   = 0.04
)

// Search returns the k best live ids admitted by accept (nil admits all),
// best first. ef ≤ 0 uses Config.EfSearch; ef is raised to k. accept is
// called with caller ids, must be safe for concurrent use and must not call
// back into the index.
func (h *HNSW) Search(q []float32, k, ef int, accept func(id uint32) bool) ([]Result, error) {
	if k < 1 || k > maxK {
		return nil, fmt.Errorf("%w: k %d out of range 1..%d", ErrConfig, k, maxK)
	}
	if ef < 0 || ef > maxEf {
		return nil, fmt.Errorf("%w: ef %d out of range 0..%d", ErrConfig, ef, maxEf)
	}
	s := h.getSearcher()
	defer h.putSearcher(s)
	qv, err := prep(s.qbuf, q, h.dim, h.cfg.Metric)
	if err != nil {
		return nil, fmt.Errorf("vector: search: %w", err)
	}
	if ef == 0 {
		ef = h.cfg.EfSearch
	}
	ef = max(ef, k)
	h.mu.RLock()
	defer h.mu.RUnlock()
	live, n := h.liveCount.Load(), h.count.Load()
	if live == 0 || n == 0 {
		return nil, nil
	}
	h.setQuery(&s.q, qv)
	sq := h.sq.ready
	frac := float64(live) / float64(n)
	if accept != nil {
		frac = h.selectivity(accept, int(n))
	}
	if frac < 1 {
		if frac < exactSel || frac*float64(n) <= float64(2*ef) {
			return h.exact(s, qv, k, accept), nil
		}
		ef = min(maxEf, int(math.Ceil(float64(ef)/frac)))
	}
	if sq {
		// Walk the graph over sq8 codes (sq8.go); the ef candidates are
		// re-ranked with float32 distances below.
		h.setSQQuery(s, &s.q, qv)
	}
	e := h.ep.Load()
	cur := uint32(e)
	curD := h.dist(&s.q, cur)
	for l := int(e >> 32); l > 0; l-- {
		cur, curD = h.greedy(&s.q, cur, curD, l)
	}
	h.searchLayer(s, &s.q, cur, curD, 0, ef, true, accept)
	if sq {
		s.q.sq = false
		c := append(s.tmp[:0], s.res...)
		s.res = s.res[:0]
		for j := 0; j < lookahead && j < len(c); j++ {
			h.prefetch(c[j].i)
			h.prefetchRest(c[j].i)
		}
		for j, x := range c {
			if j+lookahead < len(c) {
				h.prefetch(c[j+lookahead].i)
				h.prefetchRest(c[j+lookahead].i)
			}
			c[j].d = h.distF(&s.q, x.i)
		}
		sortAsc(c)
		s.tmp = c
		return h.finalize(c, qv, k), nil
	}
	s.tmp = drainAsc(&s.res, s.tmp[:0])
	return h.finalize(s.tmp, qv, k), nil
}

// selectivity estimates the fraction of slots that are live and admitted.
func (h *HNSW) selectivity(accept func(uint32) bool, n int) float64 {
	if n <= selSamples {
		hit := 0
		for i := range n {
			if h.keep(uint32(i), accept) {
				hit++
			}
		}
		return float64(hit) / float64(n)
	}
	hit := 0
	x := uint64(0x9E3779B97F4A7C15)
	for range selSamples {
		x ^= x << 13 // xorshift64: cheap, deterministic, no aliasing with id patterns
		x ^= x >> 7
		x ^= x << 17
		if h.keep(uint32(x%uint64(n)), accept) {
			hit++
		}
	}
	return float64(hit) / float64(selSamples)
}

// rescoreCount is how many approximate candidates are rescored for k.
func (h *HNSW) rescoreCount(k int) int {
	if h.cfg.Rescore > 0 {
		return max(h.cfg.Rescore, k)
	}
	return max(4*k, 40)
}

// exact scans every live admitted slot.
func (h *HNSW) exact(s *searcher, qv []float32, k int, accept func(uint32) bool) []Result {
	keepN := k
	if h.quant {
		keepN = h.rescoreCount(k)
	}
	s.res = s.res[:0]
	n := uint32(h.count.Load())
	for i := range n {
		if !h.keep(i, accept) {
			continue
		}
		d := h.dist(&s.q, i)
		if len(s.res) < keepN {
			s.res.push(item{d, i})
		} else if d < s.res[0].d {
			s.res.replaceTop(item{d, i})
		}
	}
	s.tmp = drainAsc(&s.res, s.tmp[:0])
	return h.finalize(s.tmp, qv, k)
}

// finalize turns candidates (nearest first) into the top k results,
// rescoring int8 candidates with float32 vectors when available.
func (h *HNSW) finalize(c []item, qv []float32, k int) []Result {
	if h.quant && h.cfg.Rescore >= 0 {
		if fp := h.full.Load(); h.keepFull || fp != nil {
			r := min(len(c), h.rescoreCount(k))
			c = c[:r]
			var full [][]float32
			if !h.keepFull {
				ids := make([]uint32, len(c))
				for j, x := range c {
					ids[j] = h.ids[x.i]
				}
				full = make([][]float32, len(c))
				(*fp)(ids, full)
			}
			w := 0
			for j, x := range c {
				var d float32
				if h.keepFull {
					d = fdist(h.cfg.Metric, qv, h.vec(x.i))
				} else {
					v := full[j]
					if len(v) != h.dim {
						continue
					}
					switch h.cfg.Metric {
					case Cosine:
						d = -cosine(qv, v)
					default:
						d = fdist(h.cfg.Metric, qv, v)
					}
				}
				c[w] = item{d, x.i}
				w++
			}
			c = c[:w]
			sortAsc(c)
		}
	}
	c = c[:min(len(c), k)]
	out := make([]Result, len(c))
	for j, x := range c {
		out[j] = Result{ID: h.ids[x.i], Score: -x.d}
	}
	return out
}
