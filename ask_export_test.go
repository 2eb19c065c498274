package quarry

import (
	"context"
	"io"
	"slices"
	"sync"
	"testing"

	"github.com/quarry-rag/quarry/internal/embed"
	"github.com/quarry-rag/quarry/internal/query"
)

// EmbedCall is one call of a collection's embedding model.
type EmbedCall struct {
	Passage bool // the passage role (e5's "passage: "); else the query role
	Texts   []string
}

// countingEmbedder records every call of the real embedder it wraps:
// instrumentation, not a fake (the vectors are the model's).
type countingEmbedder struct {
	embed.Embedder
	mu    sync.Mutex
	calls []EmbedCall
}

func (c *countingEmbedder) Embed(ctx context.Context, texts []string, kind embed.Kind) ([][]float32, error) {
	c.mu.Lock()
	c.calls = append(c.calls, EmbedCall{Passage: kind == embed.Passage, Texts: slices.Clone(texts)})
	c.mu.Unlock()
	return c.Embedder.Embed(ctx, texts, kind)
}

func (c *countingEmbedder) Close() error {
	if cl, ok := c.Embedder.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// CountEmbeds wraps the embedding model of col (shared by its engine) in a
// recorder and returns a function that returns the calls made since the
// last time it was called.
func CountEmbeds(t testing.TB, col *Collection) func() []EmbedCall {
	t.Helper()
	real, err := col.embedder()
	if err != nil || real == nil {
		t.Fatalf("collection %q has no embedding model: %v", col.name, err)
	}
	ce := &countingEmbedder{Embedder: real}
	ec := &col.engine.embedders
	ec.mu.Lock()
	ec.m[col.cfg.Embedding] = ce
	ec.mu.Unlock()
	return func() []EmbedCall {
		ce.mu.Lock()
		defer ce.mu.Unlock()
		out := ce.calls
		ce.calls = nil
		return out
	}
}

// EmbedText embeds one text with the collection's model.
func EmbedText(col *Collection, text string, passage bool) ([]float32, error) {
	emb, err := col.embedder()
	if err != nil {
		return nil, err
	}
	kind := embed.Query
	if passage {
		kind = embed.Passage
	}
	vecs, err := emb.Embed(context.Background(), []string{text}, kind)
	if err != nil {
		return nil, err
	}
	return vecs[0], nil
}

// HyDEVector is the pipeline's HyDE stage: the dense query HyDE searches with.
func HyDEVector(ctx context.Context, col *Collection, mode, question string, qvec []float32, passage string) ([]float32, error) {
	return col.pipeline.HyDEVector(ctx, query.Mode(mode), question, qvec, passage)
}

// AnswerCacheLive reports whether col still holds its answer caches (Close
// releases them).
func AnswerCacheLive(col *Collection) bool { return col.answers.Load() != nil }

// LLMClients is the number of language-model clients eng holds.
func LLMClients(eng *Engine) int {
	return eng.llmClients.Len()
}
