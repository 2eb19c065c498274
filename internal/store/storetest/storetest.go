// Package storetest is the conformance suite every store.Backend must pass:
// write semantics (upsert, update, delete, versions), lexical and dense
// search, scopes (tenant, ACL, metadata filter) applied inside the search,
// NoText and WithVectors, stats, generations, dimensions and reopening.
// A backend's test calls Run with a function that opens a fresh, empty
// backend.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/store"
)

// Opener returns a new, empty backend; the suite closes it.
type Opener func(t *testing.T) store.Backend

// Reopener closes b and opens the same data again.
type Reopener func(t *testing.T, b store.Backend) store.Backend

// Dim is the vector dimension of the suite's documents.
const Dim = 4

// Doc builds a document with one chunk per paragraph; vec (may be nil) is
// every chunk's vector.
func Doc(id string, vec []float32, paras ...string) store.DocChunks {
	d := base.Document{ID: id, Text: strings.Join(paras, "\n\n"), Language: "en", Hash: "h-" + id, Version: 1,
		Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	var cs []base.Chunk
	var vs [][]float32
	pos := 0
	for i, p := range paras {
		cs = append(cs, base.Chunk{ID: base.ChunkID(id, i), DocID: id, Ordinal: i, Text: p, Start: pos, End: pos + len(p), RuneStart: pos, Tokens: len(strings.Fields(p))})
		pos += len(p) + 2
		if vec != nil {
			vs = append(vs, slices.Clone(vec))
		}
	}
	return store.DocChunks{Doc: d, Chunks: cs, Vectors: vs}
}

// E is the i-th unit vector of Dim dimensions, optionally mixed with a
// little of the next axis so that similarities differ.
func E(i int, mix float32) []float32 {
	v := make([]float32, Dim)
	v[i%Dim] = 1
	v[(i+1)%Dim] = mix
	n := float32(math.Sqrt(float64(1 + mix*mix)))
	for j := range v {
		v[j] /= n
	}
	return v
}

// Run runs the suite. reopen, when given, adds the reopening test.
func Run(t *testing.T, open Opener, reopen ...Reopener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b store.Backend)
	}{
		{"UpsertGetChunksVersions", testUpsertGet},
		{"UpdateReplacesChunks", testUpdate},
		{"Delete", testDelete},
		{"Lexical", testLexical},
		{"Dense", testDense},
		{"WithVectors", testWithVectors},
		{"TenantScope", testTenant},
		{"TenantLanguageFallback", testTenantLanguage},
		{"ACL", testACL},
		{"MetadataFilter", testFilter},
		{"FilterInsideSearch", testFilterInside},
		{"Stats", testStats},
		{"Generation", testGeneration},
		{"Dimension", testDimension},
		{"Hybrid", testHybrid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := open(t)
			t.Cleanup(func() { b.Close() })
			tc.fn(t, b)
		})
	}
	if len(reopen) > 0 {
		t.Run("Reopen", func(t *testing.T) {
			b := open(t)
			testReopen(t, b, reopen[0])
		})
	}
}

func ctx() context.Context { return context.Background() }

func upsert(t *testing.T, b store.Backend, docs ...store.DocChunks) {
	t.Helper()
	if err := b.Upsert(ctx(), docs); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
}

func lexical(t *testing.T, b store.Backend, q string, k int, sc store.Scope) []base.Hit {
	t.Helper()
	hits, err := b.Lexical(ctx(), store.LexicalQuery{Text: q, K: k, Scope: sc, Language: "en"})
	if err != nil {
		t.Fatalf("Lexical(%q): %v", q, err)
	}
	return hits
}

func dense(t *testing.T, b store.Backend, v []float32, k int, sc store.Scope) []base.Hit {
	t.Helper()
	hits, err := b.Dense(ctx(), store.DenseQuery{Vector: v, K: k, Scope: sc})
	if err != nil {
		t.Fatalf("Dense: %v", err)
	}
	return hits
}

func docIDs(hits []base.Hit) []string {
	var ids []string
	for _, h := range hits {
		if !slices.Contains(ids, h.DocID) {
			ids = append(ids, h.DocID)
		}
	}
	slices.Sort(ids)
	return ids
}

