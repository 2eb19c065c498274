package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestWireFormatAndPenalties: Params.Format and the penalties reach both
// wires in their dialect's fields (a protocol fake records the bodies; the
// real server's constrained decoding is tested in internal/server).
func TestWireFormatAndPenalties(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = nil
		_ = json.Unmarshal(b, &got)
		if r.URL.Path == "/api/chat" {
			fmt.Fprintln(w, `{"message":{"content":"{}"},"done":true,"done_reason":"stop"}`)
			return
		}
		fmt.Fprint(w, `{"choices":[{"message":{"content":"{}"},"finish_reason":"stop"}]}`)
	}))
	defer srv.Close()
	pp, fp := 0.5, -1.0
	schema := json.RawMessage(`{"type":"object","properties":{"a":{"type":"string"}}}`)
	for _, format := range []json.RawMessage{json.RawMessage(`"json"`), schema} {
		p := Params{PresencePenalty: &pp, FrequencyPenalty: &fp, Format: format}
		req := Request{Model: "m", Messages: []Message{{"user", "hi"}}, Params: p}
		if _, err := NewOllama(srv.URL, nil).Complete(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		opts, _ := got["options"].(map[string]any)
		if fmt.Sprint(got["format"]) != fmt.Sprint(decode(format)) || opts["presence_penalty"] != 0.5 || opts["frequency_penalty"] != -1.0 {
			t.Errorf("ollama body %v", got)
		}
		if _, err := NewOpenAI(srv.URL, nil).Complete(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		rf, _ := got["response_format"].(map[string]any)
		want := "json_object"
		if format[0] == '{' {
			want = "json_schema"
			js, _ := rf["json_schema"].(map[string]any)
			if fmt.Sprint(js["schema"]) != fmt.Sprint(decode(schema)) {
				t.Errorf("openai json_schema %v", js)
			}
		}
		if rf["type"] != want || got["presence_penalty"] != 0.5 || got["frequency_penalty"] != -1.0 {
			t.Errorf("openai body %v", got)
		}
	}
	// Tool calls carry them too, and Ollama applies tool_choice by the
	// tools it offers.
	tools := []ToolSpec{{Name: "a"}, {Name: "b"}}
	for choice, want := range map[string]int{`"none"`: 0, `"auto"`: 2, `{"type":"function","function":{"name":"b"}}`: 1} {
		_, err := NewOllama(srv.URL, nil).CompleteTools(context.Background(), ToolRequest{Model: "m", Messages: []ToolMessage{{Role: "user", Content: "x"}},
			Tools: tools, ToolChoice: json.RawMessage(choice), Params: Params{Format: json.RawMessage(`"json"`)}})
		if err != nil {
			t.Fatal(err)
		}
		if l, _ := got["tools"].([]any); len(l) != want || got["format"] != "json" {
			t.Errorf("tool_choice %s: ollama got %v", choice, got)
		}
		_, err = NewOpenAI(srv.URL, nil).CompleteTools(context.Background(), ToolRequest{Model: "m", Messages: []ToolMessage{{Role: "user", Content: "x"}},
			Tools: tools, ToolChoice: json.RawMessage(choice)})
		if err != nil {
			t.Fatal(err)
		}
		if l, _ := got["tools"].([]any); len(l) != 2 || fmt.Sprint(got["tool_choice"]) != fmt.Sprint(decode(json.RawMessage(choice))) {
			t.Errorf("tool_choice %s: openai got %v", choice, got)
		}
	}
}

func decode(b json.RawMessage) any {
	var v any
	_ = json.Unmarshal(b, &v)
	return v
}

// TestParamsFormatValidate: Format is "json" or a schema object, bounded.
func TestParamsFormatValidate(t *testing.T) {
	two := 2.5
	for _, p := range []Params{
		{Format: json.RawMessage(`"yaml"`)},
		{Format: json.RawMessage(`[1]`)},
		{Format: json.RawMessage(`{"type":`)},
		{Format: json.RawMessage(`{"description":"` + string(make([]byte, MaxFormatBytes)) + `"}`)},
		{PresencePenalty: &two},
		{FrequencyPenalty: &two},
	} {
		if err := p.Validate(); err == nil {
			t.Errorf("%+v validated", p)
		}
	}
	if err := (Params{Format: json.RawMessage(`{"type":"object"}`)}).Validate(); err != nil {
		t.Error(err)
	}
}
