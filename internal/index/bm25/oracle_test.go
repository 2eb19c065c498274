package bm25

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// model is the brute-force oracle: the live documents, scored with the
// textbook formula in float64. Term frequencies and lengths are rounded to
// float32 first, as the index stores them (exact for the integers these
// tests produce unless TitleBoost is fractional).
type model struct {
	p    Params
	docs map[string]corpusDoc

	// Derived by freeze, which must be called after the last change.
	tfs map[string]map[string]float64
	dls map[string]float64
	df  map[string]int
	avg float64
}

type scored struct {
	key   string
	score float64
}

func (m *model) freeze() {
	boost := m.p.TitleBoost
	n := float64(len(m.docs))
	tfs := make(map[string]map[string]float64, len(m.docs))
	dls := make(map[string]float64, len(m.docs))
	df := map[string]int{}
	var sum float64
	for k, d := range m.docs {
		body, title := map[string]float64{}, map[string]float64{}
		for _, w := range d.body {
			body[w]++
		}
		nt := 0
		if boost > 0 {
			for _, w := range d.title {
				title[w]++
			}
			nt = len(d.title)
		}
		tf := map[string]float64{}
		for w := range body {
			tf[w] = body[w] + boost*title[w]
		}
		for w := range title {
			tf[w] = body[w] + boost*title[w]
		}
		for w, v := range tf {
			tf[w] = float64(float32(v))
			df[w]++
		}
		tfs[k] = tf
		dls[k] = float64(float32(float64(len(d.body)) + boost*float64(nt)))
		sum += float64(len(d.body)) + boost*float64(len(d.title))
	}
	m.tfs, m.dls, m.df, m.avg = tfs, dls, df, sum/n
}

func (m *model) rank(ix *Index, terms []string, accept func(uint32) bool) []scored {
	n := float64(len(m.docs))
	tfs, dls, df, avg := m.tfs, m.dls, m.df, m.avg
	var out []scored
	for k := range m.docs {
		id, _ := ix.ID(k)
		if accept != nil && !accept(id) {
			continue
		}
		s, hit := 0.0, false
		for _, q := range terms {
			tf := tfs[k][q]
			if tf == 0 {
				continue
			}
			hit = true
			idf := math.Log(1 + (n-float64(df[q])+0.5)/(float64(df[q])+0.5))
			norm := m.p.K1 * (1 - m.p.B)
			if avg > 0 {
				norm += m.p.K1 * m.p.B * dls[k] / avg
			}
			s += idf * tf / (tf + norm)
		}
		if hit {
			out = append(out, scored{k, s})
		}
	}
	slices.SortFunc(out, func(a, b scored) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		return strings.Compare(a.key, b.key)
	})
	return out
}

// checkOracle compares a search result with the oracle's ranking. Scores
// must agree to 1e-9 relative, rank by rank and document by document;
// documents whose oracle scores tie within that tolerance may swap.
func checkOracle(t *testing.T, ctx string, got []Result, oracle []scored, k int, ix *Index) {
	t.Helper()
	if want := min(k, len(oracle)); len(got) != want {
		t.Fatalf("%s: got %d results, want %d", ctx, len(got), want)
	}
	byKey := make(map[string]float64, len(oracle))
	for _, o := range oracle {
		byKey[o.key] = o.score
	}
	for i, r := range got {
		s, ok := byKey[r.Key]
		if !ok {
			t.Fatalf("%s: result %d %q is not a live, accepted match", ctx, i, r.Key)
		}
		if !near(r.Score, s, 1e-9) || !near(r.Score, oracle[i].score, 1e-9) {
			t.Fatalf("%s: result %d %q score %.17g, oracle %.17g for it and %.17g at that rank", ctx, i, r.Key, r.Score, s, oracle[i].score)
		}
		if id, _ := ix.ID(r.Key); id != r.ID {
			t.Fatalf("%s: result %d id %d, key maps to %d", ctx, i, r.ID, id)
		}
		if i > 0 {
			p := got[i-1]
			if p.Score < r.Score || (p.Score == r.Score && p.Key >= r.Key) {
				t.Fatalf("%s: results %d, %d out of order: %v %v", ctx, i-1, i, p, r)
			}
		}
	}
}

