package quarry

import (
	"context"
	"fmt"
	"math"

	"github.com/quarry-rag/quarry/internal/embed"
	"github.com/quarry-rag/quarry/internal/rewrite"
)

// SearchRewrite configures query rewriting for SearchRewritten.
type SearchRewrite struct {
	// Method is RewriteMulti or RewriteHyDE.
	Method string
	// Expansions is the number of paraphrases for multi. Default 3.
	Expansions int
	// History condenses a follow-up question first (optional).
	History []Message
	// Model and Params override the configured language model's.
	Model  string
	Params LLMParams
}

// SearchRewritten rewrites req.Query with the configured language model,
// then searches: multi-query retrieval searches the question and every
// paraphrase and fuses the lists by RRF; HyDE has the model write a
// hypothetical answer passage, searches BM25 with the question followed by
// the passage and the vector index with the passage embedded as a passage
// (averaged with the question's embedding). It returns the queries
// searched, the original (or condensed) question first.
func (c *Collection) SearchRewritten(ctx context.Context, req SearchRequest, rw SearchRewrite) (*SearchResponse, []string, error) {
	ar := AskRequest{Question: req.Query, K: req.K, Model: rw.Model, Params: rw.Params, History: rw.History,
		Rewrite: rw.Method, Expansions: rw.Expansions}
	if ar.K == 0 {
		ar.K = DefaultK
	}
	s := c.llmSettings(&ar)
	if err := c.validateAsk(&ar, &s); err != nil {
		return nil, nil, err
	}
	if rw.Method == "" {
		return nil, nil, invalidf("rewrite", "is required (multi or hyde)")
	}
	r := &rewrite.Rewriter{Chat: c.llmClient(&s), Model: s.model, Params: rewriteParams(s.params)}
	question := req.Query
	var err error
	if len(rw.History) > 0 {
		if question, err = r.Condense(ctx, toLLMMessages(rw.History), question); err != nil {
			return nil, nil, s.wrapErr(err)
		}
	}
	queries := []string{question}
	var vec0 []float32
	switch rw.Method {
	case RewriteMulti:
		more, err := r.Expand(ctx, question, ar.Expansions)
		if err != nil {
			return nil, nil, s.wrapErr(err)
		}
		queries = append(queries, more...)
	case RewriteHyDE:
		passage, err := r.HyDE(ctx, question)
		if err != nil {
			return nil, nil, s.wrapErr(err)
		}
		queries[0] = hydeQuery(question, passage)
		if vec0, err = c.hydeVector(ctx, req.Mode, question, nil, passage); err != nil {
			return nil, nil, err
		}
	}
	var lists [][]Hit
	var mode string
	for i, q := range queries {
		sr := req
		sr.Query = q
		if i == 0 {
			sr.vector = vec0
		}
		res, err := c.Search(ctx, sr)
		if err != nil {
			if i > 0 {
				continue
			}
			return nil, nil, fmt.Errorf("quarry: searching the rewritten query: %w", err)
		}
		lists, mode = append(lists, res.Results), res.Mode
	}
	hits := lists[0]
	if len(lists) > 1 {
		hits = rewrite.FuseRRF(lists, 60, ar.K)
	}
	return &SearchResponse{Results: hits, Mode: mode}, queries, nil
}

// hydeVector is HyDE's dense query (Gao et al., 2022, "Precise Zero-Shot
// Dense Retrieval without Relevance Labels"): the hypothetical passage is
// a document, so it is embedded with the passage role (e5's "passage: "),
// then averaged with the question embedded as a query, as the paper's
// reference code does, and normalised. qvec is the question's embedding
// when already computed. It returns nil when the search is lexical only.
func (c *Collection) hydeVector(ctx context.Context, mode, question string, qvec []float32, passage string) ([]float32, error) {
	if mode == ModeBM25 || c.cfg.Embedding == "" {
		return nil, nil
	}
	emb, err := c.embedder()
	if err != nil {
		return nil, err
	}
	pv, err := emb.Embed(ctx, []string{passage}, embed.Passage)
	if err != nil {
		return nil, fmt.Errorf("quarry: embedding the HyDE passage: %w", err)
	}
	n := 1
	if qvec == nil {
		qv, err := emb.Embed(ctx, []string{question}, embed.Query)
		if err != nil {
			return nil, fmt.Errorf("quarry: embedding the query: %w", err)
		}
		if len(qv) != 1 {
			return nil, fmt.Errorf("quarry: embedder returned %d vectors for 1 query", len(qv))
		}
		qvec, n = qv[0], 2
	}
	c.engine.metrics.Embedded("query", n)
	if len(pv) != 1 || len(pv[0]) != len(qvec) {
		return nil, fmt.Errorf("quarry: embedder returned %d vectors for the HyDE passage, or a dimension other than the query's", len(pv))
	}
	return meanDirection(pv[0], qvec), nil
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
