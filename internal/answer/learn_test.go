package answer

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/quarry-rag/quarry/internal/eval"
)

// The learned ranker's fitting harness (ranker.go). With the tuning
// harness's reports (tune_test.go) it dumps every question's candidate
// sentences (their features, and whether each contains a normalised gold
// answer, as eval's answer recall decides), fits the weights as a softmax
// over each question's candidates, and reports answer recall measured
// honestly:
//
//	QUARRY_ANSWER_TUNE=/tmp/xq5 QUARRY_ANSWER_TUNE_N=0 QUARRY_ANSWER_LEARN=1 \
//	  [QUARRY_ANSWER_TUNE_EMBED=multilingual-e5-small [QUARRY_ANSWER_TUNE_LATE=1]] \
//	  go test -run TestTune -v ./internal/answer
//
// With QUARRY_ANSWER_TUNE_LATE (token vectors: lateWeights), every fit is
// also made without the late-interaction features on the same folds, the
// before/after that decides whether they help; QUARRY_ANSWER_LEARN_SCREEN
// compares the two quickly on the dumped features (screenLate).
//
// XQuAD is parallel (the same questions in every language), so the folds
// are by article across all languages at once: its 240 paragraphs come
// from 48 articles of five paragraphs, in order; fold k holds the
// articles [48k/5, 48(k+1)/5). Cross-validated: every question is
// answered by weights fitted without its fold in any language.
// Leave-one-language-out: weights fitted on the other six languages'
// other folds answer the held-out language's fold. Then the weights
// fitted on everything are printed as ranker_weights.go's source (these
// are what ships; their in-sample figures are not a test).

const learnFolds = 5

type learnQ struct {
	lang  string
	fold  int
	x     [][nFeatures]float64
	y     []bool
	anyY  bool
	caseI int
	texts []string   // the candidates' sentences (experiments)
	sents []Sentence // … their chunks and byte ranges (experiments)
}

