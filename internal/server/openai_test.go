package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

const chatPath = "/v1/chat/completions"

// TestChatCompletions: the OpenAI-compatible route answers like ask, in
// OpenAI's shapes (checked against openapi.json by the harness), with the
// citations as an extra field.
func TestChatCompletions(t *testing.T) {
	h := newHarness(t, Options{})
	seedRocks(t, h)
	const q = "How does granite form?"
	plain := h.do("POST", "/v1/collections/rocks/ask", map[string]any{"question": q}).mustStatus(t, http.StatusOK)
	r := h.do("POST", chatPath, map[string]any{
		"model": "rocks",
		"messages": []map[string]any{
			{"role": "system", "content": "Answer from the sources."},
			{"role": "user", "content": "Tell me about rivers."},
			{"role": "assistant", "content": "Rivers carve valleys."},
			{"role": "user", "content": []map[string]any{{"type": "text", "text": q}}},
		},
		"temperature": 0, "max_tokens": 128, "seed": 1, "stop": []string{"\n\n"}, "top_p": 1,
	}).mustStatus(t, http.StatusOK)
	if r.str("object") != "chat.completion" || r.str("model") != "rocks" || !strings.HasPrefix(r.str("id"), "chatcmpl-") {
		t.Errorf("completion envelope: %s", r.body)
	}
	choice := r.list("choices")[0].(map[string]any)
	msg := choice["message"].(map[string]any)
	if msg["role"] != "assistant" || msg["content"] != plain.str("answer") || choice["finish_reason"] != "stop" {
		t.Errorf("choice %v, want the ask answer %q", choice, plain.str("answer"))
	}
	if fmt.Sprint(msg["citations"]) != fmt.Sprint(plain.get("citations")) || len(plain.list("citations")) == 0 {
		t.Errorf("message citations %v, want %v", msg["citations"], plain.get("citations"))
	}
	if r.get("usage") == nil {
		t.Error("no usage")
	}
	if ids := hitIDs(r.list("sources")); len(ids) == 0 || ids[0] != "granite" {
		t.Errorf("sources %v", ids)
	}
}

