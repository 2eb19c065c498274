package quarry_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/ingest"
)

// sciFactDocs returns the first n SciFact abstracts.
func sciFactDocs(t *testing.T, n int) []quarry.Document {
	t.Helper()
	dir := datasets(t, "beir/scifact")
	var docs []quarry.Document
	errEnough := errors.New("enough")
	err := ingest.LoadBEIRCorpus(context.Background(), dir, func(d quarry.Document) error {
		if docs = append(docs, d); len(docs) == n {
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		t.Fatal(err)
	}
	return docs
}

// openIngest opens an engine with the given IngestParallelism and a
// MiniLM collection with small chunks (many cheap texts to split).
func openIngest(t *testing.T, parallelism int) *quarry.Collection {
	t.Helper()
	eng, err := quarry.Open(t.TempDir(), &quarry.Options{IngestParallelism: parallelism})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	col, _, err := eng.CreateCollection(context.Background(), "par",
		&quarry.CollectionConfig{Embedding: "all-MiniLM-L6-v2", Chunking: quarry.ChunkingConfig{Size: 48}})
	if err != nil {
		t.Fatal(err)
	}
	return col
}

// TestParallelIngestMatchesSerial ingests the same SciFact documents with
// IngestParallelism 1 (one embedding call per write) and 4 (four parts
// embedded at once, more goroutines than cores) and requires the same
// index: the same results and versions per document, the same chunks, and
// bit-identical BM25 scores and dense scores equal to float32 rounding.
func TestParallelIngestMatchesSerial(t *testing.T) {
	requireModel(t, "all-MiniLM-L6-v2")
	ctx := context.Background()
	docs := sciFactDocs(t, 40)
	serial, par := openIngest(t, 1), openIngest(t, 4)
	var resS, resP []quarry.UpsertResult
	for i := 0; i < len(docs); i += 20 {
		rs, err := serial.Upsert(ctx, docs[i:i+20], nil)
		if err != nil {
			t.Fatal(err)
		}
		rp, err := par.Upsert(ctx, docs[i:i+20], nil)
		if err != nil {
			t.Fatal(err)
		}
		resS, resP = append(resS, rs...), append(resP, rp...)
	}
	chunks := 0
	for i := range resS {
		if resS[i].ID != docs[i].ID || resP[i].ID != docs[i].ID {
			t.Fatalf("result %d: ids %q and %q, want %q in batch order", i, resS[i].ID, resP[i].ID, docs[i].ID)
		}
		if resS[i].Status != resP[i].Status || resS[i].Version != resP[i].Version || resS[i].Chunks != resP[i].Chunks {
			t.Fatalf("result %d: serial %+v, parallel %+v", i, resS[i], resP[i])
		}
		chunks += resS[i].Chunks
	}
	if chunks < 4*32 {
		t.Fatalf("only %d chunks: too few for the write to be split into parts", chunks)
	}
	for _, d := range docs {
		cs, err := serial.Chunks(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := par.Chunks(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(cs, cp) {
			t.Fatalf("document %s: chunks differ:\n%+v\n%+v", d.ID, cs, cp)
		}
	}
	for _, q := range []string{"vitamin D deficiency and bone density", "gene expression in cancer cells",
		"antibiotic resistance of bacteria", "effects of smoking during pregnancy"} {
		for _, mode := range []string{quarry.ModeDense, quarry.ModeBM25} {
			req := quarry.SearchRequest{Query: q, K: 1000, Mode: mode, Exact: mode == quarry.ModeDense, NoText: true}
			a, err := serial.Search(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := par.Search(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Results) == 0 || len(a.Results) != len(b.Results) {
				t.Fatalf("%s %q: %d and %d results", mode, q, len(a.Results), len(b.Results))
			}
			// BM25 scores are bit for bit the same. Dense ones agree to
			// float32 rounding: which matmul kernel serves a text's rows
			// depends on how many rows its batch has (a lone 16-row strip
			// is summed in one k pass, other tiles per k block), so a
			// vector's last bits depend on its batch, and scores within
			// that rounding may swap ranks.
			const tol = 1e-6
			parScore := map[string]float64{}
			for _, y := range b.Results {
				parScore[y.ChunkID] = y.Score
			}
			for i := range a.Results {
				x, y := a.Results[i], b.Results[i]
				switch {
				case mode == quarry.ModeBM25 && (x.ChunkID != y.ChunkID || math.Float64bits(x.Score) != math.Float64bits(y.Score)),
					mode == quarry.ModeDense && math.Abs(x.Score-y.Score) > tol:
					t.Fatalf("%s %q rank %d: serial %s %v, parallel %s %v", mode, q, i, x.ChunkID, x.Score, y.ChunkID, y.Score)
				}
				if ps, ok := parScore[x.ChunkID]; mode == quarry.ModeDense && i < len(a.Results)-1 && (!ok || math.Abs(ps-x.Score) > tol) {
					t.Fatalf("%s %q: chunk %s scored %v serially, %v (found %v) in parallel", mode, q, x.ChunkID, x.Score, ps, ok)
				}
			}
		}
	}
	// Re-ingesting is recognised as unchanged on both.
	rs, err := par.Upsert(ctx, docs[:20], nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Status != quarry.StatusUnchanged {
			t.Fatalf("re-ingest: %+v", r)
		}
	}
	if err := par.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestParallelIngestErrorsNameTheDocument: an invalid document in a write
// that would run in parallel fails the whole write naming that document,
// and nothing of the write is stored.
func TestParallelIngestErrorsNameTheDocument(t *testing.T) {
	requireModel(t, "all-MiniLM-L6-v2")
	ctx := context.Background()
	col := openIngest(t, 4)
	docs := sciFactDocs(t, 12)
	docs[7].Text = "   "
	_, err := col.Upsert(ctx, docs, nil)
	var fe *quarry.FieldError
	if !errors.Is(err, quarry.ErrInvalid) || !errors.As(err, &fe) || fe.Field != "documents[7].text" {
		t.Fatalf("got %v, want ErrInvalid naming documents[7].text", err)
	}
	st, err := col.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents != 0 || st.Chunks != 0 {
		t.Fatalf("a failed write stored %d documents, %d chunks", st.Documents, st.Chunks)
	}
}

// TestParallelIngestCancellation cancels a parallel write while its parts
// are embedding: the write fails with the context's error, nothing of it
// is stored, the store verifies, and a later write succeeds.
func TestParallelIngestCancellation(t *testing.T) {
	requireModel(t, "all-MiniLM-L6-v2")
	col := openIngest(t, 4)
	docs := sciFactDocs(t, 200)
	// Warm the model so that the cancellation lands in embedding.
	if _, err := col.Upsert(context.Background(), docs[:1], nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := col.Upsert(ctx, docs[1:], nil)
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a cancelled write did not return within 30s")
	}
	st, err := col.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents != 1 {
		t.Fatalf("after a cancelled write: %d documents stored, want the 1 of before", st.Documents)
	}
	if err := col.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := col.Upsert(context.Background(), docs[1:3], nil); err != nil {
		t.Fatalf("write after a cancelled one: %v", err)
	}
}

// TestIngestParallelismValidated: a negative setting is refused naming it.
func TestIngestParallelismValidated(t *testing.T) {
	_, err := quarry.Open(t.TempDir(), &quarry.Options{IngestParallelism: -1})
	var fe *quarry.FieldError
	if !errors.As(err, &fe) || fe.Field != "ingest_parallelism" || !errors.Is(err, quarry.ErrInvalid) {
		t.Fatalf("got %v, want ErrInvalid naming ingest_parallelism", err)
	}
}