// paragraphFolds maps each question id of lang to its article fold, from
// the dataset's qrels.
func paragraphFolds(t *testing.T, lang string) map[string]int {
	dir := os.Getenv("QUARRY_DATASETS")
	if dir == "" {
		dir = "/work/shared/datasets"
	}
	f, err := os.Open(filepath.Join(dir, "xquad", lang, "qrels", "test.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Fields(sc.Text())
		if len(p) < 2 || !strings.HasPrefix(p[1], "p") {
			continue
		}
		var n int
		if _, err := fmt.Sscan(p[1][1:], &n); err != nil {
			continue
		}
		out[p[0]] = (n / 5) * learnFolds / 48
	}
	return out
}

// dumpFeatures runs the ranker with zero weights (features only) over
// every case.
func dumpFeatures(t *testing.T, cases map[string][]tuneCase, emb Embedder) []learnQ {
	saveL, saveE, saveT := lexModel, embModel, lateModel
	defer func() { lexModel, embModel, lateModel = saveL, saveE, saveT }()
	lexModel, embModel, lateModel = &features{}, &features{}, &features{}
	var out []learnQ
	for _, l := range tuneLangs {
		folds := paragraphFolds(t, l)
		norm := eval.Normalizer{Mode: eval.NormMultilingual, Lang: l}
		for ci, c := range cases[l] {
			fold, ok := folds[c.id]
			if !ok {
				t.Fatalf("%s: question %s has no paragraph in qrels", l, c.id)
			}
			cands, _ := rankCandidates(context.Background(), c.question, c.hits, Options{Embedder: emb})
			q := learnQ{lang: l, fold: fold, caseI: ci}
			for _, cd := range cands {
				if !cd.inSet {
					continue
				}
				y := norm.Contains(cd.Text, c.golds)
				q.x = append(q.x, cd.f)
				q.y = append(q.y, y)
				q.texts = append(q.texts, cd.Text)
				q.sents = append(q.sents, cd.Sentence)
				q.anyY = q.anyY || y
			}
			out = append(out, q)
		}
	}
	return out
}

// fitRanker fits w to maximise the mean log-probability of a question's
// gold sentences under a softmax over its candidates (questions without
// one among the candidates teach nothing), by Adam on standardised
// features from the hand score's weights, with a small L2 penalty.
func fitRanker(qs []learnQ, init features) features {
	var mean, sd features
	n := 0.0
	for _, q := range qs {
		for _, x := range q.x {
			for j := range x {
				mean[j] += x[j]
			}
			n++
		}
	}
	for j := range mean {
		mean[j] /= max(n, 1)
	}
	for _, q := range qs {
		for _, x := range q.x {
			for j := range x {
				sd[j] += (x[j] - mean[j]) * (x[j] - mean[j])
			}
		}
	}
	for j := range sd {
		sd[j] = math.Sqrt(sd[j] / max(n, 1))
		if sd[j] < 1e-9 {
			sd[j] = 1
		}
	}
	var w features // on standardised features
	for j := range w {
		if v, ok := fixedWeights[j]; ok {
			init[j] = v
		}
		w[j] = init[j] * sd[j]
	}
	epochs, lr, l2 := 300, 0.03, 1e-3 // QUARRY_ANSWER_LEARN_FIT="epochs lr l2" overrides
	if v := os.Getenv("QUARRY_ANSWER_LEARN_FIT"); v != "" {
		fmt.Sscan(v, &epochs, &lr, &l2)
	}
	var m1, m2 features
	s := make([]float64, 0, 64)
	var ds, ps []float64 // goldGrad's, reused
	for ep := 1; ep <= epochs; ep++ {
		var g features
		nq := 0.0
		for _, q := range qs {
			if !q.anyY {
				continue
			}
			nq++
			s = s[:0]
			for _, x := range q.x {
				v := 0.0
				for j := range x {
					v += w[j] * (x[j] - mean[j]) / sd[j]
				}
				s = append(s, v)
			}
			ds, ps = goldGrad(s, q.y, ds, ps)
			for k, x := range q.x {
				d := ds[k] * (1 - marginMix)
				for j := range x {
					g[j] += d * (x[j] - mean[j]) / sd[j]
				}
			}
			if marginMix > 0 {
				// log(1 + exp(s_bad − s_gold + 1)) for the best gold and the
				// best other candidate: the first place, not the probability.
				bg, bb := -1, -1
				for k := range s {
					if q.y[k] && (bg < 0 || s[k] > s[bg]) {
						bg = k
					}
					if !q.y[k] && (bb < 0 || s[k] > s[bb]) {
						bb = k
					}
				}
				if bg >= 0 && bb >= 0 {
					d := marginMix / (1 + math.Exp(-(s[bb] - s[bg] + 1)))
					for j := range g {
						g[j] += d * (q.x[bb][j] - q.x[bg][j]) / sd[j]
					}
				}
			}
		}
		for j := range g {
			if _, ok := fixedWeights[j]; ok {
				continue
			}
			g[j] = g[j]/max(nq, 1) + l2*w[j]
			adamStep(&w[j], &m1[j], &m2[j], g[j], lr, ep)
		}
	}
	var raw features
	for j := range w {
		raw[j] = w[j] / sd[j]
	}
	return raw
}

// marginMix is the share of a pairwise margin loss (best gold against the
// best other candidate) in the fit; 0, the softmax alone, is what ships
// (an experiment: QUARRY_ANSWER_LEARN_MARGIN).
var marginMix = 0.0

// recallOn answers cases[l][i] for the selected questions with the
// weights in use and counts hits at one and three sentences per language.
type recallCount struct{ n, hit1, hit3 int }

func recallOn(cases map[string][]tuneCase, qs []learnQ, keep func(learnQ) bool, emb Embedder, acc map[string]*recallCount) {
	for _, q := range qs {
		if !keep(q) {
			continue
		}
		c := cases[q.lang][q.caseI]
		norm := eval.Normalizer{Mode: eval.NormMultilingual, Lang: q.lang}
		r, _ := ExtractContext(context.Background(), c.question, c.hits, Options{MaxSentences: 3, Embedder: emb})
		a := acc[q.lang]
		if a == nil {
			a = &recallCount{}
			acc[q.lang] = a
		}
		a.n++
		var parts []string
		for k, s := range r.Sentences {
			parts = append(parts, s.Text)
			if k == 0 && norm.Contains(s.Text, c.golds) {
				a.hit1++
			}
		}
		if norm.Contains(strings.Join(parts, " "), c.golds) {
			a.hit3++
		}
	}
}

func fmtRecall(acc map[string]*recallCount) string {
	var b strings.Builder
	m1, m3 := 0.0, 0.0
	for _, l := range tuneLangs {
		a := acc[l]
		if a == nil || a.n == 0 {
			continue
		}
		r1, r3 := float64(a.hit1)/float64(a.n), float64(a.hit3)/float64(a.n)
		m1 += r1
		m3 += r3
		fmt.Fprintf(&b, " %s %.3f/%.3f", l, r1, r3)
	}
	return fmt.Sprintf("mean %.3f/%.3f (1/3 sentences):%s", m1/float64(len(tuneLangs)), m3/float64(len(tuneLangs)), b.String())
}

func goWeights(name string, w features) string {
	var b strings.Builder
	fmt.Fprintf(&b, "var %s = features{", name)
	for j, v := range w {
		if v == 0 {
			continue
		}
		n := featureNames[j]
		fmt.Fprintf(&b, "\n\tf%c%s: %.4f,", unicode.ToUpper(rune(n[0])), n[1:], v)
	}
	b.WriteString("\n}\n")
	return b.String()
}

func learn(t *testing.T, cases map[string][]tuneCase, emb Embedder) {
	saveL, saveE, saveT := lexModel, embModel, lateModel
	defer func() { lexModel, embModel, lateModel = saveL, saveE, saveT }()
	_, late := emb.(TokenEmbedder)
	setModel := func(w *features) {
		switch {
		case late:
			lateModel = w
		case emb != nil:
			embModel = w
		default:
			lexModel = w
		}
	}
	if v := os.Getenv("QUARRY_ANSWER_LEARN_SET"); v != "" { // "top neighbours", default "24 10"
		defer func(a, b int) { rankTop, rankNeighbour = a, b }(rankTop, rankNeighbour)
		fmt.Sscan(v, &rankTop, &rankNeighbour)
	}
	if v := os.Getenv("QUARRY_ANSWER_LEARN_MARGIN_FIT"); v != "" { // the margin share of every fit
		fmt.Sscan(v, &marginMix)
		defer func() { marginMix = 0 }()
	}
	qs := dumpFeatures(t, cases, emb)
	withGold := 0
	rows := 0
	for _, q := range qs {
		rows += len(q.x)
		if q.anyY {
			withGold++
		}
	}
	t.Logf("%d questions, %d candidate rows, %d with a gold sentence among the candidates", len(qs), rows, withGold)
	var init features
	init[fLogHand] = 1
	if emb != nil {
		init[fZ] = ws.embed
	}
	if h := os.Getenv("QUARRY_ANSWER_LEARN_MLP"); h != "" {
		var hidden int
		fmt.Sscan(h, &hidden)
		mlpExperiment(t, qs, init, hidden)
		return
	}
	if os.Getenv("QUARRY_ANSWER_LEARN_SPAN") != "" {
		screenSpan(t, cases, qs, init, emb.(*cachedTokens), os.Getenv("QUARRY_ANSWER_LEARN_SPAN") == "joint")
		return
	}
	if os.Getenv("QUARRY_ANSWER_LEARN_BILIN") != "" {
		screenBilinear(t, cases, qs, init, emb)
		return
	}
	if v := os.Getenv("QUARRY_ANSWER_LEARN_MARGIN"); v != "" {
		for _, m := range strings.Split(v, ",") {
			fmt.Sscan(m, &marginMix)
			acc := map[string]*recallCount{}
			for k := range learnFolds {
				w := fitRanker(outsideFold(qs, k), init)
				top1On(qs, func(q learnQ) bool { return q.fold == k }, func(x *[nFeatures]float64) float64 { return stumpScore(&w, nil, x) }, acc)
			}
			t.Logf("screen margin share %.2f: %s", marginMix, fmtRecall(acc))
		}
		marginMix = 0
		return
	}
	if v := os.Getenv("QUARRY_ANSWER_LEARN_BOOST"); v != "" {
		rounds, lr := 100, 1.0
		fmt.Sscan(v, &rounds, &lr)
		screenBoost(t, qs, init, rounds, lr)
		return
	}
	if os.Getenv("QUARRY_ANSWER_LEARN_SCREEN") != "" && late {
		screenLate(t, qs, init)
		return
	}
	if os.Getenv("QUARRY_ANSWER_LEARN_FITONLY") != "" { // only the shipped weights
		w := fitRanker(qs, init)
		name := "lexWeights"
		if late {
			name = "lateWeights"
		} else if emb != nil {
			name = "embWeights"
		}
		t.Logf("fitted on all:\n%s", goWeights(name, w))
		return
	}
	all := func(learnQ) bool { return true }
	// The hand score, the same questions.
	setModel(nil)
	hand := map[string]*recallCount{}
	handFold := make([]map[string]*recallCount, learnFolds)
	for k := range learnFolds {
		handFold[k] = map[string]*recallCount{}
		recallOn(cases, qs, func(q learnQ) bool { return q.fold == k }, emb, handFold[k])
		for l, a := range handFold[k] {
			if hand[l] == nil {
				hand[l] = &recallCount{}
			}
			hand[l].n += a.n
			hand[l].hit1 += a.hit1
			hand[l].hit3 += a.hit3
		}
	}
	t.Logf("hand score:           %s", fmtRecall(hand))
	// With token vectors, the same ranker without the late-interaction
	// features (their columns zeroed: their weights stay 0), refitted on
	// the same folds: the comparison that decides whether they help.
	var base []learnQ
	// QUARRY_ANSWER_LEARN_NOBASE: the before side is known from an
	// earlier run on the same folds; skip it.
	withBase := late && os.Getenv("QUARRY_ANSWER_LEARN_NOBASE") == ""
	if withBase {
		base = withoutLate(qs)
	}
	// Cross-validated by article folds over all languages.
	cv, cvBase := map[string]*recallCount{}, map[string]*recallCount{}
	var bd *breakdown
	if path := os.Getenv("QUARRY_ANSWER_LEARN_BREAKDOWN"); path != "" {
		bd = newBreakdown(t, path)
	}
	for k := range learnFolds {
		if withBase {
			w := fitRanker(outsideFold(base, k), init)
			setModel(&w)
			fold := map[string]*recallCount{}
			recallOn(cases, qs, func(q learnQ) bool { return q.fold == k }, emb, fold)
			addRecall(cvBase, fold)
			t.Logf("fold %d: no LI %s", k, fmtRecall(fold))
		}
		w := fitRanker(outsideFold(qs, k), init)
		setModel(&w)
		fold := map[string]*recallCount{}
		recallOn(cases, qs, func(q learnQ) bool { return q.fold == k }, emb, fold)
		addRecall(cv, fold)
		if bd != nil {
			bd.add(cases, qs, func(q learnQ) bool { return q.fold == k }, emb)
		}
		t.Logf("fold %d: hand %s", k, fmtRecall(handFold[k]))
		t.Logf("fold %d: CV   %s", k, fmtRecall(fold))
	}
	if withBase {
		t.Logf("without late interaction, %d-fold CV: %s", learnFolds, fmtRecall(cvBase))
	}
	t.Logf("learned, %d-fold CV:   %s", learnFolds, fmtRecall(cv))
	if bd != nil {
		bd.log(t)
		if os.Getenv("QUARRY_ANSWER_LEARN_BREAKDOWN_ONLY") != "" {
			return
		}
	}
	if os.Getenv("QUARRY_ANSWER_LEARN_LOLO") != "" {
		lolo, loloBase := map[string]*recallCount{}, map[string]*recallCount{}
		for _, l := range tuneLangs {
			for k := range learnFolds {
				keep := func(q learnQ) bool { return q.fold != k && q.lang != l }
				held := func(q learnQ) bool { return q.fold == k && q.lang == l }
				if withBase {
					w := fitRanker(filterQ(base, keep), init)
					setModel(&w)
					recallOn(cases, qs, held, emb, loloBase)
				}
				w := fitRanker(filterQ(qs, keep), init)
				setModel(&w)
				recallOn(cases, qs, held, emb, lolo)
			}
		}
		if withBase {
			t.Logf("without late interaction, LOLO × folds: %s", fmtRecall(loloBase))
		}
		t.Logf("learned, LOLO × folds: %s", fmtRecall(lolo))
	}
	w := fitRanker(qs, init)
	setModel(&w)
	in := map[string]*recallCount{}
	recallOn(cases, qs, all, emb, in)
	t.Logf("learned, IN-SAMPLE:   %s", fmtRecall(in))
	name := "lexWeights"
	if late {
		name = "lateWeights"
	} else if emb != nil {
		name = "embWeights"
	}
	t.Logf("fitted on all:\n%s", goWeights(name, w))
}

// An experiment, not shipped (QUARRY_ANSWER_LEARN_MLP=H): does a model
// with more capacity than the linear one find more in the same features?
// A one-hidden-layer network (H tanh units plus the linear part) fitted
// the same way, by mini-batches, compared under the same article folds by
// the first candidate's answer recall computed on the dumped features (the
// linear model is scored the same way for comparison).
type mlp struct {
	mean, sd features
	lin      features
	w        [][nFeatures]float64
	b, v     []float64
}

func (m *mlp) score(x *[nFeatures]float64, h []float64) float64 {
	var z [nFeatures]float64
	for j := range x {
		z[j] = (x[j] - m.mean[j]) / m.sd[j]
	}
	s := 0.0
	for j := range z {
		s += m.lin[j] * z[j]
	}
	for k := range m.w {
		a := m.b[k]
		for j := range z {
			a += m.w[k][j] * z[j]
		}
		h[k] = math.Tanh(a)
		s += m.v[k] * h[k]
	}
	return s
}

func fitMLP(qs []learnQ, lin features, hidden int, seed uint64) *mlp {
	m := &mlp{w: make([][nFeatures]float64, hidden), b: make([]float64, hidden), v: make([]float64, hidden)}
	n := 0.0
	for _, q := range qs {
		for _, x := range q.x {
			for j := range x {
				m.mean[j] += x[j]
			}
			n++
		}
	}
	for j := range m.mean {
		m.mean[j] /= n
	}
	for _, q := range qs {
		for _, x := range q.x {
			for j := range x {
				m.sd[j] += (x[j] - m.mean[j]) * (x[j] - m.mean[j])
			}
		}
	}
	for j := range m.sd {
		m.sd[j] = math.Sqrt(m.sd[j] / n)
		if m.sd[j] < 1e-9 {
			m.sd[j] = 1
		}
		m.lin[j] = lin[j] * m.sd[j]
	}
	r := newRand(seed)
	for k := range m.w {
		for j := range m.w[k] {
			m.w[k][j] = r() * 0.3
		}
		m.v[k] = r() * 0.1
	}
	// Parameters flattened for Adam: lin, w, b, v.
	np := nFeatures + hidden*nFeatures + 2*hidden
	m1, m2 := make([]float64, np), make([]float64, np)
	g := make([]float64, np)
	params := func(i int) *float64 {
		switch {
		case i < nFeatures:
			return &m.lin[i]
		case i < nFeatures+hidden*nFeatures:
			i -= nFeatures
			return &m.w[i/nFeatures][i%nFeatures]
		case i < nFeatures+hidden*nFeatures+hidden:
			return &m.b[i-nFeatures-hidden*nFeatures]
		default:
			return &m.v[i-nFeatures-hidden*nFeatures-hidden]
		}
	}
	var train []int
	for i, q := range qs {
		if q.anyY {
			train = append(train, i)
		}
	}
	const batch, epochs, lr, l2 = 128, 25, 0.01, 1e-4
	step := 0
	h := make([][]float64, 64)
	for ep := 0; ep < epochs; ep++ {
		for i := len(train) - 1; i > 0; i-- { // shuffle
			j := int((r()*0.5 + 0.5) * float64(i+1))
			j = min(max(j, 0), i)
			train[i], train[j] = train[j], train[i]
		}
		for lo := 0; lo < len(train); lo += batch {
			clear(g)
			for _, qi := range train[lo:min(lo+batch, len(train))] {
				q := &qs[qi]
				for len(h) < len(q.x) {
					h = append(h, nil)
				}
				s := make([]float64, len(q.x))
				for k := range q.x {
					if len(h[k]) != hidden {
						h[k] = make([]float64, hidden)
					}
					s[k] = m.score(&q.x[k], h[k])
				}
				ds, _ := goldGrad(s, q.y, nil, nil)
				for k := range q.x {
					d := ds[k]
					if d == 0 {
						continue
					}
					var z [nFeatures]float64
					for j := range z {
						z[j] = (q.x[k][j] - m.mean[j]) / m.sd[j]
						g[j] += d * z[j]
					}
					for u := range hidden {
						g[nFeatures+hidden*nFeatures+hidden+u] += d * h[k][u]
						da := d * m.v[u] * (1 - h[k][u]*h[k][u])
						g[nFeatures+hidden*nFeatures+u] += da
						base := nFeatures + u*nFeatures
						for j := range z {
							g[base+j] += da * z[j]
						}
					}
				}
			}
			step++
			for i := range g {
				if i < nFeatures {
					if _, ok := fixedWeights[i]; ok {
						continue
					}
				}
				p := params(i)
				gi := g[i]/batch + l2**p
				adamStep(p, &m1[i], &m2[i], gi, lr, step)
			}
		}
	}
	return m
}

// newRand is a small deterministic generator of values in [-1, 1).
func newRand(seed uint64) func() float64 {
	x := seed*2654435761 + 1
	return func() float64 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		return float64(x>>11)/float64(1<<53)*2 - 1
	}
}

