package query

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/embed"
)

// The one embedding path of the query side: a search's query, an answer
// cache's question and HyDE's passage are all embedded by embedOne.

// embedOne embeds one text in role kind ("what" names it in errors).
func (p *Pipeline) embedOne(ctx context.Context, text string, kind embed.Kind, what string) ([]float32, error) {
	if p.Embedder == nil {
		return nil, fmt.Errorf("quarry: collection %q has no embedding model", p.Name)
	}
	emb, err := p.Embedder()
	if err != nil {
		return nil, err
	}
	if emb == nil {
		return nil, fmt.Errorf("quarry: collection %q has no embedding model", p.Name)
	}
	t, sctx := time.Now(), p.Hooks.start(ctx, StageEmbed)
	vecs, err := emb.Embed(sctx, []string{text}, kind)
	p.Hooks.trace(sctx, StageEvent{Stage: StageEmbed, Took: time.Since(t), Queries: []string{text}, Err: err})
	if err != nil {
		return nil, fmt.Errorf("%w: embedding %s: %w", base.ErrUpstream, what, err)
	}
	if len(vecs) != 1 {
		return nil, fmt.Errorf("quarry: embedder returned %d vectors for %s", len(vecs), what)
	}
	p.Metrics.Embedded("query", 1)
	return vecs[0], nil
}

// vectorOf returns q's vector, embedding q.Text as a query on first use.
func (p *Pipeline) vectorOf(ctx context.Context, q *Query) ([]float32, error) {
	if q.Vector != nil {
		return q.Vector, nil
	}
	v, err := p.embedOne(ctx, q.Text, embed.Query, "the query")
	if err != nil {
		return nil, err
	}
	q.Vector = v
	return v, nil
}

// HyDEVector is HyDE's dense query (Gao et al., 2022, "Precise Zero-Shot
// Dense Retrieval without Relevance Labels"): the hypothetical passage is
// a document, so it is embedded with the passage role (e5's "passage: "),
// then averaged with the question embedded as a query, as the paper's
// reference code does, and normalised. qvec is the question's embedding
// when already computed. It returns nil when the plan is lexical only.
func (p *Pipeline) HyDEVector(ctx context.Context, mode Mode, question string, qvec []float32, passage string) ([]float32, error) {
	if mode == ModeBM25 || p.Embedder == nil {
		return nil, nil
	}
	if emb, err := p.Embedder(); err != nil || emb == nil {
		return nil, err
	}
	pv, err := p.embedOne(ctx, passage, embed.Passage, "the HyDE passage")
	if err != nil {
		return nil, err
	}
	if qvec == nil {
		if qvec, err = p.embedOne(ctx, question, embed.Query, "the query"); err != nil {
			return nil, err
		}
	}
	if len(pv) != len(qvec) {
		return nil, fmt.Errorf("quarry: embedder returned a dimension for the HyDE passage (%d) other than the query's (%d)", len(pv), len(qvec))
	}
	return meanDirection(pv, qvec), nil
}

// meanDirection returns the unit vector along a + b (the direction of their
// mean), or a when they cancel out.
func meanDirection(a, b []float32) []float32 {
	out := make([]float32, len(a))
	var n float64
	for i := range a {
		out[i] = a[i] + b[i]
		n += float64(out[i]) * float64(out[i])
	}
	if n == 0 || math.IsNaN(n) || math.IsInf(n, 0) {
		return a
	}
	inv := float32(1 / math.Sqrt(n))
	for i := range out {
		out[i] *= inv
	}
	return out
}
