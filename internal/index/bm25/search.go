package bm25

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"sync"
)

// Result is one search hit.
type Result struct {
	ID    uint32
	Key   string
	Score float64
}

// SearchStats counts the work done by one search.
type SearchStats struct {
	Terms      int   // distinct query terms with live postings
	Total      int64 // postings in those terms' lists: what exhaustive scoring reads
	Postings   int64 // postings whose term score was computed
	Candidates int64 // documents whose bound reached θ: filtered, then scored in full
	Windows    int   // doc-id windows visited
	Skipped    int   // windows skipped whole because their score bound could not reach the top k
}

const (
	winShift = 12
	// winSize is the doc-id span of one traversal window: the window's
	// essential terms are scored term-at-a-time into a dense accumulator of
	// this many entries.
	winSize = 1 << winShift
	// boundSlack inflates score bounds so rounding can never make a bound
	// smaller than a score it bounds.
	boundSlack = 1 + 0x1p-40
)

// qterm is one distinct query term during a search.
type qterm struct {
	docs   []uint32
	tfs    []float32
	blocks []block
	ws     float64 // qtf · idf · scale
	pos    int     // cursor into docs
	blk    int     // cursor into blocks; blocks before it end before the traversal point
	ub     int64   // score bound within the current window
	wn     int     // postings of the blocks overlapping the current window
}

type hit struct {
	s  int64
	id uint32
}

