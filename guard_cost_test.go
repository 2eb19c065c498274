package quarry_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
)

// TestGuardCost measures what the guard stages cost in the pipeline, both
// sides in the same run: the ingest rate with and without chunk scoring
// (guard.chunks exclude vs off) and the search latency with and without
// question scoring (guard.question flag vs off), for a collection that
// embeds with the detector's encoder (vectors shared) and a BM25-only one
// (the detector's own encoder). A measurement, not a check: it runs only
// with QUARRY_GUARD_COST=N (documents; queries = N/4) and
// QUARRY_DATASETS set; see docs/benchmarks.md.
func TestGuardCost(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("QUARRY_GUARD_COST"))
	dir := os.Getenv("QUARRY_DATASETS")
	if n <= 0 || dir == "" {
		t.Skip("set QUARRY_GUARD_COST=N and QUARRY_DATASETS to measure")
	}
	docs := readJSONL(t, filepath.Join(dir, "beir/scifact/corpus.jsonl"), n)
	var queries []string
	for _, q := range readJSONL(t, filepath.Join(dir, "beir/scifact/queries.jsonl"), max(n/4, 10)) {
		queries = append(queries, q.Text)
	}
	ctx := context.Background()
	eng := openGuardEngine(t, quarry.Options{})
	for _, emb := range []string{"multilingual-e5-small", ""} {
		// Warm the models up so that neither side pays their loading.
		warm, _, err := eng.CreateCollection(ctx, "warm"+strconv.Itoa(len(emb)), &quarry.CollectionConfig{Embedding: emb})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := warm.Upsert(ctx, docs[:4], nil); err != nil {
			t.Fatal(err)
		}
		if _, err := warm.Search(ctx, quarry.SearchRequest{Query: queries[0]}); err != nil {
			t.Fatal(err)
		}
		rate := map[string][]float64{}
		cols := map[string]*quarry.Collection{}
		for round := 0; round < 2; round++ {
			for _, chunks := range []string{"exclude", "off"} { // alternated: load drifts
				name := fmt.Sprintf("c%d-%s-%d", len(emb), chunks, round)
				col, _, err := eng.CreateCollection(ctx, name, &quarry.CollectionConfig{Embedding: emb,
					Guard: quarry.GuardConfig{Chunks: chunks, Question: map[string]string{"exclude": "flag", "off": "off"}[chunks]}})
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				for i := 0; i < len(docs); i += 32 {
					if _, err := col.Upsert(ctx, docs[i:min(i+32, len(docs))], nil); err != nil {
						t.Fatal(err)
					}
				}
				rate[chunks] = append(rate[chunks], float64(len(docs))/time.Since(start).Seconds())
				cols[chunks] = col
			}
		}
		lat := map[string][]time.Duration{}
		for _, q := range queries {
			for _, policy := range []string{"exclude", "off"} {
				start := time.Now()
				if _, err := cols[policy].Search(ctx, quarry.SearchRequest{Query: q}); err != nil {
					t.Fatal(err)
				}
				lat[policy] = append(lat[policy], time.Since(start))
			}
		}
		p50 := func(d []time.Duration) float64 {
			slices.Sort(d)
			return float64(d[len(d)/2].Microseconds()) / 1000
		}
		best := func(r []float64) float64 { return slices.Max(r) }
		label := emb
		if label == "" {
			label = "bm25 only"
		}
		t.Logf("%s: ingest %d docs: %.1f docs/s with chunk scoring, %.1f without (ratio %.2f; rounds %v / %v)",
			label, len(docs), best(rate["exclude"]), best(rate["off"]), best(rate["exclude"])/best(rate["off"]), rate["exclude"], rate["off"])
		t.Logf("%s: search p50 over %d queries: %.2f ms with question scoring, %.2f ms without (question scoring adds %.2f ms)",
			label, len(queries), p50(lat["exclude"]), p50(lat["off"]), p50(lat["exclude"])-p50(lat["off"]))
	}
}

func readJSONL(t *testing.T, path string, n int) []quarry.Document {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []quarry.Document
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() && len(out) < n {
		var r struct {
			ID    string `json:"_id"`
			Title string `json:"title"`
			Text  string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, quarry.Document{ID: r.ID, Title: r.Title, Text: r.Text})
	}
	return out
}
