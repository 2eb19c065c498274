package server

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/testutil"
)

// realLLM returns the real local language model (scripts/llm.sh, which
// `make test` starts): QUARRY_LLM_URL and QUARRY_LLM_MODEL, else the
// default local Ollama if it answers and has the model. It skips when none
// is available, and fails under CI=true.
func realLLM(t *testing.T) quarry.LLMConfig {
	t.Helper()
	url, model := testutil.LLM(t)
	// The model's client keeps connections to it alive in
	// http.DefaultTransport; close them when the test is done (goleak).
	t.Cleanup(func() { http.DefaultTransport.(*http.Transport).CloseIdleConnections() })
	// Generous: on a loaded 2-core machine the small model queues behind
	// other callers.
	return quarry.LLMConfig{URL: url, Model: model, Timeout: 5 * time.Minute}
}

// faultyLLM is an OpenAI-compatible server that misbehaves on purpose, for
// the faults a real model cannot be made to produce on demand (a hang, a
// cut stream). reply handles every /v1/chat/completions call.
func faultyLLM(t *testing.T, reply func(w http.ResponseWriter, r *http.Request)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(reply))
	t.Cleanup(srv.Close)
	return srv.URL
}

// llmHarness is a harness whose engine answers with the language model at
// url (seeded with the rocks corpus).
func llmHarness(t *testing.T, cfg quarry.LLMConfig) *harness {
	t.Helper()
	h := newHarnessEngine(t, Options{}, &quarry.Options{LLM: cfg})
	seedRocks(t, h)
	return h
}

func faultCfg(url string) quarry.LLMConfig {
	return quarry.LLMConfig{URL: url, Model: "faulty", Provider: quarry.ProviderOpenAI}
}

const granite = "How does granite form?"

// TestLLMFailures: a language model that is unreachable, hangs or cuts its
// stream is a 502/504 naming the model and provider, with the retrieval
// results in the body; in a stream it is an error event after the
// retrieval (and any tokens), and the stream ends. Never a hung request.
func TestLLMFailures(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	unreachable := closed.URL
	closed.Close()
	hanging := faultyLLM(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{\"content\":\"Partial\"}}]}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done() // hang until the client gives up
	})
	cut := faultyLLM(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{\"content\":\"Granite\"}}]}\n\n")
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // cut the connection mid-stream
	})
	tests := []struct {
		name, url string
		timeout   time.Duration // of one model call
		status    int
		code      string
		tokens    string // streamed before the failure
	}{
		// Longer than the client's retries of a refused connection.
		{"unreachable", unreachable, 10 * time.Second, 502, codeLLMFailed, ""},
		{"hanging", hanging, 500 * time.Millisecond, 504, codeLLMTimeout, "Partial"},
		{"cut mid-stream", cut, 500 * time.Millisecond, 502, codeLLMFailed, "Granite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := faultCfg(tt.url)
			cfg.Timeout = tt.timeout
			h := llmHarness(t, cfg)
			start := time.Now()
			// JSON: the status, the message naming the model, the sources.
			r := h.do("POST", "/v1/collections/rocks/ask", map[string]any{"question": granite, "no_cache": true})
			wantError(t, r, tt.status, tt.code, "")
			if msg := r.str("error.message"); !strings.Contains(msg, `"faulty"`) || !strings.Contains(msg, "openai") || strings.Contains(msg, "127.0.0.1") {
				t.Errorf("message %q should name the model and provider, not the URL", msg)
			}
			if ids := hitIDs(r.list("sources")); len(ids) == 0 || ids[0] != "granite" {
				t.Errorf("sources %v, want the retrieval results", ids)
			}
			// Streamed: retrieval, the tokens so far, error; then the end.
			r = h.do("POST", "/v1/collections/rocks/ask", map[string]any{"question": granite, "stream": true}).mustStatus(t, http.StatusOK)
			events, _ := parseSSE(t, r.body)
			if len(events) < 2 || events[0].name != "retrieval" || events[len(events)-1].name != "error" {
				t.Fatalf("events %+v, want retrieval … error", events)
			}
			var text strings.Builder
			for _, ev := range events[1 : len(events)-1] {
				if ev.name != "token" {
					t.Errorf("unexpected %s event before the error", ev.name)
				}
				text.WriteString(h.validateEvent(ev, "TokenEvent")["text"].(string))
			}
			if text.String() != tt.tokens {
				t.Errorf("streamed %q before the error, want %q", text.String(), tt.tokens)
			}
			e := h.validateEvent(events[len(events)-1], "Error")["error"].(map[string]any)
			if e["code"] != tt.code {
				t.Errorf("error event %v, want code %s", e, tt.code)
			}
			// The OpenAI route: OpenAI's error shape, in the body or the stream.
			r = h.do("POST", chatPath, map[string]any{"model": "rocks", "messages": []map[string]any{{"role": "user", "content": granite}}, "no_cache": true})
			wantOpenAIError(t, r, tt.status, "server_error", "", tt.code)
			r = h.do("POST", chatPath, map[string]any{"model": "rocks", "stream": true, "messages": []map[string]any{{"role": "user", "content": granite}}}).mustStatus(t, http.StatusOK)
			events, _ = parseSSE(t, r.body)
			lastEv := events[len(events)-1]
			if lastEv.data == "[DONE]" || !strings.Contains(lastEv.data, `"code":"`+tt.code+`"`) {
				t.Errorf("chat stream ends with %q, want an OpenAI error and no [DONE]", lastEv.data)
			}
			h.validateEvent(lastEv, "OpenAIError")
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("the failures took %v", d)
			}
		})
	}
}

