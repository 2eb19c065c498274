package answer

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
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
//	  [QUARRY_ANSWER_TUNE_EMBED=multilingual-e5-small] go test -run TestTune -v ./internal/answer
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
	saveL, saveE := lexModel, embModel
	defer func() { lexModel, embModel = saveL, saveE }()
	lexModel, embModel = &features{}, &features{}
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
	for ep := 1; ep <= epochs; ep++ {
		var g features
		nq := 0.0
		for _, q := range qs {
			if !q.anyY {
				continue
			}
			nq++
			s = s[:0]
			top := math.Inf(-1)
			for _, x := range q.x {
				v := 0.0
				for j := range x {
					v += w[j] * (x[j] - mean[j]) / sd[j]
				}
				s = append(s, v)
				top = max(top, v)
			}
			za, zp := 0.0, 0.0
			for k := range s {
				e := math.Exp(s[k] - top)
				za += e
				if q.y[k] {
					zp += e
				}
			}
			// ∂(−log P(gold))/∂s_k = p_k − p_k·[y_k]/P(gold)
			for k, x := range q.x {
				e := math.Exp(s[k] - top)
				d := e / za
				if q.y[k] {
					d -= e / zp
				}
				for j := range x {
					g[j] += d * (x[j] - mean[j]) / sd[j]
				}
			}
		}
		for j := range g {
			if _, ok := fixedWeights[j]; ok {
				continue
			}
			g[j] = g[j]/max(nq, 1) + l2*w[j]
			m1[j] = 0.9*m1[j] + 0.1*g[j]
			m2[j] = 0.999*m2[j] + 0.001*g[j]*g[j]
			mh := m1[j] / (1 - math.Pow(0.9, float64(ep)))
			vh := m2[j] / (1 - math.Pow(0.999, float64(ep)))
			w[j] -= lr * mh / (math.Sqrt(vh) + 1e-8)
		}
	}
	var raw features
	for j := range w {
		raw[j] = w[j] / sd[j]
	}
	return raw
}

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
	saveL, saveE := lexModel, embModel
	defer func() { lexModel, embModel = saveL, saveE }()
	setModel := func(w *features) {
		if emb != nil {
			embModel = w
		} else {
			lexModel = w
		}
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
	all := func(learnQ) bool { return true }
	// The hand score, the same questions.
	setModel(nil)
	hand := map[string]*recallCount{}
	recallOn(cases, qs, all, emb, hand)
	t.Logf("hand score:           %s", fmtRecall(hand))
	// Cross-validated by article folds over all languages.
	cv := map[string]*recallCount{}
	for k := range learnFolds {
		var train []learnQ
		for _, q := range qs {
			if q.fold != k {
				train = append(train, q)
			}
		}
		w := fitRanker(train, init)
		setModel(&w)
		recallOn(cases, qs, func(q learnQ) bool { return q.fold == k }, emb, cv)
	}
	t.Logf("learned, %d-fold CV:   %s", learnFolds, fmtRecall(cv))
	if os.Getenv("QUARRY_ANSWER_LEARN_LOLO") != "" {
		lolo := map[string]*recallCount{}
		for _, l := range tuneLangs {
			for k := range learnFolds {
				var train []learnQ
				for _, q := range qs {
					if q.fold != k && q.lang != l {
						train = append(train, q)
					}
				}
				w := fitRanker(train, init)
				setModel(&w)
				recallOn(cases, qs, func(q learnQ) bool { return q.fold == k && q.lang == l }, emb, lolo)
			}
		}
		t.Logf("learned, LOLO × folds: %s", fmtRecall(lolo))
	}
	w := fitRanker(qs, init)
	setModel(&w)
	in := map[string]*recallCount{}
	recallOn(cases, qs, all, emb, in)
	t.Logf("learned, IN-SAMPLE:   %s", fmtRecall(in))
	name := "lexWeights"
	if emb != nil {
		name = "embWeights"
	}
	t.Logf("fitted on all:\n%s", goWeights(name, w))
}
