package quarry

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/quarry-rag/quarry/internal/generate"
	"github.com/quarry-rag/quarry/internal/llm"
	"github.com/quarry-rag/quarry/internal/obs"
	"github.com/quarry-rag/quarry/internal/rewrite"
)

// retrieveFor retrieves the context of an answer: every query searched
// (several for multi-query rewriting, fused by RRF), then the collection's
// reranker, if any, applied once against rerankQuery. vec0, when not nil,
// is the dense query vector of queries[0], already computed (the semantic
// cache's probe, or HyDE's). Reranking is done here rather than inside
// Search so that its time is reported apart.
func (c *Collection) retrieveFor(ctx context.Context, req *AskRequest, queries []string, vec0 []float32, rerankQuery string, tm *Timings) ([]Hit, error) {
	t := time.Now()
	reranked := c.cfg.Reranker != ""
	depth := req.K
	if reranked {
		depth = max(depth, RerankDepth)
	}
	lists := make([][]Hit, 0, len(queries))
	for i, q := range queries {
		sr := SearchRequest{Query: q, K: depth, Tenant: req.Tenant, Principals: req.Principals,
			Filter: req.Filter, Mode: req.Mode, NoRerank: true}
		if i == 0 {
			sr.vector = vec0
		}
		res, err := c.Search(ctx, sr)
		if err != nil {
			if i > 0 {
				continue // a bad paraphrase must not sink the question
			}
			return nil, err
		}
		lists = append(lists, res.Results)
	}
	hits := lists[0]
	if len(lists) > 1 {
		hits = rewrite.FuseRRF(lists, 60, depth)
	}
	tm.Retrieve = ms(time.Since(t))
	if reranked && len(hits) > 0 {
		t = time.Now()
		rr, err := c.engine.rerankers.get(c.cfg.Reranker)
		if err != nil {
			return nil, err
		}
		if hits, err = rr.Rerank(ctx, rerankQuery, hits, req.K); err != nil {
			return nil, err
		}
		c.engine.metrics.Since(obs.StageRerank, t)
		tm.Rerank = ms(time.Since(t))
	}
	if len(hits) > req.K {
		hits = hits[:req.K]
	}
	if hits == nil {
		hits = []Hit{}
	}
	return hits, nil
}

// generate writes ans with the language model, streaming the filtered
// answer text to emit as it arrives.
func (c *Collection) generate(ctx context.Context, question string, s *llmSettings, ans *Answer, start time.Time, emit func(AskEvent) error) error {
	ans.Method, ans.Model = MethodLLM, s.model
	p, err := generate.Build(question, nil, ans.Sources, generate.Budget{ContextWindow: s.window, AnswerTokens: s.params.MaxTokens}, s.style)
	if err != nil {
		if errors.Is(err, generate.ErrContextWindow) {
			return &FieldError{Field: "context_window", Msg: strings.TrimPrefix(err.Error(), generate.ErrContextWindow.Error()+": "), Err: ErrTooLarge}
		}
		return err
	}
	ans.DroppedSources = p.Dropped
	params := s.params.toLLM()
	params.Stop = mergeStops(params.Stop, p.Stop)
	f := generate.NewFilter(p.Markers())
	var b strings.Builder
	var emitErr error
	first := true
	send := func(piece string) error {
		if piece == "" {
			return nil
		}
		if b.Len() == 0 {
			ans.Timings.TTFT = ms(time.Since(start))
		}
		b.WriteString(piece)
		if err := emit(AskEvent{Type: EventToken, Token: piece}); err != nil {
			emitErr = err
			return err
		}
		return nil
	}
	resp, err := c.llmClient(s).Stream(ctx, llm.Request{Model: s.model, Messages: p.Messages, Params: params}, func(d llm.Delta) error {
		piece := d.Content
		if first {
			piece, first = p.Prefill+piece, false
		}
		return send(f.Push(piece))
	})
	if emitErr != nil {
		return emitErr
	}
	if err != nil {
		ans.Answer = b.String()
		return s.wrapErr(err)
	}
	if err := send(f.Flush()); err != nil {
		return err
	}
	ans.Answer = b.String()
	ans.FinishReason = resp.FinishReason
	ans.Usage = &Usage{PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens}
	ans.Timings.LLMTTFT = ms(resp.TTFT)
	c.engine.llm.Generation(resp.TTFT, resp.Duration, resp.Usage.CompletionTokens)
	ans.InvalidCitations = f.Invalid()
	for _, gc := range generate.Cite(ans.Answer, p.Blocks, ans.Sources) {
		h := &ans.Sources[gc.Hit]
		ans.Citations = append(ans.Citations, Citation{Marker: gc.Marker, DocID: h.DocID, ChunkID: h.ChunkID,
			Title: h.Title, Start: gc.Start, End: gc.End, Text: gc.Text})
	}
	ans.Grounded = len(ans.Citations) > 0
	ans.Abstained = saysIDontKnow(ans.Answer)
	return nil
}

// mergeStops keeps the caller's stop sequences and adds the prompt's while
// there is room (a server takes at most llm.MaxStop).
func mergeStops(user, prompt []string) []string {
	out := append([]string(nil), user...)
	for _, s := range prompt {
		if len(out) == llm.MaxStop {
			break
		}
		out = append(out, s)
	}
	return out
}

func saysIDontKnow(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "i don't know") || strings.Contains(l, "i do not know") || strings.Contains(l, "i don’t know")
}