func wantDocs(t *testing.T, what string, hits []base.Hit, want ...string) {
	t.Helper()
	got := docIDs(hits)
	slices.Sort(want)
	if want == nil {
		want = []string{}
	}
	if got == nil {
		got = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: documents %v, want %v", what, got, want)
	}
}

func testUpsertGet(t *testing.T, b store.Backend) {
	a := Doc("a", E(0, 0), "granite is an igneous rock", "quarries cut granite blocks")
	a.Doc.Title = "Granite"
	a.Doc.Source = "geo.md"
	a.Doc.Metadata = base.Metadata{"year": base.Number(2021), "kind": base.String("rock")}
	a.Doc.Sections = []base.Section{{Title: "Intro", Level: 1, Start: 0, End: 10}}
	a.Chunks[1].Section = "Intro"
	upsert(t, b, a)

	vs, err := b.Versions(ctx(), []string{"a", "missing"})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs["a"].Hash != "h-a" || vs["a"].Version != 1 || !vs["a"].Created.Equal(a.Doc.Created) {
		t.Fatalf("Versions = %+v, want only a with hash h-a, version 1, created %v", vs, a.Doc.Created)
	}
	d, err := b.Get(ctx(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if d.Text != a.Doc.Text || d.Title != "Granite" || d.Source != "geo.md" || d.Language != "en" || d.Hash != "h-a" || d.Version != 1 {
		t.Errorf("Get = %+v", d)
	}
	if !d.Metadata["year"].Equal(base.Number(2021)) || !d.Metadata["kind"].Equal(base.String("rock")) || len(d.Metadata) != 2 {
		t.Errorf("Get metadata = %v", d.Metadata)
	}
	if len(d.Sections) != 1 || d.Sections[0].Title != "Intro" {
		t.Errorf("Get sections = %v", d.Sections)
	}
	cs, err := b.Chunks(ctx(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("Chunks = %d, want 2", len(cs))
	}
	for i, c := range cs {
		w := a.Chunks[i]
		if c.ID != w.ID || c.DocID != "a" || c.Ordinal != i || c.Text != w.Text || c.Start != w.Start || c.End != w.End || c.Section != w.Section || c.Tokens != w.Tokens {
			t.Errorf("chunk %d = %+v, want %+v", i, c, w)
		}
	}
	if _, err := b.Get(ctx(), "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(missing) = %v, want ErrNotFound", err)
	}
	if _, err := b.Chunks(ctx(), "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Chunks(missing) = %v, want ErrNotFound", err)
	}
}

func testUpdate(t *testing.T, b store.Backend) {
	upsert(t, b, Doc("a", E(0, 0), "obsidian glass", "basalt columns", "pumice floats"))
	upsert(t, b, Doc("b", E(1, 0), "limestone caves"))
	u := Doc("a", E(2, 0), "marble statues")
	u.Doc.Version, u.Doc.Hash = 2, "h-a2"
	upsert(t, b, u)
	cs, err := b.Chunks(ctx(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Text != "marble statues" {
		t.Fatalf("after update, Chunks = %+v, want the one new chunk", cs)
	}
	vs, _ := b.Versions(ctx(), []string{"a"})
	if vs["a"].Version != 2 || vs["a"].Hash != "h-a2" {
		t.Errorf("Versions after update = %+v", vs)
	}
	for _, q := range []string{"basalt", "pumice", "obsidian"} {
		if hits := lexical(t, b, q, 10, store.Scope{}); len(hits) != 0 {
			t.Errorf("old chunk text %q still found: %+v", q, hits)
		}
	}
	wantDocs(t, "marble", lexical(t, b, "marble", 10, store.Scope{}), "a")
	hits := dense(t, b, E(0, 0), 10, store.Scope{})
	for _, h := range hits {
		if h.DocID == "a" && h.Score > 0.5 {
			t.Errorf("old vector of a still found: %+v", h)
		}
	}
	if hits := dense(t, b, E(2, 0), 1, store.Scope{}); len(hits) != 1 || hits[0].ChunkID != "a#0" {
		t.Errorf("new vector of a not found first: %+v", hits)
	}
	s, err := b.Stats(ctx())
	if err != nil {
		t.Fatal(err)
	}
	if s.Documents != 2 || s.Chunks != 2 {
		t.Errorf("Stats after update = %d docs %d chunks, want 2 and 2", s.Documents, s.Chunks)
	}
}

func testDelete(t *testing.T, b store.Backend) {
	upsert(t, b, Doc("a", E(0, 0), "granite blocks", "granite dust"), Doc("b", E(1, 0), "granite countertop"))
	found, err := b.Delete(ctx(), "a")
	if err != nil || !found {
		t.Fatalf("Delete(a) = %v, %v; want true, nil", found, err)
	}
	found, err = b.Delete(ctx(), "a")
	if err != nil || found {
		t.Fatalf("second Delete(a) = %v, %v; want false, nil", found, err)
	}
	if _, err := b.Get(ctx(), "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after delete = %v, want ErrNotFound", err)
	}
	if vs, _ := b.Versions(ctx(), []string{"a"}); len(vs) != 0 {
		t.Errorf("Versions after delete = %v", vs)
	}
	wantDocs(t, "lexical after delete", lexical(t, b, "granite", 10, store.Scope{}), "b")
	wantDocs(t, "dense after delete", dense(t, b, E(0, 0), 10, store.Scope{}), "b")
	s, _ := b.Stats(ctx())
	if s.Documents != 1 || s.Chunks != 1 {
		t.Errorf("Stats after delete = %d docs %d chunks, want 1 and 1", s.Documents, s.Chunks)
	}
}

func corpus() []store.DocChunks {
	a := Doc("a", E(0, 0.1), "granite is a coarse igneous rock quarried for building", "the quarry exports granite slabs")
	a.Doc.Title = "Granite"
	b := Doc("b", E(1, 0.1), "marble is metamorphosed limestone used by sculptors")
	b.Doc.Title = "Marble"
	c := Doc("c", E(2, 0.1), "slate splits into thin sheets for roofing")
	d := Doc("d", E(3, 0.1), "a granite countertop resists heat")
	return []store.DocChunks{a, b, c, d}
}

func testLexical(t *testing.T, b store.Backend) {
	upsert(t, b, corpus()...)
	hits := lexical(t, b, "granite quarry", 10, store.Scope{})
	if len(hits) < 2 {
		t.Fatalf("Lexical(granite quarry) = %+v, want the granite chunks", hits)
	}
	if hits[0].DocID != "a" {
		t.Errorf("best hit %s, want a (title and two terms)", hits[0].ChunkID)
	}
	wantDocs(t, "granite quarry", hits, "a", "d")
	for i, h := range hits {
		if i > 0 && h.Score > hits[i-1].Score {
			t.Errorf("scores not descending: %v then %v", hits[i-1].Score, h.Score)
		}
		if h.Score <= 0 {
			t.Errorf("hit %s score %v, want > 0", h.ChunkID, h.Score)
		}
		if h.Text == "" || h.End <= h.Start {
			t.Errorf("hit %s has no text or offsets: %+v", h.ChunkID, h)
		}
		if doc, ord, ok := base.ParseChunkID(h.ChunkID); !ok || doc != h.DocID || ord != h.Ordinal {
			t.Errorf("hit %+v: chunk id, doc id and ordinal disagree", h)
		}
	}
	if hits[0].DocID == "a" && hits[0].Title != "Granite" {
		t.Errorf("hit title %q, want Granite", hits[0].Title)
	}
	if k1 := lexical(t, b, "granite", 1, store.Scope{}); len(k1) != 1 {
		t.Errorf("K=1 gave %d hits", len(k1))
	}
	nt, err := b.Lexical(ctx(), store.LexicalQuery{Text: "marble", K: 5, NoText: true, Language: "en"})
	if err != nil || len(nt) != 1 || nt[0].Text != "" || nt[0].ChunkID != "b#0" {
		t.Errorf("NoText search = %+v, %v; want b#0 without text", nt, err)
	}
	if none := lexical(t, b, "zirconium", 10, store.Scope{}); len(none) != 0 {
		t.Errorf("unknown term found %+v", none)
	}
	// Stemming and case: the analyzer is the backend's business, but
	// "Sculptor" must find "sculptors".
	wantDocs(t, "Sculptor", lexical(t, b, "Sculptor", 10, store.Scope{}), "b")
}

func testDense(t *testing.T, b store.Backend) {
	if hits, err := b.Dense(ctx(), store.DenseQuery{Vector: E(0, 0), K: 3}); err != nil || len(hits) != 0 {
		t.Errorf("Dense on an empty backend = %+v, %v; want no hits", hits, err)
	}
	upsert(t, b, corpus()...)
	hits := dense(t, b, E(1, 0), 2, store.Scope{})
	if len(hits) != 2 || hits[0].DocID != "b" {
		t.Fatalf("Dense(e1) = %+v, want b first", hits)
	}
	want := float64(1 / math.Sqrt(1.01))
	if math.Abs(hits[0].Score-want) > 1e-3 {
		t.Errorf("score %v, want inner product %v", hits[0].Score, want)
	}
	if hits[1].Score > hits[0].Score {
		t.Errorf("scores not descending")
	}
	if hits[0].Text == "" || hits[0].Vector != nil {
		t.Errorf("hit = %+v: want text and no vector", hits[0])
	}
	nt, err := b.Dense(ctx(), store.DenseQuery{Vector: E(1, 0), K: 1, NoText: true})
	if err != nil || len(nt) != 1 || nt[0].Text != "" {
		t.Errorf("NoText dense = %+v, %v", nt, err)
	}
	all := dense(t, b, E(0, 0), 100, store.Scope{})
	if len(all) != 5 {
		t.Errorf("K=100 gave %d hits, want all 5 chunks", len(all))
	}
}

func testWithVectors(t *testing.T, b store.Backend) {
	upsert(t, b, corpus()...)
	want := E(2, 0.1)
	check := func(what string, hits []base.Hit, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if len(hits) == 0 {
			t.Fatalf("%s: no hits", what)
		}
		for _, h := range hits {
			if h.DocID != "c" {
				continue
			}
			if len(h.Vector) != Dim {
				t.Fatalf("%s: hit %s vector %v, want %d dimensions", what, h.ChunkID, h.Vector, Dim)
			}
			for i := range want {
				if math.Abs(float64(h.Vector[i]-want[i])) > 1e-6 {
					t.Fatalf("%s: vector %v, want %v", what, h.Vector, want)
				}
			}
			return
		}
		t.Fatalf("%s: c not found", what)
	}
	hits, err := b.Dense(ctx(), store.DenseQuery{Vector: want, K: 2, WithVectors: true})
	check("Dense", hits, err)
	hits, err = b.Lexical(ctx(), store.LexicalQuery{Text: "slate roofing", K: 2, WithVectors: true, Language: "en"})
	check("Lexical", hits, err)
}

func testTenant(t *testing.T, b store.Backend) {
	acme := Doc("acme-1", E(0, 0), "granite contract for acme")
	acme.Doc.Tenant = "acme"
	globex := Doc("globex-1", E(0, 0.05), "granite contract for globex")
	globex.Doc.Tenant = "globex"
	shared := Doc("shared-1", E(0, 0.1), "granite public price list")
	upsert(t, b, acme, globex, shared)
	for _, tc := range []struct {
		tenant string
		want   string
	}{{"", "shared-1"}, {"acme", "acme-1"}, {"globex", "globex-1"}, {"initech", ""}} {
		sc := store.Scope{Tenant: tc.tenant}
		var want []string
		if tc.want != "" {
			want = []string{tc.want}
		}
		wantDocs(t, "lexical tenant "+tc.tenant, lexical(t, b, "granite contract", 10, sc), want...)
		wantDocs(t, "dense tenant "+tc.tenant, dense(t, b, E(0, 0), 10, sc), want...)
	}
}

func testACL(t *testing.T, b store.Backend) {
	secret := Doc("secret", E(0, 0), "granite merger plans")
	secret.Doc.ACL = []string{"alice", "board"}
	open := Doc("open", E(0, 0.1), "granite annual report")
	upsert(t, b, secret, open)
	for _, tc := range []struct {
		principals []string
		want       []string
	}{
		{nil, []string{"open"}},
		{[]string{"bob"}, []string{"open"}},
		{[]string{"bob", "alice"}, []string{"open", "secret"}},
		{[]string{"board"}, []string{"open", "secret"}},
	} {
		sc := store.Scope{Principals: tc.principals}
		wantDocs(t, "lexical principals "+strings.Join(tc.principals, ","), lexical(t, b, "granite", 10, sc), tc.want...)
		wantDocs(t, "dense principals "+strings.Join(tc.principals, ","), dense(t, b, E(0, 0), 10, sc), tc.want...)
	}
	// ACL and tenant together.
	tsecret := Doc("tsecret", E(0, 0), "granite tenant secret")
	tsecret.Doc.Tenant, tsecret.Doc.ACL = "acme", []string{"alice"}
	upsert(t, b, tsecret)
	wantDocs(t, "tenant acme, alice", lexical(t, b, "granite", 10, store.Scope{Tenant: "acme", Principals: []string{"alice"}}), "tsecret")
	wantDocs(t, "tenant acme, bob", lexical(t, b, "granite", 10, store.Scope{Tenant: "acme", Principals: []string{"bob"}}))
}

func filterCorpus() []store.DocChunks {
	mk := func(id, lang string, md base.Metadata) store.DocChunks {
		d := Doc(id, E(len(id), 0.1), "granite sample "+id)
		d.Doc.Language, d.Doc.Metadata = lang, md
		return d
	}
	return []store.DocChunks{
		mk("d1", "en", base.Metadata{"year": base.Number(2019), "kind": base.String("report"), "public": base.Bool(true)}),
		mk("d2", "en", base.Metadata{"year": base.Number(2021), "kind": base.String("memo"), "public": base.Bool(false)}),
		mk("d3", "en", base.Metadata{"year": base.Number(2023), "kind": base.String("report")}),
		mk("d4", "en", base.Metadata{"kind": base.Number(7)}), // same key, another type
		mk("d5", "en", nil),
	}
}

func testFilter(t *testing.T, b store.Backend) {
	upsert(t, b, filterCorpus()...)
	f := func(op base.Op, field string, v base.Value) base.Filter {
		return base.Filter{Op: op, Field: field, Value: v}
	}
	cases := []struct {
		name string
		f    base.Filter
		want []string
	}{
		{"eq string", f(base.OpEq, "kind", base.String("report")), []string{"d1", "d3"}},
		{"eq number", f(base.OpEq, "kind", base.Number(7)), []string{"d4"}},
		{"eq bool", f(base.OpEq, "public", base.Bool(true)), []string{"d1"}},
		{"ne", f(base.OpNe, "kind", base.String("report")), []string{"d2", "d4", "d5"}},
		{"gt", f(base.OpGt, "year", base.Number(2019)), []string{"d2", "d3"}},
		{"gte", f(base.OpGte, "year", base.Number(2021)), []string{"d2", "d3"}},
		{"lt", f(base.OpLt, "year", base.Number(2021)), []string{"d1"}},
		{"lte", f(base.OpLte, "year", base.Number(2021)), []string{"d1", "d2"}},
		{"in", base.Filter{Op: base.OpIn, Field: "kind", Values: []base.Value{base.String("memo"), base.Number(7)}}, []string{"d2", "d4"}},
		{"exists", base.Filter{Op: base.OpExists, Field: "year"}, []string{"d1", "d2", "d3"}},
		{"not exists", base.Filter{Op: base.OpNot, Children: []base.Filter{{Op: base.OpExists, Field: "kind"}}}, []string{"d5"}},
		{"and", base.Filter{Op: base.OpAnd, Children: []base.Filter{f(base.OpEq, "kind", base.String("report")), f(base.OpGt, "year", base.Number(2020))}}, []string{"d3"}},
		{"or", base.Filter{Op: base.OpOr, Children: []base.Filter{f(base.OpEq, "kind", base.String("memo")), f(base.OpLt, "year", base.Number(2020))}}, []string{"d1", "d2"}},
		{"unknown key eq", f(base.OpEq, "colour", base.String("red")), nil},
		{"unknown key ne", f(base.OpNe, "colour", base.String("red")), []string{"d1", "d2", "d3", "d4", "d5"}},
		{"builtin doc_id", f(base.OpEq, "doc_id", base.String("d3")), []string{"d3"}},
		{"builtin language", f(base.OpEq, "language", base.String("en")), []string{"d1", "d2", "d3", "d4", "d5"}},
		{"wrong type never matches", f(base.OpEq, "year", base.String("2019")), nil},
	}
	for _, tc := range cases {
		sc := store.Scope{Filter: tc.f}
		wantDocs(t, "lexical "+tc.name, lexical(t, b, "granite sample", 10, sc), tc.want...)
		wantDocs(t, "dense "+tc.name, dense(t, b, E(0, 0), 10, sc), tc.want...)
	}
}

// testFilterInside checks that K results are the best K the scope allows,
// not a trimmed list: many better documents are out of scope.
func testFilterInside(t *testing.T, b store.Backend) {
	var docs []store.DocChunks
	for i := range 30 {
		d := Doc("hidden-"+string(rune('a'+i%26))+string(rune('a'+i/26)), E(0, 0), "granite granite granite quarry")
		d.Doc.ACL = []string{"nobody"}
		docs = append(docs, d)
	}
	docs = append(docs, Doc("visible", E(0, 0.9), "granite and many other words that dilute the term frequency here"))
	upsert(t, b, docs...)
	wantDocs(t, "lexical K=1", lexical(t, b, "granite", 1, store.Scope{}), "visible")
	wantDocs(t, "dense K=1", dense(t, b, E(0, 0), 1, store.Scope{}), "visible")
	f := store.Scope{Filter: base.Filter{Op: base.OpEq, Field: "doc_id", Value: base.String("visible")}, Principals: []string{"nobody"}}
	wantDocs(t, "filter K=1", lexical(t, b, "granite", 1, f), "visible")
}

func testStats(t *testing.T, b store.Backend) {
	upsert(t, b, corpus()...)
	s, err := b.Stats(ctx())
	if err != nil {
		t.Fatal(err)
	}
	if s.Documents != 4 || s.Chunks != 5 || s.Vectors != 5 || s.Dimension != Dim {
		t.Errorf("Stats = %+v, want 4 documents, 5 chunks, 5 vectors of %d dims", s, Dim)
	}
	if s.Languages["en"] != 4 {
		t.Errorf("Stats.Languages = %v, want en: 4", s.Languages)
	}
	if s.Generation != b.Generation() {
		t.Errorf("Stats.Generation %d, Generation() %d", s.Generation, b.Generation())
	}
}

func testGeneration(t *testing.T, b store.Backend) {
	g0 := b.Generation()
	upsert(t, b, Doc("a", nil, "one"))
	g1 := b.Generation()
	if g1 <= g0 {
		t.Fatalf("generation %d after upsert, was %d", g1, g0)
	}
	upsert(t, b, Doc("b", nil, "two"))
	g2 := b.Generation()
	if g2 <= g1 {
		t.Fatalf("generation %d after second upsert, was %d", g2, g1)
	}
	if _, err := b.Delete(ctx(), "a"); err != nil {
		t.Fatal(err)
	}
	if g3 := b.Generation(); g3 <= g2 {
		t.Fatalf("generation %d after delete, was %d", g3, g2)
	}
}

func testDimension(t *testing.T, b store.Backend) {
	upsert(t, b, Doc("a", E(0, 0), "four dims"))
	bad := Doc("b", []float32{1, 0, 0}, "three dims")
	if err := b.Upsert(ctx(), []store.DocChunks{bad}); !errors.Is(err, store.ErrDimension) {
		t.Errorf("Upsert with 3 dims = %v, want ErrDimension", err)
	}
	if _, err := b.Get(ctx(), "b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rejected document was stored: Get = %v", err)
	}
	if _, err := b.Dense(ctx(), store.DenseQuery{Vector: []float32{1, 0, 0}, K: 1}); !errors.Is(err, store.ErrDimension) {
		t.Errorf("Dense with 3 dims = %v, want ErrDimension", err)
	}
	if err := b.Upsert(ctx(), []store.DocChunks{Doc("c", nil, "no vectors")}); err == nil {
		t.Errorf("Upsert without vectors into a vector collection succeeded")
	}
}

// testHybrid checks what the engine's fusion relies on: lexical and dense
// hits of one chunk carry the same ids, so fusion can join them; and a
// backend that fuses itself (store.Hybrider) finds documents matched by
// either side, within the scope.
func testHybrid(t *testing.T, b store.Backend) {
	upsert(t, b, corpus()...)
	lex := lexical(t, b, "marble", 5, store.Scope{})
	den := dense(t, b, E(1, 0.1), 1, store.Scope{})
	if len(lex) == 0 || len(den) == 0 || lex[0].ChunkID != den[0].ChunkID || lex[0].DocID != den[0].DocID || lex[0].Ordinal != den[0].Ordinal {
		t.Fatalf("lexical %+v and dense %+v disagree on the ids of chunk b#0", lex, den)
	}
	h, ok := b.(store.Hybrider)
	if !ok {
		return
	}
	hits, err := h.Hybrid(ctx(), store.HybridQuery{Text: "slate roofing", Language: "en", Vector: E(0, 0.1), K: 10})
	if err != nil {
		t.Fatal(err)
	}
	ids := docIDs(hits)
	if !slices.Contains(ids, "c") || !slices.Contains(ids, "a") {
		t.Errorf("Hybrid = %v, want c (lexical) and a (vector)", ids)
	}
	if len(hits) > 0 && hits[0].DocID != "c" && hits[0].DocID != "a" {
		t.Errorf("Hybrid best = %s, want c or a", hits[0].DocID)
	}
	hidden := Doc("z", E(0, 0.1), "slate roofing secrets")
	hidden.Doc.Tenant = "other"
	upsert(t, b, hidden)
	hits, err = h.Hybrid(ctx(), store.HybridQuery{Text: "slate roofing", Language: "en", Vector: E(0, 0.1), K: 10})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(docIDs(hits), "z") {
		t.Errorf("Hybrid returned another tenant's document")
	}
}

func testReopen(t *testing.T, b store.Backend, reopen Reopener) {
	upsert(t, b, corpus()...)
	if _, err := b.Delete(ctx(), "d"); err != nil {
		t.Fatal(err)
	}
	g := b.Generation()
	b = reopen(t, b)
	t.Cleanup(func() { b.Close() })
	if b.Generation() < g {
		t.Errorf("generation went back from %d to %d on reopen", g, b.Generation())
	}
	d, err := b.Get(ctx(), "a")
	if err != nil || d.Title != "Granite" {
		t.Fatalf("Get after reopen = %+v, %v", d, err)
	}
	if _, err := b.Get(ctx(), "d"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted document back after reopen: %v", err)
	}
	wantDocs(t, "lexical after reopen", lexical(t, b, "granite", 10, store.Scope{}), "a")
	wantDocs(t, "dense after reopen", dense(t, b, E(1, 0.1), 1, store.Scope{}), "b")
	if _, err := b.Dense(ctx(), store.DenseQuery{Vector: []float32{1}, K: 1}); !errors.Is(err, store.ErrDimension) {
		t.Errorf("dimension forgotten on reopen: Dense with 1 dim = %v", err)
	}
}

// testTenantLanguage: a query without a language that identification cannot
// place falls back to its own tenant's dominant language, so another
// tenant's documents never change how it is analysed (issue 12's probe:
// tenant A's English search kept finding its document after tenant B added
// 20 French ones).
func testTenantLanguage(t *testing.T, b store.Backend) {
	en1 := Doc("en1", nil, "The pipeline runs every night and reports failures.")
	en2 := Doc("en2", nil, "Backups are copied to a second region.")
	en1.Doc.Tenant, en2.Doc.Tenant = "A", "A"
	upsert(t, b, en1, en2)
	search := func() []string {
		hits, err := b.Lexical(ctx(), store.LexicalQuery{Text: "running", K: 5, Scope: store.Scope{Tenant: "A"}})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, h := range hits {
			ids = append(ids, h.DocID)
		}
		return ids
	}
	if got := search(); len(got) == 0 || got[0] != "en1" {
		t.Fatalf("before: %v", got)
	}
	var fr []store.DocChunks
	for i := range 20 {
		d := Doc(fmt.Sprint("fr", i), nil, "Le chat dort sur le canapé pendant que la pluie tombe doucement sur la ville.")
		d.Doc.Tenant, d.Doc.Language = "B", "fr"
		fr = append(fr, d)
	}
	upsert(t, b, fr...)
	if got := search(); len(got) == 0 || got[0] != "en1" {
		t.Fatalf("after another tenant's French documents, tenant A's search finds %v", got)
	}
}
