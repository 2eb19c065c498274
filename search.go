package quarry

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

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

// MaxSearchBatch is the most searches one SearchBatch call takes.
const MaxSearchBatch = 64

// BatchError names the search of a batch that failed. Err keeps its class
// (ErrInvalid, ErrPromptInjection, …); a *FieldError inside it names a
// field of that one request.
type BatchError struct {
	Index int
	Err   error
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("quarry: search %d of the batch: %v", e.Index, e.Err)
}
func (e *BatchError) Unwrap() error { return e.Err }

// SearchBatch runs several searches at once, spread over up to GOMAXPROCS
// goroutines, and returns their responses in request order: one batch of
// queries uses every core, where one search uses one. Every request is
// planned (validated) before any runs, so an invalid one fails the batch
// with nothing searched; a failing search (a question the guard refuses,
// a cancelled context) fails the batch too. Either error is a *BatchError
// naming the first failing request in order. At most MaxSearchBatch
// requests; the results are those Search would give for each.
func (c *Collection) SearchBatch(ctx context.Context, reqs []SearchRequest) ([]*SearchResponse, error) {
	if len(reqs) == 0 {
		return nil, &FieldError{Field: "requests", Msg: "is empty", Err: ErrInvalid}
	}
	if len(reqs) > MaxSearchBatch {
		return nil, &FieldError{Field: "requests", Msg: fmt.Sprintf("has %d searches; the limit is %d", len(reqs), MaxSearchBatch), Err: ErrInvalid}
	}
	plans := make([]*query.Plan, len(reqs))
	for i := range reqs {
		req := reqs[i] // a copy: planning fills defaults
		p, err := query.NewSearchPlan(&req, c.caps())
		if err != nil {
			return nil, &BatchError{Index: i, Err: err}
		}
		plans[i] = p
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([]*SearchResponse, len(reqs))
	errs := make([]error, len(reqs))
	var once sync.Once
	parallel(runtime.GOMAXPROCS(0), len(reqs), func(i int) {
		if ctx.Err() != nil {
			errs[i] = ctx.Err()
			return
		}
		out[i], _, errs[i] = c.pipeline.Search(ctx, plans[i])
		if errs[i] != nil {
			once.Do(cancel) // the batch has failed: stop the others early
		}
	})
	// Report the first failure in request order that is not merely the
	// cancellation caused by another's failure.
	first := -1
	for i, err := range errs {
		if err == nil {
			continue
		}
		if first < 0 {
			first = i
		}
		if !errors.Is(err, context.Canceled) {
			return nil, &BatchError{Index: i, Err: err}
		}
	}
	if first >= 0 {
		return nil, &BatchError{Index: first, Err: errs[first]}
	}
	return out, nil
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
