package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
)

// scriptedModel is a FAKE OpenAI-compatible model server replaying a
// script, for what the real local model cannot be made to do on demand
// (call a tool, call one that does not exist, write malformed arguments or
// bad JSON). Each call takes the next reply (the last one repeats); the
// request bodies are kept. A reply with "tool_calls" is answered as a
// non-streamed tool-calling response, text as an SSE stream or a JSON
// body, as the request asks.
type scriptedModel struct {
	mu      sync.Mutex
	replies []scriptedReply
	bodies  []map[string]any
}

type scriptedReply struct {
	content   string
	toolCalls []map[string]any // OpenAI tool_calls
}

func (m *scriptedModel) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	m.mu.Lock()
	m.bodies = append(m.bodies, body)
	rep := m.replies[min(len(m.bodies), len(m.replies))-1]
	m.mu.Unlock()
	finish := "stop"
	if len(rep.toolCalls) > 0 {
		finish = "tool_calls"
	}
	if stream, _ := body["stream"].(bool); stream {
		w.Header().Set("Content-Type", "text/event-stream")
		c, _ := json.Marshal(rep.content)
		fmt.Fprintf(w, "data: {\"choices\":[{\"delta\":{\"content\":%s}}]}\n\n", c)
		fmt.Fprintf(w, "data: {\"choices\":[{\"delta\":{},\"finish_reason\":%q}],\"usage\":{\"prompt_tokens\":50,\"completion_tokens\":7}}\n\n", finish)
		fmt.Fprint(w, "data: [DONE]\n\n")
		return
	}
	msg := map[string]any{"role": "assistant", "content": rep.content}
	if len(rep.toolCalls) > 0 {
		msg["tool_calls"] = rep.toolCalls
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": msg, "finish_reason": finish}},
		"usage": map[string]any{"prompt_tokens": 50, "completion_tokens": 7}})
}

func (m *scriptedModel) calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.bodies)
}

func (m *scriptedModel) body(i int) map[string]any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bodies[i]
}

// scripted returns a harness (the rocks corpus) whose model is a fake
// replaying replies.
func scripted(t *testing.T, replies ...scriptedReply) (*harness, *scriptedModel) {
	t.Helper()
	m := &scriptedModel{replies: replies}
	h := llmHarness(t, faultCfg(faultyLLM(t, m.serve)))
	return h, m
}

func call(id, name, args string) map[string]any {
	return map[string]any{"id": id, "type": "function", "function": map[string]any{"name": name, "arguments": args}}
}

var lookupTool = map[string]any{"type": "function", "function": map[string]any{
	"name": "lookup", "description": "Look a rock up in the catalogue.",
	"parameters": map[string]any{"type": "object", "properties": map[string]any{"rock": map[string]any{"type": "string"}},
		"required": []any{"rock"}, "additionalProperties": false},
}}

