package answer_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/ingest"
)

// TestSampleQuestions ingests the sample corpus as `make run` does (with
// all-MiniLM-L6-v2 embeddings, so the extractive answerer also weighs
// question ↔ sentence similarity) and checks that each question's first
// citation comes from the page that answers it and is prose, not a
// command line.
func TestSampleQuestions(t *testing.T) {
	ctx := context.Background()
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	col, _, err := eng.CreateCollection(ctx, "samples", &quarry.CollectionConfig{Embedding: "all-MiniLM-L6-v2"})
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join("..", "..", "samples")
	var docs []quarry.Document
	err = ingest.Walk(ctx, root, nil, func(path string) error {
		if !ingest.Supported(path) {
			return nil
		}
		ds, err := ingest.LoadFile(ctx, path, &ingest.Options{Root: root})
		docs = append(docs, ds...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := col.Upsert(ctx, docs, nil); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ question, doc string }{
		{"How does Quarry handle deletes?", "upsert-semantics.md"},
		{"What is BM25?", "bm25.md glossary.md"},
		{"What happens after a crash?", "crash-safety.md"},
		{"How are documents chunked?", "chunking.md"},
		{"Which file formats can be ingested?", "ingestion-formats.md"},
	}
	for _, c := range cases {
		ans, err := col.Ask(ctx, quarry.AskRequest{Question: c.question, Method: quarry.MethodExtractive, NoCache: true})
		if err != nil {
			t.Fatalf("%s: %v", c.question, err)
		}
		if len(ans.Citations) == 0 {
			t.Errorf("%q: no citations (answer %q)", c.question, ans.Answer)
			continue
		}
		first := ans.Citations[0]
		if !slices.Contains(strings.Fields(c.doc), first.DocID) {
			t.Errorf("%q: first citation from %s (%q), want %s", c.question, first.DocID, first.Text, c.doc)
		}
		for _, prefix := range []string{"bin/", "./", "curl ", "-d ", "$ ", "{"} {
			if strings.HasPrefix(strings.TrimSpace(first.Text), prefix) {
				t.Errorf("%q: first citation is a command or JSON: %q", c.question, first.Text)
			}
		}
	}
}
