package query

import (
	"context"
	"time"

	"github.com/quarry-rag/quarry/internal/base"
)

// Stage names a step of the pipeline in traces.
type Stage string

// Stages, in pipeline order.
const (
	StageCache    Stage = "cache"    // an answer served from a cache
	StageRewrite  Stage = "rewrite"  // condensation, multi-query or HyDE
	StageRetrieve Stage = "retrieve" // lexical and dense retrieval with fusion
	StageEmbed    Stage = "embed"    // one query-side embedding (inside dense or cache)
	StageLexical  Stage = "lexical"  // one query's BM25 list
	StageDense    Stage = "dense"    // one query's vector list (embeds first)
	StageFuse     Stage = "fuse"     // one query's lexical and dense lists fused
	StageRerank   Stage = "rerank"
	StageMMR      Stage = "mmr"
	StageGenerate Stage = "generate" // extractive or LLM answer
)

// StageEvent is what a Tracer sees of one stage: how long it took, the
// queries it ran and the hits it produced (shared: a tracer must copy what
// it keeps and never modify them).
type StageEvent struct {
	Stage   Stage
	Took    time.Duration
	Queries []string
	Hits    []base.Hit
	// Vector is the first query's embedding (retrieve): the question's,
	// or the condensed question's after a History; nil for a lexical-only
	// search and for HyDE. Shared, never modify.
	Vector []float32
	// Answer is the finished answer (generate: TTFT, usage, abstained,
	// grounded); shared, never modify.
	Answer *Answer
	// Hit reports whether the answer cache answered (cache).
	Hit bool
	// Err is the stage's error, if it failed.
	Err error
}

// SpanTracer is a Tracer that also learns when a stage starts, so that
// stages inside it (embed inside dense inside retrieve) are its children:
// Start returns the context the stage runs with, and the Trace call that
// ends the stage gets that context back.
type SpanTracer interface {
	Tracer
	Start(ctx context.Context, stage Stage) context.Context
}

// QuestionGuard checks a plan before anything runs (no retrieval, no model
// call): a guard against prompt injection or a policy check. A non-nil
// error stops the request and is returned to the caller as is.
type QuestionGuard interface {
	CheckQuestion(ctx context.Context, plan *Plan) error
}

// ContextFilter decides which retrieved chunks may enter a language
// model's prompt (LLM answers only): it returns the hits to keep, in the
// order to use. The answer's Sources are what it returns.
type ContextFilter interface {
	FilterContext(ctx context.Context, question string, hits []base.Hit) ([]base.Hit, error)
}

// AnswerCheck inspects a finished answer before it is cached and returned
// (a groundedness or leak check). It may edit ans; an error is returned
// with ans, which is then not cached.
type AnswerCheck interface {
	CheckAnswer(ctx context.Context, question string, ans *Answer) error
}

// PromptRedactor hides personal data from the language model, per
// request (LLM answers only): RedactPrompt returns the question and the
// hits to write into the prompt (same length and order; only texts and
// titles may differ) and the restorer of the answer. Citations are still
// located in the original hits.
type PromptRedactor interface {
	RedactPrompt(question string, hits []base.Hit) (string, []base.Hit, AnswerRestorer)
}

// AnswerRestorer puts redacted values back: Write per streamed piece
// (holding back a tail that may be a cut placeholder), Flush at the end,
// Restore for a whole text.
type AnswerRestorer interface {
	Write(piece string) string
	Flush() string
	Restore(text string) string
}

// Tracer receives each stage's event as it ends (evaluation tracing).
// Trace must be fast and safe for concurrent use.
type Tracer interface {
	Trace(ctx context.Context, ev StageEvent)
}

// Hooks are the pipeline's plug-in points; nil members are skipped.
type Hooks struct {
	Guard   QuestionGuard
	Context ContextFilter
	Answer  AnswerCheck
	Tracer  Tracer
	Redact  PromptRedactor
}

func (h *Hooks) checkQuestion(ctx context.Context, plan *Plan) error {
	if h.Guard == nil {
		return nil
	}
	return h.Guard.CheckQuestion(ctx, plan)
}

// start opens stage for a SpanTracer; other tracers see only its end.
func (h *Hooks) start(ctx context.Context, stage Stage) context.Context {
	if st, ok := h.Tracer.(SpanTracer); ok {
		return st.Start(ctx, stage)
	}
	return ctx
}

func (h *Hooks) trace(ctx context.Context, ev StageEvent) {
	if h.Tracer != nil {
		h.Tracer.Trace(ctx, ev)
	}
}