func toolChat(extra map[string]any, msgs ...any) map[string]any {
	if len(msgs) == 0 {
		msgs = []any{map[string]any{"role": "user", "content": granite}}
	}
	b := map[string]any{"model": "rocks", "messages": msgs, "tools": []any{lookupTool}}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// TestChatToolCall: the client's tools reach the model with the grounded
// prompt; the model's call comes back in OpenAI's shape (fresh id, content
// null, finish_reason tool_calls).
func TestChatToolCall(t *testing.T) {
	h, m := scripted(t, scriptedReply{toolCalls: []map[string]any{call("call_0", "lookup", `{"rock":"granite"}`)}})
	r := h.do("POST", chatPath, toolChat(map[string]any{"tool_choice": "required"})).mustStatus(t, http.StatusOK)
	choice := r.list("choices")[0].(map[string]any)
	msg := choice["message"].(map[string]any)
	if choice["finish_reason"] != "tool_calls" || msg["content"] != nil {
		t.Errorf("finish_reason %v content %v, want tool_calls and null", choice["finish_reason"], msg["content"])
	}
	calls, _ := msg["tool_calls"].([]any)
	if len(calls) != 1 {
		t.Fatalf("tool_calls %v", msg["tool_calls"])
	}
	c := calls[0].(map[string]any)
	fn := c["function"].(map[string]any)
	if id, _ := c["id"].(string); !strings.HasPrefix(id, "call_") || id == "call_0" || c["type"] != "function" ||
		fn["name"] != "lookup" || fn["arguments"] != `{"rock":"granite"}` {
		t.Errorf("tool call %v", c)
	}
	sent := m.body(0)
	tools, _ := sent["tools"].([]any)
	if len(tools) != 1 || tools[0].(map[string]any)["function"].(map[string]any)["name"] != "lookup" || sent["tool_choice"] != "required" {
		t.Errorf("the model got tools %v tool_choice %v", sent["tools"], sent["tool_choice"])
	}
	if prompt := fmt.Sprint(sent["messages"]); !strings.Contains(prompt, "slowly cooling magma") {
		t.Errorf("the retrieved source is not in the prompt: %s", prompt)
	}
	if m.calls() != 1 {
		t.Errorf("%d model calls, want 1", m.calls())
	}
}

// TestChatToolResult: the client's follow-up (the assistant's call and the
// tool's result) is forwarded after the grounded prompt, and the model's
// text answer comes back with its citations.
func TestChatToolResult(t *testing.T) {
	h, m := scripted(t, scriptedReply{content: "Granite forms from slowly cooling magma [1]."})
	body := toolChat(nil,
		map[string]any{"role": "user", "content": granite},
		map[string]any{"role": "assistant", "content": nil, "refusal": nil, "tool_calls": []any{call("call_abc", "lookup", `{"rock":"granite"}`)}},
		map[string]any{"role": "tool", "tool_call_id": "call_abc", "content": `{"hardness": 6}`},
	)
	r := h.do("POST", chatPath, body).mustStatus(t, http.StatusOK)
	choice := r.list("choices")[0].(map[string]any)
	msg := choice["message"].(map[string]any)
	if choice["finish_reason"] != "stop" || !strings.Contains(msg["content"].(string), "Granite forms") || len(msg["citations"].([]any)) == 0 {
		t.Errorf("answer %s", r.body)
	}
	msgs := m.body(0)["messages"].([]any)
	n := len(msgs)
	asst, tool := msgs[n-2].(map[string]any), msgs[n-1].(map[string]any)
	tc, _ := asst["tool_calls"].([]any)
	if asst["role"] != "assistant" || len(tc) != 1 || tool["role"] != "tool" || tool["tool_call_id"] != "call_abc" || tool["content"] != `{"hardness": 6}` {
		t.Errorf("the model got the turns %v", msgs[n-2:])
	}
	if !strings.Contains(fmt.Sprint(msgs[:n-2]), "slowly cooling magma") {
		t.Errorf("the sources are not in the prompt before the tool turns: %v", msgs[:n-2])
	}
}

// TestChatToolCallChecked: a call of a tool the request does not define, or
// with arguments that are not JSON or fail the tool's schema, is asked for
// once more; a good second reply is returned, two bad ones are a 502.
func TestChatToolCallChecked(t *testing.T) {
	good := scriptedReply{toolCalls: []map[string]any{call("c", "lookup", `{"rock":"basalt"}`)}}
	for _, tt := range []struct {
		name string
		bad  scriptedReply
		want string
	}{
		{"hallucinated tool", scriptedReply{toolCalls: []map[string]any{call("c", "dig", `{}`)}}, "does not define"},
		{"malformed arguments", scriptedReply{toolCalls: []map[string]any{call("c", "lookup", `{"rock": "gran`)}}, "not valid JSON"},
		{"arguments not an object", scriptedReply{toolCalls: []map[string]any{call("c", "lookup", `["granite"]`)}}, "not a JSON object"},
		{"missing parameter", scriptedReply{toolCalls: []map[string]any{call("c", "lookup", `{}`)}}, "do not match its parameters"},
		{"extra parameter", scriptedReply{toolCalls: []map[string]any{call("c", "lookup", `{"rock":"x","depth":3}`)}}, "do not match its parameters"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, m := scripted(t, tt.bad, good)
			r := h.do("POST", chatPath, toolChat(nil)).mustStatus(t, http.StatusOK)
			fn := r.list("choices")[0].(map[string]any)["message"].(map[string]any)["tool_calls"].([]any)[0].(map[string]any)["function"].(map[string]any)
			if fn["arguments"] != `{"rock":"basalt"}` || m.calls() != 2 {
				t.Errorf("retry: %v after %d calls", fn, m.calls())
			}
			h, m = scripted(t, tt.bad)
			r = h.do("POST", chatPath, toolChat(nil))
			wantError(t, r, http.StatusBadGateway, codeLLMFailed, "")
			if msg := r.str("error.message"); !strings.Contains(msg, tt.want) || m.calls() != 2 {
				t.Errorf("message %q after %d calls, want %q after 2", msg, m.calls(), tt.want)
			}
		})
	}
}

