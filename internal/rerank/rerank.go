// Package rerank reorders retrieved chunks with a cross-encoder: a
// sequence-classification transformer that reads the query and a passage
// together and scores their relevance, which is more accurate than the
// first-stage scores and too slow to run over a whole collection.
//
// A CrossEncoder is loaded from a model folder (config.json,
// model.safetensors with a classification head, tokenizer.json) or a model
// name in the cache, so reranking is one configuration line once weights
// are at hand. It is safe for concurrent use; Close it when done.
package rerank

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/models/hub"
	"github.com/quarry-rag/quarry/internal/models/tokenizer"
	"github.com/quarry-rag/quarry/internal/models/transformer"
)

// CrossEncoder reranks hits with a sequence-classification model.
type CrossEncoder struct {
	tok *tokenizer.Tokenizer
	ce  *transformer.CrossEncoder
	max int
}

// Load resolves nameOrDir through the model cache and loads the model.
func Load(nameOrDir string) (*CrossEncoder, error) {
	dir, err := hub.Resolve(nameOrDir)
	if err != nil {
		return nil, fmt.Errorf("rerank: %w", err)
	}
	tok, err := tokenizer.Load(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return nil, fmt.Errorf("rerank: %w", err)
	}
	ce, err := transformer.LoadCrossEncoder(dir, nil)
	if err != nil {
		return nil, fmt.Errorf("rerank: %w", err)
	}
	return &CrossEncoder{tok: tok, ce: ce, max: ce.MaxLen()}, nil
}

// Close releases the model.
func (c *CrossEncoder) Close() error { return c.ce.Close() }

// passage is the text the model reads for a hit: title, then chunk text.
func passage(h *base.Hit) string {
	if h.Title == "" {
		return h.Text
	}
	return h.Title + " " + h.Text
}

// Scores returns the model's relevance score of each hit for query.
func (c *CrossEncoder) Scores(ctx context.Context, query string, hits []base.Hit) ([]float32, error) {
	pairs := make([]transformer.Input, len(hits))
	for i := range hits {
		enc := c.tok.EncodePairWith(query, passage(&hits[i]), &tokenizer.EncodeOpts{MaxLen: c.max})
		pairs[i] = transformer.Input{IDs: enc.IDs, TypeIDs: enc.TypeIDs}
	}
	return c.ce.Score(ctx, pairs)
}

// Rerank returns hits ordered by the model's score (best first; ties keep
// their first-stage order), with Score set to it, cut to k (k ≤ 0: all).
// hits must carry their text.
func (c *CrossEncoder) Rerank(ctx context.Context, query string, hits []base.Hit, k int) ([]base.Hit, error) {
	if len(hits) == 0 {
		return hits, nil
	}
	scores, err := c.Scores(ctx, query, hits)
	if err != nil {
		return nil, fmt.Errorf("rerank: %w", err)
	}
	out := append([]base.Hit(nil), hits...)
	for i := range out {
		out[i].Score = float64(scores[i])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	if k > 0 && len(out) > k {
		out = out[:k]
	}
	return out, nil
}
