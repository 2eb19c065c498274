package quarry

import (
	"context"
	"fmt"
	"strings"

	"github.com/quarry-rag/quarry/internal/embed"
)

// MaxEmbedInputs bounds the texts of one Embed call.
const MaxEmbedInputs = 2048

// Embed embeds texts with a model named by model: a collection's name (its
// embedding model) or a model name. A model name must be one an existing
// collection uses or a short name of a cached local model (no path, no
// URL): a request cannot make the engine load files or call hosts it was
// not configured with. query selects the query form for models that embed
// queries and passages differently (e5); the default is passage. It
// returns the vectors and the model's stable name.
func (e *Engine) Embed(ctx context.Context, model string, texts []string, query bool) ([][]float32, string, error) {
	if len(texts) == 0 {
		return nil, "", invalidf("input", "is empty")
	}
	if len(texts) > MaxEmbedInputs {
		return nil, "", invalidf("input", "has %d texts, at most %d", len(texts), MaxEmbedInputs)
	}
	spec, err := e.embedSpec(model)
	if err != nil {
		return nil, "", err
	}
	emb, err := e.embedders.get(spec)
	if err != nil {
		return nil, "", invalidf("model", "%v", err)
	}
	kind := embed.Passage
	if query {
		kind = embed.Query
	}
	vecs, err := emb.Embed(ctx, texts, kind)
	if err != nil {
		return nil, "", err
	}
	e.metrics.Embedded("api", len(texts))
	return vecs, emb.Name(), nil
}

// embedSpec resolves Embed's model argument to an embedder spec.
func (e *Engine) embedSpec(model string) (string, error) {
	if model == "" {
		return "", invalidf("model", "is required: a collection name or an embedding model name")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.mu.closed {
		return "", ErrClosed
	}
	if c, ok := e.mu.cols[model]; ok {
		if c.cfg.Embedding == "" {
			return "", invalidf("model", "collection %q has no embedding model", model)
		}
		return c.cfg.Embedding, nil
	}
	for _, c := range e.mu.cols {
		if c.cfg.Embedding == model {
			return model, nil
		}
	}
	if strings.ContainsAny(model, `/\:`) || strings.HasPrefix(model, ".") {
		return "", invalidf("model", "%q is neither a collection nor a model a collection uses; only short names of cached models may be named", model)
	}
	if _, err := e.embedders.get(model); err != nil {
		return "", fmt.Errorf("%w", invalidf("model", "%q is not a collection or a known embedding model: %v", model, err))
	}
	return model, nil
}