// TestChatToolCallStream: streamed, a call arrives as OpenAI's tool_calls
// deltas (id and name, then the arguments) and finish_reason tool_calls.
func TestChatToolCallStream(t *testing.T) {
	h, _ := scripted(t, scriptedReply{toolCalls: []map[string]any{call("x", "lookup", `{"rock":"granite"}`), call("y", "lookup", `{"rock":"basalt"}`)}})
	r := h.do("POST", chatPath, toolChat(map[string]any{"stream": true, "stream_options": map[string]any{"include_usage": true}})).mustStatus(t, http.StatusOK)
	events, _ := parseSSE(t, r.body)
	if len(events) == 0 || events[len(events)-1].data != "[DONE]" {
		t.Fatalf("events %v", events)
	}
	type fn struct{ id, name, args string }
	got := map[int]*fn{}
	finish, usage := "", 0
	for _, ev := range events[:len(events)-1] {
		var c struct {
			Choices []struct {
				Delta struct {
					ToolCalls []struct {
						Index    *int   `json:"index"`
						ID       string `json:"id"`
						Function struct{ Name, Arguments string }
					} `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
			Usage *struct {
				CompletionTokens int `json:"completion_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(ev.data), &c); err != nil {
			t.Fatal(err)
		}
		if c.Usage != nil {
			usage = c.Usage.CompletionTokens
		}
		for _, ch := range c.Choices {
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
			for _, d := range ch.Delta.ToolCalls {
				if d.Index == nil {
					t.Fatalf("a tool call delta without index: %s", ev.data)
				}
				f := got[*d.Index]
				if f == nil {
					f = &fn{}
					got[*d.Index] = f
				}
				f.id += d.ID
				f.name += d.Function.Name
				f.args += d.Function.Arguments
			}
		}
	}
	if finish != "tool_calls" || usage != 7 || len(got) != 2 || got[0].name != "lookup" || got[0].args != `{"rock":"granite"}` ||
		got[1].args != `{"rock":"basalt"}` || !strings.HasPrefix(got[1].id, "call_") {
		t.Errorf("finish %q usage %d calls %+v %+v", finish, usage, got[0], got[1])
	}
}

// TestChatJSONMode: response_format reaches the model as OpenAI's
// response_format; a reply that is not JSON (or fails the schema) is asked
// for once more and otherwise a 502 saying so.
func TestChatJSONMode(t *testing.T) {
	schema := map[string]any{"type": "object", "properties": map[string]any{"rock": map[string]any{"type": "string"}}, "required": []any{"rock"}}
	rfSchema := map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "rock", "schema": schema}}
	ask := func(h *harness, rf any, stream bool) *response {
		return h.do("POST", chatPath, map[string]any{"model": "rocks", "stream": stream, "response_format": rf,
			"messages": []any{map[string]any{"role": "user", "content": granite}}})
	}
	h, m := scripted(t, scriptedReply{content: `{"rock": "granite"}`})
	r := ask(h, rfSchema, false).mustStatus(t, http.StatusOK)
	content := r.list("choices")[0].(map[string]any)["message"].(map[string]any)["content"].(string)
	if content != `{"rock": "granite"}` {
		t.Errorf("content %q", content)
	}
	sent, _ := m.body(0)["response_format"].(map[string]any)
	if js, _ := sent["json_schema"].(map[string]any); sent["type"] != "json_schema" || js == nil || fmt.Sprint(js["schema"]) != fmt.Sprint(schema) {
		t.Errorf("the model got response_format %v", m.body(0)["response_format"])
	}
	if !strings.Contains(fmt.Sprint(m.body(0)["messages"]), "JSON") {
		t.Errorf("the prompt does not ask for JSON")
	}
	// Streamed: the checked JSON in one content chunk.
	r = ask(h, map[string]any{"type": "json_object"}, true).mustStatus(t, http.StatusOK)
	events, _ := parseSSE(t, r.body)
	var text strings.Builder
	for _, ev := range events[:len(events)-1] {
		var c chatChunk
		if err := json.Unmarshal([]byte(ev.data), &c); err != nil {
			t.Fatal(err)
		}
		for _, ch := range c.Choices {
			if ch.Delta.Content != nil {
				text.WriteString(*ch.Delta.Content)
			}
		}
	}
	if text.String() != `{"rock": "granite"}` {
		t.Errorf("streamed %q", text.String())
	}
	if rf, _ := m.body(m.calls() - 1)["response_format"].(map[string]any); rf["type"] != "json_object" {
		t.Errorf("the model got response_format %v", rf)
	}
	for _, tt := range []struct {
		name, reply string
		rf          any
		want        string
	}{
		{"prose", "Granite forms from magma [1].", map[string]any{"type": "json_object"}, "did not produce valid JSON"},
		{"schema mismatch", `{"rock": 7}`, rfSchema, "did not produce valid JSON for response_format's schema"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, m := scripted(t, scriptedReply{content: tt.reply})
			for _, stream := range []bool{false, true} {
				before := m.calls()
				r := ask(h, tt.rf, stream)
				wantError(t, r, http.StatusBadGateway, codeLLMFailed, "")
				if msg := r.str("error.message"); !strings.Contains(msg, tt.want) || m.calls()-before != 2 {
					t.Errorf("stream=%v: %q after %d calls", stream, msg, m.calls()-before)
				}
			}
		})
	}
}

