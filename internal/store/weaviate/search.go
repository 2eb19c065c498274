package weaviate

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/store"
	"github.com/quarry-rag/quarry/internal/text"
)

// minDetectConfidence is the language-identification confidence below which
// a query is analysed in its tenant's dominant language (as in the
// embedded backend).
const minDetectConfidence = 0.5

// langCache keeps each tenant's language counts for one generation, so a
// query falls back to its own tenant's dominant language: one tenant's
// documents never change how another tenant's queries are analysed.
type langCache struct {
	mu       sync.Mutex
	gen      uint64
	byTenant map[string]map[string]int // tenant -> language -> chunks
}

// maxCachedTenants bounds the cache; past it, it starts over.
const maxCachedTenants = 1024

// languages returns the language counts of tenant's chunks ("" = the
// untenanted documents).
func (b *Backend) languages(ctx context.Context, tenant string) map[string]int {
	b.langs.mu.Lock()
	g := b.gen.Load()
	if b.langs.gen != g || len(b.langs.byTenant) > maxCachedTenants {
		b.langs.gen, b.langs.byTenant = g, map[string]map[string]int{}
	}
	if m, ok := b.langs.byTenant[tenant]; ok {
		b.langs.mu.Unlock()
		return m
	}
	b.langs.mu.Unlock()
	m, err := b.tenantLanguages(ctx, tenant)
	if err != nil {
		return nil // analysed with the language-neutral chain this once
	}
	b.langs.mu.Lock()
	if b.langs.gen == g {
		b.langs.byTenant[tenant] = m
	}
	b.langs.mu.Unlock()
	return m
}

// tenantLanguages counts tenant's chunks per document language.
func (b *Backend) tenantLanguages(ctx context.Context, tenant string) (map[string]int, error) {
	q := fmt.Sprintf(`{Aggregate{l:%s(where:{path:["tenantKey"],operator:Equal,valueText:%s},groupBy:["language"]){meta{count} groupedBy{value}}}}`,
		b.chunks, quote("t:"+tenant))
	var data struct {
		Aggregate struct {
			L []struct {
				Meta      struct{ Count int }    `json:"meta"`
				GroupedBy struct{ Value string } `json:"groupedBy"`
			} `json:"l"`
		} `json:"Aggregate"`
	}
	if err := b.c.graphqlRetry(ctx, q, &data); err != nil {
		return nil, fmt.Errorf("weaviate: collection %q: languages: %w", b.name, err)
	}
	m := map[string]int{}
	for _, g := range data.Aggregate.L {
		if g.GroupedBy.Value != "" {
			m[g.GroupedBy.Value] = g.Meta.Count
		}
	}
	return m, nil
}

func dominant(langs map[string]int) string {
	best, n := "", 0
	for l, c := range langs {
		if c > n || (c == n && l < best) {
			best, n = l, c
		}
	}
	return best
}

// queryTerms analyses a query as the chunks' terms were analysed; without
// a language, in the detected one if tenant has documents in it, else in
// tenant's dominant language.
func (b *Backend) queryTerms(ctx context.Context, q, lang, tenant string) string {
	if lang == "" && b.cfg.Language == "" {
		langs := b.languages(ctx, tenant)
		if len(langs) == 1 {
			lang = dominant(langs)
		} else if l, conf := text.DetectLanguage(q); conf >= minDetectConfidence && langs[l] > 0 {
			lang = l
		} else {
			lang = dominant(langs)
		}
	}
	return strings.Join(b.an.Get(lang).AppendTerms(nil, q), " ")
}

func vectorLiteral(v []float32) string {
	var sb strings.Builder
	sb.Grow(len(v) * 12)
	sb.WriteByte('[')
	for i, x := range v {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 32))
	}
	sb.WriteByte(']')
	return sb.String()
}

