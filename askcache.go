package quarry

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

// answerCache is a collection's pair of answer caches.
type answerCache struct {
	exact    *cache.Exact[*Answer]
	semantic *cache.Semantic[*Answer] // nil without an embedding model
}

// newAnswerCache returns a collection's caches, or nil when cfg turns
// caching off. The semantic cache needs the collection's embedding model.
func newAnswerCache(cfg *AnswerCacheConfig, embedding bool) *answerCache {
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
	ac := &answerCache{exact: cache.NewExact[*Answer](size, ttl)}
	if embedding && cfg.SemanticThreshold >= 0 {
		ac.semantic = cache.NewSemantic[*Answer](size, ttl, cfg.SemanticThreshold)
	}
	return ac
}

// answerCacheFor returns the collection's caches, or nil when caching is
// off for this request or the collection is closed.
func (c *Collection) answerCacheFor(req *AskRequest) *answerCache {
	if req.NoCache {
		return nil
	}
	return c.answers.Load()
}

// scopeKey is everything but the question that must match for two
// requests to share an answer.
func (c *Collection) scopeKey(req *AskRequest, s *llmSettings) string {
	principals := slices.Clone(req.Principals)
	slices.Sort(principals)
	filter, _ := json.Marshal(req.Filter)
	params, _ := json.Marshal(s.params)
	history, _ := json.Marshal(req.History)
	model := ""
	if req.Method == MethodLLM {
		model = s.provider + " " + s.url + " " + s.model + " " + s.style + " " + strconv.Itoa(s.window)
	}
	return cache.Key("answer/v1", c.name, req.Tenant, cache.Key(principals...), string(filter), // length-prefixed: ["a\x00b"] is not ["a","b"]
		strconv.Itoa(req.K), req.Mode, req.Method, strconv.Itoa(req.MaxSentences), model, string(params),
		req.Rewrite, strconv.Itoa(req.Expansions), string(history), strconv.FormatFloat(s.minScore, 'g', -1, 64))
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
// the answer with. It counts hits and misses.
func (ac *answerCache) lookup(ctx context.Context, c *Collection, req *AskRequest, s *llmSettings) (*Answer, probe) {
	m := c.engine.llm
	p := probe{gen: c.Generation(), scope: c.scopeKey(req, s)}
	if a, ok := ac.exact.Get(cache.Key(p.scope, normalizeQuestion(req.Question)), p.gen); ok {
		m.AnswerCache("exact", true)
		out := a.clone()
		out.Cached = "exact"
		return out, p
	}
	m.AnswerCache("exact", false)
	if ac.semantic == nil {
		return nil, p
	}
	if p.vec = c.questionVector(ctx, req.Question); p.vec == nil {
		return nil, p
	}
	if a, _, ok := ac.semantic.Get(p.scope, p.gen, p.vec); ok {
		m.AnswerCache("semantic", true)
		out := a.clone()
		out.Cached = "semantic"
		return out, p
	}
	m.AnswerCache("semantic", false)
	return nil, p
}

// store caches a finished answer under the generation it was computed
// from: a write that raced with the answer makes it stale at once.
func (ac *answerCache) store(req *AskRequest, p probe, ans *Answer) {
	cp := ans.clone()
	ac.exact.Put(cache.Key(p.scope, normalizeQuestion(req.Question)), p.gen, cp)
	if ac.semantic != nil && p.vec != nil {
		ac.semantic.Put(p.scope, p.gen, p.vec, cp)
	}
}

// questionVector embeds a question for the semantic cache, or returns nil.
func (c *Collection) questionVector(ctx context.Context, q string) []float32 {
	emb, err := c.embedder()
	if err != nil || emb == nil {
		return nil
	}
	vecs, err := emb.Embed(ctx, []string{q}, embed.Query)
	if err != nil || len(vecs) != 1 {
		return nil
	}
	c.engine.metrics.Embedded("query", 1)
	return vecs[0]
}

// clone copies an answer deeply enough that neither the cache nor a caller
// sees the other's changes.
func (a *Answer) clone() *Answer {
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
	return &cp
}
