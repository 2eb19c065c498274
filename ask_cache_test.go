package quarry_test

import (
	"context"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
)

func TestAnswerCacheExactAndInvalidation(t *testing.T) {
	eng, reg := openLLMEngine(t, quarry.LLMConfig{})
	col := loadDocs(t, eng, solarDocs)
	ctx := context.Background()
	ask := func(q string, principals ...string) *quarry.Answer {
		t.Helper()
		a, err := col.Ask(ctx, quarry.AskRequest{Question: q, Principals: principals})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	first := ask("How many moons does Mars have?")
	if first.Cached != "" {
		t.Fatal("first answer came from the cache")
	}
	second := ask("  how many moons does MARS have ")
	if second.Cached != "exact" || second.Answer != first.Answer || len(second.Citations) != len(first.Citations) {
		t.Fatalf("normalised repeat: cached=%q %q", second.Cached, second.Answer)
	}
	// The cached answer is a copy: changing it does not change the cache.
	second.Citations[0].Text = "mutated"
	if third := ask("How many moons does Mars have?"); third.Citations[0].Text == "mutated" {
		t.Fatal("cache shares memory with callers")
	}
	// Other principals are another ACL scope.
	if a := ask("How many moons does Mars have?", "bob"); a.Cached != "" {
		t.Fatal("hit across principals")
	}
	if got := metricValue(t, reg, "quarry_answer_cache_total", map[string]string{"cache": "exact", "result": "hit"}); got != 2 {
		t.Fatalf("exact hits = %v, want 2", got)
	}

	// A document update makes the next identical question miss, and the
	// answer reflects the new text.
	mars := solarDocs[2]
	mars.Text = "Mars is the fourth planet from the Sun. It has two small moons, Phobos and Deimos, and no rings."
	if _, err := col.Upsert(ctx, []quarry.Document{mars}, nil); err != nil {
		t.Fatal(err)
	}
	after := ask("How many moons does Mars have?")
	if after.Cached != "" {
		t.Fatal("answer cached before the update was served after it")
	}
	if !strings.Contains(after.Answer, "no rings") || strings.Contains(first.Answer, "no rings") {
		t.Fatalf("answer did not change: %q", after.Answer)
	}
	// So does a delete.
	ask("When was the Eiffel Tower completed?")
	if err := col.Delete(ctx, "eiffel"); err != nil {
		t.Fatal(err)
	}
	if a := ask("When was the Eiffel Tower completed?"); a.Cached != "" {
		t.Fatal("hit after a delete")
	}
	if a, _ := col.Ask(ctx, quarry.AskRequest{Question: "How many moons does Mars have?", NoCache: true}); a.Cached != "" {
		t.Fatal("NoCache read the cache")
	}
}

// semanticEngine opens an engine whose collection embeds with MiniLM, so
// the semantic cache is on.
func semanticEngine(t testing.TB) (*quarry.Collection, func() float64) {
	requireModelTB(t, "all-MiniLM-L6-v2")
	eng, reg := openLLMEngine(t, quarry.LLMConfig{})
	ctx := context.Background()
	col, _, err := eng.CreateCollection(ctx, "sem", &quarry.CollectionConfig{Embedding: "all-MiniLM-L6-v2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := col.Upsert(ctx, solarDocs, nil); err != nil {
		t.Fatal(err)
	}
	return col, func() float64 {
		return metricValue(t, reg, "quarry_answer_cache_total", map[string]string{"cache": "semantic", "result": "hit"})
	}
}

func TestAnswerCacheSemantic(t *testing.T) {
	col, hits := semanticEngine(t)
	ctx := context.Background()
	a, err := col.Ask(ctx, quarry.AskRequest{Question: "How many moons does Mars have?"})
	if err != nil || a.Cached != "" {
		t.Fatal(err, a.Cached)
	}
	b, err := col.Ask(ctx, quarry.AskRequest{Question: "How many moons has Mars got?"})
	if err != nil || b.Cached != "semantic" || b.Answer != a.Answer || hits() != 1 {
		t.Fatalf("paraphrase: %v cached=%q hits=%v", err, b.Cached, hits())
	}
	c, _ := col.Ask(ctx, quarry.AskRequest{Question: "When was the Eiffel Tower completed?"})
	if c.Cached != "" {
		t.Fatal("unrelated question served from the cache")
	}
	d, _ := col.Ask(ctx, quarry.AskRequest{Question: "How many moons has Mars got?", Tenant: "other"})
	if d.Cached != "" {
		t.Fatal("hit across tenants")
	}
	mars := solarDocs[2]
	mars.Text += " Its moons are small."
	if _, err := col.Upsert(ctx, []quarry.Document{mars}, nil); err != nil {
		t.Fatal(err)
	}
	if e, _ := col.Ask(ctx, quarry.AskRequest{Question: "How many moons has Mars got?"}); e.Cached != "" {
		t.Fatal("semantic hit after an update")
	}
}

// TestSemanticCacheHitLatency measures a semantic-cache hit (target: < 5 ms
// at the median) against its peer, embedding the question by a dense
// search of one result, in the same run. A hit is the embedding plus a
// lookup, so it must cost at most 1 ms more than the peer; the absolute
// target is logged, and asserted only with QUARRY_STRICT_LATENCY=1 (a
// shared, loaded machine cannot promise it).
func TestSemanticCacheHitLatency(t *testing.T) {
	col, _ := semanticEngine(t)
	ctx := context.Background()
	if _, err := col.Ask(ctx, quarry.AskRequest{Question: "How many moons does Mars have?"}); err != nil {
		t.Fatal(err)
	}
	// Vary the paraphrase so that no request becomes an exact hit.
	qs := []string{"How many moons has Mars got", "What number of moons does Mars have"}
	var hit, peer []time.Duration
	for i := 0; i < 60; i++ {
		q := qs[i%2] + "?" + strings.Repeat(")", 1+i/2)
		start := time.Now()
		a, err := col.Ask(ctx, quarry.AskRequest{Question: q})
		d := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		if a.Cached == "semantic" {
			hit = append(hit, d)
		}
		start = time.Now()
		if _, err := col.Search(ctx, quarry.SearchRequest{Query: q, K: 1, Mode: quarry.ModeDense}); err != nil {
			t.Fatal(err)
		}
		peer = append(peer, time.Since(start))
	}
	if len(hit) < 40 {
		t.Fatalf("only %d semantic hits of 60", len(hit))
	}
	p50 := func(ds []time.Duration) time.Duration {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)/2]
	}
	h, p := p50(hit), p50(peer)
	t.Logf("semantic hit p50 %v (n=%d); peer (embed + 1-NN search) p50 %v; target < 5ms met: %v", h, len(hit), p, h < 5*time.Millisecond)
	if h > p+time.Millisecond {
		t.Fatalf("a semantic hit costs %v more than embedding the question", h-p)
	}
	if os.Getenv("QUARRY_STRICT_LATENCY") == "1" && h >= 5*time.Millisecond {
		t.Fatalf("semantic hit p50 %v, target < 5ms", h)
	}
}

func BenchmarkAskSemanticCacheHit(b *testing.B) {
	col, _ := semanticEngine(b)
	ctx := context.Background()
	if _, err := col.Ask(ctx, quarry.AskRequest{Question: "How many moons does Mars have?"}); err != nil {
		b.Fatal(err)
	}
	qs := []string{"How many moons has Mars got?", "What number of moons does Mars have?"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a, err := col.Ask(ctx, quarry.AskRequest{Question: qs[i%2]})
		if err != nil || a.Cached == "" {
			b.Fatal(err, "miss")
		}
	}
}

// BenchmarkQueryEmbeddingPeer is the peer of BenchmarkAskSemanticCacheHit:
// a dense search of one result, i.e. mostly the question's embedding,
// which every semantic lookup pays.
func BenchmarkQueryEmbeddingPeer(b *testing.B) {
	col, _ := semanticEngine(b)
	ctx := context.Background()
	qs := []string{"How many moons has Mars got?", "What number of moons does Mars have?"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := col.Search(ctx, quarry.SearchRequest{Query: qs[i%2], K: 1, Mode: quarry.ModeDense}); err != nil {
			b.Fatal(err)
		}
	}
}