func top1On(qs []learnQ, keep func(learnQ) bool, score func(*[nFeatures]float64) float64, acc map[string]*recallCount) {
	top1Each(qs, keep, func(i, k int) float64 { return score(&qs[i].x[k]) }, acc)
}

// top1Each counts, per language, the kept questions whose best candidate
// by score(question index, candidate index) holds a gold answer.
func top1Each(qs []learnQ, keep func(learnQ) bool, score func(i, k int) float64, acc map[string]*recallCount) {
	for i, q := range qs {
		if !keep(q) {
			continue
		}
		a := acc[q.lang]
		if a == nil {
			a = &recallCount{}
			acc[q.lang] = a
		}
		a.n++
		best, bs := -1, math.Inf(-1)
		for k := range q.x {
			if s := score(i, k); s > bs {
				best, bs = k, s
			}
		}
		if best >= 0 && q.y[best] {
			a.hit1++
		}
	}
}

func mlpExperiment(t *testing.T, qs []learnQ, init features, hidden int) {
	lin, net := map[string]*recallCount{}, map[string]*recallCount{}
	for k := range learnFolds {
		train := outsideFold(qs, k)
		w := fitRanker(train, init)
		keep := func(q learnQ) bool { return q.fold == k }
		top1On(qs, keep, func(x *[nFeatures]float64) float64 {
			s := 0.0
			for j := range x {
				s += w[j] * x[j]
			}
			return s
		}, lin)
		m := fitMLP(train, w, hidden, uint64(k+1))
		h := make([]float64, hidden)
		top1On(qs, keep, func(x *[nFeatures]float64) float64 { return m.score(x, h) }, net)
	}
	t.Logf("features only, CV, first candidate: linear %s", fmtRecall(lin))
	t.Logf("features only, CV, first candidate: MLP %d %s", hidden, fmtRecall(net))
}

