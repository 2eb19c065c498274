package ragbench

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarry-rag/quarry/internal/embed"
)

// fakeJudge is a scripted OpenAI-compatible chat server: reply picks the
// content for each prompt. It stands in for a judge model only to pin the
// arithmetic and the fault handling; the real judge runs in
// TestJudgeOllama.
func fakeJudge(t *testing.T, reply func(prompt string, call int) string) (string, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages       []struct{ Content string } `json:"messages"`
			ResponseFormat struct{ Type string }      `json:"response_format"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 {
			http.Error(w, "bad request", 400)
			return
		}
		if req.ResponseFormat.Type != "json_object" { // the judge asks for JSON mode
			http.Error(w, "judge call without response_format json_object", 400)
			return
		}
		n := int(calls.Add(1))
		content := reply(req.Messages[len(req.Messages)-1].Content, n)
		json.NewEncoder(w).Encode(map[string]any{
			"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": content}, "finish_reason": "stop"}},
			"usage":   map[string]any{"prompt_tokens": 10, "completion_tokens": 5},
		})
	}))
	t.Cleanup(ts.Close)
	return ts.URL, &calls
}

// fixedEmbedder maps known texts to fixed vectors (a test double for the
// arithmetic of answer relevancy).
type fixedEmbedder map[string][]float32

func (f fixedEmbedder) Embed(_ context.Context, texts []string, _ embed.Kind) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v, ok := f[t]
		if !ok {
			v = []float32{0, 0, 1}
		}
		out[i] = v
	}
	return out, nil
}
func (fixedEmbedder) Dim() int       { return 3 }
func (fixedEmbedder) Name() string   { return "fixed" }
func (fixedEmbedder) MaxTokens() int { return 0 }

var judgeEmb = fixedEmbedder{
	"Who won?": {1, 0, 0},
	"q1":       {1, 0, 0}, // cosine 1
	"q2":       {0, 1, 0}, // cosine 0
	"q3":       {1, 1, 0}, // cosine 1/√2
}

func scripted(prompt string, _ int) string {
	switch {
	case strings.Contains(prompt, "Break the answer"):
		return "Sure! ```json\n{\"statements\": [\"a\", \"b\", \"c\", \"d\"]}\n```"
	case strings.Contains(prompt, "directly inferred"):
		return `{"verdicts": [1, 1, 0, 1]}`
	case strings.Contains(prompt, "different questions"):
		return `{"questions": ["q1", "q2", "q3"], "noncommittal": 0}`
	case strings.Contains(prompt, "useful in arriving"):
		return `{"verdicts": [0, 1, 1]}`
	case strings.Contains(prompt, "attributed"):
		return `{"attributed": [1, 0]}`
	}
	return "?"
}

var judgeIn = JudgeInput{Question: "Who won?", Answer: "The Broncos won.", Contexts: []string{"c1", "c2", "c3"},
	Reference: "The Broncos won. They beat the Panthers."}

func TestJudgeArithmetic(t *testing.T) {
	url, _ := fakeJudge(t, scripted)
	j, err := NewJudge(JudgeConfig{URL: url, Model: "fake", Embedder: judgeEmb})
	if err != nil {
		t.Fatal(err)
	}
	got, errs := j.Score(context.Background(), judgeIn)
	if len(errs) != 0 {
		t.Fatalf("judge errors: %v", errs)
	}
	want := map[Metric]float64{
		Faithfulness:     3.0 / 4,
		AnswerRelevancy:  (1 + 0 + 1/math.Sqrt2) / 3,
		ContextPrecision: (1.0/2 + 2.0/3) / (2 + 1e-10), // relevant at ranks 2 and 3
		ContextRecall:    1.0 / 2,
	}
	for m, w := range want {
		if math.Abs(got[m]-w) > 1e-9 {
			t.Errorf("%s = %.9f, want %.9f", m, got[m], w)
		}
	}
}

