package llm

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// clients returns both implementations against the real server.
func clients() map[string]Chat {
	return map[string]Chat{
		"openai": NewOpenAI(realURL, nil),
		"ollama": NewOllama(realURL, nil),
	}
}

func greedy(prompt string) Request {
	return Request{Model: realModel, Messages: []Message{{Role: "user", Content: prompt}},
		Params: Params{Temperature: ptr(0.0), Seed: ptr(int64(1)), MaxTokens: 48}}
}

func TestRealComplete(t *testing.T) {
	needReal(t)
	for name, c := range clients() {
		t.Run(name, func(t *testing.T) {
			r, err := c.Complete(ctxT(t), greedy("Name three colors."))
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(r.Content) == "" || r.Usage.PromptTokens == 0 || r.Usage.CompletionTokens == 0 {
				t.Fatalf("got %+v", r)
			}
			t.Logf("%q usage=%+v finish=%s dur=%v tok/s=%.1f", r.Content, r.Usage, r.FinishReason, r.Duration,
				float64(r.Usage.CompletionTokens)/r.Duration.Seconds())
		})
	}
}

func TestRealStream(t *testing.T) {
	needReal(t)
	for name, c := range clients() {
		t.Run(name, func(t *testing.T) {
			var parts []string
			r, err := c.Stream(ctxT(t), greedy("Count from one to ten in words."), func(d Delta) error {
				parts = append(parts, d.Content)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(parts) < 2 || strings.Join(parts, "") != r.Content {
				t.Fatalf("%d deltas %q, content %q", len(parts), parts, r.Content)
			}
			if r.TTFT <= 0 || r.TTFT >= r.Duration {
				t.Fatalf("TTFT %v, duration %v", r.TTFT, r.Duration)
			}
			if r.Usage.CompletionTokens == 0 {
				t.Fatalf("no usage: %+v", r.Usage)
			}
			t.Logf("deltas=%d TTFT=%v dur=%v usage=%+v tok/s=%.1f", len(parts), r.TTFT, r.Duration, r.Usage,
				float64(r.Usage.CompletionTokens)/(r.Duration-r.TTFT).Seconds())
		})
	}
}

func TestRealMaxTokens(t *testing.T) {
	needReal(t)
	for name, c := range clients() {
		t.Run(name, func(t *testing.T) {
			req := greedy("Write a long story about a dragon.")
			req.Params.MaxTokens = 5
			r, err := c.Complete(ctxT(t), req)
			if err != nil {
				t.Fatal(err)
			}
			if r.Usage.CompletionTokens > 5 || r.FinishReason != "length" {
				t.Fatalf("usage %+v finish %q", r.Usage, r.FinishReason)
			}
		})
	}
}

func TestRealStop(t *testing.T) {
	needReal(t)
	for name, c := range clients() {
		t.Run(name, func(t *testing.T) {
			req := greedy("Name three colors.")
			full, err := c.Complete(ctxT(t), req)
			if err != nil {
				t.Fatal(err)
			}
			// Greedy decoding is deterministic: stop on a word from the middle of the full answer.
			words := strings.Fields(full.Content)
			if len(words) < 3 {
				t.Fatalf("answer too short to pick a stop word: %q", full.Content)
			}
			stop := words[len(words)/2]
			cut := strings.Index(full.Content, stop)
			req.Params.Stop = []string{stop}
			r, err := c.Complete(ctxT(t), req)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(r.Content, stop) || len(r.Content) > cut || r.FinishReason != "stop" {
				t.Fatalf("stop ignored: %q (full %q) finish %q", r.Content, full.Content, r.FinishReason)
			}
		})
	}
}

func TestInvalidParamsRejectedBeforeRequest(t *testing.T) {
	// An unroutable base: any request would fail differently (and slowly).
	for name, c := range map[string]Chat{"openai": NewOpenAI("http://127.0.0.1:1", nil), "ollama": NewOllama("http://127.0.0.1:1", nil)} {
		for _, tc := range []struct {
			field string
			p     Params
		}{
			{"temperature", Params{Temperature: ptr(2.5)}},
			{"top_p", Params{TopP: ptr(0.0)}},
			{"top_k", Params{TopK: ptr(-1)}},
			{"max_tokens", Params{MaxTokens: 40000}},
			{"stop", Params{Stop: []string{"a", "b", "c", "d", "e"}}},
			{"repeat_penalty", Params{RepeatPenalty: ptr(-1.0)}},
		} {
			t.Run(name+"/"+tc.field, func(t *testing.T) {
				start := time.Now()
				_, err := c.Complete(context.Background(), Request{Model: "m", Messages: []Message{{"user", "hi"}}, Params: tc.p})
				if !errors.Is(err, ErrInvalidParams) || !strings.Contains(err.Error(), tc.field) {
					t.Fatalf("err = %v", err)
				}
				if time.Since(start) > 50*time.Millisecond {
					t.Fatal("validation was not immediate")
				}
			})
		}
	}
	if err := (Params{Temperature: ptr(0.0), TopP: ptr(1.0), TopK: ptr(0), MaxTokens: 32768, Stop: []string{"x"}}).Validate(); err != nil {
		t.Fatalf("valid params rejected: %v", err)
	}
}

func TestUnreachableBoundedRetries(t *testing.T) {
	opts := &Options{MaxRetries: 2, Backoff: 10 * time.Millisecond}
	for name, c := range map[string]Chat{"openai": NewOpenAI("http://127.0.0.1:1", opts), "ollama": NewOllama("http://127.0.0.1:1", opts)} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := c.Complete(context.Background(), Request{Model: "m", Messages: []Message{{"user", "hi"}}})
			if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "after 3 attempts") ||
				!strings.Contains(err.Error(), "connection refused") {
				t.Fatalf("err = %v", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
}

func TestCircuitBreakerOpens(t *testing.T) {
	opts := &Options{MaxRetries: -1, BreakerThreshold: 2, BreakerCooldown: 200 * time.Millisecond}
	c := NewOllama("http://127.0.0.1:1", opts)
	req := Request{Model: "m", Messages: []Message{{"user", "hi"}}}
	for i := 0; i < 2; i++ {
		if _, err := c.Complete(context.Background(), req); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if _, err := c.Complete(context.Background(), req); !errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("third call: %v", err)
	}
	time.Sleep(250 * time.Millisecond)
	if _, err := c.Complete(context.Background(), req); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("after cool-down: %v", err)
	}
}
