package quarry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/embed"
	"github.com/quarry-rag/quarry/internal/obs"
	"github.com/quarry-rag/quarry/internal/retrieve"
	"github.com/quarry-rag/quarry/internal/store"
)

// Retrieval modes.
const (
	ModeBM25   = "bm25"
	ModeDense  = "dense"
	ModeHybrid = "hybrid" // BM25 and dense in parallel, fused
)

// Limits on requests.
const (
	DefaultK      = 10
	MaxK          = 1000
	MaxQueryBytes = 8192
)

// SearchRequest is one search. Tenant, Principals and Filter are applied
// inside retrieval: the K results are the best K the caller may read.
type SearchRequest struct {
	Query      string
	K          int // default DefaultK, at most MaxK
	Tenant     string
	Principals []string
	Filter     Filter
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
	// NoRerank skips the collection's reranker for this request.
	NoRerank bool
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

	// vector, when set, is the dense side's query vector, computed by the
	// caller (Ask's semantic-cache probe, HyDE's passage): Query is then
	// not embedded again.
	vector []float32
}

// DefaultMMRDepth is the default candidate pool of MMR.
const DefaultMMRDepth = 50

// SearchResponse is the result of a search.
type SearchResponse struct {
	Results []Hit         `json:"results"`
	Mode    string        `json:"mode"`
	Took    time.Duration `json:"-"`
}

func validateQuery(field, q string, k *int, def int) error {
	if strings.TrimSpace(q) == "" {
		return invalidf(field, "is required")
	}
	if len(q) > MaxQueryBytes {
		return &FieldError{Field: field, Msg: fmt.Sprintf("is %d bytes; the limit is %d", len(q), MaxQueryBytes), Err: ErrTooLarge}
	}
	if !utf8.ValidString(q) {
		return invalidf(field, "is not valid UTF-8")
	}
	if *k == 0 {
		*k = def
	}
	if *k < 1 || *k > MaxK {
		return invalidf("k", "must be between 1 and %d, got %d", MaxK, *k)
	}
	return nil
}

// resolveMode applies the default mode and checks that the collection can
// serve the one asked for.
func (c *Collection) resolveMode(mode string) (string, error) {
	switch mode {
	case "":
		if c.cfg.Embedding != "" {
			return ModeHybrid, nil
		}
		return ModeBM25, nil
	case ModeBM25:
		return mode, nil
	case ModeDense, ModeHybrid:
		if c.cfg.Embedding == "" {
			return "", invalidf("mode", "%q needs an embedding model, and collection %q has none (set \"embedding\" when creating it)", mode, c.name)
		}
		return mode, nil
	}
	return "", invalidf("mode", "unknown mode %q (want bm25, dense or hybrid)", mode)
}

// mmrDepth validates the MMR fields of req and returns the MMR candidate
// pool, 0 when MMR is off.
func (c *Collection) mmrDepth(req *SearchRequest) (int, error) {
	if req.MMR != req.MMR || req.MMR < 0 || req.MMR > 1 {
		return 0, invalidf("mmr", "must be between 0 (off) and 1, got %v", req.MMR)
	}
	if req.MMRDepth < 0 || req.MMRDepth > MaxK {
		return 0, invalidf("mmr_depth", "must be between 1 and %d, got %d", MaxK, req.MMRDepth)
	}
	if req.MMR == 0 {
		if req.MMRDepth != 0 {
			return 0, invalidf("mmr_depth", "is set but mmr is off (set mmr to a lambda in (0, 1])")
		}
		return 0, nil
	}
	if c.cfg.Embedding == "" {
		return 0, invalidf("mmr", "needs chunk vectors, and collection %q has no embedding model", c.name)
	}
	d := req.MMRDepth
	if d == 0 {
		d = DefaultMMRDepth
	}
	return min(max(d, req.K), MaxK), nil
}

// queryVector returns req.vector, or embeds req.Query.
func (c *Collection) queryVector(ctx context.Context, req *SearchRequest) ([]float32, error) {
	if req.vector != nil {
		return req.vector, nil
	}
	emb, err := c.embedder()
	if err != nil {
		return nil, err
	}
	vecs, err := emb.Embed(ctx, []string{req.Query}, embed.Query)
	if err != nil {
		return nil, fmt.Errorf("%w: embedding the query: %w", ErrUpstream, err)
	}
	c.engine.metrics.Embedded("query", 1)
	return vecs[0], nil
}

// hybridDepth is how many candidates each retriever contributes to fusion.
const hybridDepth = 100

