package quarry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
)

// faultyLLM is an OpenAI-compatible server that misbehaves on purpose, for
// faults the real model cannot be made to produce. reply writes the body of
// one /v1/chat/completions call.
func faultyLLM(t *testing.T, reply func(w http.ResponseWriter, r *http.Request)) (url string, calls *atomic.Int32) {
	t.Helper()
	calls = new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		reply(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, calls
}

// sse writes an OpenAI stream of the given content pieces.
func sse(w http.ResponseWriter, pieces ...string) {
	for _, p := range pieces {
		fmt.Fprintf(w, "data: {\"choices\":[{\"delta\":{\"content\":%q}}]}\n\n", p)
		w.(http.Flusher).Flush()
	}
	fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":50,\"completion_tokens\":5}}\n\ndata: [DONE]\n\n")
}

func faultCfg(url string) quarry.LLMConfig {
	return quarry.LLMConfig{URL: url, Model: "faulty", Provider: quarry.ProviderOpenAI, Timeout: 500 * time.Millisecond}
}

func TestAskLLMHangingTimesOut(t *testing.T) {
	url, _ := faultyLLM(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "data: {\"choices\":[{\"delta\":{\"content\":\"Partial\"}}]}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done() // hang until the client gives up
	})
	eng, _ := openLLMEngine(t, faultCfg(url))
	col := loadDocs(t, eng, solarDocs)
	start := time.Now()
	var tokens []string
	ans, err := col.AskStream(context.Background(), quarry.AskRequest{Question: "When was the Eiffel Tower completed?"}, func(ev quarry.AskEvent) error {
		if ev.Type == quarry.EventToken {
			tokens = append(tokens, ev.Token)
		}
		return nil
	})
	var le *quarry.LLMError
	if !errors.As(err, &le) || !le.Timeout || le.Provider != "openai" || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("hung for %v", d)
	}
	if ans == nil || len(ans.Sources) == 0 || ans.Sources[0].DocID != "eiffel" {
		t.Fatalf("retrieval results not returned with the error: %+v", ans)
	}
	if strings.Join(tokens, "") != "Partial" || ans.Answer != "Partial" {
		t.Fatalf("tokens %q answer %q", tokens, ans.Answer)
	}
	// A failed answer is not cached: the next call goes to the model again.
	if _, err := col.Ask(context.Background(), quarry.AskRequest{Question: "When was the Eiffel Tower completed?"}); !errors.As(err, &le) {
		t.Fatalf("second call: %v", err)
	}
}

func TestAskLLMUnreachable(t *testing.T) {
	eng, _ := openLLMEngine(t, quarry.LLMConfig{URL: "http://127.0.0.1:1", Model: "m", Provider: quarry.ProviderOllama})
	col := loadDocs(t, eng, solarDocs)
	ans, err := col.Ask(context.Background(), quarry.AskRequest{Question: "How many moons does Mars have?"})
	var le *quarry.LLMError
	if !errors.As(err, &le) || le.Timeout || le.Provider != "ollama" || !strings.Contains(err.Error(), "ollama at http://127.0.0.1:1") {
		t.Fatalf("err = %v", err)
	}
	if ans == nil || len(ans.Sources) == 0 {
		t.Fatal("no sources with the error")
	}
}

func TestAskLLMMalformedStream(t *testing.T) {
	url, _ := faultyLLM(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\ndata: {not json\n\n")
	})
	eng, _ := openLLMEngine(t, faultCfg(url))
	col := loadDocs(t, eng, solarDocs)
	_, err := col.Ask(context.Background(), quarry.AskRequest{Question: "How many moons does Mars have?"})
	var le *quarry.LLMError
	if !errors.As(err, &le) || le.Timeout || !strings.Contains(err.Error(), "bad stream event") {
		t.Fatalf("err = %v", err)
	}
}