// TestLLMErrorMapping: the LLM error classes and their statuses.
func TestLLMErrorMapping(t *testing.T) {
	for _, tt := range []struct {
		err    *quarry.LLMError
		status int
		code   string
	}{
		{&quarry.LLMError{Provider: "ollama", URL: "http://10.0.0.1:11434", Model: "m", Err: fmt.Errorf("connection refused")}, 502, codeLLMFailed},
		{&quarry.LLMError{Provider: "openai", URL: "http://x", Model: "m", Timeout: true, Err: fmt.Errorf("deadline")}, 504, codeLLMTimeout},
	} {
		e, internal := toAPIError(fmt.Errorf("ask: %w", tt.err))
		if e.status() != tt.status || e.Code != tt.code || internal || !strings.Contains(e.Message, tt.err.Provider) || strings.Contains(e.Message, tt.err.URL) {
			t.Errorf("%v → %d %+v internal=%v", tt.err, e.status(), e, internal)
		}
	}
}

// TestRealLLMStream answers through the real local model: a streamed ask
// and a streamed chat completion (TestOpenAIPythonSDK covers the
// non-streamed one).
func TestRealLLMStream(t *testing.T) {
	h := llmHarness(t, realLLM(t))
	r := h.do("POST", "/v1/collections/rocks/ask", map[string]any{"question": granite, "stream": true, "temperature": 0, "seed": 1, "max_tokens": 48, "no_cache": true}).mustStatus(t, http.StatusOK)
	events, _ := parseSSE(t, r.body)
	if len(events) < 4 || events[0].name != "retrieval" || events[len(events)-1].name != "done" {
		t.Fatalf("events %+v", events)
	}
	var text strings.Builder
	tokens := 0
	for _, ev := range events[1 : len(events)-2] {
		tokens++
		text.WriteString(h.validateEvent(ev, "TokenEvent")["text"].(string))
	}
	done := h.validateEvent(events[len(events)-1], "AskResponse")
	if done["method"] != "llm" || done["answer"] != text.String() || strings.TrimSpace(text.String()) == "" {
		t.Errorf("method %v, answer %q, streamed %q", done["method"], done["answer"], text.String())
	}
	if tokens < 2 {
		t.Errorf("the model's answer came in %d token events; want it streamed", tokens)
	}
	timings := done["timings"].(map[string]any)
	if timings["ttft_ms"].(float64) <= 0 || timings["generate_ms"].(float64) <= 0 {
		t.Errorf("timings %v", timings)
	}

	r = h.do("POST", chatPath, map[string]any{"model": "rocks", "stream": true, "stream_options": map[string]any{"include_usage": true}, "no_cache": true,
		"messages": []map[string]any{{"role": "user", "content": granite}}, "temperature": 0, "max_tokens": 48}).mustStatus(t, http.StatusOK)
	events, _ = parseSSE(t, r.body)
	if events[len(events)-1].data != "[DONE]" {
		t.Fatalf("chat stream does not end with [DONE]: %+v", events[len(events)-1])
	}
	usage := h.validateEvent(events[len(events)-2], "ChatCompletionChunk")["usage"].(map[string]any)
	if usage["completion_tokens"].(float64) <= 0 {
		t.Errorf("streamed usage %v", usage)
	}
	text.Reset()
	for _, ev := range events[:len(events)-2] {
		for _, c := range h.validateEvent(ev, "ChatCompletionChunk")["choices"].([]any) {
			if s, ok := c.(map[string]any)["delta"].(map[string]any)["content"].(string); ok {
				text.WriteString(s)
			}
		}
	}
	if strings.TrimSpace(text.String()) == "" {
		t.Error("the streamed chat answer is empty")
	}
	metrics := string(h.do("GET", "/metrics", nil).body)
	if !strings.Contains(metrics, `quarry_http_ttft_seconds_count{route="/v1/chat/completions"} 1`) {
		t.Error("no time to first token recorded for the streamed chat")
	}
}

