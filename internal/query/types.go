package query

import (
	"slices"
	"time"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/llm"
)

// The request and answer types below are the product API's; the root
// package re-exports each under the same name (quarry.SearchRequest is
// SearchRequest). Their string fields stay strings for the callers; a Plan
// holds the typed, validated form.

// SearchRequest is one search. Tenant, Principals and Filter are applied
// inside retrieval: the K results are the best K the caller may read.
type SearchRequest struct {
	Query      string
	K          int // default DefaultK, at most MaxK
	Tenant     string
	Principals []string
	Filter     base.Filter
	// Mode is bm25, dense or hybrid. Default: hybrid when the collection
	// has an embedding model, else bm25.
	Mode     string
	Language string // query language for analysis; "" = detect
	// Fusion is how hybrid mode merges its lists: "rrf" (default) or
	// "weighted" (Alpha·dense + (1−Alpha)·BM25 on min-max normalised
	// scores; Alpha default 0.5). RRFK is RRF's k (default 60).
	// "backend" lets a backend that fuses itself (Weaviate's hybrid)
	// do it, with Alpha; others fall back to rrf.
	Fusion string
	Alpha  float64
	RRFK   float64
	// NoText leaves Hit.Text empty: evaluation needs only ids.
	NoText bool
	// MMR, when set, diversifies the results by maximal marginal relevance
	// with this lambda in (0, 1]: after fusion (and reranking), the best
	// MMRDepth candidates are reordered, trading relevance for dissimilarity
	// of their chunk vectors (1 = relevance only, 0.5 a balance). Needs an
	// embedding model. Default 0: off.
	MMR float64
	// MMRDepth is how many candidates MMR chooses from. Default
	// max(DefaultMMRDepth, K), at most MaxK.
	MMRDepth int
	// Ef is the vector index's search effort for dense and hybrid modes,
	// 1..4096: the HNSW candidate list (raised to the retrieval depth), or
	// the IVF cells probed (capped at nlist). Higher is more accurate and
	// slower. Default 0: the collection's vector.ef_search or nprobe.
	Ef int
	// Exact makes dense retrieval an exhaustive scan instead of an index
	// search: slow, for measuring the index's recall.
	Exact bool
	// NoRerank skips the collection's reranker for this request: the
	// search debugger compares the fused list with the reranked one.
	NoRerank bool
}

// SearchResponse is the result of a search.
type SearchResponse struct {
	Results []base.Hit    `json:"results"`
	Mode    string        `json:"mode"`
	Took    time.Duration `json:"-"`
	// Guard is what the guardrails found (nil: nothing to report).
	Guard *GuardReport `json:"guard,omitempty"`
}

// GuardReport is what the guardrails (Hooks.Guard, Hooks.Context,
// Hooks.Answer) found in one request; nil when they found nothing.
type GuardReport struct {
	// Flagged: the question scored as a prompt injection (policy flag).
	Flagged bool    `json:"flagged"`
	Score   float64 `json:"score"`
	// RulesOnly: the detector's model could not be loaded; the question
	// was checked by its rules only.
	RulesOnly bool `json:"rules_only,omitempty"`
	// AnswerIssues are the output rails' findings: e-mails, URLs or
	// numbers in the answer that no source holds, a repeated instruction.
	AnswerIssues []GuardIssue `json:"answer_issues,omitempty"`
	// Withheld: the language model's answer was replaced by Reason.
	Withheld bool   `json:"withheld,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// GuardIssue is one finding of the output rails.
type GuardIssue struct {
	Kind  string `json:"kind"` // unsupported_email, unsupported_url, unsupported_number, repeats_instruction
	Value string `json:"value"`
}

// SearchRewrite configures query rewriting for a rewritten search.
type SearchRewrite struct {
	// Method is "multi" or "hyde".
	Method string
	// Expansions is the number of paraphrases for multi. Default 3.
	Expansions int
	// History condenses a follow-up question first (optional).
	History []Message
	// Model and Params override the configured language model's.
	Model  string
	Params llm.Params
}

// AskRequest is one question.
type AskRequest struct {
	Question   string
	K          int // chunks retrieved as context; default 5
	Tenant     string
	Principals []string
	Filter     base.Filter
	Mode       string
	// MaxSentences bounds the extractive answer. Default 3.
	MaxSentences int

	// Method is "" (default: "llm" when a language model is configured,
	// else "extractive"), "extractive" or "llm" (an error without a model).
	Method string
	// Model overrides the configured model name for this request.
	Model string
	// Params override the configured decoding parameters field by field.
	Params llm.Params
	// History holds the earlier turns of a conversation, oldest first
	// (roles "user", "assistant", "system"). With a language model the
	// question is condensed into a standalone question before retrieval;
	// without one, History is ignored.
	History []Message
	// Rewrite rewrites the question before retrieval with the language
	// model: "" (none), "multi" (Expansions paraphrases, each retrieved,
	// fused by RRF) or "hyde" (retrieve with a hypothetical answer passage).
	Rewrite string
	// Expansions is the number of paraphrases for Rewrite "multi".
	// Default 3, at most 8.
	Expansions int
	// NoCache skips the answer caches (neither read nor written).
	NoCache bool
	// Tools are functions the caller offers the model (OpenAI's "tools";
	// Method llm only). With Tools or ToolTurns the answer is one
	// non-streamed tool-calling call, which may return ToolCalls instead
	// of (or with) text; such answers are never cached. At most MaxTools.
	Tools []llm.ToolSpec
	// ToolChoice is OpenAI's tool_choice, passed to the model verbatim.
	ToolChoice []byte
	// ToolTurns continue the conversation after the question, in order:
	// assistant turns that called tools and the tools' results ("tool"
	// turns). They follow the prompt (with its sources) as they are.
	ToolTurns []llm.ToolMessage
}

// MaxTools bounds AskRequest.Tools.
const MaxTools = 64

// Message is one turn of a conversation.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Citation points at the text that supports part of an answer. Start and
// End are character (Unicode code point) offsets into the document's text,
// and that span is exactly Text.
type Citation struct {
	Marker  int    `json:"marker"` // the n of "[n]" in the answer; Sources[n-1] for LLM answers
	DocID   string `json:"doc_id"`
	ChunkID string `json:"chunk_id"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Text    string `json:"text"`
	Title   string `json:"title,omitempty"`
}