// outsideFold returns the questions of qs not in article fold k: the
// training set when fold k is held out.
func outsideFold(qs []learnQ, k int) []learnQ {
	var train []learnQ
	for _, q := range qs {
		if q.fold != k {
			train = append(train, q)
		}
	}
	return train
}

// filterQ returns the questions of qs that keep accepts.
func filterQ(qs []learnQ, keep func(learnQ) bool) []learnQ {
	var out []learnQ
	for _, q := range qs {
		if keep(q) {
			out = append(out, q)
		}
	}
	return out
}

// withoutLate copies qs with the late-interaction features zeroed.
func withoutLate(qs []learnQ) []learnQ {
	out := make([]learnQ, len(qs))
	for i, q := range qs {
		out[i] = q
		out[i].x = make([][nFeatures]float64, len(q.x))
		for k, x := range q.x {
			for j := fLI; j < nFeatures; j++ {
				x[j] = 0
			}
			out[i].x[k] = x
		}
	}
	return out
}

func addRecall(acc, fold map[string]*recallCount) {
	for l, a := range fold {
		if acc[l] == nil {
			acc[l] = &recallCount{}
		}
		acc[l].n += a.n
		acc[l].hit1 += a.hit1
		acc[l].hit3 += a.hit3
	}
}

// screenLate compares, under the same article folds, the ranker with and
// without the late-interaction features by the first candidate's answer
// recall computed on the dumped features (fast; a screen, not the figure:
// the full run answers through ExtractContext). QUARRY_ANSWER_LEARN_DROP
// names features (comma-separated, as in featureNames) left out of the
// "with" side too, to see what each adds.
func screenLate(t *testing.T, qs []learnQ, init features) {
	with := qs
	if d := os.Getenv("QUARRY_ANSWER_LEARN_DROP"); d != "" {
		var drop []int
		for j, n := range featureNames {
			if strings.Contains(","+d+",", ","+n+",") {
				drop = append(drop, j)
			}
		}
		with = make([]learnQ, len(qs))
		for i, q := range qs {
			with[i] = q
			with[i].x = make([][nFeatures]float64, len(q.x))
			for k, x := range q.x {
				for _, j := range drop {
					x[j] = 0
				}
				with[i].x[k] = x
			}
		}
	}
	base := withoutLate(qs)
	a, b := map[string]*recallCount{}, map[string]*recallCount{}
	for k := range learnFolds {
		keep := func(q learnQ) bool { return q.fold == k }
		for _, side := range []struct {
			qs  []learnQ
			acc map[string]*recallCount
		}{{base, a}, {with, b}} {
			w := fitRanker(outsideFold(side.qs, k), init)
			top1On(side.qs, keep, func(x *[nFeatures]float64) float64 {
				s := 0.0
				for j := range x {
					s += w[j] * x[j]
				}
				return s
			}, side.acc)
		}
	}
	t.Logf("screen, CV, first candidate: without LI %s", fmtRecall(a))
	t.Logf("screen, CV, first candidate: with LI    %s", fmtRecall(b))
}

