package query

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/quarry-rag/quarry/internal/answer"
	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/cache"
	"github.com/quarry-rag/quarry/internal/embed"
	"github.com/quarry-rag/quarry/internal/llm"
	"github.com/quarry-rag/quarry/internal/obs"
	"github.com/quarry-rag/quarry/internal/retrieve"
	"github.com/quarry-rag/quarry/internal/store"
)

// Retriever is the part of a storage backend the pipeline searches. A
// Retriever that also implements store.Hybrider fuses hybrid searches
// itself when a plan asks for FusionBackend.
type Retriever interface {
	Lexical(ctx context.Context, q store.LexicalQuery) ([]base.Hit, error)
	Dense(ctx context.Context, q store.DenseQuery) ([]base.Hit, error)
}

// Reranker reorders candidates (a cross-encoder, *rerank.CrossEncoder).
type Reranker interface {
	Rerank(ctx context.Context, query string, hits []base.Hit, k int) ([]base.Hit, error)
}

// Pipeline runs plans against one collection. Its fields are set once
// when the collection opens and never change; it is safe for concurrent
// use. Only Store and Metrics are required: a pipeline without Embedder
// serves BM25 plans, without Chat extractive answers.
type Pipeline struct {
	Store Retriever
	// Embedder returns the collection's embedding model, nil when it has
	// none. It is called per query (the model is loaded on first use).
	Embedder func() (embed.Embedder, error)
	// Reranker returns the collection's cross-encoder; nil when none.
	Reranker func() (Reranker, error)
	// LLM is the collection's model settings (the engine's, overridden by
	// the collection's) before a request's own; Chat holds the clients.
	LLM  llm.Settings
	Chat *llm.Pool
	// Language is the collection's forced analyzer language, if any
	// (extractive answers read it).
	Language string
	// Cache returns the collection's answer caches, nil when off.
	Cache func() *AnswerCache
	// Generation returns the collection's write generation (cache keys).
	Generation func() uint64
	// Name is the collection's name, in cache keys and messages.
	Name string

	Metrics    *obs.Metrics
	LLMMetrics *obs.LLM

	// Hooks are the stages others plug in; the zero value runs none.
	Hooks Hooks

	sentOnce sync.Once
	sentVecs *cache.Exact[[]float32] // extractive answers' sentence vectors (sentenceVectors)
	tokOnce  sync.Once
	sentToks *cache.Exact[answer.TokenVectors] // … and their token vectors (sentenceTokens)
}

// Query is one query of a plan: the text searched lexically and, when
// already known (the semantic cache's probe, HyDE's), its dense vector.
type Query struct {
	Text   string
	Vector []float32
}

// Search runs a search plan: rewrite (when the plan says so) → query
// vectors → retrieval and fusion → rerank → MMR. It returns the results
// and the queries searched, the original (or condensed) question first.
func (p *Pipeline) Search(ctx context.Context, plan *Plan) (*SearchResponse, []string, error) {
	start := time.Now()
	if err := p.Hooks.checkQuestion(ctx, plan); err != nil {
		return nil, nil, err
	}
	queries := []Query{{Text: plan.Query, Vector: plan.QueryVector}}
	question := plan.Query
	if plan.Rewrite != RewriteNone || len(plan.History) > 0 {
		t := time.Now()
		rctx := p.Hooks.start(ctx, StageRewrite)
		rw, err := p.rewrite(rctx, plan, nil)
		if err != nil {
			p.Hooks.trace(rctx, StageEvent{Stage: StageRewrite, Took: time.Since(t), Err: err})
			return nil, nil, err
		}
		queries, question = rw.queries, rw.question
		p.Hooks.trace(rctx, StageEvent{Stage: StageRewrite, Took: time.Since(t), Queries: texts(queries)})
	}
	hits, _, err := p.Retrieve(ctx, plan, queries, question)
	if err != nil {
		return nil, nil, err
	}
	return &SearchResponse{Results: hits, Mode: string(plan.Mode), Took: time.Since(start), Guard: plan.Guard}, texts(queries), nil
}

func texts(qs []Query) []string {
	out := make([]string, len(qs))
	for i, q := range qs {
		out[i] = q.Text
	}
	return out
}

// StageTimes are the durations of Retrieve's stages.
type StageTimes struct {
	Retrieve, Rerank time.Duration
}