// Answer is the response to a question.
type Answer struct {
	Answer    string     `json:"answer"`
	Citations []Citation `json:"citations"`
	Sources   []base.Hit `json:"sources"`
	// Method is "extractive" (sentences quoted from the sources), "llm"
	// (written by the language model) or, when nothing relevant was
	// retrieved, "none".
	Method string `json:"method"`
	// Model is the language model that wrote the answer ("" unless llm).
	Model string `json:"model,omitempty"`
	// Grounded reports whether the answer cites at least one source that
	// was in the prompt (always true for extractive answers with
	// citations). An LLM answer that ignored the citation format is kept,
	// with Grounded false.
	Grounded bool `json:"grounded"`
	// InvalidCitations are the marker numbers the model wrote that named
	// no source in its prompt; they were removed from Answer.
	InvalidCitations []int `json:"invalid_citations,omitempty"`
	// Abstained reports an "I don't know" answer: nothing relevant was
	// retrieved, or the model said the sources lack the answer.
	Abstained bool `json:"abstained"`
	// Query is the question retrieval used when it differs from the
	// question asked (condensed from History, or rewritten by HyDE);
	// Queries lists multi-query paraphrases.
	Query   string   `json:"query,omitempty"`
	Queries []string `json:"queries,omitempty"`
	// DroppedSources are the markers of sources left out of the prompt for
	// lack of room in the context window.
	DroppedSources []int `json:"dropped_sources,omitempty"`
	// FinishReason is the model's ("stop", "length", "tool_calls"); ""
	// unless llm.
	FinishReason string `json:"finish_reason,omitempty"`
	// ToolCalls are the calls of the caller's tools the model asked for
	// (AskRequest.Tools); their arguments are the model's text, unchecked.
	ToolCalls []llm.ToolCall `json:"tool_calls,omitempty"`
	// Cached is "exact" or "semantic" when the answer came from a cache.
	Cached  string        `json:"cached,omitempty"`
	Usage   *Usage        `json:"usage,omitempty"`
	Timings Timings       `json:"timings"`
	Took    time.Duration `json:"-"`
	// Guard is what the guardrails found (nil: nothing to report).
	Guard *GuardReport `json:"guard,omitempty"`
}

// Usage counts language-model tokens as the server reported them.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// Timings break an answer's latency down, in milliseconds.
type Timings struct {
	Rewrite  float64 `json:"rewrite_ms"`  // condensation and query rewriting
	Retrieve float64 `json:"retrieve_ms"` // first-stage retrieval (and fusion)
	Rerank   float64 `json:"rerank_ms"`
	Generate float64 `json:"generate_ms"` // the model call, or extraction
	// TTFT is from the request to the first answer token handed to emit;
	// LLMTTFT is the model's own time to first token (prompt sent → first
	// token received). TTFT − LLMTTFT is Quarry's overhead.
	TTFT    float64 `json:"ttft_ms"`
	LLMTTFT float64 `json:"llm_ttft_ms,omitempty"`
	Total   float64 `json:"total_ms"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// AskEvent is one step of a streamed answer, in this order: one
// "retrieval" (Sources), zero or more "token" (Token, a piece of the answer
// text), one "citations" (Citations), one "done" (Answer, the same value
// AskStream returns). The tokens concatenate to Answer.Answer exactly:
// invalid citation markers are removed as the text streams.
type AskEvent struct {
	Type      string
	Sources   []base.Hit
	Token     string
	Citations []Citation
	Answer    *Answer
}

// AskEvent types, in stream order.
const (
	EventRetrieval = "retrieval"
	EventToken     = "token"
	EventCitations = "citations"
	EventDone      = "done"
)

// NoAnswer is the answer text when nothing relevant was retrieved.
const NoAnswer = "I don't know: no indexed passage matches the question."

// Clone copies an answer deeply enough that neither a cache nor a caller
// sees the other's changes.
func (a *Answer) Clone() *Answer {
	cp := *a
	cp.Citations = slices.Clone(a.Citations)
	cp.Sources = slices.Clone(a.Sources)
	cp.InvalidCitations = slices.Clone(a.InvalidCitations)
	cp.Queries = slices.Clone(a.Queries)
	cp.DroppedSources = slices.Clone(a.DroppedSources)
	if a.Usage != nil {
		u := *a.Usage
		cp.Usage = &u
	}
	if a.Guard != nil {
		g := *a.Guard
		g.AnswerIssues = slices.Clone(a.Guard.AnswerIssues)
		cp.Guard = &g
	}
	return &cp
}