// TestChatStructuredBadInput: bad tools, schemas and tool turns are 400s
// naming the field.
func TestChatStructuredBadInput(t *testing.T) {
	h, m := scripted(t, scriptedReply{content: "x"})
	user := map[string]any{"role": "user", "content": granite}
	many := make([]any, 65)
	for i := range many {
		many[i] = map[string]any{"type": "function", "function": map[string]any{"name": fmt.Sprintf("t%d", i)}}
	}
	fnTool := func(f map[string]any) []any { return []any{map[string]any{"type": "function", "function": f}} }
	for _, tt := range []struct {
		name  string
		body  map[string]any
		param string
	}{
		{"too many tools", map[string]any{"tools": many}, "tools"},
		{"bad name", map[string]any{"tools": fnTool(map[string]any{"name": "a b"})}, "tools[0].function.name"},
		{"duplicate name", map[string]any{"tools": append(fnTool(map[string]any{"name": "a"}), fnTool(map[string]any{"name": "a"})...)}, "tools[1].function.name"},
		{"parameters not a schema", map[string]any{"tools": fnTool(map[string]any{"name": "a", "parameters": map[string]any{"type": 5}})}, "tools[0].function.parameters"},
		{"parameters not an object", map[string]any{"tools": fnTool(map[string]any{"name": "a", "parameters": map[string]any{"type": "string"}})}, "tools[0].function.parameters"},
		{"remote $ref", map[string]any{"tools": fnTool(map[string]any{"name": "a", "parameters": map[string]any{"$ref": "file:///etc/passwd"}})}, "tools[0].function.parameters"},
		{"huge schema", map[string]any{"tools": fnTool(map[string]any{"name": "a", "parameters": map[string]any{"description": strings.Repeat("x", 17<<10)}})}, "tools[0].function.parameters"},
		{"custom tool", map[string]any{"tools": []any{map[string]any{"type": "custom", "custom": map[string]any{"name": "c"}}}}, "tools[0].type"},
		{"tool_choice unknown tool", map[string]any{"tools": []any{lookupTool}, "tool_choice": map[string]any{"type": "function", "function": map[string]any{"name": "dig"}}}, "tool_choice.function.name"},
		{"tool_choice without tools", map[string]any{"tool_choice": "required"}, "tool_choice"},
		{"schema missing", map[string]any{"response_format": map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "x"}}}, "response_format.json_schema.schema"},
		{"schema bad name", map[string]any{"response_format": map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "a/b", "schema": map[string]any{}}}}, "response_format.json_schema.name"},
		{"json with extractive", map[string]any{"method": "extractive", "response_format": map[string]any{"type": "json_object"}}, "response_format"},
		{"tool result for no call", map[string]any{"tools": []any{lookupTool}, "messages": []any{user, map[string]any{"role": "tool", "tool_call_id": "zz", "content": "x"}}}, "messages[1].tool_call_id"},
		{"tool_calls on a user message", map[string]any{"messages": []any{map[string]any{"role": "user", "content": "q", "tool_calls": []any{call("a", "lookup", "{}")}}}}, "messages[0].tool_calls"},
		{"ends with the assistant's call", map[string]any{"tools": []any{lookupTool}, "messages": []any{user, map[string]any{"role": "assistant", "tool_calls": []any{call("a", "lookup", "{}")}}}}, "messages[1].role"},
		{"stop entries", map[string]any{"stop": []any{"a", "b", "c", "d", "e"}}, "stop"},
		{"max_tokens", map[string]any{"max_tokens": 40000}, "max_tokens"},
		{"n", map[string]any{"n": 2}, "n"},
	} {
		body := map[string]any{"model": "rocks", "messages": []any{user}}
		for k, v := range tt.body {
			body[k] = v
		}
		r := h.do("POST", chatPath, body)
		if r.status != http.StatusBadRequest || r.str("error.param") != tt.param {
			t.Errorf("%s: %d %s, want 400 param %s", tt.name, r.status, r.body, tt.param)
		}
	}
	if m.calls() != 0 {
		t.Errorf("%d model calls for bad requests", m.calls())
	}
}