// stump is one regression stump of the boosted ranker: add left when
// x[feat] < thr, right otherwise.
type stump struct {
	feat        int
	thr         float64
	left, right float64
}

// boostStumps fits rounds stumps, by gradient boosting on the softmax loss,
// on top of the linear scores w·x: each round fits the stump that best
// matches the negative gradient (least squares over all candidates), with
// shrinkage lr. Thresholds are at quantiles of each feature.
func boostStumps(qs []learnQ, w features, rounds int, lr float64) []stump {
	var train []*learnQ
	for i := range qs {
		if qs[i].anyY {
			train = append(train, &qs[i])
		}
	}
	type row struct {
		q, k int
	}
	var rows []row
	for qi, q := range train {
		for k := range q.x {
			rows = append(rows, row{qi, k})
		}
	}
	score := make([][]float64, len(train))
	for qi, q := range train {
		score[qi] = make([]float64, len(q.x))
		for k, x := range q.x {
			for j := range x {
				score[qi][k] += w[j] * x[j]
			}
		}
	}
	// Candidate thresholds: 15 quantiles per feature; each row's bin.
	const nb = 16
	thr := make([][]float64, nFeatures)
	bin := make([][]uint8, nFeatures)
	for j := range nFeatures {
		if _, ok := fixedWeights[j]; ok {
			continue
		}
		v := make([]float64, 0, len(rows))
		for _, r := range rows {
			v = append(v, train[r.q].x[r.k][j])
		}
		sortFloats(v)
		for p := 1; p < nb; p++ {
			t := v[p*len(v)/nb]
			if t > v[0] && (len(thr[j]) == 0 || t > thr[j][len(thr[j])-1]) {
				thr[j] = append(thr[j], t)
			}
		}
		bin[j] = make([]uint8, len(rows))
		for i, r := range rows {
			x := train[r.q].x[r.k][j]
			b := 0
			for b < len(thr[j]) && x >= thr[j][b] {
				b++
			}
			bin[j][i] = uint8(b)
		}
	}
	g, h := make([]float64, len(rows)), make([]float64, len(rows))
	var ds, ps []float64 // goldGrad's, reused
	var out []stump
	for range rounds {
		// Negative gradient of −log P(gold) per candidate.
		n := 0
		for qi, q := range train {
			ds, ps = goldGrad(score[qi], q.y, ds, ps)
			for k := range score[qi] {
				g[n] = -ds[k]
				h[n] = max(ps[k]*(1-ps[k]), 1e-6)
				n++
			}
		}
		tot, htot := 0.0, 0.0
		for i, x := range g {
			tot += x
			htot += h[i]
		}
		best := stump{feat: -1}
		bestGain := 0.0
		for j := range nFeatures {
			if len(thr[j]) == 0 {
				continue
			}
			var sb, hb [nb + 1]float64
			for i, b := range bin[j] {
				sb[b] += g[i]
				hb[b] += h[i]
			}
			sl, hl := 0.0, 0.0
			for b, t := range thr[j] {
				sl += sb[b]
				hl += hb[b]
				hr := htot - hl
				if hl < 1 || hr < 1 {
					continue
				}
				sr := tot - sl
				gain := sl*sl/(hl+1) + sr*sr/(hr+1)
				if gain > bestGain {
					bestGain = gain
					best = stump{feat: j, thr: t, left: sl / (hl + 1), right: sr / (hr + 1)}
				}
			}
		}
		if best.feat < 0 {
			break
		}
		// Newton leaf values (gradient over hessian, +1 regularises), shrunk by lr.
		best.left *= lr
		best.right *= lr
		out = append(out, best)
		for _, r := range rows {
			if train[r.q].x[r.k][best.feat] < best.thr {
				score[r.q][r.k] += best.left
			} else {
				score[r.q][r.k] += best.right
			}
		}
	}
	return out
}

