package answer

import (
	"context"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/embed"
	"github.com/quarry-rag/quarry/internal/eval"
	"github.com/quarry-rag/quarry/internal/text"
)

// The tuning harness: it replays `quarry eval rag --json` reports (each
// question's retrieved contexts and gold answers) through Extract with
// varied weights, so the weights can be chosen on a dev slice in seconds
// instead of re-running retrieval. It runs only when QUARRY_ANSWER_TUNE
// names a folder of reports named LANG.json:
//
//	for l in en de es zh ar hi ru; do
//	  bin/quarry eval rag --dataset $QUARRY_DATASETS/xquad/$l --json > /tmp/xq/$l.json
//	done
//	QUARRY_ANSWER_TUNE=/tmp/xq QUARRY_ANSWER_TUNE_N=200 go test -run TestTune -v ./internal/answer
//
// QUARRY_ANSWER_TUNE_N (default 200) is the dev slice: the first N
// questions of each language, the only ones the weights were chosen on.
// QUARRY_ANSWER_TUNE_EMBED names an embedding model to add similarity
// (QUARRY_ANSWER_TUNE_LATE=1: with its token vectors too, cached beside
// the reports as tok-MODEL.gob, about 1 GB for all seven languages);
// QUARRY_ANSWER_TUNE_N=0 QUARRY_ANSWER_TUNE_SKIP=200 replays the rest, the
// held-out questions; QUARRY_ANSWER_TUNE_LANGS=en,zh replays a subset.

type tuneReport struct {
	Lang    string `json:"lang"`
	Results []struct {
		ID       string   `json:"id"`
		Question string   `json:"question"`
		Golds    []string `json:"golds"`
		Contexts []struct {
			DocID string `json:"doc_id"`
			Text  string `json:"text"`
		} `json:"contexts"`
	} `json:"results"`
}

type tuneCase struct {
	lang, question string
	id             string
	golds          []string
	hits           []base.Hit
}

var tuneLangs = []string{"en", "de", "es", "zh", "ar", "hi", "ru"}

