package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/agent"
	"github.com/quarry-rag/quarry/internal/llm"
	"github.com/quarry-rag/quarry/internal/tools"
)

// fakeToolModel is a scripted model server (a FAKE: tool-call scripts a
// real model cannot be made to follow): OpenAI /v1/chat/completions that
// first calls search, then answers citing [1]. With slow set it stalls
// until the client leaves.
type fakeToolModel struct {
	calls atomic.Int32
	slow  bool
}

func (f *fakeToolModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	n := f.calls.Add(1)
	if f.slow {
		<-r.Context().Done()
		return
	}
	msg := map[string]any{"content": "The index drops them [1]."}
	if n%2 == 1 {
		msg = map[string]any{"content": "", "tool_calls": []any{map[string]any{"id": "c1", "type": "function",
			"function": map[string]any{"name": "search", "arguments": `{"query":"deletes"}`}}}}
	}
	json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": msg, "finish_reason": "stop"}},
		"usage": map[string]int{"prompt_tokens": 50, "completion_tokens": 5}})
}

func agentHarness(t *testing.T, f *fakeToolModel) *harness {
	t.Helper()
	var opts Options
	if f != nil {
		ms := httptest.NewServer(f)
		t.Cleanup(ms.Close)
		opts.Agent = &AgentOptions{Model: agent.ModelFor("fake", llm.NewOpenAI(ms.URL, &llm.Options{MaxRetries: -1}), llm.Params{})}
	}
	h := newHarness(t, opts)
	c, err := h.eng.EnsureCollection(context.Background(), "docs")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Upsert(context.Background(), []quarry.Document{
		{ID: "d1", Title: "Deletes", Text: "Deleting a document removes its chunks and postings."},
		{ID: "b1", Title: "B", Text: "Tenant B deletes its secret backups.", Tenant: "B"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestAgentEndpointJSON(t *testing.T) {
	h := agentHarness(t, &fakeToolModel{})
	r := h.do("POST", "/v1/collections/docs/agent", map[string]any{"task": "how are deletes handled?"}).mustStatus(t, http.StatusOK)
	if r.str("state") != "answered" || len(r.list("citations")) != 1 {
		t.Fatalf("%s", r.body)
	}
	if r.list("citations")[0].(map[string]any)["doc_id"] != "d1" {
		t.Errorf("citation %v", r.list("citations")[0])
	}
	// Tenant B's document stayed out of a shared-tenant run.
	if strings.Contains(string(r.body), "secret backups") {
		t.Error("the shared tenant saw tenant B's document")
	}
}

func TestAgentEndpointStream(t *testing.T) {
	h := agentHarness(t, &fakeToolModel{})
	r := h.do("POST", "/v1/collections/docs/agent", map[string]any{"task": "deletes?", "stream": true}).mustStatus(t, http.StatusOK)
	evs, _ := parseSSE(t, r.body)
	var names []string
	for _, e := range evs {
		names = append(names, e.name)
	}
	if got := strings.Join(names, ","); got != "step,tool_call,observation,step,token,final" {
		t.Fatalf("events %s", got)
	}
	var final agent.Result
	if err := json.Unmarshal([]byte(evs[len(evs)-1].data), &final); err != nil || final.State != agent.StateAnswered {
		t.Fatalf("final %s %v", evs[len(evs)-1].data, err)
	}
}

func TestAgentEndpointBadInput(t *testing.T) {
	h := agentHarness(t, &fakeToolModel{})
	cases := []struct {
		body  string
		code  int
		field string
	}{
		{`{}`, 400, "task"},
		{`{"task": 7}`, 400, "task"},
		{`{"task": "x", "pipeline": "chain"}`, 400, "pipeline"},
		{`{"task": "x", "budget": {"steps": 1000}}`, 400, "budget"},
		{`{"task": "x", "budget": {"wall_seconds": 1e9}}`, 400, "budget.wall_seconds"},
		{`{"task": "x", "budget": {"steps": "many"}}`, 400, "budget.steps"},
		{`{"task": "x", "tools": ["rm"]}`, 400, "tools"},
		{`{"task": "x", "session_id": "s_nope"}`, 404, "session_id"},
		{`{"task": "x", "remember": true}`, 400, "remember"},
		{`{"task": "` + strings.Repeat("x", agent.MaxTaskBytes+1) + `"}`, 413, "task"},
	}
	for _, c := range cases {
		r := h.do("POST", "/v1/collections/docs/agent", c.body)
		if r.status != c.code || r.str("error.field") != c.field {
			t.Errorf("%.60s: %d %s, want %d field %s", c.body, r.status, r.body, c.code, c.field)
		}
	}
	h.do("POST", "/v1/collections/nope/agent", `{"task":"x"}`).mustStatus(t, 404)
	// Without a model the endpoint says so.
	h2 := agentHarness(t, nil)
	if r := h2.do("POST", "/v1/collections/docs/agent", `{"task":"x"}`); r.status != 503 || !strings.Contains(r.str("error.message"), "no language model") {
		t.Errorf("no model: %d %s", r.status, r.body)
	}
}

// TestAgentClientDisconnect: a client that leaves mid-run ends the run; the
// handler returns and nothing leaks (goleak in TestMain).
func TestAgentClientDisconnect(t *testing.T) {
	f := &fakeToolModel{slow: true}
	h := agentHarness(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", h.ts.URL+"/v1/collections/docs/agent", strings.NewReader(`{"task":"x","stream":true}`))
	req.Header.Set("Content-Type", "application/json")
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	for f.calls.Load() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	// The server still serves.
	h.do("GET", "/healthz", nil).mustStatus(t, 200)
}

func TestSessionEndpoints(t *testing.T) {
	h := agentHarness(t, &fakeToolModel{})
	r := h.do("POST", "/v1/agent/sessions?tenant=A", nil).mustStatus(t, http.StatusCreated)
	id := r.str("id")
	if !strings.HasPrefix(id, "s_") {
		t.Fatalf("%s", r.body)
	}
	if l := h.do("GET", "/v1/agent/sessions?tenant=A", nil).mustStatus(t, 200).list("sessions"); len(l) != 1 {
		t.Errorf("list: %v", l)
	}
	if l := h.do("GET", "/v1/agent/sessions?tenant=B", nil).mustStatus(t, 200).list("sessions"); len(l) != 0 {
		t.Errorf("tenant B lists A's sessions: %v", l)
	}
	h.do("GET", "/v1/agent/sessions/"+id+"?tenant=B", nil).mustStatus(t, 404)
	r = h.do("POST", "/v1/collections/docs/agent", map[string]any{"task": "deletes?", "session_id": id, "tenant": "A"}).mustStatus(t, 200)
	r = h.do("GET", "/v1/agent/sessions/"+id+"?tenant=A", nil).mustStatus(t, 200)
	if len(r.list("turns")) != 2 {
		t.Errorf("turns after a run: %s", r.body)
	}
	h.do("DELETE", "/v1/agent/sessions/"+id+"?tenant=A", nil).mustStatus(t, 200)
	h.do("GET", "/v1/agent/sessions/"+id+"?tenant=A", nil).mustStatus(t, 404)
}

// scoped wraps the server as the auth middleware will: the key's scope goes
// into the request context.
func scoped(h http.Handler, sc tools.Scope) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(tools.WithScope(r.Context(), sc)))
	})
}

// TestMCPOnServe: /mcp on the server speaks MCP to the Go SDK's client,
// with the scope from the request context.
func TestMCPOnServe(t *testing.T) {
	h := agentHarness(t, nil)
	ts := httptest.NewServer(scoped(h.srv.Handler(), tools.Scope{Tenant: "B", Role: tools.RoleRead}))
	defer ts.Close()
	ctx := context.Background()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: ts.URL + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "deletes", "collection": "docs"}})
	if err != nil || res.IsError {
		t.Fatalf("%+v %v", res, err)
	}
	out := fmt.Sprint(res.Content[0].(*mcp.TextContent).Text)
	if !strings.Contains(out, "doc_id=b1") || strings.Contains(out, "doc_id=d1") {
		t.Errorf("tenant B's search over MCP: %s", out)
	}
}
