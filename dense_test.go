package quarry_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarry-rag/quarry"
)

// requireModel skips (or, in CI, fails) when a model is not in the cache.
func requireModel(t *testing.T, name string) {
	t.Helper()
	home := os.Getenv("QUARRY_HOME")
	if home == "" {
		h, _ := os.UserHomeDir()
		home = filepath.Join(h, ".cache", "quarry")
	}
	if _, err := os.Stat(filepath.Join(home, "models", name, "model.safetensors")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("model %s is not cached; `make models` fetches it", name)
		}
		t.Skipf("model %s is not cached (run `make models`)", name)
	}
}

func embeddedTexts(t *testing.T, reg *prometheus.Registry, kind string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "quarry_embedded_texts_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestDenseAndHybridRetrievalWithRealModel(t *testing.T) {
	requireModel(t, "all-MiniLM-L6-v2")
	ctx := context.Background()
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	eng, err := quarry.Open(dir, &quarry.Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	col, created, err := eng.CreateCollection(ctx, "sem", &quarry.CollectionConfig{Embedding: "all-MiniLM-L6-v2"})
	if err != nil || !created {
		t.Fatal(created, err)
	}
	docs := []quarry.Document{
		{ID: "cat", Text: "The feline dozed on the rug all afternoon."},
		{ID: "stocks", Text: "Equity markets fell sharply after the central bank raised interest rates."},
		{ID: "volcano", Text: "Lava from the eruption flowed toward the coastal village."},
		{ID: "secret", Tenant: "acme", Text: "A kitten napped on the carpet in the acme office."},
	}
	if _, err := col.Upsert(ctx, docs, nil); err != nil {
		t.Fatal(err)
	}
	if n := embeddedTexts(t, reg, "passage"); n != 4 {
		t.Fatalf("embedded %v passages, want 4", n)
	}
	// No word in common with the cat document: BM25 finds nothing, dense does.
	q := "a cat sleeping on a mat"
	if res, _ := col.Search(ctx, quarry.SearchRequest{Query: q, Mode: quarry.ModeBM25}); len(res.Results) != 0 {
		t.Fatalf("bm25 unexpectedly matched: %+v", res.Results)
	}
	for _, mode := range []string{quarry.ModeDense, quarry.ModeHybrid, ""} {
		res, err := col.Search(ctx, quarry.SearchRequest{Query: q, K: 2, Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Results) == 0 || res.Results[0].DocID != "cat" {
			t.Fatalf("mode %q: got %+v, want cat first", mode, res.Results)
		}
		for _, h := range res.Results {
			if h.DocID == "secret" {
				t.Fatalf("mode %q returned another tenant's document", mode)
			}
		}
	}
	if res, _ := col.Search(ctx, quarry.SearchRequest{Query: q, K: 1, Mode: quarry.ModeDense, Tenant: "acme"}); len(res.Results) != 1 || res.Results[0].DocID != "secret" {
		t.Fatalf("tenant acme: %+v", res.Results)
	}
	// Re-ingesting unchanged documents embeds nothing.
	if _, err := col.Upsert(ctx, docs, nil); err != nil {
		t.Fatal(err)
	}
	if n := embeddedTexts(t, reg, "passage"); n != 4 {
		t.Fatalf("re-ingest of unchanged documents embedded again: %v passages", n)
	}
	st, err := col.Stats(ctx)
	if err != nil || st.Vectors != 4 || st.Dimension != 384 || st.VectorBytes != 4*384*4 {
		t.Fatalf("stats %+v, %v", st, err)
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	// Vectors survive a reopen (snapshot + store), and the store is whole.
	eng, err = quarry.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	col, err = eng.Collection("sem")
	if err != nil {
		t.Fatal(err)
	}
	if err := col.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := col.Search(ctx, quarry.SearchRequest{Query: "stock prices dropped", K: 1, Mode: quarry.ModeDense})
	if err != nil || len(res.Results) != 1 || res.Results[0].DocID != "stocks" {
		t.Fatalf("after reopen: %+v, %v", res, err)
	}
	if _, err := col.Search(ctx, quarry.SearchRequest{Query: "x", Mode: "vector"}); !errors.Is(err, quarry.ErrInvalid) {
		t.Fatalf("unknown mode: %v", err)
	}
}

func TestDenseModeNeedsAModel(t *testing.T) {
	eng := openTest(t, "")
	c := mustCol(t, eng, "plain")
	upsert(t, c, quarry.Document{ID: "a", Text: "text"})
	_, err := c.Search(context.Background(), quarry.SearchRequest{Query: "text", Mode: quarry.ModeDense})
	var fe *quarry.FieldError
	if !errors.As(err, &fe) || fe.Field != "mode" {
		t.Fatalf("dense without a model: %v", err)
	}
	if _, _, err := eng.CreateCollection(context.Background(), "nomodel", &quarry.CollectionConfig{Embedding: "no-such-model"}); !errors.Is(err, quarry.ErrInvalid) {
		t.Fatalf("unknown model: %v", err)
	}
}