func loadTune(t *testing.T, dir string, n int) map[string][]tuneCase {
	skip := 0 // QUARRY_ANSWER_TUNE_SKIP: leave out the first questions (a held-out slice)
	if s := os.Getenv("QUARRY_ANSWER_TUNE_SKIP"); s != "" {
		fmt.Sscan(s, &skip)
	}
	out := map[string][]tuneCase{}
	if ls := os.Getenv("QUARRY_ANSWER_TUNE_LANGS"); ls != "" {
		tuneLangs = strings.Split(ls, ",") // a subset, e.g. to embed fewer sentences
	}
	for _, l := range tuneLangs {
		b, err := os.ReadFile(filepath.Join(dir, l+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var r tuneReport
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		for i, q := range r.Results {
			if n > 0 && i == n {
				break
			}
			if i < skip {
				continue
			}
			c := tuneCase{lang: r.Lang, question: q.Question, golds: q.Golds, id: q.ID}
			for _, h := range q.Contexts {
				c.hits = append(c.hits, base.Hit{DocID: h.DocID, Text: h.Text})
			}
			out[l] = append(out[l], c)
		}
	}
	return out
}

// cachedEmbedder memoises a real embedder by text: the same paragraphs'
// sentences come back for many questions.
type cachedEmbedder struct {
	e  embed.Embedder
	mu sync.Mutex
	m  map[string][]float32
}

func (c *cachedEmbedder) Embed(ctx context.Context, texts []string, query bool) ([][]float32, error) {
	kind := embed.Passage
	prefix := "p\x00"
	if query {
		kind, prefix = embed.Query, "q\x00"
	}
	out, miss, missIdx := cacheLookup(&c.mu, c.m, prefix, texts)
	if len(miss) > 0 {
		vs, err := c.e.Embed(ctx, miss, kind)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		for k, v := range vs {
			c.m[prefix+miss[k]] = v
			out[missIdx[k]] = v
		}
		c.mu.Unlock()
	}
	return out, nil
}

// tuneScore is the mean answer recall over the languages, and each one's.
func tuneScore(cases map[string][]tuneCase, maxSent int, emb Embedder) (float64, map[string]float64) {
	per := map[string]float64{}
	mean := 0.0
	for _, l := range tuneLangs {
		norm := eval.Normalizer{Mode: eval.NormMultilingual, Lang: l}
		hit := 0
		for _, c := range cases[l] {
			r, _ := ExtractContext(context.Background(), c.question, c.hits, Options{MaxSentences: maxSent, Embedder: emb})
			var parts []string
			for _, s := range r.Sentences {
				parts = append(parts, s.Text)
			}
			if norm.Contains(strings.Join(parts, " "), c.golds) {
				hit++
			}
		}
		per[l] = float64(hit) / float64(max(len(cases[l]), 1))
		mean += per[l]
	}
	return mean / float64(len(tuneLangs)), per
}

func fmtScore(mean float64, per map[string]float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "mean %.3f", mean)
	for _, l := range tuneLangs {
		fmt.Fprintf(&b, " %s %.3f", l, per[l])
	}
	return b.String()
}

func TestTune(t *testing.T) {
	dir := os.Getenv("QUARRY_ANSWER_TUNE")
	if dir == "" {
		t.Skip("QUARRY_ANSWER_TUNE is not set (see tune_test.go)")
	}
	n := 200
	if s := os.Getenv("QUARRY_ANSWER_TUNE_N"); s != "" {
		fmt.Sscan(s, &n)
	}
	cases := loadTune(t, dir, n)
	var emb Embedder
	if m := os.Getenv("QUARRY_ANSWER_TUNE_EMBED"); m != "" {
		e, err := embed.ParseWith(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		ce := &cachedEmbedder{e: e, m: map[string][]float32{}}
		cache := filepath.Join(dir, "emb-"+m+".gob")
		if f, err := os.Open(cache); err == nil {
			if err := gob.NewDecoder(f).Decode(&ce.m); err != nil {
				t.Logf("embedding cache %s: %v", cache, err)
			}
			f.Close()
		}
		defer func() {
			if f, err := os.Create(cache); err == nil {
				gob.NewEncoder(f).Encode(ce.m)
				f.Close()
			}
		}()
		emb = ce
		warm(t, ce, cases)
		if os.Getenv("QUARRY_ANSWER_TUNE_LATE") != "" {
			te, ok := e.(embed.TokenEmbedder)
			if !ok {
				t.Fatalf("%s gives no token vectors", m)
			}
			ct := &cachedTokens{cachedEmbedder: ce, te: te, m: map[string]TokenVectors{}}
			cache := filepath.Join(dir, "tok-"+m+".gob")
			if f, err := os.Open(cache); err == nil {
				if err := gob.NewDecoder(f).Decode(&ct.m); err != nil {
					t.Logf("token cache %s: %v", cache, err)
				}
				f.Close()
			}
			n := len(ct.m)
			warmTokens(t, ct, cases)
			if len(ct.m) > n {
				if f, err := os.Create(cache); err == nil {
					gob.NewEncoder(f).Encode(ct.m)
					f.Close()
				}
			}
			emb = ct
		}
	}
	if os.Getenv("QUARRY_ANSWER_LEARN") != "" {
		learn(t, cases, emb)
		return
	}
	if os.Getenv("QUARRY_ANSWER_TUNE_ANALYSE") != "" {
		analyse(t, cases, emb)
		return
	}
	if l := os.Getenv("QUARRY_ANSWER_TUNE_SHOW"); l != "" {
		showFailures(t, cases[l], l, emb)
		return
	}
	defer func() { ws = defaultWeights }()
	m, per := tuneScore(cases, 1, emb)
	t.Logf("default, 1 sentence:  %s", fmtScore(m, per))
	m3, per3 := tuneScore(cases, 3, emb)
	t.Logf("default, 3 sentences: %s", fmtScore(m3, per3))
	if os.Getenv("QUARRY_ANSWER_TUNE_SWEEP") == "" {
		return
	}
	// Coordinate ascent on the dev slice, one weight at a time.
	type knob struct {
		name string
		p    *float64
		vals []float64
	}
	knobs := []knob{
		{"near", &ws.near, []float64{0, 0.2, 0.4, 0.6}},
		{"rankDecay", &ws.rankDecay, []float64{0.3, 0.6, 1, 1.5, 2.5}},
		{"idfPow", &ws.idfPow, []float64{1, 1.5, 2, 3}},
		{"numBonus", &ws.numBonus, []float64{1, 1.4, 2}},
		{"numPen", &ws.numPen, []float64{0.4, 0.6, 0.8, 1}},
		{"personBonus", &ws.personBonus, []float64{1, 1.3, 1.6}},
		{"personPen", &ws.personPen, []float64{0.6, 0.8, 1}},
		{"subject", &ws.subject, []float64{1, 1.3, 1.6}},
		{"prefix", &ws.prefix, []float64{0, 0.5, 0.7, 1}},
		{"embed", &ws.embed, []float64{0, 0.1, 0.2, 0.3, 0.5, 0.8}},
		{"lengthNorm", &ws.lengthNorm, []float64{0, 0.2, 0.4}},
		{"embNear", &ws.embNear, []float64{0, 0.2, 0.4, 0.6}},
		{"embRankDecay", &ws.embRankDecay, []float64{0.3, 0.6, 1, 1.5}},
		{"embIdfPow", &ws.embIdfPow, []float64{1, 2, 3, 4}},
		{"prev", &ws.prev, []float64{0.2, 0.4, 0.6, 0.8}},
		{"next", &ws.next, []float64{0, 0.1, 0.2, 0.4}},
		{"embPrev", &ws.embPrev, []float64{0.4, 0.6, 0.8, 1, 1.2}},
		{"embNext", &ws.embNext, []float64{0, 0.1, 0.2}},
	}
	if only := os.Getenv("QUARRY_ANSWER_TUNE_KNOBS"); only != "" {
		var keep []knob
		for _, k := range knobs {
			if strings.Contains(","+only+",", ","+k.name+",") {
				keep = append(keep, k)
			}
		}
		knobs = keep
	}
	best := m
	for round := 0; round < 2; round++ {
		for _, k := range knobs {
			keep := *k.p
			for _, v := range k.vals {
				*k.p = v
				s, _ := tuneScore(cases, 1, emb)
				if s > best+1e-9 {
					best, keep = s, v
				}
			}
			*k.p = keep
			t.Logf("round %d %s = %v → %.4f", round, k.name, keep, best)
		}
	}
	m, per = tuneScore(cases, 1, emb)
	m3, per3 = tuneScore(cases, 3, emb)
	t.Logf("tuned %+v\n1 sentence: %s\n3 sentences: %s", ws, fmtScore(m, per), fmtScore(m3, per3))
}

// showFailures logs the dev questions of lang whose first sentence misses
// the answer, with the chosen sentence and the best-ranked one that has it.
func showFailures(t *testing.T, cases []tuneCase, lang string, emb Embedder) {
	norm := eval.Normalizer{Mode: eval.NormMultilingual, Lang: lang}
	for _, c := range cases {
		r, _ := ExtractContext(context.Background(), c.question, c.hits, Options{MaxSentences: 400, Embedder: emb})
		if len(r.Sentences) == 0 {
			t.Logf("Q %s | gold %v | NO ANSWER", c.question, c.golds)
			continue
		}
		if norm.Contains(r.Sentences[0].Text, c.golds) {
			continue
		}
		good := "none"
		for k, s := range r.Sentences {
			if norm.Contains(s.Text, c.golds) {
				good = fmt.Sprintf("#%d hit%d %.3f %q", k, s.Hit, s.Score, s.Text)
				break
			}
		}
		t.Logf("\nQ %s | gold %v\n  got hit%d %.3f %q\n  want %s", c.question, c.golds, r.Sentences[0].Hit, r.Sentences[0].Score, r.Sentences[0].Text, good)
	}
}

// warm embeds every question and every sentence of every context once, in
// batches, into the cache (saved beside the reports for the next run).
func warm(t *testing.T, ce *cachedEmbedder, cases map[string][]tuneCase) {
	qs, ps := warmEach(t, cases, func(ctx context.Context, texts []string, query bool) error {
		_, err := ce.Embed(ctx, texts, query)
		return err
	})
	t.Logf("embedded %d questions, %d sentences", qs, ps)
}

// warmEach calls embed on every distinct question and every distinct
// sentence of every context, 64 at a time, and returns how many of each.
func warmEach(t *testing.T, cases map[string][]tuneCase, embed func(ctx context.Context, texts []string, query bool) error) (int, int) {
	ctx := context.Background()
	seen := map[string]bool{}
	var qs, ps []string
	for _, l := range tuneLangs {
		for _, c := range cases[l] {
			if !seen["q\x00"+c.question] {
				seen["q\x00"+c.question] = true
				qs = append(qs, c.question)
			}
			for _, h := range c.hits {
				for _, sp := range text.Sentences(h.Text) {
					s := h.Text[sp.Start:sp.End]
					if !seen["p\x00"+s] {
						seen["p\x00"+s] = true
						ps = append(ps, s)
					}
				}
			}
		}
	}
	for _, batch := range []struct {
		texts []string
		query bool
	}{{qs, true}, {ps, false}} {
		for i := 0; i < len(batch.texts); i += 64 {
			if err := embed(ctx, batch.texts[i:min(i+64, len(batch.texts))], batch.query); err != nil {
				t.Fatal(err)
			}
		}
	}
	return len(qs), len(ps)
}

// cachedTokens memoises a real TokenEmbedder's token vectors by text.
type cachedTokens struct {
	*cachedEmbedder
	te embed.TokenEmbedder
	mu sync.Mutex
	m  map[string]TokenVectors
}

func (c *cachedTokens) EmbedTokens(ctx context.Context, question string, sentences []string) (TokenVectors, []TokenVectors, error) {
	q, err := c.tokens(ctx, []string{question}, true)
	if err != nil {
		return TokenVectors{}, nil, err
	}
	sv, err := c.tokens(ctx, sentences, false)
	if err != nil {
		return TokenVectors{}, nil, err
	}
	return q[0], sv, nil
}

// tokens returns texts' token vectors, embedded as queries or passages.
func (c *cachedTokens) tokens(ctx context.Context, texts []string, query bool) ([]TokenVectors, error) {
	kind, prefix := embed.Passage, "p\x00"
	if query {
		kind, prefix = embed.Query, "q\x00"
	}
	out, miss, missIdx := cacheLookup(&c.mu, c.m, prefix, texts)
	if len(miss) == 0 {
		return out, nil
	}
	tks, err := c.te.EmbedTokens(ctx, miss, kind)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, tk := range tks {
		tv, err := NewTokenVectors(tk.IDs, tk.Text, tk.States, tk.Vector)
		if err != nil {
			return nil, err
		}
		c.m[prefix+miss[k]] = tv
		out[missIdx[k]] = tv
	}
	return out, nil
}

// warmTokens embeds every question and sentence with its tokens once.
func warmTokens(t *testing.T, ct *cachedTokens, cases map[string][]tuneCase) {
	qs, ps := warmEach(t, cases, func(ctx context.Context, texts []string, query bool) error {
		_, err := ct.tokens(ctx, texts, query)
		return err
	})
	t.Logf("token vectors: %d questions, %d sentences", qs, ps)
}

// cacheLookup returns the cached values of texts under prefix (zero where
// missing), and the missing texts with their positions.
func cacheLookup[V any](mu *sync.Mutex, m map[string]V, prefix string, texts []string) (out []V, miss []string, missIdx []int) {
	out = make([]V, len(texts))
	mu.Lock()
	defer mu.Unlock()
	for i, s := range texts {
		if v, ok := m[prefix+s]; ok {
			out[i] = v
		} else {
			miss = append(miss, s)
			missIdx = append(missIdx, i)
		}
	}
	return out, miss, missIdx
}
