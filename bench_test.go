package quarry_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/ingest"
)

// datasets returns the shared datasets folder, or skips the test.
func datasets(tb testing.TB, sub string) string {
	tb.Helper()
	root := os.Getenv("QUARRY_DATASETS")
	if root == "" {
		root = filepath.Join("..", "shared", "datasets")
	}
	dir := filepath.Join(root, sub)
	if _, err := os.Stat(dir); err != nil {
		tb.Skipf("dataset %s not found (set QUARRY_DATASETS): %v", dir, err)
	}
	return dir
}

func loadSciFact(tb testing.TB) (*quarry.Collection, []ingest.BEIRQuery) {
	tb.Helper()
	dir := datasets(tb, "beir/scifact")
	eng, err := quarry.Open(tb.TempDir(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { eng.Close() })
	ctx := context.Background()
	col, _, err := eng.CreateCollection(ctx, "scifact", &quarry.CollectionConfig{Chunking: quarry.ChunkingConfig{Size: 512}})
	if err != nil {
		tb.Fatal(err)
	}
	var batch []quarry.Document
	flush := func() {
		if _, err := col.Upsert(ctx, batch, nil); err != nil {
			tb.Fatal(err)
		}
		batch = batch[:0]
	}
	if err := ingest.LoadBEIRCorpus(ctx, dir, func(d quarry.Document) error {
		if batch = append(batch, d); len(batch) == 1024 {
			flush()
		}
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	flush()
	qs, err := ingest.LoadBEIRQueries(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return col, qs
}

// BenchmarkSearchSciFact measures one BM25 top-100 query over SciFact,
// including query analysis and result assembly (ids only, as evaluation
// does).
func BenchmarkSearchSciFact(b *testing.B) {
	col, qs := loadSciFact(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := qs[i%len(qs)]
		if _, err := col.Search(ctx, quarry.SearchRequest{Query: q.Text, K: 100, NoText: true}); err != nil {
			b.Fatal(err)
		}
	}
}