// Search retrieves the K best chunks for req.Query.
func (c *Collection) Search(ctx context.Context, req SearchRequest) (*SearchResponse, error) {
	start := time.Now()
	if err := validateQuery("query", req.Query, &req.K, DefaultK); err != nil {
		return nil, err
	}
	mode, err := c.resolveMode(req.Mode)
	if err != nil {
		return nil, err
	}
	if err := req.Filter.Validate(); err != nil {
		return nil, invalidf("filter", "%v", err)
	}
	fusion := retrieve.FuseOptions{Method: retrieve.Method(req.Fusion), Alpha: req.Alpha, RRFK: req.RRFK, K: req.K}
	switch fusion.Method {
	case "", retrieve.RRF, retrieve.Weighted:
	case FusionBackend:
		fusion.Method = retrieve.RRF // for backends that cannot fuse
	default:
		return nil, invalidf("fusion", "unknown fusion %q (want rrf, weighted or backend)", req.Fusion)
	}
	if req.Alpha < 0 || req.Alpha > 1 || req.Alpha != req.Alpha {
		return nil, invalidf("alpha", "must be between 0 and 1, got %v", req.Alpha)
	}
	if req.Fusion == string(retrieve.Weighted) && req.Alpha == 0 {
		fusion.Alpha = 0.5
	}
	if req.Ef < 0 || req.Ef > 4096 {
		return nil, invalidf("ef", "must be between 1 and 4096, got %d", req.Ef)
	}
	mmrK, err := c.mmrDepth(&req)
	if err != nil {
		return nil, err
	}
	scope := store.Scope{Tenant: req.Tenant, Principals: req.Principals, Filter: req.Filter}
	depth := max(req.K, mmrK)
	if mode == ModeHybrid {
		depth = max(depth, hybridDepth)
	}
	fusion.K = max(fusion.K, mmrK)
	withVectors := mmrK > 0
	rerankOn := c.cfg.Reranker != "" && !req.NoRerank
	noText := req.NoText
	if rerankOn {
		// The cross-encoder reads the candidates' text.
		depth, noText = max(depth, RerankDepth), false
		fusion.K = max(fusion.K, RerankDepth)
	}
	lexical := func() ([]Hit, error) {
		return c.backend.Lexical(ctx, store.LexicalQuery{Text: req.Query, Language: req.Language, K: depth, NoText: noText, Scope: scope, WithVectors: withVectors})
	}
	dense := func() ([]Hit, error) {
		vec, err := c.queryVector(ctx, &req)
		if err != nil {
			return nil, err
		}
		return c.backend.Dense(ctx, store.DenseQuery{Vector: vec, K: depth, NoText: noText, Scope: scope,
			WithVectors: withVectors, Ef: req.Ef, Exact: req.Exact})
	}
	var hits []Hit
	switch mode {
	case ModeBM25:
		hits, err = lexical()
	case ModeDense:
		hits, err = dense()
	case ModeHybrid:
		if h, ok := c.backend.(store.Hybrider); ok && req.Fusion == FusionBackend {
			hits, err = c.backendHybrid(ctx, h, req, depth, noText, scope, withVectors)
			break
		}
		var lex []Hit
		var lexErr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			lex, lexErr = lexical()
		}()
		den, denErr := dense()
		<-done
		if err = errors.Join(lexErr, denErr); err == nil {
			hits = retrieve.Fuse(lex, den, fusion)
		}
	}
	if err != nil {
		return nil, mapStoreErr(err)
	}
	t := c.engine.metrics.Since(obs.StageRetrieve, start)
	if rerankOn {
		rr, err := c.engine.rerankers.get(c.cfg.Reranker)
		if err != nil {
			return nil, fmt.Errorf("quarry: collection %q: reranker: %w", c.name, err)
		}
		if hits, err = rr.Rerank(ctx, req.Query, hits, max(req.K, mmrK)); err != nil {
			return nil, err
		}
		c.engine.metrics.Since(obs.StageRerank, t)
	}
	if mmrK > 0 {
		if len(hits) > mmrK {
			hits = hits[:mmrK]
		}
		hits = retrieve.MMR(hits, req.MMR, req.K)
		for i := range hits {
			hits[i].Vector = nil // served to MMR; callers never asked for them
		}
	} else if len(hits) > req.K {
		hits = hits[:req.K]
	}
	if hits == nil {
		hits = []Hit{}
	}
	return &SearchResponse{Results: hits, Mode: mode, Took: time.Since(start)}, nil
}