// TestOpenAIPythonStructured runs testdata/openai_structured.py (the
// official openai package) against a real port: tool calling against a
// scripted model (a fake: the local model has no tool calling), and the
// decoding parameters and JSON mode against the real local model (skipped
// without one, outside CI).
func TestOpenAIPythonStructured(t *testing.T) {
	py := openAIPython(t)
	t.Run("tools", func(t *testing.T) {
		m := &scriptedModel{replies: []scriptedReply{
			{toolCalls: []map[string]any{call("call_0", "lookup", `{"rock":"granite"}`)}},
			{content: "Granite forms from slowly cooling magma [1]."},
			{toolCalls: []map[string]any{call("call_0", "lookup", `{"rock":"granite"}`)}},
		}}
		var r struct {
			Call struct {
				FinishReason string  `json:"finish_reason"`
				Content      *string `json:"content"`
				Calls        []struct{ ID, Name, Arguments string }
			} `json:"call"`
			Answer struct {
				FinishReason string `json:"finish_reason"`
				Content      string `json:"content"`
			} `json:"answer"`
			Stream struct {
				FinishReason string `json:"finish_reason"`
				Calls        []struct{ ID, Name, Arguments string }
			} `json:"stream"`
		}
		runPython(t, py, &quarry.LLMConfig{URL: faultyLLM(t, m.serve), Model: "scripted", Provider: quarry.ProviderOpenAI}, "tools", &r)
		if c := r.Call; c.FinishReason != "tool_calls" || c.Content != nil || len(c.Calls) != 1 || c.Calls[0].Name != "lookup" ||
			c.Calls[0].Arguments != `{"rock":"granite"}` || !strings.HasPrefix(c.Calls[0].ID, "call_") {
			t.Errorf("tool call as the SDK saw it: %+v", c)
		}
		if r.Answer.FinishReason != "stop" || !strings.Contains(r.Answer.Content, "Granite forms") {
			t.Errorf("answer after the tool's result: %+v", r.Answer)
		}
		msgs := m.body(1)["messages"].([]any)
		if last := msgs[len(msgs)-1].(map[string]any); last["role"] != "tool" || last["tool_call_id"] != r.Call.Calls[0].ID {
			t.Errorf("the model got %v last, want the tool's result for %s", last, r.Call.Calls[0].ID)
		}
		if s := r.Stream; s.FinishReason != "tool_calls" || len(s.Calls) != 1 || s.Calls[0].Name != "lookup" || s.Calls[0].Arguments != `{"rock":"granite"}` {
			t.Errorf("streamed tool call as the SDK put it together: %+v", s)
		}
	})
	t.Run("decoding", func(t *testing.T) {
		cfg := realLLM(t)
		cfg.Timeout = 20 * time.Minute // the shared small model queues behind other callers
		var r struct {
			Seeded []struct {
				Content          string `json:"content"`
				FinishReason     string `json:"finish_reason"`
				CompletionTokens int    `json:"completion_tokens"`
			} `json:"seeded"`
			JSON struct {
				Content string `json:"content"`
				Parsed  any    `json:"parsed"`
				Error   string `json:"error"`
			} `json:"json"`
		}
		runPython(t, py, &cfg, "decoding", &r)
		if len(r.Seeded) != 2 || r.Seeded[0].Content == "" || r.Seeded[0].Content != r.Seeded[1].Content {
			t.Errorf("temperature 0 and a seed twice gave %+v, want the same answer", r.Seeded)
		}
		for _, s := range r.Seeded {
			if s.CompletionTokens < 1 || s.CompletionTokens > 6 {
				t.Errorf("max_tokens 6: completion_tokens %d", s.CompletionTokens)
			}
		}
		if obj, ok := r.JSON.Parsed.(map[string]any); !ok {
			t.Errorf("JSON mode: content %q parsed as %v (error %q), want a JSON object", r.JSON.Content, r.JSON.Parsed, r.JSON.Error)
		} else if _, ok := obj["igneous"].(bool); !ok || len(obj) != 1 {
			t.Errorf("JSON mode: %v does not match the schema", obj)
		}
	})
}

