package quarry_test

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/testutil"
)

// requireModel skips (or, in CI, fails) when a model is not in the cache.
func requireModel(t *testing.T, name string) {
	t.Helper()
	testutil.RequireModel(t, name)
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
	if err != nil || st.Vectors != 4 || st.Dimension != 384 || st.VectorBytes < 4*384*4 || st.BytesPerVector < 384*4 {
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
	col, err = eng.Collection(ctx, "sem")
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

func TestSemanticChunkingCollection(t *testing.T) {
	requireModel(t, "all-MiniLM-L6-v2")
	ctx := context.Background()
	eng := openTest(t, "")
	if _, _, err := eng.CreateCollection(ctx, "bad", &quarry.CollectionConfig{Chunking: quarry.ChunkingConfig{Strategy: "semantic"}}); !errors.Is(err, quarry.ErrInvalid) {
		t.Fatalf("semantic chunking without a model: %v", err)
	}
	col, _, err := eng.CreateCollection(ctx, "sem", &quarry.CollectionConfig{
		Embedding: "all-MiniLM-L6-v2",
		Chunking:  quarry.ChunkingConfig{Strategy: "semantic", Size: 200},
	})
	if err != nil {
		t.Fatal(err)
	}
	topics := []string{
		"Cats are small carnivorous mammals that have lived alongside people for thousands of years. A domestic cat spends most of the day asleep in a warm and sunny spot. Kittens learn to hunt by pouncing on toys and on their littermates. Cats groom their fur carefully with their rough tongues.",
		"The stock market fell sharply on Tuesday after the central bank raised interest rates. Investors sold shares of technology companies and bought government bonds. The main index lost three percent, its worst day since March. Analysts expect more volatility as quarterly earnings reports arrive.",
		"To bake bread, mix flour, water, salt and yeast into a soft dough. Knead the dough for ten minutes until it is smooth and elastic. Let it rise in a warm place until it has doubled in size. The crust should be deep brown and sound hollow when you tap it.",
	}
	res, err := col.Upsert(ctx, []quarry.Document{{ID: "mix", Text: topics[0] + " " + topics[1] + " " + topics[2]}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := col.Chunks(ctx, "mix")
	if err != nil || res[0].Chunks != 3 || len(chunks) != 3 {
		t.Fatalf("want 3 chunks at the topic changes, got %d (%v)", len(chunks), err)
	}
	for i, c := range chunks {
		if c.Text != topics[i] {
			t.Errorf("chunk %d = %q, want topic %d", i, c.Text, i)
		}
	}
}
