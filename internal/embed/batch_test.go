package embed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBatcherMatchesInner: concurrent callers through a Batcher get the
// vectors the model gives each text alone, in their own order, and the
// calls were in fact batched.
func TestBatcherMatchesInner(t *testing.T) {
	l := localModel(t, "all-MiniLM-L6-v2")
	b := NewBatcher(l, BatchOptions{Window: 20 * time.Millisecond})
	defer b.Close()
	ctx := context.Background()
	const n = 24
	texts := make([]string, n)
	want := make([][]float32, n)
	for i := range texts {
		texts[i] = fmt.Sprintf("question %d: how do %s cells divide?", i, []string{"plant", "animal", "tumour", "stem"}[i%4])
		v, err := l.Embed(ctx, texts[i:i+1], Query)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = v[0]
	}
	got := make([][][]float32, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for round := range 3 {
		for i := range n {
			wg.Go(func() {
				// Odd callers send two texts (theirs and the next), to
				// check the split of a batch among calls.
				in := texts[i : i+1]
				kind := Query
				if i%2 == 1 {
					in = []string{texts[i], texts[(i+1)%n]}
				}
				if round == 2 && i%3 == 0 {
					kind = Passage
				}
				got[i], errs[i] = b.Embed(ctx, in, kind)
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("round %d call %d: %v", round, i, errs[i])
			}
			if round == 2 && i%3 == 0 {
				continue // passage vectors: checked below
			}
			if c := cosine(got[i][0], want[i]); c < 0.9999 {
				t.Errorf("round %d call %d: cosine %.6f to the unbatched vector", round, i, c)
			}
			if i%2 == 1 {
				if len(got[i]) != 2 {
					t.Fatalf("call %d: %d vectors for 2 texts", i, len(got[i]))
				}
				if c := cosine(got[i][1], want[(i+1)%n]); c < 0.9999 {
					t.Errorf("round %d call %d second text: cosine %.6f", round, i, c)
				}
			}
		}
	}
	p, err := l.Embed(ctx, texts[:1], Passage)
	if err != nil {
		t.Fatal(err)
	}
	if c := cosine(got[0][0], p[0]); c < 0.9999 {
		t.Errorf("passage call: cosine %.6f to the unbatched passage vector", c)
	}
	st := b.BatchStats()
	if st.Calls != 3*n || st.Batches >= st.Calls {
		t.Errorf("stats %+v: want %d calls in fewer batches", st, 3*n)
	}
	t.Logf("%d calls in %d batches", st.Calls, st.Batches)
}

// TestBatcherOverloaded: with a queue of 2 and 64 simultaneous callers on
// the real model, some are refused at once with an *OverloadedError and
// every other one succeeds.
func TestBatcherOverloaded(t *testing.T) {
	l := localModel(t, "all-MiniLM-L6-v2")
	b := NewBatcher(l, BatchOptions{MaxQueue: 2, MaxBatch: 4, RetryAfter: 3 * time.Second})
	defer b.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ok, refused int
	start := make(chan struct{})
	for i := range 64 {
		wg.Go(func() {
			<-start
			t0 := time.Now()
			// Model-length texts: a batch takes tens of milliseconds, so
			// the 64 callers released at once outrun the workers even on
			// a quiet machine (with 6-word queries they did not, and
			// nothing was refused).
			_, err := b.Embed(context.Background(), []string{strings.Repeat(fmt.Sprintf("query number %d about proteins ", i), 60)}, Query)
			mu.Lock()
			defer mu.Unlock()
			var oe *OverloadedError
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrOverloaded) && errors.As(err, &oe) && oe.Overloaded() == 3*time.Second && oe.Queue == 2:
				refused++
				if d := time.Since(t0); d > time.Second {
					t.Errorf("refusal took %v; it must be immediate", d)
				}
			default:
				t.Errorf("call %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if refused == 0 || ok == 0 || ok+refused != 64 {
		t.Errorf("%d served, %d refused of 64", ok, refused)
	}
	t.Logf("%d served, %d refused", ok, refused)
}

func TestBatcherCancelAndClose(t *testing.T) {
	l := localModel(t, "all-MiniLM-L6-v2")
	b := NewBatcher(l, BatchOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Embed(ctx, []string{"x"}, Query); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled call: %v", err)
	}
	if _, err := b.Embed(context.Background(), []string{"x"}, Kind(9)); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad kind: %v", err)
	}
	// Larger than MaxBatch: straight to the model.
	big := make([]string, 40)
	for i := range big {
		big[i] = fmt.Sprint("text ", i)
	}
	if v, err := b.Embed(context.Background(), big, Passage); err != nil || len(v) != 40 {
		t.Errorf("big call: %d vectors, %v", len(v), err)
	}
	if b.Dim() != l.Dim() || b.Name() != l.Name() || b.MaxTokens() != l.MaxTokens() {
		t.Error("Batcher does not report the inner embedder's Dim/Name/MaxTokens")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Embed(context.Background(), []string{"x"}, Query); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
