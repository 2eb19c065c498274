package query

import (
	"context"
	"strings"

	"github.com/quarry-rag/quarry/internal/rewrite"
)

// rewritten is the rewrite stage's output.
type rewritten struct {
	question   string   // the standalone question (condensed from History)
	queries    []Query  // what retrieval searches, queries[0] first
	paraphrase []string // multi-query's extra queries
}

// rewrite condenses a follow-up question (History) and expands it
// (multi-query) or replaces the first query by a HyDE passage. qvec is
// the question's embedding when already known (the semantic cache's
// probe); it is kept on queries[0] while that is still the question.
// Model errors are returned as *llm.Error.
func (p *Pipeline) rewrite(ctx context.Context, plan *Plan, qvec []float32) (*rewritten, error) {
	s := &plan.LLM
	params := s.Params.Clone()
	params.MaxTokens, params.Stop = 0, nil // rewriting calls set their own
	rw := &rewrite.Rewriter{Chat: p.Chat.Get(s), Model: s.Model, Params: params}
	out := &rewritten{question: plan.Query}
	var err error
	if len(plan.History) > 0 {
		if out.question, err = rw.Condense(ctx, plan.History, plan.Query); err != nil {
			return nil, s.WrapErr(err)
		}
		if out.question != plan.Query {
			qvec = nil
		}
	}
	out.queries = []Query{{Text: out.question, Vector: qvec}}
	switch plan.Rewrite {
	case RewriteMulti:
		more, err := rw.Expand(ctx, out.question, plan.Expansions)
		if err != nil {
			return nil, s.WrapErr(err)
		}
		for _, q := range more {
			// A paraphrase the model wrote must pass a query's checks; one
			// that does not is skipped, as a failed search would be.
			if CheckQuery("query", q) == nil {
				out.queries = append(out.queries, Query{Text: q})
			}
		}
		out.paraphrase = more
	case RewriteHyDE:
		passage, err := rw.HyDE(ctx, out.question)
		if err != nil {
			return nil, s.WrapErr(err)
		}
		vec, err := p.HyDEVector(ctx, plan.Mode, out.question, qvec, passage)
		if err != nil {
			return nil, err
		}
		out.queries[0] = Query{Text: hydeQuery(out.question, passage), Vector: vec}
	}
	if err := CheckQuery("query", out.queries[0].Text); err != nil {
		return nil, err
	}
	return out, nil
}

// hydeQuery is the text HyDE retrieves with on the lexical side: the
// question and the hypothetical passage (query expansion, as query2doc
// does for BM25), cut to the query size limit. The dense side searches
// with HyDEVector instead.
func hydeQuery(question, passage string) string {
	q := question + "\n" + passage
	if len(q) > MaxQueryBytes {
		q = strings.ToValidUTF8(q[:MaxQueryBytes], "")
	}
	return q
}