var oracleParams = []Params{
	DefaultParams(),
	{K1: 1.2, B: 0.75, TitleBoost: 1},
	{K1: 0.9, B: 0.4, TitleBoost: 2},
	{K1: 0.5, B: 1, TitleBoost: 0},
	{K1: 0, B: 0.3, TitleBoost: 1},
	{K1: 1.5, B: 0, TitleBoost: 0.3},
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// randomAccept returns a filter (possibly nil) and its name.
func randomAccept(rng *rand.Rand, ix *Index) (func(uint32) bool, string) {
	switch rng.IntN(6) {
	case 0, 1:
		return nil, "nil"
	case 2:
		m := uint32(rng.IntN(4) + 2)
		return func(id uint32) bool { return id%m != 0 }, fmt.Sprintf("id%%%d!=0", m)
	case 3:
		salt := rng.Uint64()
		return func(id uint32) bool { return (hash(ix.Key(id))^salt)%10 == 0 }, "10% by key"
	case 4:
		return func(uint32) bool { return false }, "none"
	default:
		salt := rng.Uint64()
		return func(id uint32) bool { return (hash(ix.Key(id))^salt)%100 < 70 }, "70% by key"
	}
}

// TestSearchMatchesOracle runs seeded random workloads — adds, deletes,
// re-adds, compactions and persistence round trips — and checks every
// search against exhaustive scoring (bit for bit) and against the
// brute-force float64 oracle.
func TestSearchMatchesOracle(t *testing.T) {
	seeds := 24
	if testing.Short() {
		seeds = 6
	}
	for seed := range uint64(seeds) {
		rng := rand.New(rand.NewPCG(seed, 99))
		p := oracleParams[int(seed)%len(oracleParams)]
		n := []int{1, 5, 60, 700, 3000, 9000}[rng.IntN(6)]
		if seed%8 == 7 {
			n = 20000 // several windows, so whole windows get skipped
		}
		c := newCorpus(rng, n, 3+rng.IntN(40), 20+rng.IntN(600))
		ix := New(p)
		m := &model{p: p, docs: map[string]corpusDoc{}}
		var liveKeys []string
		for _, d := range c.docs {
			if _, err := ix.Add(d.key, d.title, d.body); err != nil {
				t.Fatal(err)
			}
			m.docs[d.key] = d
			liveKeys = append(liveKeys, d.key)
			if len(liveKeys) > 1 && rng.IntN(4) == 0 { // delete about a quarter
				i := rng.IntN(len(liveKeys))
				k := liveKeys[i]
				liveKeys = slices.Delete(liveKeys, i, i+1)
				if !ix.Delete(k) {
					t.Fatalf("Delete(%q) = false", k)
				}
				delete(m.docs, k)
				if rng.IntN(3) == 0 { // and re-add some with new content
					nd := corpusDoc{key: k, body: c.draw(rng.IntN(20)), title: c.draw(rng.IntN(3))}
					if _, err := ix.Add(k, nd.title, nd.body); err != nil {
						t.Fatal(err)
					}
					m.docs[k] = nd
					liveKeys = append(liveKeys, k)
				}
			}
			if rng.IntN(2000) == 0 {
				ix.Compact()
			}
		}
		switch seed % 3 {
		case 1:
			ix.Compact()
		case 2:
			var buf bytes.Buffer
			if _, err := ix.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			var err error
			if ix, err = Read(&buf); err != nil {
				t.Fatal(err)
			}
		}
		if err := ix.check(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if ix.Len() != len(m.docs) {
			t.Fatalf("seed %d: Len %d, model %d", seed, ix.Len(), len(m.docs))
		}
		m.freeze()
		for qi := range 40 {
			qn := 1 + rng.IntN(20)
			if qi%10 == 9 {
				qn = 40 + rng.IntN(60) // long queries take another sorting path
			}
			terms := c.query(qn)
			k := []int{1, 2, 3, 10, 10, 100, 1 + rng.IntN(300), n + 5}[rng.IntN(8)]
			accept, aname := randomAccept(rng, ix)
			ctx := fmt.Sprintf("seed %d n %d %+v query %d k %d accept %s", seed, n, p, qi, k, aname)
			got, st := ix.SearchWithStats(terms, k, accept)
			ex := ix.searchExhaustive(terms, k, accept)
			if !reflect.DeepEqual(got, ex) {
				t.Fatalf("%s: pruned search differs from exhaustive:\n got %v\nwant %v", ctx, got, ex)
			}
			if st.Postings > st.Total {
				t.Fatalf("%s: scored %d postings of %d", ctx, st.Postings, st.Total)
			}
			checkOracle(t, ctx, got, m.rank(ix, terms, accept), k, ix)
		}
	}
}

// TestIncrementalMatchesFresh checks that deletes update N, avgdl and df
// exactly: after random adds, deletes and re-adds, an index scores like
// one built from scratch with the surviving documents (in the same order),
// before and after Compact, and both serialize to identical bytes.
func TestIncrementalMatchesFresh(t *testing.T) {
	for seed := range uint64(6) {
		rng := rand.New(rand.NewPCG(seed, 1234))
		p := oracleParams[int(seed)%len(oracleParams)]
		c := newCorpus(rng, 6000, 30, 2000)
		inc := New(p)
		content := map[string]corpusDoc{}
		var live []string
		for _, d := range c.docs {
			inc.Add(d.key, d.title, d.body)
			content[d.key] = d
			live = append(live, d.key)
			for len(live) > 0 && rng.IntN(10) < 4 {
				i := rng.IntN(len(live))
				k := live[i]
				inc.Delete(k)
				live = slices.Delete(live, i, i+1)
				if rng.IntN(4) == 0 {
					nd := corpusDoc{key: k, body: c.draw(10 + rng.IntN(30))}
					inc.Add(k, nd.title, nd.body)
					content[k] = nd
					live = append(live, k)
				}
			}
		}
		fresh := New(p)
		for id := range uint32(len(inc.keys)) {
			k := inc.Key(id)
			if k == "" {
				continue
			}
			d := content[k]
			if _, err := fresh.Add(k, d.title, d.body); err != nil {
				t.Fatal(err)
			}
		}
		if fresh.Len() != inc.Len() {
			t.Fatalf("seed %d: fresh %d docs, incremental %d", seed, fresh.Len(), inc.Len())
		}
		queries := make([][]string, 60)
		for i := range queries {
			queries[i] = c.query(1 + rng.IntN(20))
		}
		compare := func(stage string) {
			for qi, q := range queries {
				k := []int{1, 10, 100}[qi%3]
				a, b := inc.Search(q, k, nil), fresh.Search(q, k, nil)
				if len(a) != len(b) {
					t.Fatalf("seed %d %s query %d: %d vs %d results", seed, stage, qi, len(a), len(b))
				}
				for i := range a {
					if a[i].Key != b[i].Key || !near(a[i].Score, b[i].Score, 1e-9) {
						t.Fatalf("seed %d %s query %d rank %d: incremental %v, fresh %v", seed, stage, qi, i, a[i], b[i])
					}
					if a[i].Score != b[i].Score {
						t.Errorf("seed %d %s query %d rank %d: scores differ in the last bits: %v vs %v", seed, stage, qi, i, a[i].Score, b[i].Score)
					}
				}
			}
		}
		var want bytes.Buffer
		fresh.WriteTo(&want)
		serialize := func(stage string) {
			var got bytes.Buffer
			inc.WriteTo(&got)
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("seed %d %s: serialized %d bytes differ from fresh build's %d", seed, stage, got.Len(), want.Len())
			}
		}
		compare("before compact")
		serialize("before compact")
		inc.Compact()
		if err := inc.check(); err != nil {
			t.Fatal(err)
		}
		compare("after compact")
		serialize("after compact")
	}
}

// TestPruningSkipsWork shows that for top-10 queries the pruned traversal
// scores a small fraction of the postings exhaustive scoring reads.
func TestPruningSkipsWork(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	c := newCorpus(rng, 50000, 60, 30000)
	ix := New(DefaultParams())
	for _, d := range c.docs {
		ix.Add(d.key, d.title, d.body)
	}
	var scoredTotal, total int64
	for range 100 {
		q := c.query(12)
		got, st := ix.SearchWithStats(q, 10, nil)
		if !reflect.DeepEqual(got, ix.searchExhaustive(q, 10, nil)) {
			t.Fatalf("pruned search differs from exhaustive for %v", q)
		}
		scoredTotal += st.Postings
		total += st.Total
	}
	ratio := float64(scoredTotal) / float64(total)
	t.Logf("top-10: scored %d of %d postings (%.1f%%)", scoredTotal, total, 100*ratio)
	if ratio > 0.25 {
		t.Fatalf("pruning scored %.1f%% of postings, want ≤ 25%%", 100*ratio)
	}
}