// runPython serves the rocks corpus with the language model cfg on a real
// port and runs testdata/openai_structured.py in mode, decoding its output
// into out.
func runPython(t *testing.T, py string, cfg *quarry.LLMConfig, mode string, out any) {
	t.Helper()
	eng, err := quarry.Open(t.TempDir(), &quarry.Options{LLM: *cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx := context.Background()
	col, err := eng.EnsureCollection(ctx, "rocks")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := col.Upsert(ctx, []quarry.Document{
		{ID: "granite", Title: "Granite", Text: "Granite forms from slowly cooling magma deep underground. It is rich in quartz and feldspar."},
		{ID: "basalt", Title: "Basalt", Text: "Basalt forms when lava cools quickly at the surface. It is dark and fine grained."},
	}, nil); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	// The shared model may queue a call for many minutes: no write
	// deadline shorter than the script's.
	go func() { served <- New(eng, Options{WriteTimeout: 40 * time.Minute}).Serve(sctx, ln) }()
	defer func() { stop(); <-served }()
	rctx, cancel := context.WithTimeout(ctx, 40*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(rctx, py, filepath.Join("testdata", "openai_structured.py"), "http://"+ln.Addr().String()+"/v1", "rocks", granite, mode)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("openai_structured.py %s: %v\n%s", mode, err, stderr.Bytes())
	}
	t.Logf("%s", b)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}

// TestChatToolsUnsupported: a model that refuses tools (Ollama: "does not
// support tools", the local Gemma 3 270M's answer) is a 400 on tools.
func TestChatToolsUnsupported(t *testing.T) {
	url := faultyLLM(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":{"message":"registry.ollama.ai/library/gemma3:270m does not support tools","type":"api_error"}}`)
	})
	h := llmHarness(t, faultCfg(url))
	r := h.do("POST", chatPath, toolChat(nil))
	if r.status != http.StatusBadRequest || r.str("error.param") != "tools" || !strings.Contains(r.str("error.message"), "does not support tool calling") {
		t.Errorf("%d %s", r.status, r.body)
	}
}

// TestChatToolsCountInTheWindow: tool definitions take room in the context
// window like the prompt's own text; too big for it is a client error
// before any model call, not a prompt the server silently truncates.
func TestChatToolsCountInTheWindow(t *testing.T) {
	m := &scriptedModel{replies: []scriptedReply{{content: "x"}}}
	cfg := faultCfg(faultyLLM(t, m.serve))
	cfg.ContextWindow = 1024
	h := llmHarness(t, cfg)
	big := map[string]any{"type": "function", "function": map[string]any{"name": "big", "description": strings.Repeat("word ", 800)}}
	r := h.do("POST", chatPath, toolChat(map[string]any{"tools": []any{big, lookupTool}}))
	if r.status/100 != 4 || r.str("error.param") != "context_window" || m.calls() != 0 {
		t.Errorf("%d %s after %d model calls", r.status, r.body, m.calls())
	}
	if r := h.do("POST", chatPath, toolChat(nil)); r.status != http.StatusOK {
		t.Errorf("small tools: %d %s", r.status, r.body)
	}
}
