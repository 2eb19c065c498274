package llm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestFakeToolCallWire: a protocol fake records what each client sends and
// answers with a tool call in its dialect; both sides of the wire are checked.
func TestFakeToolCallWire(t *testing.T) {
	var got map[string]json.RawMessage
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = nil
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("body: %v", err)
		}
		switch r.URL.Path {
		case "/api/chat":
			io.WriteString(w, `{"message":{"content":"","tool_calls":[{"function":{"name":"search","arguments":{"query":"x"}}}]},"done":true,"done_reason":"stop","prompt_eval_count":5,"eval_count":2}`)
		default:
			io.WriteString(w, `{"choices":[{"message":{"content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"search","arguments":"{\"query\": \"x\""}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":2}}`)
		}
	}))
	defer srv.Close()
	req := ToolRequest{Model: "m",
		Tools: []ToolSpec{{Name: "search", Description: "find", Parameters: json.RawMessage(`{"type":"object"}`)}},
		Messages: []ToolMessage{{Role: "user", Content: "q"},
			{Role: "assistant", ToolCalls: []ToolCall{{ID: "c0", Name: "search", Arguments: `{"query":"y"}`}}},
			{Role: "tool", Content: "result", ToolCallID: "c0", ToolName: "search"}}}

	r, err := NewOpenAI(srv.URL, nil).CompleteTools(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	// Malformed arguments from the model are passed through untouched.
	if len(r.ToolCalls) != 1 || r.ToolCalls[0] != (ToolCall{ID: "c1", Name: "search", Arguments: `{"query": "x"`}) || r.FinishReason != "tool_calls" || r.Usage != (Usage{5, 2}) {
		t.Fatalf("openai response: %+v", r)
	}
	if s := string(got["messages"]); !strings.Contains(s, `"tool_calls":[{"id":"c0","type":"function","function":{"name":"search","arguments":"{\"query\":\"y\"}"}}]`) || !strings.Contains(s, `"tool_call_id":"c0"`) {
		t.Errorf("openai messages: %s", s)
	}
	if s := string(got["tools"]); s != `[{"type":"function","function":{"name":"search","description":"find","parameters":{"type":"object"}}}]` {
		t.Errorf("openai tools: %s", s)
	}

	r, err = NewOllama(srv.URL, nil).CompleteTools(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.ToolCalls) != 1 || r.ToolCalls[0].Name != "search" || r.ToolCalls[0].Arguments != `{"query":"x"}` || r.Usage != (Usage{5, 2}) {
		t.Fatalf("ollama response: %+v", r)
	}
	if s := string(got["messages"]); !strings.Contains(s, `"tool_calls":[{"function":{"name":"search","arguments":{"query":"y"}}}]`) || !strings.Contains(s, `"tool_name":"search"`) {
		t.Errorf("ollama messages: %s", s)
	}
	if _, err := NewOpenAI(srv.URL, nil).CompleteTools(context.Background(), ToolRequest{Model: "m"}); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("empty messages: %v", err)
	}
}

// TestRealToolsUnsupported: the local Gemma 3 270M has no tool template, and
// Ollama says so; both clients report ErrToolsUnsupported so an agent can fall
// back to its text protocol.
func TestRealToolsUnsupported(t *testing.T) {
	needReal(t)
	url, model := realURL, realModel
	req := ToolRequest{Model: model, Messages: []ToolMessage{{Role: "user", Content: "hi"}},
		Tools: []ToolSpec{{Name: "f", Parameters: json.RawMessage(`{"type":"object"}`)}}}
	for name, c := range map[string]ToolCaller{"openai": NewOpenAI(url, nil), "ollama": NewOllama(url, nil)} {
		r, err := c.CompleteTools(context.Background(), req)
		if err == nil {
			t.Logf("%s: the model accepted tools: %+v", name, r)
			continue
		}
		if !errors.Is(err, ErrToolsUnsupported) {
			t.Errorf("%s: %v, want ErrToolsUnsupported", name, err)
		}
	}
}
