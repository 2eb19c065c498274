package answer_test

import (
	"context"
	"testing"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/answer"
	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/embed"
)

// miniLM adapts a real local embedding model to answer.Embedder.
type miniLM struct{ e embed.Embedder }

func (m miniLM) Embed(ctx context.Context, texts []string, query bool) ([][]float32, error) {
	k := embed.Passage
	if query {
		k = embed.Query
	}
	return m.e.Embed(ctx, texts, k)
}

// TestExtractWithEmbedder: two sentences share the question's one content
// word; only the meaning tells them apart, and the real all-MiniLM-L6-v2
// embedder must pick the one that answers. Lexically they tie, and the
// first in the text wins, which is the wrong one.
func TestExtractWithEmbedder(t *testing.T) {
	e, err := embed.ParseWith("all-MiniLM-L6-v2", nil)
	if err != nil {
		t.Skipf("all-MiniLM-L6-v2 is not available (run make models): %v", err)
	}
	hits := []base.Hit{{DocID: "d", Text: "The volcano is popular with hikers in summer. The volcano erupted violently, burying the town in ash."}}
	q := "What disaster did the volcano cause?"
	lex := answer.Extract(q, hits, answer.Options{MaxSentences: 1, Language: "en"})
	sem, err := answer.ExtractContext(context.Background(), q, hits, answer.Options{MaxSentences: 1, Language: "en", Embedder: miniLM{e}})
	if err != nil {
		t.Fatal(err)
	}
	if len(lex.Sentences) != 1 || len(sem.Sentences) != 1 {
		t.Fatalf("lexical %+v, semantic %+v", lex, sem)
	}
	if want := "The volcano erupted violently, burying the town in ash."; sem.Sentences[0].Text != want {
		t.Fatalf("with the embedder: %q, want %q (lexical choice %q)", sem.Sentences[0].Text, want, lex.Sentences[0].Text)
	}
	if lex.Sentences[0].Text == sem.Sentences[0].Text {
		t.Errorf("the lexical choice already answers; the test does not exercise the embedder")
	}
}

// TestAskUsesCollectionEmbedder: the query pipeline hands the collection's
// embedding model to the extractive answerer. The same one-document
// collection answers the volcano question right with all-MiniLM-L6-v2 and
// with the lexical tie's first sentence without a model; both retrieve by
// BM25, so only the answerer differs.
func TestAskUsesCollectionEmbedder(t *testing.T) {
	if _, err := embed.ParseWith("all-MiniLM-L6-v2", nil); err != nil {
		t.Skipf("all-MiniLM-L6-v2 is not available (run make models): %v", err)
	}
	ctx := context.Background()
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	doc := quarry.Document{ID: "volcano", Text: "The volcano is popular with hikers in summer. The volcano erupted violently, burying the town in ash."}
	first := map[string]string{}
	for _, model := range []string{"", "all-MiniLM-L6-v2"} {
		name := "lexical"
		if model != "" {
			name = "embedded"
		}
		col, _, err := eng.CreateCollection(ctx, name, &quarry.CollectionConfig{Embedding: model})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := col.Upsert(ctx, []quarry.Document{doc}, nil); err != nil {
			t.Fatal(err)
		}
		ans, err := col.Ask(ctx, quarry.AskRequest{Question: "What disaster did the volcano cause?", Mode: quarry.ModeBM25,
			Method: quarry.MethodExtractive, MaxSentences: 1, NoCache: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(ans.Citations) != 1 {
			t.Fatalf("%s: citations %+v", name, ans.Citations)
		}
		first[name] = ans.Citations[0].Text
	}
	if want := "The volcano erupted violently, burying the town in ash."; first["embedded"] != want {
		t.Errorf("with the collection's embedder the answer cites %q, want %q", first["embedded"], want)
	}
	if first["lexical"] == first["embedded"] {
		t.Errorf("without an embedder the answer is the same (%q): the test does not show the wiring", first["lexical"])
	}
}
