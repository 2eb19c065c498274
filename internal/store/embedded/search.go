package embedded

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/index/bm25"
	"github.com/quarry-rag/quarry/internal/store"
	"github.com/quarry-rag/quarry/internal/text"
)

// minDetectConfidence is the language-identification confidence below which
// a query is analysed in its tenant's dominant language instead.
const minDetectConfidence = 0.5

// Lexical implements store.Backend.
func (b *Backend) Lexical(ctx context.Context, q store.LexicalQuery) ([]base.Hit, error) {
	if q.K <= 0 {
		return nil, nil
	}
	b.mu.RLock()
	if b.mu.closed {
		b.mu.RUnlock()
		return nil, store.ErrClosed
	}
	// Only the query's own tenant's languages count: another tenant's
	// documents must not change how this query is analysed.
	lang, langs := q.Language, b.mu.cat.tenantLangs[q.Scope.Tenant]
	if lang == "" && b.cfg.Language == "" && len(langs) == 1 {
		// A one-language tenant: no need to identify the query's.
		lang = b.mu.cat.dominantLanguage(q.Scope.Tenant)
	} else if lang == "" && b.cfg.Language == "" {
		if l, conf := text.DetectLanguage(q.Text); conf >= minDetectConfidence && langs[l] > 0 {
			lang = l
		} else {
			lang = b.mu.cat.dominantLanguage(q.Scope.Tenant)
		}
	}
	sc := lexicalPool.Get().(*lexicalScratch)
	sc.terms = b.an.Get(lang).AppendTerms(sc.terms[:0], q.Text)
	sc.res = b.mu.ix.AppendSearch(sc.res[:0], sc.terms, q.K, b.mu.cat.acceptFunc(q.Scope))
	hits := make([]base.Hit, len(sc.res))
	titles := b.mu.cat.titles
	for i, r := range sc.res {
		// Field by field into the zeroed slice: assigning a whole Hit
		// would copy it with a bulk write barrier while the GC runs.
		h := &hits[i]
		h.ChunkID = r.Key
		h.DocID, h.Ordinal, _ = base.ParseChunkID(r.Key)
		h.Score = r.Score
		h.Title = titles[b.mu.cat.byID[r.ID]]
	}
	b.mu.RUnlock()
	clear(sc.terms)
	clear(sc.res) // pin no keys of documents deleted later
	lexicalPool.Put(sc)
	return hits, b.fillHits(hits, !q.NoText, q.WithVectors)
}

// lexicalScratch are a lexical search's buffers, reused across searches:
// the query's terms and the index's results, which Lexical copies into
// the hits it returns.
type lexicalScratch struct {
	terms []string
	res   []bm25.Result
}

var lexicalPool = sync.Pool{New: func() any { return new(lexicalScratch) }}

// fillHits reads, for each hit's chunk, its text, section and offsets (when
// text is set) and its vector (when vecs is set) from the store.
func (b *Backend) fillHits(hits []base.Hit, text, vecs bool) error {
	if len(hits) == 0 || (!text && !vecs) {
		return nil
	}
	b.mu.RLock()
	dim := b.dim
	b.mu.RUnlock()
	return b.db.View(func(tx *bolt.Tx) error {
		cb, vb := tx.Bucket(bucketChunks), tx.Bucket(bucketVectors)
		for i := range hits {
			if vecs && dim > 0 {
				// A hit deleted since the index read has no vector: it
				// keeps none rather than failing the search.
				if raw := vb.Get([]byte(hits[i].ChunkID)); raw != nil {
					v, err := decodeVector(raw, dim)
					if err != nil {
						return err
					}
					hits[i].Vector = v
				}
			}
			if !text {
				continue
			}
			v := cb.Get([]byte(hits[i].ChunkID))
			if v == nil {
				// Deleted between the index read and now: keep the hit
				// without text rather than fail the search.
				continue
			}
			var c base.Chunk
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("%w: chunk %q: %v", store.ErrCorrupt, hits[i].ChunkID, err)
			}
			hits[i].Text, hits[i].Section, hits[i].Start, hits[i].End, hits[i].RuneStart = c.Text, c.Section, c.Start, c.End, c.RuneStart
			hits[i].Injection = c.Injection
		}
		return nil
	})
}
