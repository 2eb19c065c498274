package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/quarry-rag/quarry"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// harness is a Server over a real engine in a temporary directory, behind
// an httptest server. Every response it sees is checked against
// openapi.json, and so is the request body of every 2xx response.
type harness struct {
	t   *testing.T
	eng *quarry.Engine
	srv *Server
	ts  *httptest.Server
	// header is added to every request (an API key).
	header http.Header
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	return newHarnessEngine(t, opts, nil)
}

// newHarnessEngine is newHarness with engine options (a language model).
func newHarnessEngine(t *testing.T, opts Options, engOpts *quarry.Options) *harness {
	t.Helper()
	eng, err := quarry.Open(t.TempDir(), engOpts)
	if err != nil {
		t.Fatal(err)
	}
	srv := New(eng, opts)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		ctx := context.Background()
		for _, name := range eng.Collections() {
			if c, err := eng.Collection(context.Background(), name); err == nil {
				if err := c.Verify(ctx); err != nil {
					t.Errorf("collection %s inconsistent at the end of the test: %v", name, err)
				}
			}
		}
		if err := eng.Close(); err != nil {
			t.Errorf("closing the engine: %v", err)
		}
	})
	return &harness{t: t, eng: eng, srv: srv, ts: ts}
}

// response is a decoded HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any // nil unless the body is a JSON object
}

// str returns the string at a dotted path of the JSON body ("error.code").
func (r *response) get(path string) any {
	var cur any = r.json
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func (r *response) str(path string) string {
	s, _ := r.get(path).(string)
	return s
}

func (r *response) list(path string) []any {
	l, _ := r.get(path).([]any)
	return l
}

// do sends a JSON request: body is marshalled unless it is a string or
// []byte, which are sent as they are.
func (h *harness) do(method, path string, body any) *response {
	h.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			h.t.Fatal(err)
		}
	}
	ct := ""
	if body != nil {
		ct = "application/json"
	}
	return h.doRaw(method, path, ct, raw)
}

func (h *harness) doRaw(method, path, contentType string, body []byte) *response {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, h.ts.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range h.header {
		req.Header[k] = v
	}
	res, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	r := &response{status: res.StatusCode, header: res.Header, body: b}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &r.json); err != nil && method != http.MethodHead {
			h.t.Fatalf("%s %s: response is not a JSON object: %v\n%s", method, path, err, b)
		}
	}
	h.conform(req, body, r)
	return r
}

// mustStatus fails the test unless r has the status.
func (r *response) mustStatus(t *testing.T, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

// wantError checks an error response: status, code and field.
func wantError(t *testing.T, r *response, status int, code, field string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d; body: %s", r.status, status, r.body)
		return
	}
	if got := r.str("error.code"); got != code {
		t.Errorf("error.code %q, want %q; body: %s", got, code, r.body)
	}
	if got := r.str("error.field"); got != field {
		t.Errorf("error.field %q, want %q; body: %s", got, field, r.body)
	}
	if r.str("error.message") == "" {
		t.Errorf("error.message is empty; body: %s", r.body)
	}
}

// upsert writes documents through the API and returns the results.
func (h *harness) upsert(col string, docs ...map[string]any) []any {
	h.t.Helper()
	r := h.do("POST", "/v1/collections/"+col+"/documents", map[string]any{"documents": docs})
	r.mustStatus(h.t, http.StatusOK)
	return r.list("results")
}

// hitIDs returns the doc_id of each element of a result list.
func hitIDs(list []any) []string {
	ids := make([]string, 0, len(list))
	for _, x := range list {
		ids = append(ids, fmt.Sprint(x.(map[string]any)["doc_id"]))
	}
	return ids
}
