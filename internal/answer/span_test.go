package answer

import (
	"context"
	"encoding/gob"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/quarry-rag/quarry/internal/embed"
	"github.com/quarry-rag/quarry/internal/models/tokenizer"
)

// An experiment, not shipped (QUARRY_ANSWER_LEARN_SPAN, with token
// vectors): a learned answer-token head on the embedder's frozen token
// states, the cheapest kind of reader. Each candidate token t (one the
// question does not repeat) scores
//
//	u·Pt + (Aᵀq)·(BᵀPt)
//
// with P the top principal directions of the token states, q the
// question's pooled vector and its "slot" (the mean of its tokens that no
// candidate has: interrogatives, answer-type words) side by side, then 1;
// u, A, B are fitted so that a softmax over all of a question's candidate
// tokens puts its mass on the gold answer's tokens inside gold sentences.
// Two sentence features come from it: its best token's score and the
// log-sum-exp of its tokens' scores, each standardised over the
// candidates.
//
// QUARRY_ANSWER_LEARN_SPAN=1 takes each sentence's token states as the
// ranker has them (the sentence encoded alone); =joint encodes the
// question and the whole chunk as one passage ("question\nchunk"), for the
// chunks of the shipped ranker's best three candidates, so that every
// token's state has seen the question and the sentences around it (the
// input a reader model gets, though this encoder was never trained on
// it); QUARRY_ANSWER_LEARN_SPAN_CACHE=FILE keeps those states (about 3 GB
// for seven languages, 35 minutes to compute on two cores).
// QUARRY_ANSWER_LEARN_SPAN_FIT="dims rank epochs lr l2" (default
// "96 8 12 0.01 1e-4").
//
// Measured by article folds: the heads are fitted per fold (the features
// of a fold's questions come from the head fitted without it), and the
// two features are stacked on each fold's linear ranker (their two
// weights fitted on its training questions, the linear weights fixed),
// compared by the first candidate with that linear ranker alone.

// spanTok is one candidate token: its sentence, id and state.
type spanTok struct {
	Sent int
	ID   int32
	V    []float32
}

type spanQ struct {
	qrep  []float64   // pooled ‖ slot, then 1
	toks  [][]float64 // projected candidate tokens
	sent  []int       // each token's candidate index
	pos   []bool      // a gold token in a gold sentence
	anyP  bool
	fold  int
	index int // into qs
}

type spanHead struct {
	u    []float64   // dp
	a    [][]float64 // dq × r
	b    [][]float64 // dp × r
	r    int
	dp   int
	dq   int
	aq   []float64 // scratch
	bt   []float64
	grad struct {
		u    []float64
		a, b [][]float64
	}
}

