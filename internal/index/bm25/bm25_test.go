package bm25

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

func words(s string) []string { return strings.Fields(s) }

type testDoc struct {
	key, title, body string
}

// threeDocs has, with default parameters (TitleBoost 1):
//
//	d1  body "the cat sat"          dl 3
//	d2  body "the dog sat on the cat" dl 6
//	d3  title "cat", body "dog dog" dl 3
//
// N = 3, avgdl = 4, so norm(dl) = 0.9·(0.6 + 0.4·dl/4): 0.81 for dl 3 and
// 1.08 for dl 6. df: the 2, cat 3, sat 2, dog 2, on 1; idf(df) =
// ln(1 + (3 − df + 0.5)/(df + 0.5)): ln(8/3), ln(1.6), ln(8/7).
var threeDocs = []testDoc{
	{"d1", "", "the cat sat"},
	{"d2", "", "the dog sat on the cat"},
	{"d3", "cat", "dog dog"},
}

func build(t testing.TB, p Params, docs []testDoc) *Index {
	t.Helper()
	ix := New(p)
	for _, d := range docs {
		if _, err := ix.Add(d.key, words(d.title), words(d.body)); err != nil {
			t.Fatal(err)
		}
	}
	return ix
}

type want struct {
	key   string
	score float64
}

func TestScoresHandComputed(t *testing.T) {
	idf1, idf2, idf3 := math.Log(8.0/3), math.Log(1.6), math.Log(8.0/7)
	// TitleBoost 2: d3 has dl 2 + 2·1 = 4, avgdl 13/3; cat in d3 has tf 2.
	n2 := func(dl float64) float64 { return 0.9 * (0.6 + 0.4*dl/(13.0/3)) }
	tests := []struct {
		name   string
		p      Params
		query  string
		k      int
		want   []want
		accept func(uint32) bool
	}{
		{name: "single term", p: DefaultParams(), query: "dog", k: 10, want: []want{
			{"d3", idf2 * 2 / (2 + 0.81)},
			{"d2", idf2 * 1 / (1 + 1.08)},
		}},
		{name: "title counts as body, ties by key", p: DefaultParams(), query: "cat", k: 10, want: []want{
			{"d1", idf3 / (1 + 0.81)},
			{"d3", idf3 / (1 + 0.81)},
			{"d2", idf3 / (1 + 1.08)},
		}},
		{name: "tf 2 within doc", p: DefaultParams(), query: "the", k: 10, want: []want{
			{"d2", idf2 * 2 / (2 + 1.08)},
			{"d1", idf2 * 1 / (1 + 0.81)},
		}},
		{name: "sum over terms", p: DefaultParams(), query: "on cat", k: 10, want: []want{
			{"d2", idf1/(1+1.08) + idf3/(1+1.08)},
			{"d1", idf3 / (1 + 0.81)},
			{"d3", idf3 / (1 + 0.81)},
		}},
		{name: "repeated query term counts twice", p: DefaultParams(), query: "dog dog sat", k: 10, want: []want{
			{"d2", 2*idf2/(1+1.08) + idf2/(1+1.08)},
			{"d3", 2 * idf2 * 2 / (2 + 0.81)},
			{"d1", idf2 / (1 + 0.81)},
		}},
		{name: "k cuts", p: DefaultParams(), query: "cat", k: 2, want: []want{
			{"d1", idf3 / (1 + 0.81)},
			{"d3", idf3 / (1 + 0.81)},
		}},
		{name: "unknown terms ignored", p: DefaultParams(), query: "zebra on", k: 10, want: []want{
			{"d2", idf1 / (1 + 1.08)},
		}},
		{name: "accept filters", p: DefaultParams(), query: "cat", k: 10,
			accept: func(id uint32) bool { return id != 0 }, want: []want{
				{"d3", idf3 / (1 + 0.81)},
				{"d2", idf3 / (1 + 1.08)},
			}},
		{name: "no match", p: DefaultParams(), query: "zebra", k: 10},
		{name: "title boost 2", p: Params{K1: 0.9, B: 0.4, TitleBoost: 2}, query: "cat", k: 10, want: []want{
			{"d3", idf3 * 2 / (2 + n2(4))},
			{"d1", idf3 / (1 + n2(3))},
			{"d2", idf3 / (1 + n2(6))},
		}},
		{name: "title boost 0 ignores titles", p: Params{K1: 0.9, B: 0.4, TitleBoost: 0}, query: "cat", k: 10, want: []want{
			// dl: 3, 6, 2; avgdl 11/3; df(cat) = 2.
			{"d1", math.Log(1.6) / (1 + 0.9*(0.6+0.4*3/(11.0/3)))},
			{"d2", math.Log(1.6) / (1 + 0.9*(0.6+0.4*6/(11.0/3)))},
		}},
		{name: "k1 0 is binary", p: Params{K1: 0, B: 0.4, TitleBoost: 1}, query: "the dog", k: 10, want: []want{
			{"d2", 2 * idf2},
			{"d1", idf2},
			{"d3", idf2},
		}},
		{name: "b 0 ignores length", p: Params{K1: 1.2, B: 0, TitleBoost: 1}, query: "the", k: 10, want: []want{
			{"d2", idf2 * 2 / (2 + 1.2)},
			{"d1", idf2 / (1 + 1.2)},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ix := build(t, tc.p, threeDocs)
			got := ix.Search(words(tc.query), tc.k, tc.accept)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d results %v, want %v", len(got), got, tc.want)
			}
			for i, w := range tc.want {
				if got[i].Key != w.key || !near(got[i].Score, w.score, 1e-12) {
					t.Errorf("result %d = %s %.15g, want %s %.15g", i, got[i].Key, got[i].Score, w.key, w.score)
				}
				if id, _ := ix.ID(w.key); got[i].ID != id {
					t.Errorf("result %d id %d, want %d", i, got[i].ID, id)
				}
			}
		})
	}
}