type scratch struct {
	acc   [winSize]int64
	bits  [winSize / 64]uint64
	ids   []uint32
	qt    []qterm
	order []int
	heap  []hit
	tmp   []hit   // topk.sort's scatter buffer
	cnt   []int32 // topk.sort's bucket counts
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// Search returns the k best live documents for the query terms, sorted by
// score descending and then key ascending. A term repeated in terms counts
// as many times (the query is a bag of terms, as in BEIR/Anserini); terms
// not in the index are ignored. accept, if not nil, is called from inside
// the traversal with the id of each document that could still enter the
// top k, and documents it rejects are skipped; it must not modify the
// index. The results equal those of scoring every matching document.
func (ix *Index) Search(terms []string, k int, accept func(id uint32) bool) []Result {
	var st SearchStats
	return ix.search(nil, terms, k, accept, &st)
}

// AppendSearch is Search that appends the results to dst and returns the
// extended slice, so that a caller who only reads them (and copies what it
// keeps) can reuse one buffer across searches.
func (ix *Index) AppendSearch(dst []Result, terms []string, k int, accept func(id uint32) bool) []Result {
	var st SearchStats
	return ix.search(dst, terms, k, accept, &st)
}

// SearchWithStats is Search that also reports how much work it did.
func (ix *Index) SearchWithStats(terms []string, k int, accept func(id uint32) bool) ([]Result, SearchStats) {
	var st SearchStats
	res := ix.search(nil, terms, k, accept, &st)
	return res, st
}

// Scores are computed in fixed point: each term score is converted to an
// int64 scaled by 2^S before it is added, S chosen per query so that any
// document's total stays below 2^52. Integer addition is associative, so a
// document's score does not depend on the order its terms were visited,
// which differs between the pruned traversal and exhaustive scoring: the
// two agree bit for bit, ties included. Totals below 2^52 convert to
// float64 exactly, so ordering by the integer equals ordering by the
// reported Score. The resolution is 2^-52 of the largest possible score
// of the query (the sum of its term weights).

// termScore is the scaled BM25 score of one posting. The explicit float64
// conversion stops the compiler from fusing the multiply-add, so every
// caller rounds identically.
func termScore(ws, tf, c0, c1, dl float64) int64 {
	return int64(ws * tf / (tf + c0 + float64(c1*dl)))
}

// blockBound bounds termScore for every posting of b.
func blockBound(ws float64, b block, c0, c1 float64) int64 {
	tf, dl := float64(b.maxTf), float64(b.minDl)
	return int64(ws*tf/(tf+c0+float64(c1*dl))*boundSlack) + 2
}

// norms returns c0 and c1 such that k1·(1 − b + b·dl/avgdl) = c0 + c1·dl.
func (ix *Index) norms() (c0, c1 float64) {
	c0 = ix.p.K1 * (1 - ix.p.B)
	if avg := ix.avgdl(); avg > 0 {
		c1 = ix.p.K1 * ix.p.B / avg
	}
	return c0, c1
}

// prepare resolves the query terms into sc.qt and returns the fixed-point
// scale.
func (ix *Index) prepare(sc *scratch, terms []string) ([]qterm, float64) {
	ids := sc.ids[:0]
	for _, s := range terms {
		if t, ok := ix.termIDs[s]; ok && ix.df[t] > 0 {
			ids = append(ids, t)
		}
	}
	slices.Sort(ids)
	sc.ids = ids
	qs := sc.qt[:0]
	sumW := 0.0
	for i := 0; i < len(ids); {
		j := i + 1
		for j < len(ids) && ids[j] == ids[i] {
			j++
		}
		t := ids[i]
		w := float64(j-i) * idf(ix.live, ix.df[t])
		p := &ix.post[t]
		qs = append(qs, qterm{docs: p.docs, tfs: p.tfs, blocks: p.blocks, ws: w})
		sumW += w
		i = j
	}
	sc.qt = qs
	if len(qs) == 0 {
		return qs, 1
	}
	// A term score is at most its weight, so a total is at most sumW < 2^e.
	_, e := math.Frexp(sumW)
	scale := math.Ldexp(1, 52-e)
	for i := range qs {
		qs[i].ws *= scale
	}
	return qs, scale
}

// topk collects the k best hits. Rather than a heap (a log k sift with
// unpredictable branches per insertion) it appends every hit that reaches
// θ to a buffer; when the buffer holds 2k hits, shrink raises θ with a
// 256-bucket histogram of their scores and drops the hits below it, in
// three branch-free passes: O(1) amortised per hit. The exact top k (ties
// broken by key) is selected once, at the end.
type topk struct {
	h     []hit // len: hits kept; cap ≥ limit + 64
	k     int
	limit int // shrink when this many hits are kept
	keys  []string
	theta int64 // at most the k-th best score seen; -1 until k hits are seen
}

func newTopk(buf []hit, k int, keys []string) topk {
	limit := max(4*k, 128)
	if cap(buf) < limit+64 {
		buf = make([]hit, 0, limit+64)
	}
	return topk{h: buf[:0], k: k, limit: limit, keys: keys, theta: -1}
}

// better orders hits: higher score, then smaller key. Live keys are
// unique, so this is a strict total order.
func (t *topk) better(a, b hit) bool {
	return a.s > b.s || (a.s == b.s && t.keys[a.id] < t.keys[b.id])
}

// offer adds a hit; callers skip hits below theta.
func (t *topk) offer(s int64, id uint32) {
	t.h = append(t.h, hit{s, id})
	if len(t.h) >= t.limit {
		t.shrink()
	}
}

// shrink raises theta to the lower edge of the histogram bucket holding
// the k-th best score — a lower bound of that score, so no hit that could
// make the top k is dropped — and drops the hits below it. If that keeps
// too many (scores bunched in one bucket), it selects the exact top k.
func (t *topk) shrink() {
	h := t.h
	if len(h) <= t.k {
		return
	}
	lo, hi := h[0].s, h[0].s
	for _, x := range h[1:] {
		lo = min(lo, x.s)
		hi = max(hi, x.s)
	}
	shift := max(0, bits.Len64(uint64(hi-lo))-8)
	var hist [256]int32
	for _, x := range h {
		hist[(x.s-lo)>>shift]++
	}
	b, c := 255, int32(0)
	for ; b > 0; b-- {
		c += hist[b]
		if c >= int32(t.k) {
			break
		}
	}
	theta := lo + int64(b)<<shift
	j := 0
	for _, x := range h {
		h[j] = x
		if x.s >= theta {
			j++
		}
	}
	t.h = h[:j]
	t.theta = max(t.theta, theta)
	if j > t.k+t.k/2+8 {
		t.selectTop(t.h, t.k)
		t.h = t.h[:t.k]
		m := t.h[0].s
		for _, x := range t.h[1:] {
			m = min(m, x.s)
		}
		t.theta = m
	}
}

// selectTop reorders h so that h[:k] are its k best hits (quickselect).
func (t *topk) selectTop(h []hit, k int) {
	lo, hi := 0, len(h)-1
	for hi-lo > 12 {
		mid := lo + (hi-lo)/2
		// Median of three as the pivot.
		if t.better(h[mid], h[lo]) {
			h[mid], h[lo] = h[lo], h[mid]
		}
		if t.better(h[hi], h[lo]) {
			h[hi], h[lo] = h[lo], h[hi]
		}
		if t.better(h[hi], h[mid]) {
			h[hi], h[mid] = h[mid], h[hi]
		}
		pivot := h[mid]
		i, j := lo, hi
		for i <= j {
			for t.better(h[i], pivot) {
				i++
			}
			for t.better(pivot, h[j]) {
				j--
			}
			if i <= j {
				h[i], h[j] = h[j], h[i]
				i++
				j--
			}
		}
		switch {
		case k-1 <= j:
			hi = j
		case k-1 >= i:
			lo = i
		default:
			return
		}
	}
	for i := lo + 1; i <= hi; i++ {
		for j := i; j > lo && t.better(h[j], h[j-1]); j-- {
			h[j], h[j-1] = h[j-1], h[j]
		}
	}
}

// sort orders the best n hits of t.h first, best first (the order of the
// rest is unspecified): a bucket sort on the top bits of the score range,
// with about as many buckets as hits (256 to 4096), then insertion sort
// (by better) within the buckets that hold the first n hits. Buckets hold
// one or two hits each unless scores bunch, and the buckets of the lowest
// scores, where they bunch most (a query's scores thin out towards the
// top), lie past the first n and are left unsorted. tmp and cnt are
// scratch, grown as needed and returned for reuse.
func (t *topk) sort(n int, tmp []hit, cnt []int32) ([]hit, []int32) {
	h := t.h
	if len(h) < 2 {
		return tmp, cnt
	}
	lo, hi := h[0].s, h[0].s
	for _, x := range h[1:] {
		lo = min(lo, x.s)
		hi = max(hi, x.s)
	}
	lb := min(max(bits.Len(uint(len(h))), 8), 12) // log2 of the bucket count
	nb := 1 << lb
	shift := max(0, bits.Len64(uint64(hi-lo))-lb)
	// Bucket b = nb−1 − (s − lo)>>shift: bucket 0 holds the best scores.
	// Count bucket b in start[b+1]; prefix sums make start[b] its start.
	if cap(cnt) < nb+1 {
		cnt = make([]int32, nb+1)
	}
	start := cnt[:nb+1]
	clear(start)
	for _, x := range h {
		start[nb-int((x.s-lo)>>shift)]++
	}
	for b := 1; b <= nb; b++ {
		start[b] += start[b-1]
	}
	// Scatter, advancing start[b] to the end of bucket b.
	if cap(tmp) < len(h) {
		tmp = make([]hit, len(h))
	}
	tmp = tmp[:len(h)]
	for _, x := range h {
		b := nb - 1 - int((x.s-lo)>>shift)
		tmp[start[b]] = x
		start[b]++
	}
	copy(h, tmp)
	for b, i := 0, 0; b < nb && i < n; b++ {
		j := int(start[b])
		switch {
		case j-i > 32:
			slices.SortFunc(h[i:j], func(a, c hit) int {
				if t.better(a, c) {
					return -1
				}
				return 1
			})
		case j-i > 1:
			for x := i + 1; x < j; x++ {
				for y := x; y > i && t.better(h[y], h[y-1]); y-- {
					h[y], h[y-1] = h[y-1], h[y]
				}
			}
		}
		i = j
	}
	return tmp, cnt
}

// results appends the k best hits to dst, best first. tmp and cnt are
// scratch for sort, returned for reuse.
func (t *topk) results(dst []Result, scale float64, tmp []hit, cnt []int32) ([]Result, []hit, []int32) {
	t.shrink() // leaves about k hits, often a few more: sorting them all is cheaper than selecting
	tmp, cnt = t.sort(t.k, tmp, cnt)
	t.h = t.h[:min(len(t.h), t.k)]
	inv := 1 / scale
	n := len(dst)
	dst = slices.Grow(dst, len(t.h))[:n+len(t.h)]
	res := dst[n:]
	for i, h := range t.h {
		res[i] = Result{ID: h.id, Key: t.keys[h.id], Score: float64(h.s) * inv}
	}
	return dst, tmp, cnt
}

// search is a document-at-a-time traversal in doc-id windows with
// block-max MaxScore pruning (after Lucene's MaxScoreBulkScorer):
//
//   - Each window [start, start+winSize) gets, per term, the largest
//     bound of its blocks overlapping the window.
//   - Terms sorted by that bound; the longest prefix whose bounds sum
//     below θ (the k-th best score so far) is non-essential: a document
//     matching only those cannot enter the top k. If every term is
//     non-essential the window is skipped without reading a posting.
//   - Essential terms are scored term-at-a-time into a dense accumulator.
//     Each touched document whose partial score plus the non-essential
//     bounds can reach θ is filtered (deleted, accept), then completed by
//     seeking the non-essential terms, best bound first, abandoning it as
//     soon as the remaining bounds cannot lift it to θ.
//
// Skipping only happens when a bound is strictly below θ, so documents
// that would tie with the k-th hit are still scored (ties break by key).
func (ix *Index) search(dst []Result, terms []string, k int, accept func(id uint32) bool, st *SearchStats) []Result {
	if k <= 0 || ix.live == 0 {
		return dst
	}
	sc := scratchPool.Get().(*scratch)
	qs, scale := ix.prepare(sc, terms)
	if len(qs) == 0 {
		scratchPool.Put(sc)
		return dst
	}
	st.Terms = len(qs)
	for i := range qs {
		st.Total += int64(len(qs[i].docs))
	}
	c0, c1 := ix.norms()
	top := newTopk(sc.heap, min(k, ix.live), ix.keys)
	order := sc.order[:0]
	for i := range qs {
		order = append(order, i)
	}
	sc.order = order
	n := len(qs)
	dls := ix.dl
	acc, bm := &sc.acc, &sc.bits
	maxDoc := uint64(len(ix.keys))

	var candidates, seeks int64
	var next uint32 // documents below next are done
	for {
		start := uint32(NoID)
		for i := range qs {
			q := &qs[i]
			for q.blk < len(q.blocks) && q.blocks[q.blk].last < next {
				q.blk++
			}
			if q.blk < len(q.blocks) {
				start = min(start, max(next, q.docs[q.blk<<blockShift]))
			}
		}
		if start == NoID {
			break
		}
		end := uint32(min(uint64(start)+winSize, maxDoc))
		for i := range qs {
			q := &qs[i]
			q.ub = 0
			b := q.blk
			for ; b < len(q.blocks) && q.docs[b<<blockShift] < end; b++ {
				q.ub = max(q.ub, blockBound(q.ws, q.blocks[b], c0, c1))
			}
			q.wn = min(b<<blockShift, len(q.docs)) - q.blk<<blockShift
		}
		if n <= 32 { // insertion sort by bound: the order barely changes between windows
			for i := 1; i < n; i++ {
				for j := i; j > 0 && qs[order[j]].ub < qs[order[j-1]].ub; j-- {
					order[j], order[j-1] = order[j-1], order[j]
				}
			}
		} else {
			slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(qs[a].ub, qs[b].ub) })
		}
		st.Windows++
		p, nonEss := 0, int64(0)
		for p < n && nonEss+qs[order[p]].ub < top.theta {
			nonEss += qs[order[p]].ub
			p++
		}
		if p > 0 && p < n {
			// Completing a candidate seeks each non-essential term; when
			// those terms hold no more postings in the window (counted by
			// whole blocks) than the essential ones, scoring them all is
			// cheaper than seeking them for up to as many candidates.
			// Either way the scores are exact: only the work differs.
			ne, es := 0, 0
			for j, i := range order {
				if j < p {
					ne += qs[i].wn
				} else {
					es += qs[i].wn
				}
			}
			if ne <= es {
				p, nonEss = 0, 0
			}
		}
		if p == n {
			st.Skipped++
			next = end
			continue
		}

		// Essential terms, term at a time.
		for _, i := range order[p:] {
			q := &qs[i]
			docs, tfs := q.docs, q.tfs
			pos := max(q.pos, q.blk<<blockShift)
			for pos < len(docs) && docs[pos] < start {
				pos++
			}
			from := pos
			pos = scoreRun(acc, bm, docs, tfs, dls, pos, start, end, q.ws, c0, c1)
			st.Postings += int64(pos - from)
			q.pos = pos
		}

		// Candidates, in doc order.
		words := int(end-start+63) >> 6
		if p == 0 && accept == nil && ix.deleted == 0 {
			// Every term is essential and nothing is filtered: the
			// accumulated scores are final. Keep those reaching θ without
			// branching on the score.
			candidates += top.collect(acc, bm, words, start)
			next = end
			continue
		}
		c, n := ix.complete(&top, qs, order[:p], nonEss, acc, bm, words, start, accept, c0, c1)
		candidates += c
		seeks += n
		next = end
	}
	st.Candidates += candidates
	st.Postings += seeks
	res, tmp, cnt := top.results(dst, scale, sc.tmp, sc.cnt)
	sc.heap, sc.tmp, sc.cnt = top.h, tmp, cnt
	scratchPool.Put(sc)
	return res
}

