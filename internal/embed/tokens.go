package embed

import (
	"context"
	"fmt"
	"math"

	"github.com/quarry-rag/quarry/internal/kernels"
	"github.com/quarry-rag/quarry/internal/models/tokenizer"
	"github.com/quarry-rag/quarry/internal/models/transformer"
)

// TokenEmbedder is an Embedder that also returns a text's per-token
// states, for late-interaction scoring (MaxSim over token cosines, as
// ColBERT): the same model, the same forward pass, before pooling. Local
// implements it; embedding servers do not return token states.
type TokenEmbedder interface {
	Embedder
	// EmbedTokens returns one Tokens per text, in the order of texts,
	// tokenized, prefixed and truncated exactly as Embed does.
	EmbedTokens(ctx context.Context, texts []string, kind Kind) ([]Tokens, error)
	// EmbedTokensKinds is EmbedTokens with one kind per text (len(kinds)
	// == len(texts)): a question and its candidate passages in one pass of
	// the model, which costs about what the passages alone do (a small
	// batch's cost is mostly reading the weights).
	EmbedTokensKinds(ctx context.Context, texts []string, kinds []Kind) ([]Tokens, error)
}

// Tokens is one text as the model saw it and its final hidden states.
type Tokens struct {
	// IDs are the token ids fed to the model: the kind's prefix and the
	// special tokens included, after truncation.
	IDs []int32
	// Text marks the tokens of the text itself: not the prefix, not the
	// special tokens.
	Text []bool
	// States are the final hidden states, Dim() floats per token, token
	// after token, not normalised.
	States []float32
	// Vector is what Embed returns for the text: the states pooled (and
	// L2-normalised when the model says so).
	Vector []float32
}

// State returns token k's state.
func (t *Tokens) State(k int) []float32 {
	d := len(t.States) / max(len(t.IDs), 1)
	return t.States[k*d : (k+1)*d : (k+1)*d]
}

var _ TokenEmbedder = (*Local)(nil)

// AsTokenEmbedder returns e as a TokenEmbedder when it gives token states: a Local,
// or a Batcher around one (token calls then go to the inner model
// directly: they are per-request batches already, not the small
// concurrent calls a Batcher gathers). An embedding server, or a Batcher
// around one, gives none.
func AsTokenEmbedder(e Embedder) (TokenEmbedder, bool) {
	if b, ok := e.(*Batcher); ok {
		e = b.inner
	}
	te, ok := e.(TokenEmbedder)
	return te, ok
}

// EmbedTokens runs the model once over texts and returns, per text, its
// token ids, which of them are the text's own, the final hidden states and
// the pooled vector Embed would return (equal to 1e-6; TestEmbedTokens).
func (l *Local) EmbedTokens(ctx context.Context, texts []string, kind Kind) ([]Tokens, error) {
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	kinds := make([]Kind, len(texts))
	for i := range kinds {
		kinds[i] = kind
	}
	return l.EmbedTokensKinds(ctx, texts, kinds)
}

// EmbedTokensKinds is EmbedTokens with text i embedded as kinds[i], all in
// one run of the encoder.
func (l *Local) EmbedTokensKinds(ctx context.Context, texts []string, kinds []Kind) ([]Tokens, error) {
	if len(kinds) != len(texts) {
		return nil, fmt.Errorf("%w: %d kinds for %d texts", ErrInvalid, len(kinds), len(texts))
	}
	for _, k := range kinds {
		if err := checkKind(k); err != nil {
			return nil, err
		}
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.mu.closed {
		return nil, ErrClosed
	}
	out := make([]Tokens, len(texts))
	if len(texts) == 0 {
		return out, nil
	}
	ids, truncated, tokens, err := tokenizeAll(ctx, len(texts), func(i int) ([]int32, bool) {
		var cut bool
		out[i].IDs, out[i].Text, cut = l.tokenizeMarked(texts[i], kinds[i])
		return out[i].IDs, cut
	})
	if err != nil {
		return nil, err
	}
	states, err := l.enc.TokenStates(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("embed: %s: %w", l.name, err)
	}
	dim := l.enc.Dim()
	for i, st := range states {
		out[i].States = st
		out[i].Vector = l.pool(st, dim)
		if err := CheckVector(out[i].Vector, dim); err != nil {
			return nil, fmt.Errorf("embed: %s: text %d: %w", l.name, i, err)
		}
	}
	l.stats.calls.Add(1)
	l.stats.texts.Add(int64(len(texts)))
	l.stats.truncated.Add(truncated)
	l.stats.tokens.Add(tokens)
	return out, nil
}

// pool turns token states into the sentence vector, as the encoder's
// Embed does: the mean (or the first state for CLS pooling), then
// L2-normalised when the model says so.
func (l *Local) pool(states []float32, dim int) []float32 {
	v := make([]float32, dim)
	n := len(states) / dim
	if l.enc.Pooling() == transformer.PoolCLS {
		copy(v, states[:dim])
	} else {
		for k := range n {
			kernels.Add(v, states[k*dim:(k+1)*dim])
		}
		kernels.Scale(v, 1/float32(n))
	}
	if l.enc.Normalized() {
		norm := math.Sqrt(float64(kernels.Dot(v, v)))
		kernels.Scale(v, float32(1/math.Max(norm, 1e-12)))
	}
	return v
}

// tokenizeMarked is tokenize with the mask of the text's own tokens: not
// special, and ending past the prefix in prefix+text (a token's offsets
// include the space before it, so "▁The" after "query: " starts inside
// the prefix).
func (l *Local) tokenizeMarked(text string, kind Kind) (ids []int32, own []bool, truncated bool) {
	prefix := l.prefixes.Passage
	if kind == Query {
		prefix = l.prefixes.Query
	}
	enc := l.tok.EncodeWith(prefix+text, &tokenizer.EncodeOpts{MaxLen: l.maxLen + 1})
	own = make([]bool, len(enc.IDs))
	for k := range own {
		own[k] = !enc.SpecialMask[k] && enc.Offsets[k][1] > len(prefix)
	}
	ids = enc.IDs
	if len(ids) <= l.maxLen {
		return ids, own, false
	}
	// As tokenize: drop the last content token.
	last := -1
	for k := len(ids) - 1; k >= 0; k-- {
		if !enc.SpecialMask[k] {
			last = k
			break
		}
	}
	if last < 0 {
		return ids[:l.maxLen], own[:l.maxLen], true
	}
	return append(ids[:last:last], ids[last+1:]...), append(own[:last:last], own[last+1:]...), true
}