func near(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b))
}

func TestParamsValidate(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		p  Params
		ok bool
	}{
		{DefaultParams(), true},
		{Params{}, true},
		{Params{K1: 2, B: 1, TitleBoost: 3}, true},
		{Params{K1: -0.1, B: 0.4, TitleBoost: 1}, false},
		{Params{K1: 0.9, B: -0.1, TitleBoost: 1}, false},
		{Params{K1: 0.9, B: 1.01, TitleBoost: 1}, false},
		{Params{K1: 0.9, B: 0.4, TitleBoost: -1}, false},
		{Params{K1: nan, B: 0.4, TitleBoost: 1}, false},
		{Params{K1: 0.9, B: nan, TitleBoost: 1}, false},
		{Params{K1: 0.9, B: 0.4, TitleBoost: nan}, false},
		{Params{K1: math.Inf(1), B: 0.4, TitleBoost: 1}, false},
	}
	for _, tc := range tests {
		if err := tc.p.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: Validate() = %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}

func TestAddErrorsAndAccessors(t *testing.T) {
	ix := build(t, DefaultParams(), threeDocs)
	if _, err := ix.Add("d2", nil, words("x")); !errors.Is(err, ErrDuplicateKey) {
		t.Fatalf("duplicate add: %v", err)
	}
	if _, err := ix.Add("", nil, words("x")); !errors.Is(err, ErrEmptyKey) {
		t.Fatalf("empty key: %v", err)
	}
	if ix.Len() != 3 {
		t.Fatalf("Len = %d", ix.Len())
	}
	id, err := ix.Add("d4", nil, nil) // an empty document is live but matches nothing
	if err != nil || id != 3 || ix.Len() != 4 || ix.Key(3) != "d4" {
		t.Fatalf("Add empty doc: id %d err %v len %d", id, err, ix.Len())
	}
	if !ix.Delete("d2") || ix.Delete("d2") || ix.Delete("nope") {
		t.Fatal("Delete should report liveness")
	}
	if _, ok := ix.ID("d2"); ok || ix.Key(1) != "" || ix.Key(99) != "" {
		t.Fatal("deleted key still resolvable")
	}
	id, err = ix.Add("d2", nil, words("dog"))
	if err != nil || id != 4 {
		t.Fatalf("re-add: id %d err %v", id, err)
	}
	st := ix.Stats()
	if st.Docs != 4 || st.Deleted != 1 || st.Terms != 5 || st.Postings != 11 || st.Bytes <= 0 {
		t.Fatalf("Stats = %+v", st)
	}
	remap := ix.Compact()
	st = ix.Stats()
	if st.Deleted != 0 || st.Terms != 4 || st.Postings != 6 {
		t.Fatalf("Stats after Compact = %+v", st)
	}
	if err := ix.check(); err != nil {
		t.Fatal(err)
	}
	// Live documents are renumbered densely in id order: d1 0, d3 2→1,
	// d4 3→2, d2 4→3; the deleted id 1 maps to NoID.
	if want := []uint32{0, NoID, 1, 2, 3}; !slices.Equal(remap, want) {
		t.Fatalf("Compact remap = %v, want %v", remap, want)
	}
	if id, _ := ix.ID("d2"); id != 3 || ix.Key(3) != "d2" || ix.Key(4) != "" {
		t.Fatalf("after Compact d2 has id %d", id)
	}
	if ix.Compact() != nil {
		t.Fatal("Compact with nothing deleted returned a remap")
	}
}

func TestSearchDegenerate(t *testing.T) {
	ix := New(DefaultParams())
	if r := ix.Search(words("a"), 10, nil); r != nil {
		t.Fatalf("empty index: %v", r)
	}
	ix = build(t, DefaultParams(), threeDocs)
	for _, k := range []int{0, -1} {
		if r := ix.Search(words("cat"), k, nil); r != nil {
			t.Fatalf("k=%d: %v", k, r)
		}
	}
	if r := ix.Search(nil, 10, nil); r != nil {
		t.Fatalf("no terms: %v", r)
	}
	if r := ix.Search(words("cat"), 10, func(uint32) bool { return false }); len(r) != 0 {
		t.Fatalf("reject all: %v", r)
	}
	if r := ix.Search(words("cat"), 1<<30, nil); len(r) != 3 {
		t.Fatalf("huge k: %v", r)
	}
}