// complete filters the window's documents whose partial score (of the
// essential terms) plus the non-essential bounds nonEss can reach θ, adds
// the non-essential terms ne (ascending bound order: seeked from the last)
// and offers those still reaching θ; it clears the accumulator and the
// bitmap. It returns the documents filtered and the postings seeked.
//
//go:noinline
func (ix *Index) complete(top *topk, qs []qterm, ne []int, nonEss int64, acc *[winSize]int64, bm *[winSize / 64]uint64,
	words int, start uint32, accept func(id uint32) bool, c0, c1 float64) (candidates, seeks int64) {
	dls := ix.dl
	for w := range bm[:words] {
	candidates:
		for m := bm[w]; m != 0; m &= m - 1 {
			off := w<<6 | bits.TrailingZeros64(m)
			s := acc[off]
			acc[off] = 0
			if s+nonEss < top.theta {
				continue
			}
			d := start + uint32(off)
			candidates++
			if (ix.deleted > 0 && ix.isDead(d)) || (accept != nil && !accept(d)) {
				continue
			}
			rem := nonEss
			for j := len(ne) - 1; j >= 0; j-- {
				q := &qs[ne[j]]
				rem -= q.ub
				if pos, ok := q.seek(d); ok {
					s += termScore(q.ws, float64(q.tfs[pos]), c0, c1, float64(dls[d]))
					seeks++
				}
				if s+rem < top.theta {
					continue candidates
				}
			}
			top.offer(s, d)
		}
		bm[w] = 0
	}
	return candidates, seeks
}