func sortFloats(v []float64) { sort.Float64s(v) }

func stumpScore(w *features, st []stump, x *[nFeatures]float64) float64 {
	s := 0.0
	for j := range x {
		s += w[j] * x[j]
	}
	for _, b := range st {
		if x[b.feat] < b.thr {
			s += b.left
		} else {
			s += b.right
		}
	}
	return s
}

// screenBoost compares, on the same folds, the linear ranker and the
// linear ranker plus boosted stumps (QUARRY_ANSWER_LEARN_BOOST="rounds lr").
func screenBoost(t *testing.T, qs []learnQ, init features, rounds int, lr float64) {
	lin, bo := map[string]*recallCount{}, map[string]*recallCount{}
	for k := range learnFolds {
		train := outsideFold(qs, k)
		w := fitRanker(train, init)
		keep := func(q learnQ) bool { return q.fold == k }
		top1On(qs, keep, func(x *[nFeatures]float64) float64 { return stumpScore(&w, nil, x) }, lin)
		st := boostStumps(train, w, rounds, lr)
		top1On(qs, keep, func(x *[nFeatures]float64) float64 { return stumpScore(&w, st, x) }, bo)
		t.Logf("fold %d: %d stumps", k, len(st))
	}
	t.Logf("screen linear:          %s", fmtRecall(lin))
	t.Logf("screen linear + stumps: %s (%d rounds, lr %g)", fmtRecall(bo), rounds, lr)
}

