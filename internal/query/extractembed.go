package query

import (
	"context"
	"fmt"
	"time"

	"github.com/quarry-rag/quarry/internal/answer"
	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/cache"
	"github.com/quarry-rag/quarry/internal/embed"
)

// sentenceCacheSize bounds the sentence vectors a pipeline keeps for
// extractive answers: 8,192 × 384 float32s ≈ 12 MiB with a small model.
const sentenceCacheSize = 8192

// sentenceEmbedder is answer.Embedder over the collection's embedding
// model: the question's vector is the one retrieval already computed when
// there is one, and sentence vectors are cached by model and text (a
// chunk's sentences come back for many questions about it).
type sentenceEmbedder struct {
	p    *Pipeline
	emb  embed.Embedder
	qvec []float32 // the question's vector, nil when not yet computed
}

func (s sentenceEmbedder) Embed(ctx context.Context, texts []string, query bool) ([][]float32, error) {
	if query && len(texts) == 1 && s.qvec != nil {
		return [][]float32{s.qvec}, nil
	}
	kind, role := embed.Passage, "p\x00"
	if query {
		kind, role = embed.Query, "q\x00"
	}
	c := s.p.sentenceVectors()
	keys := make([]string, len(texts))
	for i, t := range texts {
		keys[i] = s.emb.Name() + "\x00" + role + t
	}
	out, missAt := cached(c, keys)
	if len(missAt) == 0 {
		return out, nil
	}
	miss := make([]string, len(missAt))
	for k, i := range missAt {
		miss[k] = texts[i]
	}
	t, sctx := time.Now(), s.p.Hooks.start(ctx, StageEmbed)
	vecs, err := s.emb.Embed(sctx, miss, kind)
	s.p.Hooks.trace(sctx, StageEvent{Stage: StageEmbed, Took: time.Since(t), Queries: miss, Err: err})
	if err != nil {
		return nil, fmt.Errorf("%w: embedding the answer's candidate sentences: %w", base.ErrUpstream, err)
	}
	if len(vecs) != len(miss) {
		return nil, fmt.Errorf("quarry: embedder returned %d vectors for %d sentences", len(vecs), len(miss))
	}
	s.p.Metrics.Embedded("query", len(miss))
	for k, v := range vecs {
		c.Put(keys[missAt[k]], 0, v)
		out[missAt[k]] = v
	}
	return out, nil
}

// cached looks keys up in c: out[i] is the value under keys[i] when c
// holds it, and missAt lists, in order, the indexes of the keys it does not.
func cached[V any](c *cache.Exact[V], keys []string) (out []V, missAt []int) {
	out = make([]V, len(keys))
	for i, k := range keys {
		if v, ok := c.Get(k, 0); ok {
			out[i] = v
			continue
		}
		missAt = append(missAt, i)
	}
	return out, missAt
}

// sentenceVectors returns the pipeline's sentence-vector cache.
func (p *Pipeline) sentenceVectors() *cache.Exact[[]float32] {
	p.sentOnce.Do(func() { p.sentVecs = cache.NewExact[[]float32](sentenceCacheSize, 0) })
	return p.sentVecs
}

// answerEmbedder returns the extractive answerer's embedder: the
// collection's model, or nil when it has none (or it cannot be loaded:
// the answer is then lexical only, never an error). When the model runs
// in process it also gives token vectors (answer.TokenEmbedder), for the
// ranker's late-interaction features.
func (p *Pipeline) answerEmbedder(qvec []float32) answer.Embedder {
	if p.Embedder == nil {
		return nil
	}
	emb, err := p.Embedder()
	if err != nil || emb == nil {
		return nil
	}
	se := sentenceEmbedder{p: p, emb: emb, qvec: qvec}
	if te, ok := embed.AsTokenEmbedder(emb); ok {
		return tokenEmbedder{sentenceEmbedder: se, te: te}
	}
	return se
}

// sentenceTokenCacheSize bounds the sentences whose token vectors a
// pipeline keeps, and sentenceTokenCacheBytes their bytes: an entry is
// tokens × dim float32s, some 62 KiB for a typical 40-token sentence with
// multilingual-e5-small (384 floats a token) but up to 768 KiB for one of
// the model's 512 tokens, so the count alone would allow ~800 MiB.
// 64 MiB is what the 1,024 entries take with typical sentences, so the
// count still governs ordinary text and the bytes cap long sentences:
// over 300 en XQuAD questions it embeds exactly the sentences the count
// bound alone does, where 32 MiB (~530 sentences, below the questions'
// working set) embedded 342 more (docs/benchmarks.md, "issue 14: token
// cache bound and speed"). It stays small beside the model itself (~470 MB
// for e5-small).
const (
	sentenceTokenCacheSize  = 1024
	sentenceTokenCacheBytes = 64 << 20
)

