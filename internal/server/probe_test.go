package server

// Each probe quoted under "Why" in the security issue, as a test that fails
// on the code before the boundary and passes after.

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/auth"
)

// recorder is a scripted upstream (an attacker's server) that records the
// Authorization headers it receives.
type recorder struct {
	mu    sync.Mutex
	auths []string
	hits  atomic.Int64
}

func (rec *recorder) server(t *testing.T) string {
	return faultyLLM(t, func(w http.ResponseWriter, r *http.Request) {
		rec.hits.Add(1)
		rec.mu.Lock()
		rec.auths = append(rec.auths, r.Header.Get("Authorization"))
		rec.mu.Unlock()
		http.Error(w, `{"error":"no"}`, http.StatusBadRequest)
	})
}

// TestProbeSSRFRefused: a collection naming a URL the operator did not
// allow is a 400 naming the field, and nothing is called.
func TestProbeSSRFRefused(t *testing.T) {
	var rec recorder
	attacker := rec.server(t)
	h := newHarnessEngine(t, Options{}, &quarry.Options{AllowURLs: []string{}, LLM: quarry.LLMConfig{URL: "http://127.0.0.1:1", Model: "m", APIKey: "server-secret"}, EmbeddingAPIKey: "embed-secret"})
	wantError(t, h.do("PUT", "/v1/collections/x", map[string]any{"llm": map[string]any{"url": attacker + "/x", "model": "m"}}), 400, codeInvalid, "llm.url")
	wantError(t, h.do("PUT", "/v1/collections/x", map[string]any{"embedding": "ollama:" + attacker + "/emb?model=x"}), 400, codeInvalid, "embedding")
	wantError(t, h.do("PUT", "/v1/collections/x", map[string]any{"embedding": "openai:http://127.0.0.1:1.evil.example/v1?model=x"}), 400, codeInvalid, "embedding")
	if rec.hits.Load() != 0 {
		t.Fatalf("the attacker's server was called %d times", rec.hits.Load())
	}
	// The operator's own model URL is allowed.
	h.do("PUT", "/v1/collections/y", map[string]any{"llm": map[string]any{"url": "http://127.0.0.1:1/v1", "model": "other"}}).mustStatus(t, http.StatusCreated)
}

// TestProbeNoDirectoryProbing: "local:/etc" and a missing path answer the
// same, so the API cannot map the server's directories.
func TestProbeNoDirectoryProbing(t *testing.T) {
	h := newHarnessEngine(t, Options{}, &quarry.Options{AllowURLs: []string{}})
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), []byte("{}"), 0o644)
	var bodies []string
	for _, spec := range []string{"local:/etc", "local:/no/such/dir", "local:" + dir, "/etc", "../../etc", "local:..", "./x"} {
		r := h.do("PUT", "/v1/collections/x", map[string]any{"embedding": spec})
		wantError(t, r, 400, codeInvalid, "embedding")
		bodies = append(bodies, r.str("error.message"))
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Fatalf("answers differ by path:\n%s\n%s", bodies[0], b)
		}
	}
	r := h.do("PUT", "/v1/collections/x", map[string]any{"reranker": "/etc"})
	wantError(t, r, 400, codeInvalid, "reranker")
}