// TestClientGoneStopsGeneration: when the client of a streamed answer
// disconnects, the language model's request is cancelled too. The
// faultyLLM streams forever until its caller goes away.
func TestClientGoneStopsGeneration(t *testing.T) {
	upstreamGone := make(chan struct{}, 2) // one per cancelled model call
	endless := faultyLLM(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for {
			fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{\"content\":\"rock \"}}]}\n\n")
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				upstreamGone <- struct{}{}
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	cfg := faultCfg(endless)
	cfg.Timeout = time.Minute
	h := llmHarness(t, cfg)
	for _, tc := range []struct{ path, body, firstToken string }{
		{"/v1/collections/rocks/ask", `{"question":"How does granite form?","stream":true}`, "event: token"},
		{chatPath, `{"model":"rocks","stream":true,"messages":[{"role":"user","content":"How does granite form?"}]}`, `"content":"rock`},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "POST", h.ts.URL+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		res, err := h.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(res.Body)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("%s: the stream ended before a token: %v", tc.path, err)
			}
			if strings.Contains(line, tc.firstToken) {
				break
			}
		}
		cancel() // hang up mid-answer
		res.Body.Close()
		select {
		case <-upstreamGone:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the model was still generating 10s after the client went away", tc.path)
		}
	}
}

// TestCollectionLLM: a collection's configuration can point it at its own
// language model (here a faultyLLM that answers 500), which its answers
// then use; the override is validated and shown back.
func TestCollectionLLM(t *testing.T) {
	broken := faultyLLM(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"model exploded"}`, http.StatusBadRequest) // not retried
	})
	h := newHarness(t, Options{})
	wantError(t, h.do("PUT", "/v1/collections/bad", map[string]any{"llm": map[string]any{"url": "ftp://x"}}), 400, codeInvalid, "llm.url")
	wantError(t, h.do("PUT", "/v1/collections/bad", map[string]any{"llm": map[string]any{"modle": "x"}}), 400, codeInvalid, "llm.modle")
	r := h.do("PUT", "/v1/collections/rocks", map[string]any{"llm": map[string]any{"url": broken, "model": "col-model", "provider": "openai"}}).mustStatus(t, http.StatusCreated)
	if r.str("config.llm.model") != "col-model" {
		t.Errorf("config %s", r.body)
	}
	seedRocks(t, h)
	r = h.do("POST", "/v1/collections/rocks/ask", map[string]any{"question": granite})
	wantError(t, r, 502, codeLLMFailed, "")
	if !strings.Contains(r.str("error.message"), `"col-model"`) {
		t.Errorf("message %q does not name the collection's model", r.str("error.message"))
	}
	// Extractive answers stay available on request.
	r = h.do("POST", "/v1/collections/rocks/ask", map[string]any{"question": granite, "method": "extractive"}).mustStatus(t, http.StatusOK)
	if r.str("method") != "extractive" {
		t.Errorf("method %q", r.str("method"))
	}
	if r := h.do("GET", "/v1/collections/rocks", nil).mustStatus(t, http.StatusOK); r.str("config.llm.url") != broken {
		t.Errorf("GET config %s", r.body)
	}
}