// screenBilinear: the linear ranker plus a diagonal bilinear form of the
// question's and the sentence's pooled vectors, Σ_d a_d q_d s_d (a
// learned, re-weighted cosine), the products centred over each
// question's candidates; fitted jointly with the linear weights, same
// loss, compared on the same folds by the first candidate.
func screenBilinear(t *testing.T, cases map[string][]tuneCase, qs []learnQ, init features, emb Embedder) {
	ctx := context.Background()
	prod := make([][][]float64, len(qs))
	for i, q := range qs {
		c := cases[q.lang][q.caseI]
		qv, err := emb.Embed(ctx, []string{c.question}, true)
		if err != nil {
			t.Fatal(err)
		}
		sv, err := emb.Embed(ctx, q.texts, false)
		if err != nil {
			t.Fatal(err)
		}
		dim := len(qv[0])
		mean := make([]float64, dim)
		prod[i] = make([][]float64, len(sv))
		for k, v := range sv {
			p := make([]float64, dim)
			for d := range dim {
				p[d] = float64(qv[0][d]) * float64(v[d])
				mean[d] += p[d] / float64(len(sv))
			}
			prod[i][k] = p
		}
		for _, p := range prod[i] {
			for d := range p {
				p[d] -= mean[d]
			}
		}
	}
	lin, bil := map[string]*recallCount{}, map[string]*recallCount{}
	for k := range learnFolds {
		var trI []int
		for i, q := range qs {
			if q.fold != k {
				trI = append(trI, i)
			}
		}
		w := fitRanker(outsideFold(qs, k), init)
		keep := func(q learnQ) bool { return q.fold == k }
		top1On(qs, keep, func(x *[nFeatures]float64) float64 { return stumpScore(&w, nil, x) }, lin)
		wb, a := fitBilinear(qs, prod, trI, w)
		top1Each(qs, keep, func(i, kk int) float64 {
			s := stumpScore(&wb, nil, &qs[i].x[kk])
			for d, p := range prod[i][kk] {
				s += a[d] * p
			}
			return s
		}, bil)
		t.Logf("fold %d done", k)
	}
	t.Logf("screen linear:            %s", fmtRecall(lin))
	t.Logf("screen linear + bilinear: %s", fmtRecall(bil))
}

