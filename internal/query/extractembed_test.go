package query

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/quarry-rag/quarry/internal/answer"
	"github.com/quarry-rag/quarry/internal/embed"
	"github.com/quarry-rag/quarry/internal/obs"
)

// TestAnswerEmbedderTokens: with the collection's model in process (a
// real all-MiniLM-L6-v2 behind the query Batcher, as the engine hands it
// over), the extractive answerer gets token vectors; their pooled vectors
// are Embed's, land in the sentence-vector cache, and a second call is
// served from the token cache without running the model. An embedder
// that gives no token states (here the Batcher's inner model hidden
// behind a plain wrapper) gets the sentence-vector path only.
func TestAnswerEmbedderTokens(t *testing.T) {
	l, err := embed.NewLocal("all-MiniLM-L6-v2", embed.LocalOptions{})
	if err != nil {
		t.Skipf("all-MiniLM-L6-v2 is not available (run make models): %v", err)
	}
	defer l.Close()
	b := embed.NewBatcher(l, embed.BatchOptions{})
	defer b.Close()
	ctx := context.Background()
	p := &Pipeline{Embedder: func() (embed.Embedder, error) { return b, nil }, Metrics: obs.New(nil)}
	te, ok := p.answerEmbedder(nil).(answer.TokenEmbedder)
	if !ok {
		t.Fatal("a local model behind a Batcher gives the answerer no token vectors")
	}
	sents := []string{"Granite is quarried in large blocks.", "The quarry closed in 1950."}
	calls := l.Stats().Calls
	question := "When did the quarry close?"
	qtv, got, err := te.EmbedTokens(ctx, question, sents)
	if err != nil {
		t.Fatal(err)
	}
	if n := l.Stats().Calls - calls; n != 1 {
		t.Errorf("the question and %d sentences took %d model calls, want one", len(sents), n)
	}
	if len(qtv.IDs) == 0 || len(qtv.Vectors) != len(qtv.IDs) {
		t.Fatalf("question: %d ids, %d vectors", len(qtv.IDs), len(qtv.Vectors))
	}
	wantQ, err := l.Embed(ctx, []string{question}, embed.Query)
	if err != nil {
		t.Fatal(err)
	}
	for j := range wantQ[0] {
		if math.Abs(float64(qtv.Pooled[j]-wantQ[0][j])) > 1e-6 {
			t.Fatalf("question: pooled vector differs from Embed's (as a query) at %d", j)
		}
	}
	want, err := l.Embed(ctx, sents, embed.Passage)
	if err != nil {
		t.Fatal(err)
	}
	for i, tv := range got {
		if len(tv.IDs) == 0 || len(tv.Vectors) != len(tv.IDs) {
			t.Fatalf("sentence %d: %d ids, %d vectors", i, len(tv.IDs), len(tv.Vectors))
		}
		for j := range want[i] {
			if math.Abs(float64(tv.Pooled[j]-want[i][j])) > 1e-6 {
				t.Fatalf("sentence %d: pooled vector differs from Embed's at %d", i, j)
			}
		}
		if _, ok := p.sentenceVectors().Get(l.Name()+"\x00p\x00"+sents[i], 0); !ok {
			t.Errorf("sentence %d: its pooled vector is not in the sentence-vector cache", i)
		}
	}
	calls = l.Stats().Calls
	if _, _, err := te.EmbedTokens(ctx, question, sents); err != nil {
		t.Fatal(err)
	}
	if n := l.Stats().Calls; n != calls {
		t.Errorf("cached sentences ran the model again (%d calls, was %d)", n, calls)
	}
	plain := &Pipeline{Embedder: func() (embed.Embedder, error) { return onlyVectors{l}, nil }, Metrics: obs.New(nil)}
	if _, ok := plain.answerEmbedder(nil).(answer.TokenEmbedder); ok {
		t.Error("an embedder without token states is offered as a TokenEmbedder")
	}
}

// onlyVectors hides a model's token states: an embedding server's view.
type onlyVectors struct{ embed.Embedder }

// TestTokenCacheBoundedInBytes: the token-vector cache holds model-length
// sentences (512 tokens × 384 floats, ~770 KiB each) within its byte
// budget, not up to its 1,024-entry count (~800 MiB), and its cost counts
// every float it keeps.
func TestTokenCacheBoundedInBytes(t *testing.T) {
	const tokens, dim = 512, 384
	ids := make([]int32, tokens)
	own := make([]bool, tokens)
	for i := range own {
		own[i] = true
	}
	states := make([]float32, tokens*dim)
	for i := range states {
		states[i] = 1
	}
	tv, err := answer.NewTokenVectors(ids, own, states, make([]float32, dim))
	if err != nil {
		t.Fatal(err)
	}
	if b := tokenVectorsBytes(tv); b < 4*tokens*dim {
		t.Fatalf("a 512-token entry costs %d bytes, less than its %d floats", b, tokens*dim)
	}
	p := &Pipeline{}
	c := p.sentenceTokens()
	for i := 0; i < 200; i++ {
		c.Put(fmt.Sprint(i), 0, tv)
	}
	if c.Cost() > sentenceTokenCacheBytes || c.Len() > sentenceTokenCacheBytes/(4*tokens*dim) {
		t.Fatalf("%d entries, %d bytes: over the %d-byte budget", c.Len(), c.Cost(), sentenceTokenCacheBytes)
	}
	if c.Len() == 0 {
		t.Fatal("nothing kept")
	}
}