// TestAskLLMIgnoresCitationFormat: a model that cites nothing, or cites a
// source that was not in its prompt, keeps its answer; the bad marker is
// removed from the text (streamed and final) and reported.
func TestAskLLMIgnoresCitationFormat(t *testing.T) {
	var reply atomic.Value
	url, _ := faultyLLM(t, func(w http.ResponseWriter, r *http.Request) { sse(w, reply.Load().([]string)...) })
	eng, _ := openLLMEngine(t, faultCfg(url))
	col := loadDocs(t, eng, solarDocs)

	reply.Store([]string{"Mars has two ", "moons."})
	ans, err := col.Ask(context.Background(), quarry.AskRequest{Question: "How many moons does Mars have?", NoCache: true})
	if err != nil || ans.Grounded || len(ans.Citations) != 0 || ans.Answer != "Mars has two moons." {
		t.Fatalf("%v %+v", err, ans)
	}

	reply.Store([]string{"Mars has two moons [", "7] [1", "]."})
	var streamed strings.Builder
	ans, err = col.AskStream(context.Background(), quarry.AskRequest{Question: "How many moons does Mars have?", K: 2, NoCache: true},
		func(ev quarry.AskEvent) error {
			streamed.WriteString(ev.Token)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Answer != "Mars has two moons [1]." || streamed.String() != ans.Answer {
		t.Fatalf("answer %q streamed %q", ans.Answer, streamed.String())
	}
	if len(ans.InvalidCitations) != 1 || ans.InvalidCitations[0] != 7 || !ans.Grounded {
		t.Fatalf("invalid %v grounded %v", ans.InvalidCitations, ans.Grounded)
	}
	c := ans.Citations[0]
	if c.DocID != "mars" || c.Text != "It has two small moons, Phobos and Deimos." {
		t.Fatalf("citation %+v", c)
	}
}

// TestAskLLMNoCallPaths: requests answered or rejected without calling the
// model.
func TestAskLLMNoCallPaths(t *testing.T) {
	url, calls := faultyLLM(t, func(w http.ResponseWriter, r *http.Request) { sse(w, "x") })
	ctx := context.Background()

	cfg := faultCfg(url)
	cfg.MinScore = 1000 // no BM25 score reaches it
	eng, _ := openLLMEngine(t, cfg)
	col := loadDocs(t, eng, solarDocs)
	ans, err := col.Ask(ctx, quarry.AskRequest{Question: "How many moons does Mars have?"})
	if err != nil || ans.Method != quarry.MethodNone || !ans.Abstained || len(ans.Sources) == 0 {
		t.Fatalf("below min score: %v %+v", err, ans)
	}
	ans, err = col.Ask(ctx, quarry.AskRequest{Question: "zzzz qqqq"})
	if err != nil || ans.Method != quarry.MethodNone || ans.Answer != quarry.NoAnswer {
		t.Fatalf("empty retrieval: %v %+v", err, ans)
	}

	cfg = faultCfg(url)
	cfg.ContextWindow = 400 // the instructions and answer reserve leave no room
	eng2, _ := openLLMEngine(t, cfg)
	col2 := loadDocs(t, eng2, solarDocs)
	_, err = col2.Ask(ctx, quarry.AskRequest{Question: "How many moons does Mars have?"})
	var fe *quarry.FieldError
	if !errors.As(err, &fe) || fe.Field != "context_window" || !errors.Is(err, quarry.ErrTooLarge) {
		t.Fatalf("tiny window: %v", err)
	}

	for _, tc := range []struct {
		req   quarry.AskRequest
		field string
	}{
		{quarry.AskRequest{Params: quarry.LLMParams{Temperature: ptr(3.0)}}, "params.temperature"},
		{quarry.AskRequest{Params: quarry.LLMParams{TopP: ptr(0.0)}}, "params.top_p"},
		{quarry.AskRequest{Params: quarry.LLMParams{Stop: []string{"a", "b", "c", "d", "e"}}}, "params.stop"},
		{quarry.AskRequest{Params: quarry.LLMParams{MaxTokens: 40000}}, "params.max_tokens"},
		{quarry.AskRequest{Method: "poem"}, "method"},
		{quarry.AskRequest{Rewrite: "magic"}, "rewrite"},
		{quarry.AskRequest{Rewrite: "multi", Expansions: 20}, "expansions"},
		{quarry.AskRequest{History: []quarry.Message{{Role: "robot", Content: "hi"}}}, "history[0].role"},
	} {
		tc.req.Question = "How many moons does Mars have?"
		_, err := col.Ask(ctx, tc.req)
		if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, quarry.ErrInvalid) {
			t.Errorf("%s: err = %v", tc.field, err)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("the model was called %d times", n)
	}

	// Without a model, "llm" is refused and the default is extractive.
	plain, _ := openLLMEngine(t, quarry.LLMConfig{})
	pc := loadDocs(t, plain, solarDocs)
	if _, err := pc.Ask(ctx, quarry.AskRequest{Question: "moons of Mars", Method: "llm"}); !errors.As(err, &fe) || fe.Field != "method" {
		t.Fatalf("llm without a model: %v", err)
	}
	if a, err := pc.Ask(ctx, quarry.AskRequest{Question: "moons of Mars"}); err != nil || a.Method != quarry.MethodExtractive {
		t.Fatalf("default without a model: %v %+v", err, a)
	}
}