// collect offers every document the window's bitmap marks, with its
// accumulated score, and clears both: the window's scores are final (every
// term essential, nothing filtered). Hits reaching θ are kept without
// branching on the score. It returns how many documents were marked.
//
//go:noinline
func (t *topk) collect(acc *[winSize]int64, bm *[winSize / 64]uint64, words int, start uint32) int64 {
	var candidates int64
	h, j, theta := t.h[:cap(t.h)], len(t.h), t.theta
	for w := range bm[:words] {
		m := bm[w]
		bm[w] = 0
		candidates += int64(bits.OnesCount64(m))
		for ; m != 0; m &= m - 1 {
			off := w<<6 | bits.TrailingZeros64(m)
			s := acc[off]
			acc[off] = 0
			h[j] = hit{s, start + uint32(off)}
			if s >= theta {
				j++
			}
		}
		if j >= t.limit { // at most 64 past it: within cap
			t.h = h[:j]
			t.shrink()
			h, j, theta = t.h[:cap(t.h)], len(t.h), t.theta
		}
	}
	t.h = h[:j]
	return candidates
}

// scoreRun adds the scores of a term's postings from pos on with documents
// below end into the window's accumulator and marks them touched; it
// returns the position of the first posting at or past end. It is its own
// function so that the loop keeps its state in registers (inside search
// they were spilled to the stack).
//
//go:noinline
func scoreRun(acc *[winSize]int64, bm *[winSize / 64]uint64, docs []uint32, tfs []float32, dls []float32,
	pos int, start, end uint32, ws, c0, c1 float64) int {
	tfs = tfs[:len(docs)]
	for ; pos < len(docs); pos++ {
		d := docs[pos]
		if d >= end {
			break
		}
		x := termScore(ws, float64(tfs[pos]), c0, c1, float64(dls[d]))
		off := (d - start) & (winSize - 1)
		acc[off] += x
		bm[off>>6] |= 1 << (off & 63)
	}
	return pos
}