// TestProbeCredentialsStayHome: a collection that names another URL (made
// before the policy, or by the operator's CLI) never receives the server's
// API keys.
func TestProbeCredentialsStayHome(t *testing.T) {
	var rec recorder
	attacker := rec.server(t)
	dir := t.TempDir()
	eng, err := quarry.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := eng.CreateCollection(context.Background(), "x", &quarry.CollectionConfig{LLM: quarry.CollectionLLM{URL: attacker + "/v1", Model: "m", Provider: quarry.ProviderOpenAI}}); err != nil {
		t.Fatal(err)
	}
	eng.Close()
	eng, err = quarry.Open(dir, &quarry.Options{AllowURLs: []string{}, LLM: quarry.LLMConfig{URL: "http://127.0.0.1:1/v1", Model: "m", APIKey: "server-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	col, _ := eng.Collection(context.Background(), "x")
	col.Upsert(context.Background(), []quarry.Document{{ID: "d", Text: "granite forms from magma"}}, nil)
	col.Ask(context.Background(), quarry.AskRequest{Question: "how does granite form?", Method: quarry.MethodLLM})
	if rec.hits.Load() == 0 {
		t.Fatal("the probe did not reach the collection's model; it proves nothing")
	}
	for _, a := range rec.auths {
		if strings.Contains(a, "server-secret") {
			t.Fatalf("the server's LLM key went to a URL the operator did not allow: %q", a)
		}
	}
}

// TestProbeHostRebinding: a request whose Host is not an allowed name (a
// DNS-rebinding page) is refused; probes still answer.
func TestProbeHostRebinding(t *testing.T) {
	h := newHarness(t, Options{})
	for _, host := range []string{"attacker.example", "attacker.example:80", "127.0.0.1.nip.io"} {
		req, _ := http.NewRequest("GET", h.ts.URL+"/v1/collections", nil)
		req.Host = host
		res, err := h.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("Host %s: status %d, want 403", host, res.StatusCode)
		}
	}
	for path, host := range map[string]string{"/healthz": "10.1.2.3:8080", "/v1/collections": "localhost:8080"} {
		req, _ := http.NewRequest("GET", h.ts.URL+path, nil)
		req.Host = host
		res, err := h.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s with Host %s: %d", path, host, res.StatusCode)
		}
	}
}

// TestProbeCacheKeyPrincipals: ["alice\u0000bob"] does not read the cached
// answer of ["alice","bob"].
func TestProbeCacheKeyPrincipals(t *testing.T) {
	h := newHarness(t, Options{})
	h.upsert("c", map[string]any{"id": "s", "text": secretText, "acl": []string{"bob"}})
	q := map[string]any{"question": "what is the zebracorn launch code?", "method": "extractive"}
	r := h.do("POST", "/v1/collections/c/ask", with(q, map[string]any{"principals": []string{"alice", "bob"}})).mustStatus(t, 200)
	if !strings.Contains(string(r.body), "7741") {
		t.Fatalf("bob's answer lacks the secret: %s", r.body)
	}
	r = h.do("POST", "/v1/collections/c/ask", with(q, map[string]any{"principals": []string{"alice\u0000bob"}})).mustStatus(t, 200)
	if strings.Contains(string(r.body), "7741") {
		t.Fatalf("LEAK through the answer cache: %s", r.body)
	}
}

// TestProbeStrictInput: invalid UTF-8, lone surrogates, out-of-range
// numbers, unknown query parameters and tiny chunks are refused.
func TestProbeStrictInput(t *testing.T) {
	h := newHarness(t, Options{})
	h.upsert("c", map[string]any{"id": "a", "text": "granite"})
	// Two raw ids that json would both turn into "\uFFFD".
	r := h.doRaw("POST", "/v1/collections/c/documents", "application/json", []byte("{\"id\":\"\xff\",\"text\":\"x\"}"))
	wantError(t, r, 400, codeInvalid, "")
	r = h.doRaw("POST", "/v1/collections/c/documents", "application/json", []byte(`{"id":"\udc00","text":"x"}`))
	wantError(t, r, 400, codeInvalid, "")
	r = h.doRaw("POST", "/v1/collections/c/documents", "application/json", []byte(`{"id":"\ud800x","text":"x"}`))
	wantError(t, r, 400, codeInvalid, "")
	// A proper surrogate pair and escaped backslashes are fine.
	h.doRaw("POST", "/v1/collections/c/documents", "application/json", []byte(`{"id":"\ud83d\ude00","text":"x \\udc00"}`)).mustStatus(t, 200)
	for _, v := range []float64{-1, 1e308, 0.5} {
		wantError(t, h.do("POST", "/v1/collections/c/search", map[string]any{"query": "granite", "rrf_k": v}), 400, codeInvalid, "rrf_k")
	}
	wantError(t, h.do("GET", "/v1/collections/c/documents/a?tenat=x", nil), 400, codeInvalid, "tenat")
	wantError(t, h.do("POST", "/v1/collections/c/search?debug=1", map[string]any{"query": "granite"}), 400, codeInvalid, "debug")
	wantError(t, h.do("PUT", "/v1/collections/tiny", map[string]any{"chunking": map[string]any{"size": 1}}), 400, codeInvalid, "chunking.size")
	wantError(t, h.do("POST", "/v1/collections/c/search", map[string]any{"query": "granite", "tenant": strings.Repeat("t", 300)}), 400, codeInvalid, "tenant")
	wantError(t, h.do("POST", "/v1/collections/c/ask", map[string]any{"question": "granite?", "model": strings.Repeat("m", 300)}), 400, codeInvalid, "model")
	wantError(t, h.do("POST", "/v1/collections/c/documents", map[string]any{"id": "b", "text": "x", "title": strings.Repeat("t", 5000)}), 400, codeInvalid, "title")
	wantError(t, h.do("POST", "/v1/collections/c/documents", map[string]any{"id": "b", "text": "x", "tenant": strings.Repeat("t", 300)}), 400, codeInvalid, "tenant")
	acl := make([]string, 300)
	for i := range acl {
		acl[i] = fmt.Sprint("p", i)
	}
	wantError(t, h.do("POST", "/v1/collections/c/documents", map[string]any{"id": "b", "text": "x", "acl": acl}), 400, codeInvalid, "acl")
	wantError(t, h.do("POST", "/v1/collections/c/documents", map[string]any{"id": "b", "text": "x", "metadata": map[string]any{strings.Repeat("k", 300): 1}}), 400, codeInvalid, "metadata")
}

// TestProbeDeepFilter: a filter nested 9,990 levels deep (80 KB) is
// refused in well under 10 ms instead of costing seconds of CPU.
func TestProbeDeepFilter(t *testing.T) {
	h := newHarness(t, Options{})
	h.upsert("c", map[string]any{"id": "a", "text": "granite"})
	body := `{"query":"granite","filter":` + strings.Repeat(`{"not":`, 9990) + `{"field":"x","op":"eq","value":1}` + strings.Repeat("}", 9990) + "}"
	start := time.Now()
	r := h.doRaw("POST", "/v1/collections/c/search", "application/json", []byte(body))
	took := time.Since(start)
	wantError(t, r, 400, codeInvalid, "filter")
	t.Logf("9,990-deep filter (%d bytes) refused in %v (round trip)", len(body), took)
	if took > 10*time.Millisecond {
		t.Errorf("refusing the deep filter took %v, want < 10ms", took)
	}
}

// TestProbeUpstream502: an embedding server that is down is a 502, not a
// 500.
func TestProbeUpstream502(t *testing.T) {
	dead := faultyLLM(t, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	h := newHarnessEngine(t, Options{}, &quarry.Options{AllowURLs: []string{dead}})
	// A dimension in the spec: the server is not asked for it at creation.
	h.do("PUT", "/v1/collections/e", map[string]any{"embedding": "tei:" + dead + "?dim=8"}).mustStatus(t, http.StatusCreated)
	r := h.do("POST", "/v1/collections/e/documents", map[string]any{"id": "a", "text": "granite"})
	wantError(t, r, 502, codeUpstream, "")
}

// TestProbeGoErrorsAreJSON: net/http's own 431 and 400 come back as JSON.
func TestProbeGoErrorsAreJSON(t *testing.T) {
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	srv := New(eng, Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	for name, raw := range map[string]string{
		"431": "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + strings.Repeat("a", 100<<10) + "\r\n\r\n",
		"400": "GET /healthz HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n",
	} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte(raw))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b := make([]byte, 4096)
		n, _ := res.Body.Read(b)
		c.Close()
		if fmt.Sprint(res.StatusCode) != name || res.Header.Get("Content-Type") != "application/json" || !strings.HasPrefix(string(b[:n]), `{"error":{"code":`) {
			t.Errorf("%s: %d %q %s", name, res.StatusCode, res.Header.Get("Content-Type"), b[:n])
		}
	}
}

// TestAuthErrors: malformed, unknown, expired and revoked keys, keys in
// the wrong header, and a flood of bad keys: JSON 401s, then 429s per
// address; a good key from the same address is also held back while the
// address is throttled, and /metrics counts the failures.
func TestAuthErrors(t *testing.T) {
	st, _ := auth.Open(t.TempDir())
	admin := mustKey(t, st, auth.Spec{Role: auth.RoleAdmin})
	read := mustKey(t, st, auth.Spec{Role: auth.RoleRead, Rate: auth.Rate{PerSecond: 1, Burst: 2}})
	revoked := mustKey(t, st, auth.Spec{Role: auth.RoleRead})
	id, _, _ := auth.ParseToken(revoked)
	st.Revoke(id)
	h := newHarness(t, Options{Keys: st})
	k := &keyring{harness: h}
	for name, hdr := range map[string]http.Header{
		"none":         {},
		"wrong-header": {"X-Api-Key": {admin}},
		"basic":        {"Authorization": {"Basic " + admin}},
		"malformed":    {"Authorization": {"Bearer qk_nope"}},
		"unknown":      {"Authorization": {"Bearer qk_0123456789abcdef_" + strings.Repeat("A", 43)}},
		"revoked":      {"Authorization": {"Bearer " + revoked}},
		"huge":         {"Authorization": {"Bearer " + strings.Repeat("a", 10000)}},
	} {
		h.header = hdr
		r := h.do("GET", "/v1/collections", nil)
		wantError(t, r, 401, codeUnauthenticated, "")
		_ = name
	}
	// Role too low: 403.
	wantError(t, k.as(read).do("PUT", "/v1/collections/x", map[string]any{}), 403, codeForbidden, "")
	// Per-key rate: burst 2 then 429 with Retry-After.
	k.as(read).do("GET", "/v1/collections", nil)
	r := k.as(read).do("GET", "/v1/collections", nil)
	if r.status == 200 {
		r = k.as(read).do("GET", "/v1/collections", nil)
	}
	wantError(t, r, 429, codeRateLimited, "")
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Metrics need admin.
	wantError(t, k.as(read).do("GET", "/metrics", nil), 403, codeForbidden, "")
	// A flood of bad keys from one address: after the burst, 429.
	var last *response
	for i := 0; i < failBurst+5; i++ {
		last = k.as("qk_0123456789abcdef_"+strings.Repeat("B", 43)).do("GET", "/v1/collections", nil)
	}
	wantError(t, last, 429, codeRateLimited, "")
	// The server stays open to probes.
	k.as("").do("GET", "/healthz", nil).mustStatus(t, 200)
}

// TestConcurrentRevocation: requests racing a revocation either succeed
// or get 401 (or 429 once the address has failed authentication 20 times,
// the documented throttle); none fails otherwise, and after the reload
// interval the key is refused.
func TestConcurrentRevocation(t *testing.T) {
	dir := t.TempDir()
	st, _ := auth.Open(dir)
	k, tok, _ := st.Create(auth.Spec{Role: auth.RoleRead})
	h := newHarness(t, Options{Keys: st})
	var wg sync.WaitGroup
	var bad atomic.Int64
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				req, _ := http.NewRequest("GET", h.ts.URL+"/v1/collections", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := h.ts.Client().Do(req)
				if err != nil {
					bad.Add(1)
					continue
				}
				res.Body.Close()
				if res.StatusCode != 200 && res.StatusCode != 401 && res.StatusCode != 429 {
					bad.Add(1)
				}
			}
		}()
	}
	other, _ := auth.Open(dir)
	other.Revoke(k.ID)
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d requests failed with something other than 200/401/429", bad.Load())
	}
	time.Sleep(auth.ReloadEvery + 100*time.Millisecond)
	req, _ := http.NewRequest("GET", h.ts.URL+"/v1/collections", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := h.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == 429 { // the address is throttled: wait as told, then ask once more
		wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
		time.Sleep(time.Duration(wait)*time.Second + 100*time.Millisecond)
		req, _ = http.NewRequest("GET", h.ts.URL+"/v1/collections", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if res, err = h.ts.Client().Do(req); err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	if res.StatusCode != 401 {
		t.Fatalf("a revoked key still works after %v: %d", auth.ReloadEvery, res.StatusCode)
	}
}

// TestProbeTenantLanguage: a search that found a document still finds it
// after another tenant adds 20 French documents (the query's fallback
// language is its own tenant's, not the collection's).
func TestProbeTenantLanguage(t *testing.T) {
	h := newHarness(t, Options{})
	h.upsert("c",
		map[string]any{"id": "en1", "text": "The pipeline runs every night and reports failures.", "tenant": "A"},
		map[string]any{"id": "en2", "text": "Backups are copied to a second region.", "tenant": "A"})
	search := func() []string {
		r := h.do("POST", "/v1/collections/c/search", map[string]any{"query": "running", "tenant": "A"}).mustStatus(t, 200)
		return hitIDs(r.list("results"))
	}
	if got := search(); len(got) == 0 || got[0] != "en1" {
		t.Fatalf("before: %v", got)
	}
	var fr []map[string]any
	for i := range 20 {
		fr = append(fr, map[string]any{"id": fmt.Sprint("fr", i), "tenant": "B", "text": "Le chat dort sur le canapé pendant que la pluie tombe doucement sur la ville."})
	}
	h.upsert("c", fr...)
	if got := search(); len(got) == 0 || got[0] != "en1" {
		t.Fatalf("after another tenant's French documents, tenant A's search finds %v", got)
	}
}

// TestBM25SharedStatistics measures the stance docs/security.md states:
// BM25 statistics are collection-wide, so the score of a tenant's own
// document moves when another tenant adds documents with the same term (a
// document-frequency side channel); no other tenant's document, text or id
// is ever returned.
func TestBM25SharedStatistics(t *testing.T) {
	h := newHarness(t, Options{})
	var docs []map[string]any
	for i := range 50 {
		docs = append(docs, map[string]any{"id": fmt.Sprint("a", i), "tenant": "A", "text": fmt.Sprintf("Routine maintenance note number %d for the archive.", i)})
	}
	docs = append(docs, map[string]any{"id": "mine", "tenant": "A", "text": "The merger with Orbitex closes in March."})
	h.upsert("c", docs...)
	score := func() float64 {
		r := h.do("POST", "/v1/collections/c/search", map[string]any{"query": "orbitex", "tenant": "A"}).mustStatus(t, 200)
		l := r.list("results")
		if len(l) != 1 || l[0].(map[string]any)["doc_id"] != "mine" {
			t.Fatalf("tenant A sees %s", r.body)
		}
		return l[0].(map[string]any)["score"].(float64)
	}
	before := score()
	total := 0
	for _, n := range []int{1, 5, 20} {
		total += n
		var other []map[string]any
		for i := range n {
			other = append(other, map[string]any{"id": fmt.Sprintf("b%d-%d", n, i), "tenant": "B", "text": "Orbitex due diligence memo."})
		}
		h.upsert("c", other...)
		after := score()
		t.Logf("tenant B holds %2d documents with the term: tenant A's score %.4f -> %.4f (%+.1f%%)", total, before, after, 100*(after-before)/before)
		if after >= before {
			t.Errorf("the measured side channel is not there (score %v -> %v); update docs/security.md", before, after)
		}
	}
}

// TestProbeCollectionCap: clients cannot create collections without bound
// (each holds a directory and file descriptors). Past MaxCollections a PUT
// or an implicit create by upsert is a 403 JSON error naming the limit, and
// the existing collections keep working.
func TestProbeCollectionCap(t *testing.T) {
	h := newHarness(t, Options{MaxCollections: 3})
	for i := 0; i < 3; i++ {
		h.do("PUT", fmt.Sprintf("/v1/collections/c%d", i), map[string]any{}).mustStatus(t, http.StatusCreated)
	}
	wantError(t, h.do("PUT", "/v1/collections/c3", map[string]any{}), 403, codeForbidden, "")
	r := h.do("POST", "/v1/collections/c4/documents", map[string]any{"id": "a", "text": "granite"})
	wantError(t, r, 403, codeForbidden, "")
	if !strings.Contains(string(r.body), "MaxCollections") {
		t.Errorf("the error does not name the limit: %s", r.body)
	}
	if n := len(h.do("GET", "/v1/collections", nil).mustStatus(t, 200).list("collections")); n != 3 {
		t.Errorf("%d collections after refused creates, want 3", n)
	}
	h.upsert("c0", map[string]any{"id": "a", "text": "granite"})
}
