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
	Fusion string
	Alpha  float64
	RRFK   float64
	// NoText leaves Hit.Text empty: evaluation needs only ids.
	NoText bool
	// NoRerank skips the collection's reranker for this request.
	NoRerank bool
}

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
	default:
		return nil, invalidf("fusion", "unknown fusion %q (want rrf or weighted)", req.Fusion)
	}
	if req.Alpha < 0 || req.Alpha > 1 || req.Alpha != req.Alpha {
		return nil, invalidf("alpha", "must be between 0 and 1, got %v", req.Alpha)
	}
	if req.Fusion == string(retrieve.Weighted) && req.Alpha == 0 {
		fusion.Alpha = 0.5
	}
	scope := store.Scope{Tenant: req.Tenant, Principals: req.Principals, Filter: req.Filter}
	depth := req.K
	if mode == ModeHybrid {
		depth = max(req.K, hybridDepth)
	}
	rerankOn := c.cfg.Reranker != "" && !req.NoRerank
	noText := req.NoText
	if rerankOn {
		// The cross-encoder reads the candidates' text.
		depth, noText = max(depth, RerankDepth), false
		fusion.K = max(req.K, RerankDepth)
	}
	lexical := func() ([]Hit, error) {
		return c.backend.Lexical(ctx, store.LexicalQuery{Text: req.Query, Language: req.Language, K: depth, NoText: noText, Scope: scope})
	}
	dense := func() ([]Hit, error) {
		emb, err := c.embedder()
		if err != nil {
			return nil, err
		}
		vecs, err := emb.Embed(ctx, []string{req.Query}, embed.Query)
		if err != nil {
			return nil, fmt.Errorf("quarry: embedding the query: %w", err)
		}
		c.engine.metrics.Embedded("query", 1)
		return c.backend.Dense(ctx, store.DenseQuery{Vector: vecs[0], K: depth, NoText: noText, Scope: scope})
	}
	var hits []Hit
	switch mode {
	case ModeBM25:
		hits, err = lexical()
	case ModeDense:
		hits, err = dense()
	case ModeHybrid:
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
		if hits, err = rr.Rerank(ctx, req.Query, hits, req.K); err != nil {
			return nil, err
		}
		c.engine.metrics.Since(obs.StageRerank, t)
	} else if len(hits) > req.K {
		hits = hits[:req.K]
	}
	if hits == nil {
		hits = []Hit{}
	}
	return &SearchResponse{Results: hits, Mode: mode, Took: time.Since(start)}, nil
}
