package query

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/quarry-rag/quarry/internal/cache"
	"github.com/quarry-rag/quarry/internal/embed"
)

// CacheConfig configures a collection's exact and semantic answer caches.
type CacheConfig struct {
	Size              int           // answers per cache; 0 = 1024, negative = off
	TTL               time.Duration // 0 = 10m
	SemanticThreshold float64       // 0 = cache.DefaultThreshold (0.95), negative = no semantic cache
}

// AnswerCache is a collection's pair of answer caches. Both key on the
// collection's write generation, so any write invalidates them.
type AnswerCache struct {
	exact    *cache.Exact[*Answer]
	semantic *cache.Semantic[*Answer] // nil without an embedding model
}

// NewAnswerCache returns a collection's caches, or nil when cfg turns
// caching off. The semantic cache needs the collection's embedding model.
func NewAnswerCache(cfg CacheConfig, embedding bool) *AnswerCache {
	if cfg.Size < 0 {
		return nil
	}
	size, ttl := cfg.Size, cfg.TTL
	if size == 0 {
		size = 1024
	}
	if ttl == 0 {
		ttl = 10 * time.Minute
	}
	ac := &AnswerCache{exact: cache.NewExact[*Answer](size, ttl)}
	if embedding && cfg.SemanticThreshold >= 0 {
		ac.semantic = cache.NewSemantic[*Answer](size, ttl, cfg.SemanticThreshold)
	}
	return ac
}

// scopeKey is everything but the question that must match for two
// requests to share an answer.
func scopeKey(collection string, plan *Plan) string {
	s := &plan.LLM
	principals := slices.Clone(plan.Scope.Principals)
	slices.Sort(principals)
	filter, _ := json.Marshal(plan.Scope.Filter)
	params, _ := json.Marshal(s.Params)
	history, _ := json.Marshal(plan.History)
	model := ""
	if plan.Method == MethodLLM {
		model = string(s.Provider) + " " + s.URL + " " + s.Model + " " + s.Style + " " + strconv.Itoa(s.Window)
	}
	return cache.Key("answer/v1", collection, plan.Scope.Tenant, cache.Key(principals...), string(filter), // length-prefixed: ["a\x00b"] is not ["a","b"]
		strconv.Itoa(plan.K), plan.rawMode, string(plan.Method), strconv.Itoa(plan.MaxSentences), model, string(params),
		string(plan.Rewrite), strconv.Itoa(plan.Expansions), string(history), strconv.FormatFloat(s.MinScore, 'g', -1, 64))
}

// normalizeQuestion folds case and white space and drops trailing
// punctuation, so "What is X?" and "what is  x" share an exact entry.
func normalizeQuestion(q string) string {
	return strings.TrimRight(strings.Join(strings.Fields(strings.ToLower(q)), " "), "?!. ")
}

// probe is what a cache lookup learnt that storing the answer reuses.
type probe struct {
	gen   uint64 // the generation the answer is computed from
	scope string
	vec   []float32 // the question's embedding, nil without a semantic cache
}

// lookup returns a copy of a cached answer, or nil and the probe to store
// the answer with. It counts hits and misses. The question is embedded
// (through the pipeline's one embedding path) only for the semantic
// cache; retrieval reuses that vector.
func (ac *AnswerCache) lookup(ctx context.Context, p *Pipeline, plan *Plan) (*Answer, probe) {
	m := p.LLMMetrics
	pr := probe{gen: p.Generation(), scope: scopeKey(p.Name, plan)}
	if a, ok := ac.exact.Get(cache.Key(pr.scope, normalizeQuestion(plan.Query)), pr.gen); ok {
		m.AnswerCache("exact", true)
		out := a.Clone()
		out.Cached = "exact"
		return out, pr
	}
	m.AnswerCache("exact", false)
	if ac.semantic == nil {
		return nil, pr
	}
	vec := plan.QueryVector // the guard's, when it embedded the question
	if vec == nil {
		var err error
		if vec, err = p.embedOne(ctx, plan.Query, embed.Query, "the question"); err != nil {
			return nil, pr // a miss; retrieval reports the model's error
		}
	}
	pr.vec = vec
	if a, _, ok := ac.semantic.Get(pr.scope, pr.gen, pr.vec); ok {
		m.AnswerCache("semantic", true)
		out := a.Clone()
		out.Cached = "semantic"
		return out, pr
	}
	m.AnswerCache("semantic", false)
	return nil, pr
}

// store caches a finished answer under the generation it was computed
// from: a write that raced with the answer makes it stale at once.
func (ac *AnswerCache) store(plan *Plan, pr probe, ans *Answer) {
	cp := ans.Clone()
	ac.exact.Put(cache.Key(pr.scope, normalizeQuestion(plan.Query)), pr.gen, cp)
	if ac.semantic != nil && pr.vec != nil {
		ac.semantic.Put(pr.scope, pr.gen, pr.vec, cp)
	}
}
