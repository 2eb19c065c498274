package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeAgentModel is a scripted model server (a FAKE, replaying a tool-call
// script): OpenAI /v1/chat/completions that searches once, then answers
// citing [1].
func fakeAgentModel(t *testing.T) *httptest.Server {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		msg := map[string]any{"content": "Deleting removes its chunks [1]."}
		if n.Add(1)%2 == 1 {
			msg = map[string]any{"content": "", "tool_calls": []any{map[string]any{"id": "c1", "type": "function",
				"function": map[string]any{"name": "search", "arguments": `{"query":"delete chunks"}`}}}}
		}
		json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": msg, "finish_reason": "stop"}}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCLIAgent(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(t.TempDir(), "deletes.md")
	writeFile(t, doc, "# Deletes\n\nDeleting a document removes its chunks and postings.\n")
	if _, stderr, code := cli(t, dir, "ingest", doc); code != 0 {
		t.Fatalf("ingest: %s", stderr)
	}
	// No model: a one-line usage error.
	t.Setenv("QUARRY_LLM_URL", "")
	if _, stderr, code := cli(t, dir, "agent", "how are deletes handled?"); code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "needs a language model") {
		t.Errorf("without a model: %d %q", code, stderr)
	}
	m := fakeAgentModel(t)
	args := []string{"agent", "--llm-url", m.URL, "--llm-model", "fake", "--session", "chat1"}
	out, stderr, code := cli(t, dir, append(args, "how are deletes handled?")...)
	if code != 0 || !strings.Contains(out, "Deleting removes its chunks [1].") || !strings.Contains(out, "[1] deletes.md") {
		t.Fatalf("agent: %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	if !strings.Contains(stderr, "→ search") || !strings.Contains(stderr, "← ") {
		t.Errorf("steps were not streamed: %s", stderr)
	}
	// The session was kept and continues.
	out, _, code = cli(t, dir, append(args, "--json", "and chunks?")...)
	var res struct {
		State string `json:"state"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.State != "answered" {
		t.Fatalf("second turn: %d %s", code, out)
	}
	if _, stderr, code := cli(t, dir, "agent", "--llm-url", m.URL, "--llm-model", "fake", "--pipeline", "chain", "x"); code != 2 {
		t.Errorf("bad pipeline: %d %s", code, stderr)
	}
	if _, stderr, code := cli(t, dir, "agent", "--llm-url", m.URL, "--llm-model", "fake", "--steps", "1000", "x"); code != 2 || !strings.Contains(stderr, "budget.steps") {
		t.Errorf("bad budget: %d %s", code, stderr)
	}
	if _, stderr, code := cli(t, dir, "agent", "--llm-url", m.URL, "--llm-model", "fake", "--session", "../x", "x"); code != 2 {
		t.Errorf("bad session id: %d %s", code, stderr)
	}
}
