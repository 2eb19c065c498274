package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/auth"
)

// The secret that only tenant "A" principal "alice" may read.
const (
	secretWord = "zebracorn"
	secretText = "The zebracorn launch code is 7741; only alice may read this."
	publicText = "Zebracorn sightings are reported every spring in the valley."
)

// keyring is a server with API keys, one per kind of caller.
type keyring struct {
	*harness
	admin, aliceRead, bobRead, otherTenant, aliceWrite, bobWrite, otherWrite string
	store                                                                    *auth.Store
}

func mustKey(t *testing.T, st *auth.Store, sp auth.Spec) string {
	t.Helper()
	_, tok, err := st.Create(sp)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// echoLLM is a scripted OpenAI-compatible model that answers with its
// whole prompt: whatever retrieval put in the prompt comes back in the
// answer, so a leak into the prompt is a leak into the response.
func echoLLM(t *testing.T) string {
	return faultyLLM(t, func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Stream   bool `json:"stream"`
			Messages []struct {
				Content string `json:"content"`
			} `json:"messages"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		var all []string
		for _, m := range req.Messages {
			all = append(all, m.Content)
		}
		text := strings.Join(all, "\n")
		if req.Stream {
			w.Header().Set("Content-Type", "text/event-stream")
			b, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": text}}}})
			fmt.Fprintf(w, "data: %s\n\n", b)
			b, _ = json.Marshal(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": "stop"}}})
			fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", b)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": text}, "finish_reason": "stop"}}})
	})
}

func newKeyring(t *testing.T, engOpts *quarry.Options) *keyring {
	t.Helper()
	st, err := auth.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	k := &keyring{store: st}
	k.admin = mustKey(t, st, auth.Spec{Role: auth.RoleAdmin})
	k.aliceRead = mustKey(t, st, auth.Spec{Tenant: "A", Principals: []string{"alice"}, Role: auth.RoleRead})
	k.bobRead = mustKey(t, st, auth.Spec{Tenant: "A", Principals: []string{"bob"}, Role: auth.RoleRead})
	k.otherTenant = mustKey(t, st, auth.Spec{Tenant: "B", Principals: []string{"alice"}, Role: auth.RoleRead})
	k.aliceWrite = mustKey(t, st, auth.Spec{Tenant: "A", Principals: []string{"alice"}, Role: auth.RoleWrite})
	k.bobWrite = mustKey(t, st, auth.Spec{Tenant: "A", Principals: []string{"bob"}, Role: auth.RoleWrite})
	k.otherWrite = mustKey(t, st, auth.Spec{Tenant: "B", Principals: []string{"alice"}, Role: auth.RoleWrite})
	k.harness = newHarnessEngine(t, Options{Keys: st}, engOpts)
	k.as(k.admin)
	k.upsert("c",
		map[string]any{"id": "secret", "title": "Launch", "text": secretText, "tenant": "A", "acl": []string{"alice"}},
		map[string]any{"id": "public", "title": "Sightings", "text": publicText, "tenant": "A"},
	)
	return k
}

// as makes the following requests with key ("" = none).
func (k *keyring) as(key string) *keyring {
	k.header = http.Header{}
	if key != "" {
		k.header.Set("Authorization", "Bearer "+key)
	}
	return k
}

// claim is the scope a caller claims in the body: alice of tenant A.
var claim = map[string]any{"tenant": "A", "principals": []string{"alice"}}

func with(m map[string]any, extra map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// TestLeakMatrix: every reading route × every kind of caller, each a
// subtest. The caller claims alice of tenant A in the body (or the query)
// every time; only alice's own key and the admin key may see the secret.
func TestLeakMatrix(t *testing.T) {
	k := newKeyring(t, &quarry.Options{LLM: quarry.LLMConfig{URL: echoLLM(t), Model: "echo", Provider: quarry.ProviderOpenAI}})
	q := "what is the zebracorn launch code?"
	routes := []struct {
		name, method, path string
		body               any
	}{
		{"search", "POST", "/v1/collections/c/search", with(claim, map[string]any{"query": q})},
		{"search-no-claim", "POST", "/v1/collections/c/search", map[string]any{"query": q}},
		{"search-batch", "POST", "/v1/collections/c/search", with(claim, map[string]any{"queries": []string{"sightings in spring", q}})},
		{"ask-extractive", "POST", "/v1/collections/c/ask", with(claim, map[string]any{"question": q, "method": "extractive"})},
		{"ask-llm", "POST", "/v1/collections/c/ask", with(claim, map[string]any{"question": q, "method": "llm"})},
		{"ask-stream", "POST", "/v1/collections/c/ask", with(claim, map[string]any{"question": q, "method": "llm", "stream": true})},
		{"ask-extractive-stream", "POST", "/v1/collections/c/ask", with(claim, map[string]any{"question": q, "method": "extractive", "stream": true})},
		{"chat", "POST", "/v1/chat/completions", with(claim, map[string]any{"model": "c", "messages": []any{map[string]any{"role": "user", "content": q}}})},
		{"chat-stream", "POST", "/v1/chat/completions", with(claim, map[string]any{"model": "c", "stream": true, "messages": []any{map[string]any{"role": "user", "content": q}}})},
		{"get", "GET", "/v1/collections/c/documents/secret?tenant=A&principal=alice", nil},
		{"get-chunks", "GET", "/v1/collections/c/documents/secret?tenant=A&principal=alice&chunks=true", nil},
		{"get-no-claim", "GET", "/v1/collections/c/documents/secret", nil},
		{"list-collections", "GET", "/v1/collections", nil},
		{"get-collection", "GET", "/v1/collections/c", nil},
		{"models", "GET", "/v1/models", nil},
		{"model", "GET", "/v1/models/c", nil},
	}
	callers := []struct {
		name string
		key  string
		sees bool // may see the secret
	}{
		{"no-key", "", false},
		{"other-tenant", k.otherTenant, false},
		{"right-tenant-wrong-principals", k.bobRead, false},
		{"read-key", k.aliceRead, true},
		{"admin", k.admin, true},
	}
	// Warm the answer caches with the secret first (as alice), so that
	// the cache is part of what is probed.
	for _, rt := range routes {
		if rt.method == "POST" {
			k.as(k.aliceRead).do(rt.method, rt.path, rt.body)
		}
	}
	for _, rt := range routes {
		for _, c := range callers {
			t.Run(rt.name+"/"+c.name, func(t *testing.T) {
				r := k.as(c.key).do(rt.method, rt.path, rt.body)
				leaked := strings.Contains(string(r.body), "7741")
				sees := c.sees
				if strings.HasSuffix(rt.name, "-no-claim") && c.key == k.admin {
					sees = false // an admin key naming no scope acts as its own (the shared tenant)
				}
				switch {
				case c.key == "" && r.status != http.StatusUnauthorized:
					t.Errorf("status %d without a key, want 401: %s", r.status, r.body)
				case c.key == "" && r.header.Get("WWW-Authenticate") == "":
					t.Errorf("401 without WWW-Authenticate")
				case leaked && !sees:
					t.Errorf("LEAK: status %d: %s", r.status, r.body)
				}
				if c.sees && r.status != http.StatusOK && !(rt.name == "get-no-claim" && c.key == k.admin) {
					t.Errorf("status %d for a caller in scope: %s", r.status, r.body)
				}
				if sees && (strings.HasPrefix(rt.name, "search") || strings.HasPrefix(rt.name, "ask") || rt.name == "get-chunks" || rt.name == "get-no-claim" || rt.name == "get") && !leaked {
					t.Errorf("a caller in scope does not see the secret (the probe would miss a leak): %s", r.body)
				}
				if rt.name == "get-collection" && c.key != "" && c.key != k.admin {
					var info struct {
						Stats struct {
							Documents int            `json:"documents"`
							Languages map[string]int `json:"languages"`
						} `json:"stats"`
					}
					json.Unmarshal(r.body, &info)
					if info.Stats.Documents != 0 || len(info.Stats.Languages) != 0 {
						t.Errorf("a tenant's key sees every tenant's counts: %s", r.body)
					}
				}
			})
		}
	}
}

// TestWriteMatrix: every writing route × every kind of caller. Outsiders
// neither change the secret document nor learn from an "unchanged" status
// that a guess of its text is exact.
func TestWriteMatrix(t *testing.T) {
	k := newKeyring(t, nil)
	exact := map[string]any{"id": "secret", "title": "Launch", "text": secretText, "tenant": "A", "acl": []string{"alice"}}
	exactNoTenant := map[string]any{"id": "secret", "title": "Launch", "text": secretText, "acl": []string{"alice"}}
	changed := map[string]any{"title": "Launch", "text": "overwritten by an attacker", "tenant": "A", "acl": []string{"alice"}}
	routes := []struct {
		name, method, path string
		body               any
	}{
		{"upsert-exact-guess", "POST", "/v1/collections/c/documents", exact},
		{"upsert-exact-guess-no-tenant", "POST", "/v1/collections/c/documents", exactNoTenant},
		{"upsert-batch", "POST", "/v1/collections/c/documents", map[string]any{"documents": []any{exact}}},
		{"put", "PUT", "/v1/collections/c/documents/secret", changed},
		{"delete", "DELETE", "/v1/collections/c/documents/secret", nil},
		{"create-collection", "PUT", "/v1/collections/new", map[string]any{}},
		{"implicit-collection", "POST", "/v1/collections/fresh/documents", map[string]any{"id": "x", "text": "hello"}},
	}
	callers := []struct {
		name    string
		key     string
		allowed bool
	}{
		{"no-key", "", false},
		{"other-tenant-write", k.otherWrite, false},
		{"right-tenant-wrong-principals-write", k.bobWrite, false},
		{"read-key", k.aliceRead, false},
		{"alice-write", k.aliceWrite, true},
		{"admin", k.admin, true},
	}
	for _, rt := range routes {
		for _, c := range callers {
			t.Run(rt.name+"/"+c.name, func(t *testing.T) {
				// Restore the secret document before each case.
				k.as(k.admin).do("PUT", "/v1/collections/c/documents/secret", exact).mustStatus(t, http.StatusOK)
				r := k.as(c.key).do(rt.method, rt.path, rt.body)
				allowed := c.allowed
				if strings.Contains(rt.name, "collection") {
					allowed = c.key == k.admin // only admin creates collections
				}
				if allowed {
					if r.status != http.StatusOK && r.status != http.StatusCreated {
						t.Errorf("status %d for an allowed caller: %s", r.status, r.body)
					}
					return
				}
				if r.status < 400 {
					t.Errorf("UNAUTHORISED WRITE: status %d: %s", r.status, r.body)
				}
				if strings.Contains(string(r.body), "unchanged") {
					t.Errorf("CONTENT ORACLE: an outsider learns that its guess is exact: %s", r.body)
				}
				d := k.as(k.admin).do("GET", "/v1/collections/c/documents/secret?tenant=A&principal=alice", nil)
				if d.status != http.StatusOK || d.str("text") != secretText {
					t.Errorf("the secret document changed: %d %s", d.status, d.body)
				}
			})
		}
	}
}

// TestOpenAIPythonSDKKeys: the official OpenAI SDK's api_key is the Quarry
// key. The right key reads its tenant's secret through chat completions;
// no key, a wrong key and another tenant's key get AuthenticationError (401)
// or PermissionDeniedError (403) and no secret.
func TestOpenAIPythonSDKKeys(t *testing.T) {
	py := openAIPython(t)
	k := newKeyring(t, nil)
	addr := serveReal(t, k.srv)
	cmd := exec.Command(py, filepath.Join("testdata", "openai_keys.py"), "http://"+addr+"/v1", "c", "what is the zebracorn launch code?",
		k.aliceRead, "sk-anything", "qk_0123456789abcdef_"+strings.Repeat("A", 43), k.otherTenant)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openai_keys.py: %v\n%s", err, stderr.String())
	}
	var res []struct {
		Content string `json:"content"`
		Class   string `json:"class"`
		Status  int    `json:"status"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res) != 4 {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.Contains(res[0].Content, "7741") {
		t.Errorf("alice's key: %+v", res[0])
	}
	for i, want := range []struct {
		class  string
		status int
	}{{"AuthenticationError", 401}, {"AuthenticationError", 401}, {"PermissionDeniedError", 403}} {
		if got := res[i+1]; got.Class != want.class || got.Status != want.status || strings.Contains(got.Content, "7741") {
			t.Errorf("key %d: %+v, want %s %d and no secret", i+1, got, want.class, want.status)
		}
	}
}

// TestLeakMatrixManagement: the routes added after the first matrix
// (listing, export, backup, feedback, drift, evaluations, agents and their
// sessions) × every kind of caller. Listing is scoped like search; the
// routes that hold every tenant's data need admin; an agent run with a
// scoped key never puts an out-of-scope document in front of the model.
func TestLeakMatrixManagement(t *testing.T) {
	k := newKeyring(t, &quarry.Options{LLM: quarry.LLMConfig{URL: echoLLM(t), Model: "echo", Provider: quarry.ProviderOpenAI}})
	q := "what is the zebracorn launch code?"
	type route struct {
		name, method, path string
		body               any
		adminOnly          bool // every non-admin caller gets 403
		scoped             bool // alice's read key must see the secret here
	}
	routes := []route{
		{name: "list-documents", method: "GET", path: "/v1/collections/c/documents?text=true&tenant=A&principal=alice", scoped: true},
		{name: "list-documents-filter", method: "GET", path: "/v1/collections/c/documents?text=true&tenant=A&principal=alice&filter=" + `%7B%22field%22%3A%22tenant%22%2C%22eq%22%3A%22A%22%7D`},
		{name: "export", method: "GET", path: "/v1/collections/c/export?tenant=A&principal=alice", adminOnly: true},
		{name: "backup", method: "GET", path: "/v1/collections/c/backup", adminOnly: true},
		{name: "feedback-export", method: "GET", path: "/v1/feedback", adminOnly: true},
		{name: "drift", method: "GET", path: "/v1/collections/c/drift", adminOnly: true},
		{name: "drift-window", method: "GET", path: "/v1/collections/c/drift/windows/current", adminOnly: true},
		{name: "evals", method: "GET", path: "/v1/evals", adminOnly: true},
		{name: "eval-datasets", method: "GET", path: "/v1/evals/datasets", adminOnly: true},
		{name: "sessions", method: "GET", path: "/v1/agent/sessions?tenant=A"},
		{name: "agent", method: "POST", path: "/v1/collections/c/agent", body: with(claim, map[string]any{"task": q})},
		{name: "agent-stream", method: "POST", path: "/v1/collections/c/agent", body: with(claim, map[string]any{"task": q, "stream": true})},
	}
	callers := []struct {
		name  string
		key   string
		sees  bool
		admin bool
	}{
		{"no-key", "", false, false},
		{"other-tenant", k.otherTenant, false, false},
		{"right-tenant-wrong-principals", k.bobRead, false, false},
		{"write-key-wrong-principals", k.bobWrite, false, false},
		{"read-key", k.aliceRead, true, false},
		{"admin", k.admin, true, true},
	}
	// Alice asks first, so the feedback log, drift windows and caches hold
	// her question and answer when the others probe.
	k.as(k.aliceRead).do("POST", "/v1/collections/c/ask", with(claim, map[string]any{"question": q, "method": "extractive"})).mustStatus(t, http.StatusOK)
	for _, rt := range routes {
		for _, c := range callers {
			t.Run(rt.name+"/"+c.name, func(t *testing.T) {
				r := k.as(c.key).do(rt.method, rt.path, rt.body)
				leaked := strings.Contains(string(r.body), "7741")
				switch {
				case c.key == "":
					if r.status != http.StatusUnauthorized {
						t.Errorf("status %d without a key, want 401: %s", r.status, r.body)
					}
				case rt.adminOnly && !c.admin:
					if r.status != http.StatusForbidden {
						t.Errorf("status %d for a non-admin key on an every-tenant route, want 403: %s", r.status, r.body)
					}
				}
				if leaked && !c.sees {
					t.Errorf("LEAK: status %d: %s", r.status, r.body)
				}
				if rt.scoped && c.sees && !leaked {
					t.Errorf("a caller in scope does not see the secret (the probe would miss a leak): %d %s", r.status, r.body)
				}
			})
		}
	}
}

// TestWriteMatrixManagement: the collection and session writes added after
// the first matrix. Only admin changes or drops a collection; a key cannot
// delete another tenant's agent session.
func TestWriteMatrixManagement(t *testing.T) {
	k := newKeyring(t, nil)
	for _, c := range []struct {
		name string
		key  string
	}{{"no-key", ""}, {"read-key", k.aliceRead}, {"write-key", k.aliceWrite}, {"other-tenant-write", k.otherWrite}} {
		t.Run(c.name, func(t *testing.T) {
			for _, w := range []struct{ method, path string }{
				{"PATCH", "/v1/collections/c"},
				{"DELETE", "/v1/collections/c"},
				{"POST", "/v1/evals"},
			} {
				var body any
				if w.method != "DELETE" {
					body = map[string]any{"chunk_size": 64}
				}
				r := k.as(c.key).do(w.method, w.path, body)
				if r.status != http.StatusUnauthorized && r.status != http.StatusForbidden {
					t.Errorf("%s %s: status %d, want 401/403: %s", w.method, w.path, r.status, r.body)
				}
			}
			d := k.as(k.admin).do("GET", "/v1/collections/c/documents/secret?tenant=A&principal=alice", nil)
			if d.status != http.StatusOK || d.str("text") != secretText {
				t.Fatalf("the secret document is gone after %s's writes: %d %s", c.name, d.status, d.body)
			}
		})
	}
	// Sessions: tenant A's session is invisible and undeletable to tenant B.
	r := k.as(k.aliceRead).do("POST", "/v1/agent/sessions", nil).mustStatus(t, http.StatusCreated)
	id := r.str("id")
	if id == "" {
		t.Fatalf("no session id: %s", r.body)
	}
	if r := k.as(k.otherTenant).do("DELETE", "/v1/agent/sessions/"+id+"?tenant=A", nil); r.status < 400 {
		t.Errorf("tenant B deleted tenant A's session: %d %s", r.status, r.body)
	}
	if r := k.as(k.otherTenant).do("GET", "/v1/agent/sessions/"+id+"?tenant=A", nil); r.status < 400 {
		t.Errorf("tenant B read tenant A's session: %d %s", r.status, r.body)
	}
	k.as(k.aliceRead).do("GET", "/v1/agent/sessions/"+id, nil).mustStatus(t, http.StatusOK)
}
