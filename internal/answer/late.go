package answer

import (
	"context"
	"fmt"
	"math"

	"github.com/quarry-rag/quarry/internal/kernels"
)

// Late-interaction evidence (ColBERT's MaxSim) from the collection's own
// embedding model: its per-token states before pooling. A pooled vector
// blurs a sentence into one point, so two near-paraphrases inside the
// right paragraph score alike; token states keep which of the question's
// words each sentence covers, and how much of the sentence is new.

// TokenEmbedder is an Embedder that also returns texts' token vectors,
// from the same model and forward pass as its pooled vectors. The query
// pipeline's embedder implements it when the collection's model runs in
// process; an embedding server does not, and the ranker then goes without
// the late-interaction features.
type TokenEmbedder interface {
	Embedder
	// EmbedTokens returns the question's TokenVectors (embedded as a
	// query) and one per candidate sentence, in order (as passages): both
	// in one call, so that an in-process model can run them in one pass.
	EmbedTokens(ctx context.Context, question string, sentences []string) (TokenVectors, []TokenVectors, error)
}

// TokenVectors are one text's own tokens (not the model's query/passage
// prefix, not its special tokens) as the model saw them, and its pooled
// vector (what Embed returns). Build them with NewTokenVectors.
type TokenVectors struct {
	IDs     []int32     // token ids
	Vectors [][]float32 // one per id, L2-normalised
	Pooled  []float32   // the text's sentence vector
}

// NewTokenVectors keeps the tokens marked own of ids and states (dim =
// len(states)/len(ids) floats per token, token after token), each state
// L2-normalised, with the pooled vector.
func NewTokenVectors(ids []int32, own []bool, states, pooled []float32) (TokenVectors, error) {
	if len(ids) == 0 || len(own) != len(ids) || len(states)%len(ids) != 0 {
		return TokenVectors{}, fmt.Errorf("answer: %d token ids, %d marks and %d state floats do not match", len(ids), len(own), len(states))
	}
	dim := len(states) / len(ids)
	n := 0
	for _, o := range own {
		if o {
			n++
		}
	}
	tv := TokenVectors{IDs: make([]int32, 0, n), Vectors: make([][]float32, 0, n), Pooled: pooled}
	flat := make([]float32, 0, n*dim) // own tokens only: what a cache holding tv pays for
	for k, id := range ids {
		if !own[k] {
			continue
		}
		s := states[k*dim : (k+1)*dim]
		n := 0.0
		for _, x := range s {
			n += float64(x) * float64(x)
		}
		inv := float32(1 / math.Max(math.Sqrt(n), 1e-12))
		at := len(flat)
		for _, x := range s {
			flat = append(flat, x*inv)
		}
		tv.IDs = append(tv.IDs, id)
		tv.Vectors = append(tv.Vectors, flat[at:at+dim:at+dim])
	}
	return tv, nil
}

// lateScores are one sentence's raw late-interaction scores against the
// question (before standardisation over the candidates).
type lateScores struct {
	maxSim  float64   // mean over the question's tokens of the best cosine to one of the sentence's
	idf     float64   // … weighted by the token's idf over the candidates
	para    float64   // … counting only question tokens the sentence does not repeat verbatim (idf-weighted share)
	novelty float64   // mean over the sentence's tokens of 1 − the best cosine to one of the question's
	best    []float64 // per question token, its best cosine in the sentence
}

// lateInteraction scores each sentence against the question. idf is the
// inverse document frequency of a token id over the sentences (BM25's,
// always positive): the candidates are the collection the question meets.
func lateInteraction(q TokenVectors, sents []TokenVectors) ([]lateScores, []float64) {
	out := make([]lateScores, len(sents))
	if len(q.IDs) == 0 {
		return out, nil
	}
	df := map[int32]int{}
	for _, s := range sents {
		seen := map[int32]bool{}
		for _, id := range s.IDs {
			if !seen[id] {
				seen[id] = true
				df[id]++
			}
		}
	}
	n := float64(len(sents))
	w := make([]float64, len(q.IDs))
	wsum := 0.0
	for i, id := range q.IDs {
		d := float64(df[id])
		w[i] = math.Log(1 + (n-d+0.5)/(d+0.5))
		wsum += w[i]
	}
	for k, s := range sents {
		if len(s.IDs) == 0 {
			continue
		}
		best := make([]float64, len(q.IDs))
		has := make(map[int32]bool, len(s.IDs))
		for _, id := range s.IDs {
			has[id] = true
		}
		for i := range best {
			best[i] = -1
		}
		novelty := 0.0
		for _, sv := range s.Vectors {
			cover := -1.0
			for i, qv := range q.Vectors {
				c := float64(kernels.Dot(qv, sv))
				best[i] = max(best[i], c)
				cover = max(cover, c)
			}
			novelty += 1 - cover
		}
		var r lateScores
		for i, b := range best {
			r.maxSim += b
			r.idf += w[i] * b
			if !has[q.IDs[i]] {
				r.para += w[i] * b
			}
		}
		r.maxSim /= float64(len(best))
		r.idf /= wsum
		r.para /= wsum
		r.novelty = novelty / float64(len(s.Vectors))
		r.best = best
		out[k] = r
	}
	for i := range w {
		w[i] /= wsum
	}
	return out, w
}

// joint is the idf-weighted coverage of the question by two sentences
// together (a question token counts its best cosine in either): the
// sentence that sets the scene and the one that answers.
func joint(a, b lateScores, w []float64) float64 {
	if a.best == nil || b.best == nil {
		return 0
	}
	s := 0.0
	for i, x := range a.best {
		s += w[i] * max(x, b.best[i])
	}
	return s
}

// zscores standardises v over its entries (all 0 when they barely vary).
func zscores(v []float64) []float64 {
	mean, sd := 0.0, 0.0
	for _, x := range v {
		mean += x
	}
	mean /= float64(max(len(v), 1))
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	sd = math.Sqrt(sd / float64(max(len(v), 1)))
	out := make([]float64, len(v))
	if sd < 1e-9 {
		return out
	}
	for i, x := range v {
		out[i] = (x - mean) / sd
	}
	return out
}