func TestJudgeFaults(t *testing.T) {
	t.Run("prose then JSON is retried", func(t *testing.T) {
		url, calls := fakeJudge(t, func(p string, n int) string {
			if n == 1 {
				return "The statements are a and b."
			}
			return scripted(p, n)
		})
		j, _ := NewJudge(JudgeConfig{URL: url, Model: "fake", Embedder: judgeEmb})
		got, errs := j.Score(context.Background(), judgeIn)
		if len(errs) != 0 || got[Faithfulness] != 0.75 || calls.Load() != 6 {
			t.Fatalf("got %v, errors %v after %d calls; want a retried faithfulness of 0.75 in 6 calls", got, errs, calls.Load())
		}
	})
	t.Run("prose forever is a judge error, not a score", func(t *testing.T) {
		url, calls := fakeJudge(t, func(p string, n int) string {
			if strings.Contains(p, "directly inferred") {
				return "I think most of them are supported."
			}
			return scripted(p, n)
		})
		j, _ := NewJudge(JudgeConfig{URL: url, Model: "fake", Embedder: judgeEmb, Attempts: 2})
		got, errs := j.Score(context.Background(), judgeIn)
		if _, ok := got[Faithfulness]; ok || len(errs) != 1 || !strings.HasPrefix(errs[0], "faithfulness: ragbench: judge failed after 2 attempts: reply is not JSON") {
			t.Fatalf("got %v, errors %q", got, errs)
		}
		if calls.Load() != 1+2+1+1+1 {
			t.Errorf("%d calls, want 6 (the NLI step tried twice)", calls.Load())
		}
	})
	t.Run("out-of-range verdict", func(t *testing.T) {
		url, _ := fakeJudge(t, func(p string, n int) string {
			if strings.Contains(p, "useful in arriving") {
				return `{"verdicts": [0, 2, 1]}`
			}
			if strings.Contains(p, "attributed") {
				return `{"attributed": [1]}` // one value for two sentences
			}
			return scripted(p, n)
		})
		j, _ := NewJudge(JudgeConfig{URL: url, Model: "fake", Embedder: judgeEmb})
		got, errs := j.Score(context.Background(), judgeIn)
		if _, ok := got[ContextPrecision]; ok || len(errs) != 2 || !strings.Contains(errs[0], "context 2 verdict 2 is out of range") ||
			!strings.Contains(errs[1], "1 verdicts for 2 sentences") {
			t.Fatalf("got %v, errors %q", got, errs)
		}
		if got[Faithfulness] != 0.75 {
			t.Errorf("the other metrics must still be scored: %v", got)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		block := make(chan struct{})
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-block:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(func() { close(block); ts.Close() })
		j, _ := NewJudge(JudgeConfig{URL: ts.URL, Model: "fake", Embedder: judgeEmb, Timeout: 200 * time.Millisecond})
		start := time.Now()
		got, errs := j.Score(context.Background(), judgeIn)
		if len(got) != 0 || len(errs) != 4 || !strings.Contains(errs[0], "judge failed") {
			t.Fatalf("got %v, errors %q", got, errs)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("a timed-out judge took %v", d)
		}
	})
}

func TestFirstJSONObject(t *testing.T) {
	for in, want := range map[string]string{
		"```json\n{\"a\": \"}\"}\n```": `{"a": "}"}`,
		`x {"a": {"b": 1}} y {"c": 2}`: `{"a": {"b": 1}}`,
		`{"a": "\"{"}`:                 `{"a": "\"{"}`,
	} {
		if got, ok := firstJSONObject(in); !ok || got != want {
			t.Errorf("firstJSONObject(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := firstJSONObject(`{"unterminated": 1`); ok {
		t.Error("an unterminated object was accepted")
	}
}

func FuzzFirstJSONObject(f *testing.F) {
	f.Add(`{"verdicts": [1, 0]}`)
	f.Add("``` {\"a\": \"\\\"}\" } ```")
	f.Fuzz(func(t *testing.T, s string) {
		if obj, ok := firstJSONObject(s); ok && (!strings.HasPrefix(obj, "{") || !strings.HasSuffix(obj, "}") || !strings.Contains(s, obj)) {
			t.Fatalf("firstJSONObject(%q) = %q", s, obj)
		}
	})
}