func TestNewPanicsOnInvalidParams(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	New(Params{K1: -1})
}

// TestDeletedNeverReturned deletes documents and checks that no search,
// whatever the query and k, returns them: before Compact, after Compact,
// and after a persistence round trip.
func TestDeletedNeverReturned(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	c := newCorpus(rng, 3000, 40, 200)
	ix := New(DefaultParams())
	for _, d := range c.docs {
		if _, err := ix.Add(d.key, d.title, d.body); err != nil {
			t.Fatal(err)
		}
	}
	deleted := map[string]bool{}
	nonEmpty := 0 // live documents with at least one term
	for i, d := range c.docs {
		if i%3 == 0 {
			ix.Delete(d.key)
			deleted[d.key] = true
		} else if len(d.title)+len(d.body) > 0 {
			nonEmpty++
		}
	}
	vocab := c.vocab
	checkAll := func(stage string, ix *Index) {
		t.Helper()
		for _, term := range vocab {
			for _, r := range ix.Search([]string{term, term}, 5000, nil) {
				if deleted[r.Key] {
					t.Fatalf("%s: deleted %q returned for %q", stage, r.Key, term)
				}
			}
		}
		// A wide query over every term.
		res := ix.Search(vocab, 5000, nil)
		if len(res) != nonEmpty {
			t.Fatalf("%s: all-terms query returned %d, want %d", stage, len(res), nonEmpty)
		}
		for _, r := range res {
			if deleted[r.Key] {
				t.Fatalf("%s: deleted %q returned", stage, r.Key)
			}
		}
	}
	checkAll("before compact", ix)
	ix.Compact()
	checkAll("after compact", ix)
	var buf strings.Builder
	if _, err := ix.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	ix2, err := Read(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	checkAll("after read", ix2)
	// Re-adding a deleted key makes it live again, with its new content only.
	k := c.docs[0].key
	if _, err := ix2.Add(k, nil, []string{"brand-new-term"}); err != nil {
		t.Fatal(err)
	}
	delete(deleted, k) // matched by brand-new-term only, so the vocabulary query count is unchanged
	if r := ix2.Search([]string{"brand-new-term"}, 10, nil); len(r) != 1 || r[0].Key != k {
		t.Fatalf("re-added doc: %v", r)
	}
	checkAll("after re-add", ix2)
}

// TestConcurrentSearch runs searches from several goroutines on one index
// (run with -race): each must see the same results as a lone search.
func TestConcurrentSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	c := newCorpus(rng, 5000, 30, 3000)
	ix := New(DefaultParams())
	for _, d := range c.docs {
		ix.Add(d.key, d.title, d.body)
	}
	queries := make([][]string, 40)
	want := make([][]Result, len(queries))
	for i := range queries {
		queries[i] = c.query(10)
		want[i] = ix.Search(queries[i], 20, nil)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for r := range 20 {
				i := (g*7 + r) % len(queries)
				if got := ix.Search(queries[i], 20, nil); !slices.Equal(got, want[i]) {
					errs <- fmt.Sprintf("goroutine %d query %d differs", g, i)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestForwardIndexOnlyAfterDelete: an index that only grows holds no
// forward index (the memory of uploads); the first Delete builds it, and
// Adds after it keep it current, so df stays exact.
func TestForwardIndexOnlyAfterDelete(t *testing.T) {
	ix := New(DefaultParams())
	for i, body := range [][]string{{"granite", "magma"}, {"basalt", "lava", "magma"}, {"granite"}} {
		if _, err := ix.Add(fmt.Sprint("d", i), nil, body); err != nil {
			t.Fatal(err)
		}
	}
	if ix.fwd != nil || ix.fwdStart != nil || ix.fwdOK {
		t.Fatalf("a new index built a forward index: %d entries", len(ix.fwd))
	}
	ix.Delete("d0")
	if !ix.fwdOK || len(ix.fwd) != 6 {
		t.Fatalf("after Delete: fwdOK %v, %d entries, want 6", ix.fwdOK, len(ix.fwd))
	}
	if _, err := ix.Add("d3", nil, []string{"granite", "lava"}); err != nil {
		t.Fatal(err)
	}
	ix.Delete("d2")
	ix.Delete("d3")
	if id, ok := ix.termIDs["granite"]; !ok || ix.df[id] != 0 {
		t.Fatalf("df(granite) = %d after deleting every document with it", ix.df[id])
	}
	if id := ix.termIDs["magma"]; ix.df[id] != 1 {
		t.Fatalf("df(magma) = %d, want 1", ix.df[id])
	}
}
