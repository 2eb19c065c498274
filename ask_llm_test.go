package quarry_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/quarry-rag/quarry"
)

// greedyBase is how the tests drive the local Gemma 3 270M base model:
// greedy decoding and the base-model prompt (a one-shot example, marker
// first), which it follows where it ignores instructions.
func greedyBase(url, model string) quarry.LLMConfig {
	// The local model is shared and slow on a loaded machine: allow each
	// call long enough to wait its turn.
	return quarry.LLMConfig{URL: url, Model: model, PromptStyle: quarry.PromptBase, Timeout: 10 * time.Minute,
		Params: quarry.LLMParams{Temperature: ptr(0.0), Seed: ptr(int64(1)), MaxTokens: 16}}
}

func TestAskStreamWithRealLLM(t *testing.T) {
	url, model := requireLLM(t)
	eng, reg := openLLMEngine(t, greedyBase(url, model))
	col := loadDocs(t, eng, solarDocs)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	var types []string
	var streamed strings.Builder
	ans, err := col.AskStream(ctx, quarry.AskRequest{Question: "When was the Eiffel Tower completed?", K: 2}, func(ev quarry.AskEvent) error {
		if len(types) == 0 || types[len(types)-1] != ev.Type {
			types = append(types, ev.Type)
		}
		if ev.Type == quarry.EventToken {
			streamed.WriteString(ev.Token)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("answer %q citations %+v invalid %v timings %+v usage %+v", ans.Answer, ans.Citations, ans.InvalidCitations, ans.Timings, ans.Usage)
	if strings.Join(types, ",") != "retrieval,token,citations,done" {
		t.Fatalf("event order %v", types)
	}
	if streamed.String() != ans.Answer || ans.Method != quarry.MethodLLM || ans.Model != model {
		t.Fatalf("streamed %q, answer %q, method %s, model %s", streamed.String(), ans.Answer, ans.Method, ans.Model)
	}
	if !ans.Grounded || len(ans.Citations) == 0 {
		t.Fatalf("no valid citation in %q", ans.Answer)
	}
	for _, c := range ans.Citations {
		d, err := col.Get(ctx, c.DocID)
		if err != nil {
			t.Fatal(err)
		}
		runes := []rune(d.Text)
		if c.Start < 0 || c.End > len(runes) || string(runes[c.Start:c.End]) != c.Text || !utf8.ValidString(c.Text) {
			t.Fatalf("citation %+v does not point at its text", c)
		}
		if c.Marker < 1 || c.Marker > len(ans.Sources) || ans.Sources[c.Marker-1].ChunkID != c.ChunkID {
			t.Fatalf("citation %+v does not name Sources[%d]", c, c.Marker-1)
		}
	}
	if ans.Citations[0].DocID != "eiffel" || !strings.Contains(ans.Answer, "1889") {
		t.Fatalf("answer %q cites %s", ans.Answer, ans.Citations[0].DocID)
	}
	if ans.Usage == nil || ans.Usage.PromptTokens == 0 || ans.Usage.CompletionTokens == 0 {
		t.Fatalf("usage %+v", ans.Usage)
	}
	tm := ans.Timings
	if tm.LLMTTFT <= 0 || tm.TTFT < tm.LLMTTFT || tm.Total < tm.TTFT || tm.Generate <= 0 {
		t.Fatalf("timings %+v", tm)
	}
	for _, name := range []string{"quarry_llm_ttft_seconds", "quarry_llm_generation_seconds", "quarry_llm_tokens_per_second"} {
		if metricValue(t, reg, name, nil) != 1 {
			t.Errorf("%s not observed once", name)
		}
	}
	if metricValue(t, reg, "quarry_stage_duration_seconds", map[string]string{"stage": "answer"}) != 1 {
		t.Error("answer stage not observed")
	}

	// The same question again is an exact cache hit: no model call.
	again, err := col.Ask(ctx, quarry.AskRequest{Question: "when was the Eiffel Tower completed", K: 2})
	if err != nil || again.Cached != "exact" || again.Answer != ans.Answer {
		t.Fatalf("second ask: %v cached=%q %q", err, again.Cached, again.Answer)
	}
	if metricValue(t, reg, "quarry_llm_generation_seconds", nil) != 1 {
		t.Fatal("cache hit called the model")
	}
}

// TestAskRealLLMRequestOverrides checks that per-request model and decoding
// parameters reach the model: max_tokens 1 yields a one-token answer that
// finished for length, and an unknown model is the server's error.
func TestAskRealLLMRequestOverrides(t *testing.T) {
	url, model := requireLLM(t)
	eng, _ := openLLMEngine(t, greedyBase(url, model))
	col := loadDocs(t, eng, solarDocs)
	ctx := context.Background()
	ans, err := col.Ask(ctx, quarry.AskRequest{Question: "How many moons does Mars have?", K: 1, NoCache: true,
		Params: quarry.LLMParams{MaxTokens: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Usage == nil || ans.Usage.CompletionTokens != 1 || ans.FinishReason != "length" {
		t.Fatalf("max_tokens 1: usage %+v finish %q answer %q", ans.Usage, ans.FinishReason, ans.Answer)
	}
	_, err = col.Ask(ctx, quarry.AskRequest{Question: "How many moons does Mars have?", K: 1, NoCache: true, Model: "no-such-model"})
	var le *quarry.LLMError
	if !errorsAs(err, &le) || le.Model != "no-such-model" {
		t.Fatalf("unknown model: %v", err)
	}
}

// TestAskRewriteWithRealLLM runs conversational condensation and
// multi-query expansion through Ask with the real model. The bundled 270M
// base model rewrites poorly (it tends to repeat the question or copy the
// prompt's example), so the test checks the pipeline — paraphrases
// retrieved and fused, a one-line standalone question, rewrite time
// reported — and logs the quality rather than asserting it.
func TestAskRewriteWithRealLLM(t *testing.T) {
	url, model := requireLLM(t)
	eng, _ := openLLMEngine(t, greedyBase(url, model))
	col := loadDocs(t, eng, solarDocs)
	ans, err := col.Ask(context.Background(), quarry.AskRequest{
		Question: "When was it built?", K: 2, Rewrite: quarry.RewriteMulti, Expansions: 2,
		History: []quarry.Message{{Role: "user", Content: "Tell me about the Eiffel Tower."}, {Role: "assistant", Content: "It is a lattice tower in Paris."}},
		Params:  quarry.LLMParams{MaxTokens: 8},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("condensed %q paraphrases %q sources %d (top %s) answer %q rewrite %.0fms",
		ans.Query, ans.Queries, len(ans.Sources), ans.Sources[0].DocID, ans.Answer, ans.Timings.Rewrite)
	if len(ans.Queries) == 0 || len(ans.Queries) > 2 || ans.Timings.Rewrite <= 0 || strings.Contains(ans.Query, "\n") {
		t.Fatalf("rewriting did not run: %+v", ans)
	}
	// Fused by RRF: scores are sums of 1/(60+rank).
	if s := ans.Sources[0].Score; s <= 0 || s > 3.0/61 {
		t.Fatalf("top score %v is not an RRF score", s)
	}
}