// tokenVectorsBytes is what one cached answer.TokenVectors holds in
// memory: its ids and floats, the token slices' headers and a fixed
// allowance for the entry, its key and the list element.
func tokenVectorsBytes(tv answer.TokenVectors) int64 {
	n := int64(256) + 4*int64(len(tv.IDs)+len(tv.Pooled)) + 24*int64(len(tv.Vectors))
	for _, v := range tv.Vectors {
		n += 4 * int64(len(v))
	}
	return n
}

// tokenEmbedder is sentenceEmbedder with the token vectors of an
// in-process model, cached by model and text like the sentence vectors.
// One forward pass gives the question's and the uncached sentences' token
// vectors and their pooled vectors; the latter are put in the
// sentence-vector cache too.
type tokenEmbedder struct {
	sentenceEmbedder
	te embed.TokenEmbedder
}

// kindAt is the kind of EmbedTokens' text i: the question first, then
// the sentences.
func kindAt(i int) embed.Kind {
	if i == 0 {
		return embed.Query
	}
	return embed.Passage
}

func (s tokenEmbedder) EmbedTokens(ctx context.Context, question string, sentences []string) (answer.TokenVectors, []answer.TokenVectors, error) {
	c := s.p.sentenceTokens()
	key := func(k embed.Kind, t string) string {
		if k == embed.Query {
			return s.emb.Name() + "\x00q\x00" + t
		}
		return s.emb.Name() + "\x00p\x00" + t
	}
	// Index 0 is the question, 1… the sentences.
	texts := append([]string{question}, sentences...)
	keys := make([]string, len(texts))
	for i, t := range texts {
		keys[i] = key(kindAt(i), t)
	}
	out, missAt := cached(c, keys)
	miss := make([]string, len(missAt))
	kinds := make([]embed.Kind, len(missAt))
	for k, i := range missAt {
		miss[k], kinds[k] = texts[i], kindAt(i)
	}
	if len(miss) > 0 {
		if err := s.embedMissing(ctx, miss, kinds, missAt, out, key); err != nil {
			return answer.TokenVectors{}, nil, err
		}
	}
	return out[0], out[1:], nil
}

// embedMissing runs the model once over the texts miss (of kinds) and
// stores their token vectors at out[missAt[k]] and in the caches.
func (s tokenEmbedder) embedMissing(ctx context.Context, miss []string, kinds []embed.Kind, missAt []int, out []answer.TokenVectors, key func(embed.Kind, string) string) error {
	t, sctx := time.Now(), s.p.Hooks.start(ctx, StageEmbed)
	tks, err := s.te.EmbedTokensKinds(sctx, miss, kinds)
	s.p.Hooks.trace(sctx, StageEvent{Stage: StageEmbed, Took: time.Since(t), Queries: miss, Err: err})
	if err != nil {
		return fmt.Errorf("%w: embedding the question and the answer's candidate sentences with their tokens: %w", base.ErrUpstream, err)
	}
	if len(tks) != len(miss) {
		return fmt.Errorf("quarry: embedder returned %d token sets for %d texts", len(tks), len(miss))
	}
	s.p.Metrics.Embedded("query", len(miss))
	c, vecs := s.p.sentenceTokens(), s.p.sentenceVectors()
	for k, tk := range tks {
		tv, err := answer.NewTokenVectors(tk.IDs, tk.Text, tk.States, tk.Vector)
		if err != nil {
			return fmt.Errorf("quarry: %w", err)
		}
		c.Put(key(kinds[k], miss[k]), 0, tv)
		vecs.Put(key(kinds[k], miss[k]), 0, tk.Vector)
		out[missAt[k]] = tv
	}
	return nil
}

// sentenceTokens returns the pipeline's sentence token-vector cache.
func (p *Pipeline) sentenceTokens() *cache.Exact[answer.TokenVectors] {
	p.tokOnce.Do(func() {
		p.sentToks = cache.NewExactCost(sentenceTokenCacheSize, 0, sentenceTokenCacheBytes, tokenVectorsBytes)
	})
	return p.sentToks
}
