package embed

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/quarry-rag/quarry/internal/models/hub"
	"github.com/quarry-rag/quarry/internal/models/tokenizer"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	closeModels()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// models holds the local embedders the tests share (a model loads in
// about a second; each test loading its own would dominate the run).
var models struct {
	sync.Mutex
	m map[string]*Local
}

// localModel returns the shared embedder for a cached model, or skips.
func localModel(t testing.TB, name string) *Local {
	t.Helper()
	models.Lock()
	defer models.Unlock()
	if l, ok := models.m[name]; ok {
		return l
	}
	if _, err := hub.Resolve(name); err != nil {
		t.Skipf("model %s is not in the model cache (%v): run `make models`", name, err)
	}
	l, err := NewLocal(name, LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if models.m == nil {
		models.m = map[string]*Local{}
	}
	models.m[name] = l
	return l
}

func closeModels() {
	models.Lock()
	defer models.Unlock()
	for _, l := range models.m {
		l.Close()
	}
	models.m = nil
}

// datasets is $QUARRY_DATASETS, default ../shared/datasets from the repo root.
func datasets() string {
	if d := os.Getenv("QUARRY_DATASETS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "datasets")
}

func readJSONL(t testing.TB, path string, n int) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("dataset file %s absent (set QUARRY_DATASETS): %v", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	var out []map[string]any
	for sc.Scan() && (n <= 0 || len(out) < n) {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type fixtureItem struct {
	kind Kind
	text string // without the model's prefix
}

// fixtureTexts rebuilds the texts tools/embref/make_fixture.py embedded,
// in fixture order, from the datasets.
func fixtureTexts(t testing.TB, model string) []fixtureItem {
	var items []fixtureItem
	switch model {
	case "all-MiniLM-L6-v2":
		for _, d := range readJSONL(t, filepath.Join(datasets(), "beir", "scifact", "corpus.jsonl"), 170) {
			items = append(items, fixtureItem{Passage, strings.TrimSpace(d["title"].(string) + ". " + d["text"].(string))})
		}
		for _, q := range readJSONL(t, filepath.Join(datasets(), "beir", "scifact", "queries.jsonl"), 30) {
			items = append(items, fixtureItem{Query, q["text"].(string)})
		}
		items = append(items, fixtureItem{Query, ""}, fixtureItem{Query, "hi"}, fixtureItem{Passage, strings.Repeat("protein ", 400)})
	case "multilingual-e5-small":
		var ps, qs []fixtureItem
		for _, lang := range []string{"en", "de", "es", "ru", "zh", "ar", "hi"} {
			for _, d := range readJSONL(t, filepath.Join(datasets(), "xquad", lang, "corpus.jsonl"), 17) {
				ps = append(ps, fixtureItem{Passage, d["text"].(string)})
			}
			for _, q := range readJSONL(t, filepath.Join(datasets(), "xquad", lang, "queries.jsonl"), 12) {
				qs = append(qs, fixtureItem{Query, q["text"].(string)})
			}
		}
		items = append(append(ps, qs...), fixtureItem{Query, ""}, fixtureItem{Passage, strings.Repeat("Zürich ", 600)})
	}
	return items
}

type fixtureRec struct {
	Kind string    `json:"kind"`
	IDs  []int32   `json:"ids"`
	Emb  []float32 `json:"emb"`
}

// readFixture reads the transformer package's sentence-transformers
// fixture (token ids and embeddings, made by tools/embref/make_fixture.py).
func readFixture(t testing.TB, model string) []fixtureRec {
	f, err := os.Open(filepath.Join("..", "models", "transformer", "testdata", model+"_ref.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(gz)
	sc.Buffer(nil, 1<<24)
	var recs []fixtureRec
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), `{"meta"`) {
			continue
		}
		var r fixtureRec
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

func norm(v []float32) float64 { return math.Sqrt(cosineDot(v, v)) }

func cosineDot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// TestLocalParity embeds the fixture's texts end to end — raw text and
// kind in, prefixes, tokenization, truncation and the encoder inside — and
// requires the sentence-transformers token ids exactly and cosine ≥ 0.9999
// with its embeddings.
func TestLocalParity(t *testing.T) {
	for _, model := range []string{"all-MiniLM-L6-v2", "multilingual-e5-small"} {
		t.Run(model, func(t *testing.T) {
			l := localModel(t, model)
			items := fixtureTexts(t, model)
			recs := readFixture(t, model)
			if len(items) != len(recs) {
				t.Fatalf("rebuilt %d texts, fixture has %d", len(items), len(recs))
			}
			if raceEnabled || testing.Short() {
				// The race detector makes the encoder ~20× slower: a
				// sample (with the truncated text) is enough there.
				items = append(items[:8:8], items[len(items)-1])
				recs = append(recs[:8:8], recs[len(recs)-1])
			}
			idMismatch := 0
			for i, it := range items {
				if it.kind.String() != recs[i].Kind {
					t.Fatalf("item %d: kind %v, fixture %s", i, it.kind, recs[i].Kind)
				}
				ids, _ := l.Tokenize(it.text, it.kind)
				if !slices.Equal(ids, recs[i].IDs) {
					if idMismatch++; idMismatch <= 3 {
						t.Errorf("text %d (%.40q): ids differ from sentence-transformers'\n got %v\nwant %v", i, it.text, head(ids), head(recs[i].IDs))
					}
				}
			}
			for _, kind := range []Kind{Query, Passage} {
				var in []string
				var idx []int
				for i, it := range items {
					if it.kind == kind {
						in = append(in, it.text)
						idx = append(idx, i)
					}
				}
				got, err := l.Embed(context.Background(), in, kind)
				if err != nil {
					t.Fatal(err)
				}
				minCos, worst := 1.0, -1
				for j, v := range got {
					if c := cosine(v, recs[idx[j]].Emb); c < minCos {
						minCos, worst = c, idx[j]
					}
					if n := norm(v); math.Abs(n-1) > 1e-4 {
						t.Errorf("text %d: norm %v, want 1", idx[j], n)
					}
				}
				t.Logf("%s, %v texts: %d, min cosine %.9f (1-min %.1e, text %d)", model, kind, len(in), minCos, 1-minCos, worst)
				if minCos < 0.9999 {
					t.Errorf("%s: min cosine %.7f < 0.9999 (text %d)", kind, minCos, worst)
				}
			}
		})
	}
}

func head(ids []int32) []int32 {
	if len(ids) > 12 {
		return append(ids[:10:10], ids[len(ids)-2:]...)
	}
	return ids
}

func TestLocalPrefixes(t *testing.T) {
	e5 := localModel(t, "multilingual-e5-small")
	if p := e5.Prefixes(); p != (Prefixes{Query: "query: ", Passage: "passage: "}) {
		t.Errorf("e5 prefixes %+v", p)
	}
	text := "how do vaccines train the immune system"
	q, err := e5.Embed(context.Background(), []string{text}, Query)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e5.Embed(context.Background(), []string{text}, Passage)
	if err != nil {
		t.Fatal(err)
	}
	if c := cosine(q[0], p[0]); c > 0.999 {
		t.Errorf("e5 query and passage vectors of one text: cosine %.5f, want them to differ", c)
	}
	qi, _ := e5.Tokenize(text, Query)
	pi, _ := e5.Tokenize(text, Passage)
	plain := e5.tok.Encode(text).IDs
	if len(qi) <= len(plain) || len(pi) <= len(plain) || slices.Equal(qi, pi) {
		t.Errorf("e5 ids: query %v passage %v plain %v", qi, pi, plain)
	}

	mini := localModel(t, "all-MiniLM-L6-v2")
	if p := mini.Prefixes(); p != (Prefixes{}) {
		t.Errorf("MiniLM prefixes %+v, want none", p)
	}
	q, err = mini.Embed(context.Background(), []string{text}, Query)
	if err != nil {
		t.Fatal(err)
	}
	p, err = mini.Embed(context.Background(), []string{text}, Passage)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(q[0], p[0]) {
		t.Errorf("MiniLM query and passage vectors differ (cosine %.7f); it has no prefixes", cosine(q[0], p[0]))
	}

	// Prefixes given in the options replace the model's.
	if _, err := hub.Resolve("all-MiniLM-L6-v2"); err != nil {
		t.Skip(err)
	}
	custom, err := NewLocal("all-MiniLM-L6-v2", LocalOptions{Prefixes: &Prefixes{Query: "search: "}})
	if err != nil {
		t.Fatal(err)
	}
	defer custom.Close()
	cq, _ := custom.Tokenize(text, Query)
	cp, _ := custom.Tokenize(text, Passage)
	if want := mini.tok.Encode("search: " + text).IDs; !slices.Equal(cq, want) || !slices.Equal(cp, mini.tok.Encode(text).IDs) {
		t.Errorf("custom prefixes: query ids %v, passage ids %v", cq, cp)
	}
}

func TestLocalTruncation(t *testing.T) {
	l := localModel(t, "all-MiniLM-L6-v2")
	words := make([]string, 10000)
	for i := range words {
		words[i] = []string{"protein", "folding", "kinetics", "of", "membrane", "channels", "in", "neurons"}[i%8] + fmt.Sprint(i%13)
	}
	long := strings.Join(words, " ")
	prefix := strings.Join(words[:1000], " ") // already far beyond 256 tokens
	short := "membrane channels"

	ids, cut := l.Tokenize(long, Passage)
	if !cut || len(ids) != l.MaxTokens() || l.MaxTokens() != 256 {
		t.Fatalf("10k words: %d ids, truncated %v, MaxTokens %d", len(ids), cut, l.MaxTokens())
	}
	if want := l.tok.EncodeWith(long, &tokenizer.EncodeOpts{MaxLen: 256}).IDs; !slices.Equal(ids, want) {
		t.Errorf("truncated ids differ from the tokenizer's own truncation at 256")
	}
	before := l.Stats()
	got, err := l.Embed(context.Background(), []string{long, short, prefix}, Passage)
	if err != nil {
		t.Fatal(err)
	}
	after := l.Stats()
	if d := after.Truncated - before.Truncated; d != 2 {
		t.Errorf("Stats().Truncated grew by %d, want 2 (the 10k-word text and its 1000-word prefix)", d)
	}
	if d := after.Texts - before.Texts; d != 3 {
		t.Errorf("Stats().Texts grew by %d", d)
	}
	if c := cosine(got[0], got[2]); c < 0.99999 {
		t.Errorf("10k words vs their first 1000 words: cosine %.6f; both should be the same 256 tokens", c)
	}
	if c := cosine(got[0], got[1]); c > 0.9 {
		t.Errorf("long vs short text: cosine %.4f", c)
	}

	// The boundary, with a small MaxTokens: [CLS] + 6 words + [SEP] fits 8.
	small, err := NewLocal(l.Dir(), LocalOptions{MaxTokens: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	if small.MaxTokens() != 8 || small.Name() != l.Name() {
		t.Errorf("MaxTokens %d, Name %q", small.MaxTokens(), small.Name())
	}
	for _, tc := range []struct {
		text string
		n    int
		cut  bool
	}{
		{"one two three four five six", 8, false},
		{"one two three four five six seven", 8, true},
		{"one two three four five", 7, false},
	} {
		ids, cut := small.Tokenize(tc.text, Query)
		if len(ids) != tc.n || cut != tc.cut {
			t.Errorf("%q: %d ids, truncated %v; want %d, %v", tc.text, len(ids), cut, tc.n, tc.cut)
		}
		if want := small.tok.EncodeWith(tc.text, &tokenizer.EncodeOpts{MaxLen: 8}).IDs; !slices.Equal(ids, want) {
			t.Errorf("%q: ids %v, tokenizer's truncation %v", tc.text, ids, want)
		}
	}
	if _, err := NewLocal(l.Dir(), LocalOptions{MaxTokens: 2}); !errors.Is(err, ErrInvalid) {
		t.Errorf("MaxTokens 2 (only the special tokens): %v", err)
	}
}

func TestLocalConcurrent(t *testing.T) {
	if _, err := hub.Resolve("all-MiniLM-L6-v2"); err != nil {
		t.Skipf("model all-MiniLM-L6-v2 not cached: run `make models` (%v)", err)
	}
	l, err := NewLocal("all-MiniLM-L6-v2", LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in := []string{
		"vitamin D and bone density", "the mitochondria is the powerhouse of the cell",
		"CRISPR off-target effects", "a", "statins lower LDL cholesterol in most adults",
		"gut microbiome and depression", "", "randomized controlled trial of aspirin",
	}
	want, err := l.Embed(context.Background(), in, Query)
	if err != nil {
		t.Fatal(err)
	}
	const G = 4
	var wg sync.WaitGroup
	errs := make(chan error, G)
	for g := range G {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each goroutine embeds a rotation, so batches differ.
			rot := append(slices.Clone(in[g:]), in[:g]...)
			got, err := l.Embed(context.Background(), rot, Query)
			if err != nil {
				errs <- err
				return
			}
			for i, v := range got {
				if c := cosine(v, want[(i+g)%len(in)]); c < 0.99999 {
					errs <- fmt.Errorf("goroutine %d: text %d cosine %.6f with the sequential vector", g, i, c)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := l.Stats(); st.Calls != G+1 || st.Texts != int64((G+1)*len(in)) {
		t.Errorf("stats %+v", st)
	}
	// Close waits for a call in flight, then Embed fails with ErrClosed.
	done := make(chan error, 1)
	go func() {
		_, err := l.Embed(context.Background(), in, Passage)
		done <- err
	}()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil && !errors.Is(err, ErrClosed) {
		t.Errorf("Embed racing Close: %v", err)
	}
	if _, err := l.Embed(context.Background(), in, Query); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestLocalMisc(t *testing.T) {
	l := localModel(t, "all-MiniLM-L6-v2")
	if l.Name() != "local:all-MiniLM-L6-v2" || l.Dim() != 384 || !l.Normalized() {
		t.Errorf("Name %q Dim %d Normalized %v", l.Name(), l.Dim(), l.Normalized())
	}
	byDir, err := Parse("local:" + l.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer byDir.(*Local).Close()
	if byDir.Name() != l.Name() {
		t.Errorf("opened by folder: Name %q, by name %q", byDir.Name(), l.Name())
	}
	if _, err := l.Embed(context.Background(), []string{"x"}, Kind(7)); !errors.Is(err, ErrInvalid) {
		t.Errorf("Kind(7): %v", err)
	}
	if got, err := l.Embed(context.Background(), nil, Passage); err != nil || len(got) != 0 {
		t.Errorf("no texts: %v, %d", err, len(got))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Embed(ctx, texts(100), Passage); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}