// fitBilinear fits the linear weights (from w0) and the diagonal bilinear
// weights a together on the questions trI, by Adam on the softmax loss.
func fitBilinear(qs []learnQ, prod [][][]float64, trI []int, w0 features) (features, []float64) {
	dim := len(prod[trI[0]][0])
	// Standardise the products globally.
	sdP := make([]float64, dim)
	n := 0.0
	for _, i := range trI {
		for _, p := range prod[i] {
			for d, x := range p {
				sdP[d] += x * x
			}
			n++
		}
	}
	for d := range sdP {
		sdP[d] = math.Sqrt(sdP[d] / n)
		if sdP[d] < 1e-12 {
			sdP[d] = 1
		}
	}
	w := w0
	a := make([]float64, dim) // on standardised products
	np := nFeatures + dim
	m1, m2 := make([]float64, np), make([]float64, np)
	epochs, lr, l2 := 150, 0.01, 1e-3
	if v := os.Getenv("QUARRY_ANSWER_LEARN_BILIN_FIT"); v != "" {
		fmt.Sscan(v, &epochs, &lr, &l2)
	}
	g := make([]float64, np)
	s := make([]float64, 0, 64)
	var ds, ps []float64 // goldGrad's, reused
	for ep := 1; ep <= epochs; ep++ {
		clear(g)
		nq := 0.0
		for _, i := range trI {
			q := &qs[i]
			if !q.anyY {
				continue
			}
			nq++
			s = s[:0]
			for k := range q.x {
				v := stumpScore(&w, nil, &q.x[k])
				for d, p := range prod[i][k] {
					v += a[d] * p / sdP[d]
				}
				s = append(s, v)
			}
			ds, ps = goldGrad(s, q.y, ds, ps)
			for k := range q.x {
				dd := ds[k]
				for d, p := range prod[i][k] {
					g[nFeatures+d] += dd * p / sdP[d]
				}
			}
		}
		// The linear weights stay as fitted (w0): only a moves.
		for d := range dim {
			j := nFeatures + d
			gi := g[j]/max(nq, 1) + l2*a[d]
			adamStep(&a[d], &m1[j], &m2[j], gi, lr, ep)
		}
	}
	raw := make([]float64, dim)
	for d := range a {
		raw[d] = a[d] / sdP[d]
	}
	return w, raw
}

// adamStep moves the parameter *p by one Adam step (β₁ 0.9, β₂ 0.999,
// ε 1e-8) for the gradient g at step t (counted from 1); *m and *v are
// its moment estimates. Every fit of this harness steps with it.
func adamStep(p, m, v *float64, g, lr float64, t int) {
	*m = 0.9**m + 0.1*g
	*v = 0.999**v + 0.001*g*g
	mh := *m / (1 - math.Pow(0.9, float64(t)))
	vh := *v / (1 - math.Pow(0.999, float64(t)))
	*p -= lr * mh / (math.Sqrt(vh) + 1e-8)
}

// goldGrad returns, for the scores s of one question's candidates and
// their gold flags y, the gradient of −log P(gold) in each score,
// ∂/∂s_k = p_k − p_k·[y_k]/P(gold) with p the softmax of s, and p itself;
// d and p are reused when long enough. Every fit of this file descends it.
func goldGrad(s []float64, y []bool, d, p []float64) ([]float64, []float64) {
	top := math.Inf(-1)
	for _, v := range s {
		top = max(top, v)
	}
	d, p = append(d[:0], s...), append(p[:0], s...)
	za, zp := 0.0, 0.0
	for k, v := range s {
		e := math.Exp(v - top)
		p[k] = e
		za += e
		if y[k] {
			zp += e
		}
	}
	for k, e := range p {
		d[k] = e / za
		if y[k] {
			d[k] -= e / zp
		}
		p[k] = e / za
	}
	return d, p
}
