package quarry

import (
	"context"

	"github.com/quarry-rag/quarry/internal/query"
)

// The request and answer types of Search and Ask, defined with the query
// pipeline (internal/query) and re-exported here.
type (
	// SearchRequest is one search. Tenant, Principals and Filter are
	// applied inside retrieval: the K results are the best K the caller
	// may read.
	SearchRequest = query.SearchRequest
	// SearchResponse is the result of a search.
	SearchResponse = query.SearchResponse
	// SearchRewrite configures query rewriting for SearchRewritten.
	SearchRewrite = query.SearchRewrite
	// AskRequest is one question.
	AskRequest = query.AskRequest
	// Message is one turn of a conversation.
	Message = query.Message
	// Citation points at the text that supports part of an answer.
	Citation = query.Citation
	// Answer is the response to a question.
	Answer = query.Answer
	// Usage counts language-model tokens as the server reported them.
	Usage = query.Usage
	// Timings break an answer's latency down, in milliseconds.
	Timings = query.Timings
	// AskEvent is one step of a streamed answer.
	AskEvent = query.AskEvent
)

// Retrieval modes (SearchRequest.Mode, AskRequest.Mode).
const (
	ModeBM25   = string(query.ModeBM25)
	ModeDense  = string(query.ModeDense)
	ModeHybrid = string(query.ModeHybrid) // BM25 and dense in parallel, fused
)

// FusionBackend (SearchRequest.Fusion) asks the backend to fuse hybrid
// results itself when it can (store.Hybrider: Weaviate's hybrid search).
const FusionBackend = string(query.FusionBackend)

// Rewrite methods (AskRequest.Rewrite, SearchRewrite.Method).
const (
	RewriteMulti = string(query.RewriteMulti)
	RewriteHyDE  = string(query.RewriteHyDE)
)

// Answer methods (AskRequest.Method, Answer.Method).
const (
	MethodExtractive = string(query.MethodExtractive)
	MethodLLM        = string(query.MethodLLM)
	MethodNone       = string(query.MethodNone)
)

// AskEvent types, in stream order.
const (
	EventRetrieval = query.EventRetrieval
	EventToken     = query.EventToken
	EventCitations = query.EventCitations
	EventDone      = query.EventDone
)

// Limits on requests.
const (
	DefaultK        = query.DefaultK
	MaxK            = query.MaxK
	MaxQueryBytes   = query.MaxQueryBytes
	DefaultMMRDepth = query.DefaultMMRDepth // the default candidate pool of MMR
	MaxHistory      = query.MaxHistory
	MaxHistoryBytes = query.MaxHistoryBytes
	// RerankDepth is how many first-stage candidates a reranker reads.
	RerankDepth = query.RerankDepth
)

// NoAnswer is the answer text when nothing relevant was retrieved.
const NoAnswer = query.NoAnswer

// Search retrieves the K best chunks for req.Query.
func (c *Collection) Search(ctx context.Context, req SearchRequest) (*SearchResponse, error) {
	plan, err := query.NewSearchPlan(&req, c.caps())
	if err != nil {
		return nil, err
	}
	res, _, err := c.pipeline.Search(ctx, plan)
	return res, err
}

// SearchRewritten rewrites req.Query with the configured language model,
// then searches: multi-query retrieval searches the question and every
// paraphrase and fuses the lists by RRF; HyDE has the model write a
// hypothetical answer passage, searches BM25 with the question followed by
// the passage and the vector index with the passage embedded as a passage
// (averaged with the question's embedding). The collection's reranker, if
// any, runs once on the fused list. It returns the queries searched, the
// original (or condensed) question first.
func (c *Collection) SearchRewritten(ctx context.Context, req SearchRequest, rw SearchRewrite) (*SearchResponse, []string, error) {
	plan, err := query.NewRewritePlan(&req, &rw, c.caps(), c.pipeline.LLM)
	if err != nil {
		return nil, nil, err
	}
	return c.pipeline.Search(ctx, plan)
}

// Ask answers a question from the collection: retrieval, then a language
// model's answer grounded in the retrieved chunks (when one is configured,
// see Options.LLM) or an extractive one (the sentences of the retrieved
// chunks that best match the question), each statement cited.
//
// A language-model failure returns an *LLMError together with an Answer
// whose Sources hold the retrieval results.
func (c *Collection) Ask(ctx context.Context, req AskRequest) (*Answer, error) {
	return c.AskStream(ctx, req, nil)
}

// AskStream answers like Ask and calls emit for each step as it happens
// (see AskEvent). An error from emit stops the answer and is returned. On
// an *LLMError the stream ends after the events already sent, and the
// returned Answer holds the Sources.
func (c *Collection) AskStream(ctx context.Context, req AskRequest, emit func(AskEvent) error) (*Answer, error) {
	plan, err := query.NewAskPlan(&req, c.caps(), c.pipeline.LLM)
	if err != nil {
		return nil, err
	}
	return c.pipeline.Ask(ctx, plan, emit)
}

// caps are what the collection's configuration lets a plan ask for.
func (c *Collection) caps() query.Caps {
	return query.Caps{Collection: c.name, Embedding: c.cfg.Embedding != "", Reranker: c.cfg.Reranker != ""}
}