func screenSpan(t *testing.T, cases map[string][]tuneCase, qs []learnQ, init features, ct *cachedTokens, jointMode bool) {
	ctx := context.Background()
	dp, r, epochs, lr, l2 := 96, 8, 12, 0.01, 1e-4
	if v := os.Getenv("QUARRY_ANSWER_LEARN_SPAN_FIT"); v != "" {
		fmt.Sscan(v, &dp, &r, &epochs, &lr, &l2)
	}
	// Token vectors and labels.
	type raw struct {
		q    TokenVectors
		toks []spanTok
		gold map[int32]bool
	}
	var tk *tokenizer.Tokenizer
	if jointMode {
		var err error
		home := os.Getenv("QUARRY_HOME") // as the model cache (hub.DefaultCacheDir)
		if home == "" {
			h, _ := os.UserHomeDir()
			home = filepath.Join(h, ".cache", "quarry")
		}
		if tk, err = tokenizer.Load(filepath.Join(home, "models", "multilingual-e5-small", "tokenizer.json")); err != nil {
			t.Fatal(err)
		}
	}
	raws := make([]raw, len(qs))
	jointN, jointBad := 0, 0
	jointCache := map[string][]spanTok{}
	cachePath := os.Getenv("QUARRY_ANSWER_LEARN_SPAN_CACHE") // joint token states, by lang/question
	if jointMode && cachePath != "" {
		if f, err := os.Open(cachePath); err == nil {
			if err := gob.NewDecoder(f).Decode(&jointCache); err != nil {
				t.Fatal(err)
			}
			f.Close()
			t.Logf("joint: %d questions cached", len(jointCache))
		}
	}
	for i, q := range qs {
		c := cases[q.lang][q.caseI]
		qt, sv, err := ct.EmbedTokens(ctx, c.question, q.texts)
		if err != nil {
			t.Fatal(err)
		}
		gv, err := ct.tokens(ctx, c.golds, false)
		if err != nil {
			t.Fatal(err)
		}
		gold := map[int32]bool{}
		for _, g := range gv {
			for _, id := range g.IDs {
				gold[id] = true
			}
		}
		rw := raw{q: qt, gold: gold}
		if !jointMode {
			for k, s := range sv {
				for j, id := range s.IDs {
					rw.toks = append(rw.toks, spanTok{k, id, s.Vectors[j]})
				}
			}
			raws[i] = rw
			continue
		}
		key := q.lang + "/" + c.id
		if tv, ok := jointCache[key]; ok {
			rw.toks = tv
			raws[i] = rw
			continue
		}
		// The chunks of the shipped ranker's best three candidates, each
		// encoded after the question in one passage.
		order := make([]int, len(q.x))
		sc := make([]float64, len(q.x))
		for k := range order {
			order[k] = k
			sc[k] = stumpScore(&lateWeights, nil, &q.x[k])
		}
		sort.Slice(order, func(a, b int) bool { return sc[order[a]] > sc[order[b]] })
		var chunks []int
		for _, k := range order[:min(3, len(order))] {
			if !slices.Contains(chunks, q.sents[k].Hit) {
				chunks = append(chunks, q.sents[k].Hit)
			}
		}
		var texts []string
		for _, h := range chunks {
			texts = append(texts, c.question+"\n"+c.hits[h].Text)
		}
		out, err := ct.te.EmbedTokens(ctx, texts, embed.Passage)
		if err != nil {
			t.Fatal(err)
		}
		const prefix = "passage: "
		for ci, h := range chunks {
			enc := tk.Encode(prefix + texts[ci])
			o := out[ci]
			if len(enc.IDs) < len(o.IDs) || !slices.Equal(enc.IDs[:len(o.IDs)-1], o.IDs[:len(o.IDs)-1]) {
				jointBad++
				continue
			}
			jointN++
			base := len(prefix) + len(c.question) + 1
			tv, err := NewTokenVectors(o.IDs, o.Text, o.States, o.Vector) // own tokens, L2-normalised
			if err != nil {
				t.Fatal(err)
			}
			own := 0
			for j, id := range o.IDs {
				if !o.Text[j] {
					continue
				}
				v := tv.Vectors[own]
				own++
				at := enc.Offsets[j][0] - base
				for k, st := range q.sents {
					if st.Hit == h && at >= st.Start && at < st.End {
						rw.toks = append(rw.toks, spanTok{k, id, v})
						break
					}
				}
			}
		}
		raws[i] = rw
		jointCache[key] = rw.toks
		if i%500 == 0 {
			t.Logf("joint: %d of %d questions", i, len(qs))
		}
	}
	if jointMode && cachePath != "" && jointN > 0 {
		f, err := os.Create(cachePath)
		if err != nil {
			t.Fatal(err)
		}
		if err := gob.NewEncoder(f).Encode(jointCache); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if jointMode {
		t.Logf("joint: %d chunks encoded with their question, %d skipped (tokens did not line up)", jointN, jointBad)
	}
	t.Logf("span: token vectors ready")
	// PCA of the sentence token states (a sample).
	dim := len(raws[0].q.Pooled)
	cov := make([]float64, dim*dim)
	mean := make([]float64, dim)
	nTok := 0
	for i := 0; i < len(raws); i += 7 {
		for _, tv := range raws[i].toks {
			v := tv.V
			for a := range dim {
				mean[a] += float64(v[a])
				for b := a; b < dim; b++ {
					cov[a*dim+b] += float64(v[a]) * float64(v[b])
				}
			}
			nTok++
		}
	}
	for a := range dim {
		mean[a] /= float64(nTok)
	}
	for a := range dim {
		for b := a; b < dim; b++ {
			c := cov[a*dim+b]/float64(nTok) - mean[a]*mean[b]
			cov[a*dim+b], cov[b*dim+a] = c, c
		}
	}
	proj := topEigen(cov, dim, dp, 40)
	t.Logf("span: PCA of %d tokens to %d dims", nTok, dp)
	project := func(v []float32) []float64 {
		out := make([]float64, dp)
		for k := range dp {
			s := 0.0
			for a, x := range v {
				s += proj[k][a] * (float64(x) - mean[a])
			}
			out[k] = s
		}
		return out
	}
	sq := make([]spanQ, len(qs))
	nPos, nWith := 0, 0
	for i, q := range qs {
		rw := raws[i]
		inCand := map[int32]bool{}
		for _, tv := range rw.toks {
			inCand[tv.ID] = true
		}
		inQ := map[int32]bool{}
		slot := make([]float64, dim)
		ns := 0
		for k, id := range rw.q.IDs {
			inQ[id] = true
			if !inCand[id] {
				for a, x := range rw.q.Vectors[k] {
					slot[a] += float64(x)
				}
				ns++
			}
		}
		rep := make([]float64, 0, 2*dim+1)
		for _, x := range rw.q.Pooled {
			rep = append(rep, float64(x))
		}
		for _, x := range slot {
			rep = append(rep, x/float64(max(ns, 1)))
		}
		rep = append(rep, 1)
		s := spanQ{qrep: rep, fold: q.fold, index: i}
		for _, tv := range rw.toks {
			k, id := tv.Sent, tv.ID
			if inQ[id] {
				continue
			}
			s.toks = append(s.toks, project(tv.V))
			s.sent = append(s.sent, k)
			p := q.y[k] && rw.gold[id]
			s.pos = append(s.pos, p)
			if p {
				nPos++
				s.anyP = true
			}
		}
		if s.anyP {
			nWith++
		}
		sq[i] = s
	}
	t.Logf("span: %d questions with gold tokens, %d gold tokens", nWith, nPos)
	// Out-of-fold head scores → features.
	extra := make([][][2]float64, len(qs))
	for k := range learnFolds {
		h := newSpanHead(dp, len(sq[0].qrep), r, uint64(k+7))
		var train []*spanQ
		for i := range sq {
			if sq[i].fold != k && sq[i].anyP {
				train = append(train, &sq[i])
			}
		}
		h.fit(t, train, epochs, lr, l2)
		hit, n := 0, 0
		for i := range sq {
			if sq[i].fold != k {
				continue
			}
			q := &qs[i]
			best := make([]float64, len(q.x))
			lse := make([]float64, len(q.x))
			for kk := range best {
				best[kk], lse[kk] = -1e9, 0
			}
			top, topS := -1, math.Inf(-1)
			scores := make([]float64, len(sq[i].toks))
			for j, tv := range sq[i].toks {
				s := h.score(sq[i].qrep, tv)
				scores[j] = s
				best[sq[i].sent[j]] = max(best[sq[i].sent[j]], s)
				if s > topS {
					top, topS = j, s
				}
			}
			for j, s := range scores {
				lse[sq[i].sent[j]] += math.Exp(s - topS)
			}
			if sq[i].anyP {
				n++
				if top >= 0 && sq[i].pos[top] {
					hit++
				}
			}
			for kk := range best {
				if best[kk] < -1e8 {
					best[kk], lse[kk] = math.NaN(), math.NaN()
				} else {
					lse[kk] = math.Log(lse[kk])
				}
			}
			z, zl := zscoresNaN(best), zscoresNaN(lse)
			extra[i] = make([][2]float64, len(q.x))
			for kk := range q.x {
				extra[i][kk] = [2]float64{z[kk], zl[kk]}
			}
		}
		t.Logf("span fold %d: the head's first token is a gold token for %d of %d", k, hit, n)
	}
	// The fold's linear ranker, then the two head features stacked on its
	// score (their weights fitted on the fold's training questions, the
	// linear weights fixed).
	lin, spn := map[string]*recallCount{}, map[string]*recallCount{}
	for k := range learnFolds {
		keep := func(q learnQ) bool { return q.fold == k }
		w := fitRanker(outsideFold(qs, k), init)
		top1On(qs, keep, func(x *[nFeatures]float64) float64 { return stumpScore(&w, nil, x) }, lin)
		var trI []int
		for i, q := range qs {
			if q.fold != k && q.anyY {
				trI = append(trI, i)
			}
		}
		v := fitStacked(qs, extra, trI, &w)
		t.Logf("span fold %d: stacked weights max %.3f, log-sum-exp %.3f", k, v[0], v[1])
		top1Each(qs, keep, func(i, kk int) float64 {
			return stumpScore(&w, nil, &qs[i].x[kk]) + v[0]*extra[i][kk][0] + v[1]*extra[i][kk][1]
		}, spn)
	}
	t.Logf("screen linear:        %s", fmtRecall(lin))
	t.Logf("screen linear + span: %s", fmtRecall(spn))
}

// fitStacked fits the weights of the two extra features on top of the
// fixed linear score w·x, by Adam on the softmax loss over the questions
// trI.
func fitStacked(qs []learnQ, extra [][][2]float64, trI []int, w *features) [2]float64 {
	var v, m1, m2 [2]float64
	base := make([][]float64, len(qs))
	for _, i := range trI {
		base[i] = make([]float64, len(qs[i].x))
		for k := range qs[i].x {
			base[i][k] = stumpScore(w, nil, &qs[i].x[k])
		}
	}
	var s, ds, ps []float64
	for ep := 1; ep <= 200; ep++ {
		var g [2]float64
		for _, i := range trI {
			s = s[:0]
			for k := range qs[i].x {
				s = append(s, base[i][k]+v[0]*extra[i][k][0]+v[1]*extra[i][k][1])
			}
			ds, ps = goldGrad(s, qs[i].y, ds, ps)
			for k, d := range ds {
				g[0] += d * extra[i][k][0]
				g[1] += d * extra[i][k][1]
			}
		}
		for j := range v {
			adamStep(&v[j], &m1[j], &m2[j], g[j]/float64(len(trI)), 0.05, ep)
		}
	}
	return v
}

// zscoresNaN standardises v over its non-NaN entries; NaN entries get 0.
func zscoresNaN(v []float64) []float64 {
	var keep []float64
	for _, x := range v {
		if !math.IsNaN(x) {
			keep = append(keep, x)
		}
	}
	z := zscores(keep)
	out := make([]float64, len(v))
	k := 0
	for i, x := range v {
		if !math.IsNaN(x) {
			out[i] = z[k]
			k++
		}
	}
	return out
}

// topEigen returns the top k eigenvectors of the symmetric n×n matrix m by
// subspace iteration.
func topEigen(m []float64, n, k, iters int) [][]float64 {
	rnd := newRand(99)
	q := make([][]float64, k)
	for i := range q {
		q[i] = make([]float64, n)
		for a := range q[i] {
			q[i][a] = rnd()
		}
	}
	for range iters {
		next := make([][]float64, k)
		for i := range q {
			v := make([]float64, n)
			for a := range n {
				s := 0.0
				row := m[a*n : (a+1)*n]
				for b, x := range q[i] {
					s += row[b] * x
				}
				v[a] = s
			}
			next[i] = v
		}
		// Gram–Schmidt.
		for i := range next {
			for j := range i {
				d := 0.0
				for a := range n {
					d += next[i][a] * next[j][a]
				}
				for a := range n {
					next[i][a] -= d * next[j][a]
				}
			}
			nrm := 0.0
			for _, x := range next[i] {
				nrm += x * x
			}
			nrm = math.Sqrt(nrm)
			for a := range next[i] {
				next[i][a] /= max(nrm, 1e-12)
			}
		}
		q = next
	}
	return q
}

func newSpanHead(dp, dq, r int, seed uint64) *spanHead {
	rnd := newRand(seed)
	h := &spanHead{r: r, dp: dp, dq: dq, u: make([]float64, dp), aq: make([]float64, r), bt: make([]float64, r)}
	h.a = make([][]float64, dq)
	for i := range h.a {
		h.a[i] = make([]float64, r)
		for j := range h.a[i] {
			h.a[i][j] = 0.05 * rnd()
		}
	}
	h.b = make([][]float64, dp)
	for i := range h.b {
		h.b[i] = make([]float64, r)
		for j := range h.b[i] {
			h.b[i][j] = 0.05 * rnd()
		}
	}
	h.grad.u = make([]float64, dp)
	h.grad.a = make([][]float64, dq)
	for i := range h.grad.a {
		h.grad.a[i] = make([]float64, r)
	}
	h.grad.b = make([][]float64, dp)
	for i := range h.grad.b {
		h.grad.b[i] = make([]float64, r)
	}
	return h
}

func (h *spanHead) prep(qrep []float64) {
	clear(h.aq)
	for i, x := range qrep {
		if x == 0 {
			continue
		}
		for j, w := range h.a[i] {
			h.aq[j] += x * w
		}
	}
}

func (h *spanHead) tokScore(tv []float64) float64 {
	clear(h.bt)
	s := 0.0
	for i, x := range tv {
		s += h.u[i] * x
		for j, w := range h.b[i] {
			h.bt[j] += x * w
		}
	}
	for j := range h.bt {
		s += h.aq[j] * h.bt[j]
	}
	return s
}

func (h *spanHead) score(qrep, tv []float64) float64 {
	h.prep(qrep)
	return h.tokScore(tv)
}

// fit descends −log Σ_pos softmax(scores) by Adam in mini-batches.
func (h *spanHead) fit(t *testing.T, train []*spanQ, epochs int, lr, l2 float64) {
	type adam struct{ m, v []float64 }
	params := func() [][]float64 {
		ps := [][]float64{h.u}
		ps = append(ps, h.a...)
		return append(ps, h.b...)
	}
	grads := func() [][]float64 {
		gs := [][]float64{h.grad.u}
		gs = append(gs, h.grad.a...)
		return append(gs, h.grad.b...)
	}
	ps, gs := params(), grads()
	st := make([]adam, len(ps))
	for i, p := range ps {
		st[i] = adam{make([]float64, len(p)), make([]float64, len(p))}
	}
	rnd := newRand(5)
	step := 0
	const batch = 32
	s := []float64{}
	bts := [][]float64{}
	gaq := make([]float64, h.r)
	for ep := range epochs {
		// Shuffle.
		for i := len(train) - 1; i > 0; i-- {
			j := int((rnd() + 1) / 2 * float64(i+1))
			j = min(j, i)
			train[i], train[j] = train[j], train[i]
		}
		loss := 0.0
		for b0 := 0; b0 < len(train); b0 += batch {
			for _, g := range gs {
				clear(g)
			}
			nb := 0
			for _, q := range train[b0:min(b0+batch, len(train))] {
				nb++
				h.prep(q.qrep)
				s = s[:0]
				for len(bts) < len(q.toks) {
					bts = append(bts, make([]float64, h.r))
				}
				mx := math.Inf(-1)
				for j, tv := range q.toks {
					v := h.tokScore(tv)
					copy(bts[j], h.bt)
					s = append(s, v)
					mx = max(mx, v)
				}
				z, zp := 0.0, 0.0
				for j, v := range s {
					e := math.Exp(v - mx)
					s[j] = e
					z += e
					if q.pos[j] {
						zp += e
					}
				}
				loss += -math.Log(zp / z)
				clear(gaq)
				for j, tv := range q.toks {
					d := s[j] / z
					if q.pos[j] {
						d -= s[j] / zp
					}
					if d == 0 {
						continue
					}
					for i, x := range tv {
						h.grad.u[i] += d * x
						gb := h.grad.b[i]
						for r := range gb {
							gb[r] += d * x * h.aq[r]
						}
					}
					for r := range gaq {
						gaq[r] += d * bts[j][r]
					}
				}
				for i, x := range q.qrep {
					if x == 0 {
						continue
					}
					ga := h.grad.a[i]
					for r := range ga {
						ga[r] += x * gaq[r]
					}
				}
			}
			step++
			for pi, p := range ps {
				g := gs[pi]
				for i := range p {
					adamStep(&p[i], &st[pi].m[i], &st[pi].v[i], g[i]/float64(nb)+l2*p[i], lr, step)
				}
			}
		}
		t.Logf("span head epoch %d: loss %.3f", ep+1, loss/float64(len(train)))
	}
}