func TestChatCompletionsStream(t *testing.T) {
	h := newHarness(t, Options{})
	seedRocks(t, h)
	const q = "How does granite form?"
	plain := h.do("POST", "/v1/collections/rocks/ask", map[string]any{"question": q}).mustStatus(t, http.StatusOK)
	r := h.do("POST", chatPath, map[string]any{
		"model": "rocks", "stream": true, "stream_options": map[string]any{"include_usage": true},
		"messages": []map[string]any{{"role": "user", "content": q}},
	}).mustStatus(t, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	events, _ := parseSSE(t, r.body)
	if len(events) < 4 || events[len(events)-1].data != "[DONE]" {
		t.Fatalf("want chunks then [DONE], got %+v", events)
	}
	var chunks []map[string]any
	for _, ev := range events[:len(events)-1] {
		if ev.name != "" {
			t.Errorf("OpenAI chunks have no event name, got %q", ev.name)
		}
		chunks = append(chunks, h.validateEvent(ev, "ChatCompletionChunk"))
	}
	id := chunks[0]["id"]
	var content strings.Builder
	var finish []any
	var citations any
	for i, c := range chunks {
		if c["id"] != id || c["object"] != "chat.completion.chunk" || c["model"] != "rocks" {
			t.Errorf("chunk %d envelope: %v", i, c)
		}
		choices := c["choices"].([]any)
		if len(choices) == 0 {
			if i != len(chunks)-1 || c["usage"] == nil {
				t.Errorf("chunk %d has no choices but is not the last, usage chunk: %v", i, c)
			}
			continue
		}
		ch := choices[0].(map[string]any)
		delta := ch["delta"].(map[string]any)
		if i == 0 && delta["role"] != "assistant" {
			t.Errorf("first chunk's delta %v, want role assistant", delta)
		}
		if s, ok := delta["content"].(string); ok {
			content.WriteString(s)
		}
		if ch["finish_reason"] != nil {
			finish = append(finish, ch["finish_reason"])
			citations = c["citations"]
		}
	}
	if content.String() != plain.str("answer") {
		t.Errorf("streamed content %q, want %q", content.String(), plain.str("answer"))
	}
	if fmt.Sprint(finish) != "[stop]" {
		t.Errorf("finish reasons %v, want one stop", finish)
	}
	if fmt.Sprint(citations) != fmt.Sprint(plain.get("citations")) {
		t.Errorf("final chunk citations %v, want %v", citations, plain.get("citations"))
	}
}

func TestModels(t *testing.T) {
	h := newHarness(t, Options{})
	r := h.do("GET", "/v1/models", nil).mustStatus(t, http.StatusOK)
	if r.str("object") != "list" || len(r.list("data")) != 0 {
		t.Errorf("empty engine: %s", r.body)
	}
	seedRocks(t, h)
	h.upsert("rivers", map[string]any{"id": "a", "text": "Rivers flow."})
	r = h.do("GET", "/v1/models", nil).mustStatus(t, http.StatusOK)
	var ids []string
	for _, m := range r.list("data") {
		ids = append(ids, m.(map[string]any)["id"].(string))
	}
	if strings.Join(ids, ",") != "rivers,rocks" && strings.Join(ids, ",") != "rocks,rivers" {
		t.Errorf("models %v, want the two collections", ids)
	}
	h.do("GET", "/v1/models/rocks", nil).mustStatus(t, http.StatusOK)
	wantOpenAIError(t, h.do("GET", "/v1/models/nope", nil), 404, "invalid_request_error", "model", "model_not_found")
}

// wantOpenAIError checks an error in OpenAI's shape.
func wantOpenAIError(t *testing.T, r *response, status int, typ, param, code string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d; body: %s", r.status, status, r.body)
		return
	}
	var body struct {
		Error struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Param   *string `json:"param"`
			Code    string  `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("not JSON: %s", r.body)
	}
	e := body.Error
	gotParam := ""
	if e.Param != nil {
		gotParam = *e.Param
	}
	if e.Type != typ || gotParam != param || e.Code != code || e.Message == "" {
		t.Errorf("error %+v (param %q), want type %s param %q code %s; body %s", e, gotParam, typ, param, code, r.body)
	}
}

func TestChatCompletionsErrors(t *testing.T) {
	h := newHarness(t, Options{})
	seedRocks(t, h)
	user := `[{"role":"user","content":"granite"}]`
	tests := []struct {
		name, body  string
		status      int
		param, code string
	}{
		{"unknown model", `{"model":"nope","messages":` + user + `}`, 404, "model", "model_not_found"},
		{"invalid model name", `{"model":"../x","messages":` + user + `}`, 404, "model", "model_not_found"},
		{"no model", `{"messages":` + user + `}`, 400, "model", codeInvalid},
		{"no messages", `{"model":"rocks"}`, 400, "messages", codeInvalid},
		{"empty messages", `{"model":"rocks","messages":[]}`, 400, "messages", codeInvalid},
		{"messages not an array", `{"model":"rocks","messages":"hi"}`, 400, "messages", codeInvalid},
		{"no user message", `{"model":"rocks","messages":[{"role":"system","content":"be brief"}]}`, 400, "messages", codeInvalid},
		{"last message not the user's", `{"model":"rocks","messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}`, 400, "messages[1].role", codeInvalid},
		{"unknown role", `{"model":"rocks","messages":[{"role":"wizard","content":"q"}]}`, 400, "messages[0].role", codeInvalid},
		{"empty question", `{"model":"rocks","messages":[{"role":"user","content":"  "}]}`, 400, "messages[0].content", codeInvalid},
		{"content a number", `{"model":"rocks","messages":[{"role":"user","content":5}]}`, 400, "messages[0].content", codeInvalid},
		{"image part", `{"model":"rocks","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`, 400, "messages[0].content[0].type", codeInvalid},
		{"unknown message field", `{"model":"rocks","messages":[{"role":"user","content":"q","colour":1}]}`, 400, "messages[0].colour", codeInvalid},
		{"unknown field", `{"model":"rocks","messages":` + user + `,"bogus_field":[]}`, 400, "bogus_field", codeInvalid},
		{"stream not a boolean", `{"model":"rocks","messages":` + user + `,"stream":"yes"}`, 400, "stream", codeInvalid},
		{"stream_options without stream", `{"model":"rocks","messages":` + user + `,"stream_options":{"include_usage":true}}`, 400, "stream_options", codeInvalid},
		{"unknown stream option", `{"model":"rocks","messages":` + user + `,"stream":true,"stream_options":{"x":1}}`, 400, "stream_options.x", codeInvalid},
		{"temperature", `{"model":"rocks","messages":` + user + `,"temperature":3}`, 400, "temperature", codeInvalid},
		{"top_p", `{"model":"rocks","messages":` + user + `,"top_p":0}`, 400, "top_p", codeInvalid},
		{"max_tokens", `{"model":"rocks","messages":` + user + `,"max_tokens":-1}`, 400, "max_tokens", codeInvalid},
		{"max_completion_tokens", `{"model":"rocks","messages":` + user + `,"max_completion_tokens":0}`, 400, "max_completion_tokens", codeInvalid},
		{"stop", `{"model":"rocks","messages":` + user + `,"stop":[1]}`, 400, "stop", codeInvalid},
		{"seed", `{"model":"rocks","messages":` + user + `,"seed":1.5}`, 400, "seed", codeInvalid},
		{"n", `{"model":"rocks","messages":` + user + `,"n":2}`, 400, "n", codeInvalid},
		{"k", `{"model":"rocks","messages":` + user + `,"k":5000}`, 400, "k", codeInvalid},
		{"malformed", `{"model":"rocks",`, 400, "", codeInvalid},
		{"question too long", `{"model":"rocks","messages":[{"role":"user","content":"` + strings.Repeat("word ", 2000) + `"}]}`, 413, "messages[0].content", codeTooLarge},
		{"tool message", `{"model":"rocks","messages":[{"role":"tool","content":"x"},{"role":"user","content":"q"}]}`, 400, "messages[0].tool_call_id", codeInvalid},
		{"history too long", `{"model":"rocks","messages":[` + strings.Repeat(`{"role":"user","content":"q"},`, 60) + `{"role":"user","content":"q"}]}`, 400, "messages", codeInvalid},
		{"unknown method", `{"model":"rocks","messages":` + user + `,"method":"magic"}`, 400, "method", codeInvalid},
		{"llm without a model", `{"model":"rocks","messages":` + user + `,"method":"llm"}`, 400, "method", codeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantOpenAIError(t, h.do("POST", chatPath, tt.body), tt.status, "invalid_request_error", tt.param, tt.code)
		})
	}
	t.Run("wrong method", func(t *testing.T) {
		r := h.do("GET", chatPath, nil)
		wantOpenAIError(t, r, 405, "invalid_request_error", "", codeMethodNotAllowed)
	})
	t.Run("wrong content type", func(t *testing.T) {
		r := h.doRaw("POST", chatPath, "text/plain", []byte(`{"model":"rocks","messages":`+user+`}`))
		wantOpenAIError(t, r, 415, "invalid_request_error", "", codeUnsupportedMedia)
	})
	t.Run("body too large", func(t *testing.T) {
		hs := newHarness(t, Options{MaxQueryBodyBytes: 64})
		r := hs.do("POST", chatPath, `{"model":"rocks","messages":[{"role":"user","content":"`+strings.Repeat("a", 100)+`"}]}`)
		wantOpenAIError(t, r, 413, "invalid_request_error", "", codeTooLarge)
	})
	t.Run("any bearer token is accepted", func(t *testing.T) {
		req, _ := http.NewRequest("POST", h.ts.URL+chatPath, strings.NewReader(`{"model":"rocks","messages":`+user+`}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer sk-anything")
		res, err := h.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("status %d with an Authorization header", res.StatusCode)
		}
	})
}