// search runs one GraphQL Get on the chunk class with the given search
// operator (bm25, nearVector or hybrid) and scope, and turns the answer
// into hits; score reads a hit's score from _additional.
func (b *Backend) search(ctx context.Context, operator string, k int, sc store.Scope, noText, withVectors bool, score func(addition) float64) ([]base.Hit, error) {
	if err := b.checkOpen(); err != nil {
		return nil, err
	}
	fields := "docId chunkId ordinal title byteStart byteEnd runeStart"
	if !noText {
		fields += " text section"
	}
	add := "id score distance"
	if withVectors {
		add += " vector"
	}
	q := fmt.Sprintf("{Get{%s(%s,where:%s,limit:%d%s){%s _additional{%s}}}}",
		b.chunks, operator, b.scopeWhere(sc).gql(), k, b.gqlCL(), fields, add)
	var data struct {
		Get map[string][]chunkRecord `json:"Get"`
	}
	if err := b.c.graphqlRetry(ctx, q, &data); err != nil {
		return nil, fmt.Errorf("weaviate: collection %q: search: %w", b.name, err)
	}
	recs := data.Get[b.chunks]
	hits := make([]base.Hit, len(recs))
	for i, r := range recs {
		hits[i] = base.Hit{ChunkID: r.ChunkID, DocID: r.DocID, Ordinal: int(r.Ordinal), Score: score(r.Additional), Title: r.Title,
			Section: r.Section, Text: r.Text, Start: int(r.ByteStart), End: int(r.ByteEnd), RuneStart: int(r.RuneStart)}
		if withVectors && len(r.Additional.Vector) > 0 {
			hits[i].Vector = r.Additional.Vector
		}
	}
	return hits, nil
}

func scoreField(a addition) float64 {
	f, _ := strconv.ParseFloat(a.Score, 64)
	return f
}

func negDistance(a addition) float64 {
	if a.Distance == nil {
		return 0
	}
	return -*a.Distance // distance "dot" is the negated inner product
}

// Lexical implements store.Backend with Weaviate's BM25 over the analysed
// terms property.
func (b *Backend) Lexical(ctx context.Context, q store.LexicalQuery) ([]base.Hit, error) {
	if q.K <= 0 {
		return nil, nil
	}
	if err := b.checkOpen(); err != nil {
		return nil, err
	}
	terms := b.queryTerms(ctx, q.Text, q.Language, q.Scope.Tenant)
	if terms == "" {
		return []base.Hit{}, nil
	}
	op := fmt.Sprintf(`bm25:{query:%s,properties:["terms"]}`, quote(terms))
	return b.search(ctx, op, q.K, q.Scope, q.NoText, q.WithVectors, scoreField)
}

// Dense implements store.Backend with nearVector (HNSW; Ef and Exact are
// not supported per query and are ignored).
func (b *Backend) Dense(ctx context.Context, q store.DenseQuery) ([]base.Hit, error) {
	if q.K <= 0 {
		return nil, nil
	}
	if err := b.checkOpen(); err != nil {
		return nil, err
	}
	dim := int(b.dim.Load())
	if dim == 0 {
		// Another process may have written the first vectors since the
		// last poll.
		if m, err := b.readMetaOnce(ctx); err == nil {
			b.observe(m)
			dim = m.dim
		}
		if dim == 0 {
			return nil, nil
		}
	}
	if len(q.Vector) != dim {
		return nil, fmt.Errorf("%w: query has %d dimensions, the collection %d", store.ErrDimension, len(q.Vector), dim)
	}
	op := fmt.Sprintf("nearVector:{vector:%s}", vectorLiteral(q.Vector))
	return b.search(ctx, op, q.K, q.Scope, q.NoText, q.WithVectors, negDistance)
}

// Hybrid implements store.Hybrider with Weaviate's hybrid search: BM25 over
// the analysed terms and nearVector, fused by Weaviate (rankedFusion for
// "rrf", relativeScoreFusion for "weighted").
func (b *Backend) Hybrid(ctx context.Context, q store.HybridQuery) ([]base.Hit, error) {
	if q.K <= 0 {
		return nil, nil
	}
	if err := b.checkOpen(); err != nil {
		return nil, err
	}
	dim := int(b.dim.Load())
	if dim > 0 && len(q.Vector) != dim {
		return nil, fmt.Errorf("%w: query has %d dimensions, the collection %d", store.ErrDimension, len(q.Vector), dim)
	}
	alpha := q.Alpha
	if alpha == 0 {
		alpha = 0.5
	}
	fusion := "rankedFusion"
	switch q.Fusion {
	case "", "rrf":
	case "weighted":
		fusion = "relativeScoreFusion"
	default:
		return nil, fmt.Errorf("weaviate: fusion %q: want rrf or weighted", q.Fusion)
	}
	terms := b.queryTerms(ctx, q.Text, q.Language, q.Scope.Tenant)
	op := fmt.Sprintf(`hybrid:{query:%s,properties:["terms"],alpha:%s,fusionType:%s`, quote(terms), strconv.FormatFloat(alpha, 'g', -1, 64), fusion)
	if dim > 0 && len(q.Vector) > 0 {
		op += ",vector:" + vectorLiteral(q.Vector)
	}
	op += "}"
	return b.search(ctx, op, q.K, q.Scope, q.NoText, q.WithVectors, scoreField)
}
