package query

import (
	"context"
	"strings"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/llm"
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
		history, question, restore := p.redactTurns(plan.History, plan.Query)
		if out.question, err = rw.Condense(ctx, history, question); err != nil {
			return nil, s.WrapErr(err)
		}
		out.question = restore(out.question)
		if out.question != plan.Query {
			qvec = nil
		}
	}
	out.queries = []Query{{Text: out.question, Vector: qvec}}
	switch plan.Rewrite {
	case RewriteMulti:
		_, question, restore := p.redactTurns(nil, out.question)
		more, err := rw.Expand(ctx, question, plan.Expansions)
		if err != nil {
			return nil, s.WrapErr(err)
		}
		for i := range more {
			more[i] = restore(more[i])
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
		_, question, restore := p.redactTurns(nil, out.question)
		passage, err := rw.HyDE(ctx, question)
		if err != nil {
			return nil, s.WrapErr(err)
		}
		passage = restore(passage)
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

// redactTurns hides personal data from the rewriting model as the answer
// prompt does (Hooks.Redact, pii.llm redact): the conversation's turns and
// the question get placeholders from one map, and restore puts the values
// back into what the model writes, so retrieval searches the real terms.
// Without a redactor everything passes unchanged.
func (p *Pipeline) redactTurns(history []llm.Message, question string) ([]llm.Message, string, func(string) string) {
	if p.Hooks.Redact == nil {
		return history, question, func(s string) string { return s }
	}
	hits := make([]base.Hit, len(history))
	for i, m := range history {
		hits[i].Text = m.Content
	}
	q, red, rs := p.Hooks.Redact.RedactPrompt(question, hits)
	out := make([]llm.Message, len(history))
	for i, m := range history {
		out[i] = llm.Message{Role: m.Role, Content: red[i].Text}
	}
	return out, q, rs.Restore
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