// Retrieve runs the retrieval stages of plan for queries: each query's
// lexical and dense lists in parallel, fused; the queries' lists fused by
// RRF; the reranker once against rerankQuery; MMR; the cut to K. A query
// after the first that fails (a bad paraphrase) is skipped; the first
// one's error is returned. It is the entry point of an agent's search tool.
func (p *Pipeline) Retrieve(ctx context.Context, plan *Plan, queries []Query, rerankQuery string) ([]base.Hit, StageTimes, error) {
	var tm StageTimes
	t := time.Now()
	rctx := p.Hooks.start(ctx, StageRetrieve)
	lists := make([][]base.Hit, 0, len(queries))
	for i := range queries {
		hits, err := p.retrieveOne(rctx, plan, &queries[i])
		if err != nil {
			if i > 0 {
				continue // a bad paraphrase must not sink the question
			}
			p.Hooks.trace(rctx, StageEvent{Stage: StageRetrieve, Took: time.Since(t), Queries: texts(queries), Err: err})
			return nil, tm, err
		}
		lists = append(lists, hits)
	}
	hits := lists[0]
	if len(lists) > 1 {
		hits = retrieve.Fuse(retrieve.Equal(lists...), retrieve.FuseOptions{Method: retrieve.RRF, RRFK: MultiRRFK, K: plan.FuseK})
	}
	tm.Retrieve = time.Since(t)
	p.Metrics.ObserveStage(obs.StageRetrieve, tm.Retrieve)
	if p.Hooks.Tracer != nil {
		vec := queries[0].Vector
		if plan.Rewrite == RewriteHyDE {
			vec = nil // HyDE's vector is a passage's, not the question's
		}
		p.Hooks.trace(rctx, StageEvent{Stage: StageRetrieve, Took: tm.Retrieve, Queries: texts(queries), Hits: hits, Vector: vec})
	}
	if plan.Rerank && len(hits) > 0 {
		t = time.Now()
		rctx := p.Hooks.start(ctx, StageRerank)
		rr, err := p.Reranker()
		if err != nil {
			err = fmt.Errorf("quarry: collection %q: reranker: %w", p.Name, err)
			p.Hooks.trace(rctx, StageEvent{Stage: StageRerank, Took: time.Since(t), Err: err})
			return nil, tm, err
		}
		if hits, err = rr.Rerank(rctx, rerankQuery, hits, max(plan.K, plan.MMRDepth)); err != nil {
			p.Hooks.trace(rctx, StageEvent{Stage: StageRerank, Took: time.Since(t), Err: err})
			return nil, tm, err
		}
		tm.Rerank = time.Since(t)
		p.Metrics.ObserveStage(obs.StageRerank, tm.Rerank)
		p.Hooks.trace(rctx, StageEvent{Stage: StageRerank, Took: tm.Rerank, Hits: hits})
	}
	if plan.MMRDepth > 0 {
		t = time.Now()
		if len(hits) > plan.MMRDepth {
			hits = hits[:plan.MMRDepth]
		}
		hits = retrieve.MMR(hits, plan.MMR, plan.K)
		for i := range hits {
			hits[i].Vector = nil // served to MMR; callers never asked for them
		}
		p.Hooks.trace(ctx, StageEvent{Stage: StageMMR, Took: time.Since(t), Hits: hits})
	} else if len(hits) > plan.K {
		hits = hits[:plan.K]
	}
	if hits == nil {
		hits = []base.Hit{}
	}
	return hits, tm, nil
}

// retrieveOne runs one query: lexical, dense, or both in parallel and
// fused (or fused by the backend).
func (p *Pipeline) retrieveOne(ctx context.Context, plan *Plan, q *Query) ([]base.Hit, error) {
	withVectors := plan.MMRDepth > 0
	// Methods rather than closures: a closure the hybrid branch hands to a
	// goroutine escapes, and was allocated for every BM25 query too.
	var hits []base.Hit
	var err error
	switch plan.Mode {
	case ModeBM25:
		hits, err = p.lexicalOne(ctx, plan, q)
	case ModeDense:
		hits, err = p.denseOne(ctx, plan, q)
	case ModeHybrid:
		if h, ok := p.Store.(store.Hybrider); ok && plan.Fusion == FusionBackend {
			var vec []float32
			if vec, err = p.vectorOf(ctx, q); err == nil {
				hits, err = h.Hybrid(ctx, store.HybridQuery{Text: q.Text, Language: plan.Language, Vector: vec, K: plan.Depth,
					Scope: plan.Scope, NoText: plan.NoText, WithVectors: withVectors, Alpha: plan.alpha})
			}
			break
		}
		var lex []base.Hit
		var lexErr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			lex, lexErr = p.lexicalOne(ctx, plan, q)
		}()
		den, denErr := p.denseOne(ctx, plan, q)
		<-done
		if err = errors.Join(lexErr, denErr); err == nil {
			wl, wd := plan.hybridWeights()
			t, sctx := time.Now(), p.Hooks.start(ctx, StageFuse)
			hits = retrieve.Fuse([]retrieve.List{{Hits: lex, Weight: wl}, {Hits: den, Weight: wd}}, plan.fuse)
			p.Hooks.trace(sctx, StageEvent{Stage: StageFuse, Took: time.Since(t), Hits: hits})
		}
	}
	return hits, store.MapErr(err)
}

// lexicalOne is one query's BM25 list.
func (p *Pipeline) lexicalOne(ctx context.Context, plan *Plan, q *Query) ([]base.Hit, error) {
	t, sctx := time.Now(), p.Hooks.start(ctx, StageLexical)
	hits, err := p.Store.Lexical(sctx, store.LexicalQuery{Text: q.Text, Language: plan.Language, K: plan.Depth,
		NoText: plan.NoText, Scope: plan.Scope, WithVectors: plan.MMRDepth > 0})
	if p.Hooks.Tracer != nil {
		p.Hooks.trace(sctx, StageEvent{Stage: StageLexical, Took: time.Since(t), Queries: []string{q.Text}, Hits: hits, Err: err})
	}
	return hits, err
}

// denseOne is one query's vector list.
func (p *Pipeline) denseOne(ctx context.Context, plan *Plan, q *Query) ([]base.Hit, error) {
	t, sctx := time.Now(), p.Hooks.start(ctx, StageDense)
	vec, err := p.vectorOf(sctx, q)
	var hits []base.Hit
	if err == nil {
		hits, err = p.Store.Dense(sctx, store.DenseQuery{Vector: vec, K: plan.Depth, NoText: plan.NoText, Scope: plan.Scope,
			WithVectors: plan.MMRDepth > 0, Ef: plan.Ef, Exact: plan.Exact})
	}
	if p.Hooks.Tracer != nil {
		p.Hooks.trace(sctx, StageEvent{Stage: StageDense, Took: time.Since(t), Queries: []string{q.Text}, Hits: hits, Err: err})
	}
	return hits, err
}