// seek moves q to its first posting ≥ d and reports whether that posting
// is d. Targets must not decrease.
func (q *qterm) seek(d uint32) (int, bool) {
	for q.blk < len(q.blocks) && q.blocks[q.blk].last < d {
		q.blk++
	}
	if q.blk == len(q.blocks) {
		return 0, false
	}
	pos := max(q.pos, q.blk<<blockShift)
	for q.docs[pos] < d { // ends within the block: its last doc is ≥ d
		pos++
	}
	q.pos = pos
	return pos, q.docs[pos] == d
}

// searchExhaustive scores every posting of the query terms; it is the
// reference the pruned traversal must match exactly.
func (ix *Index) searchExhaustive(terms []string, k int, accept func(id uint32) bool) []Result {
	if k <= 0 || ix.live == 0 {
		return nil
	}
	var sc scratch
	qs, scale := ix.prepare(&sc, terms)
	if len(qs) == 0 {
		return nil
	}
	c0, c1 := ix.norms()
	acc := make([]int64, len(ix.keys))
	seen := make([]bool, len(ix.keys))
	for _, q := range qs {
		for i, d := range q.docs {
			acc[d] += termScore(q.ws, float64(q.tfs[i]), c0, c1, float64(ix.dl[d]))
			seen[d] = true
		}
	}
	top := newTopk(nil, min(k, ix.live), ix.keys)
	for d, s := range acc {
		if seen[d] && s >= top.theta && !ix.isDead(uint32(d)) && (accept == nil || accept(uint32(d))) {
			top.offer(s, uint32(d))
		}
	}
	res, _, _ := top.results(nil, scale, nil, nil)
	return res
}
