// Package query is Quarry's one query pipeline: a search or a question is
// validated once into a typed Plan, then runs through each stage once, in
// one place:
//
//	request ─► Plan (NewSearchPlan / NewRewritePlan / NewAskPlan: defaults, limits, typed enums)
//	        ─► [Hooks.Guard]           QuestionGuard: may refuse before anything runs
//	        ─► answer cache (ask)      exact, then semantic (embeds the question)
//	        ─► rewrite                 condense History; multi-query paraphrases or a HyDE passage (internal/rewrite)
//	        ─► query vectors           one embedding path (embedOne) for queries, questions and HyDE passages
//	        ─► retrieve, per query     lexical ∥ dense (the store), fused (internal/retrieve.Fuse), or the backend's hybrid
//	        ─► fuse the queries        the same N-list Fuse, RRF
//	        ─► rerank once             the collection's cross-encoder, against the (condensed) question
//	        ─► MMR                     diversity, when asked
//	        ─► [Hooks.Context]         ContextFilter: which chunks may enter an LLM prompt
//	        ─► answer (ask)            extractive (internal/answer) or LLM (internal/generate + internal/llm)
//	        ─► [Hooks.Answer]          AnswerCheck: inspects the generated answer
//	        ─► answer cache store
//
// Every stage reports to Hooks.Tracer (a StageEvent: timing, queries,
// hits), the seam of evaluation tracing. Pipeline.Retrieve is the entry
// point an agent's search tool calls with its own Plan.
//
// A Pipeline is built once per collection by the root package from plain
// values — a Retriever (the store), functions returning the embedding
// model and the reranker, llm.Settings and an llm.Pool — so each stage is
// testable without an Engine (see pipeline_test.go: a real embedded store
// in a temporary folder).
//
// The request and answer types (SearchRequest, AskRequest, Answer, …) are
// the product API's; the root package re-exports them. Their string fields
// stay strings; the Plan holds typed values (Mode, Fusion, Method,
// Rewrite).
//
// Errors: invalid requests are *base.FieldError naming the JSON field;
// language-model failures are *llm.Error; store errors are mapped to the
// base sentinels by store.MapErr.
//
// Concurrency: a Pipeline is immutable after construction and safe for
// concurrent use; a Plan belongs to one request.
package query
