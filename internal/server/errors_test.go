package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry"
)

// TestErrors checks every error class through the API: status, code and
// the field path, and for malformed JSON the position in the message.
func TestErrors(t *testing.T) {
	h := newHarness(t, Options{})
	h.upsert("c", map[string]any{"id": "a", "text": "Basalt is a volcanic rock."})
	const (
		search = "/v1/collections/c/search"
		ask    = "/v1/collections/c/ask"
		docs   = "/v1/collections/c/documents"
	)
	tests := []struct {
		name         string
		method, path string
		body         any
		status       int
		code, field  string
		msgContains  string
	}{
		{"malformed JSON", "POST", search, "{\n  \"query\": \"x\",\n  }", 400, codeInvalid, "", "line 3, column 3"},
		{"truncated JSON", "POST", search, `{"query": "x"`, 400, codeInvalid, "", "unexpected end of input"},
		{"trailing data", "POST", search, `{"query":"x"} {"query":"y"}`, 400, codeInvalid, "", "after the JSON value at line 1, column 15"},
		{"trailing garbage", "POST", docs, `{"id":"a","text":"t"}x`, 400, codeInvalid, "", "after the JSON value"},
		{"not an object", "POST", search, `["x"]`, 400, codeInvalid, "", "JSON object"},
		{"null body", "POST", docs, `null`, 400, codeInvalid, "", "JSON object"},
		{"empty body", "POST", search, ``, 400, codeInvalid, "", "empty"},
		{"unknown field", "POST", search, `{"query":"x","colour":1}`, 400, codeInvalid, "colour", "unknown field"},
		{"unknown field in a batch", "POST", docs, `{"documents":[{"id":"a","text":"t"},{"id":"b","text":"t","colour":1}]}`, 400, codeInvalid, "documents[1].colour", ""},
		{"unknown nested config field", "PUT", "/v1/collections/n", `{"chunking":{"sise":5}}`, 400, codeInvalid, "chunking.sise", ""},
		{"unknown filter key", "POST", search, `{"query":"x","filter":{"feld":"y"}}`, 400, codeInvalid, "filter", "feld"},
		{"wrong type", "POST", search, `{"query":"x","k":"ten"}`, 400, codeInvalid, "k", "integer"},
		{"wrong type in an embedded struct", "POST", search, `{"query":"x","tenant":5}`, 400, codeInvalid, "tenant", "string"},
		{"wrong type in a single document", "POST", docs, `{"id":"a","text":5}`, 400, codeInvalid, "text", "string"},
		{"wrong type in a batch", "POST", docs, `{"documents":[{"id":"a","text":5}]}`, 400, codeInvalid, "documents[0].text", "string"},
		{"wrong type nested", "PUT", "/v1/collections/n", `{"bm25":{"k1":"high"}}`, 400, codeInvalid, "bm25.k1", ""},
		{"documents not an array", "POST", docs, `{"documents":{"id":"a"}}`, 400, codeInvalid, "documents", ""},
		{"bad metadata value", "POST", docs, `{"id":"a","text":"t","metadata":{"tags":["x"]}}`, 400, codeInvalid, "metadata.tags", ""},
		{"null metadata value in a batch", "POST", docs, `{"documents":[{"id":"a","text":"t","metadata":{"n":null}}]}`, 400, codeInvalid, "documents[0].metadata.n", ""},
		{"invalid document in a batch", "POST", docs, `{"documents":[{"id":"a","text":"ok"},{"id":"b","text":"  "}]}`, 400, codeInvalid, "documents[1].text", ""},
		{"single document without id", "POST", docs, `{"text":"t"}`, 400, codeInvalid, "id", ""},
		{"bad language", "POST", docs, `{"id":"x","text":"t","language":"English"}`, 400, codeInvalid, "language", ""},
		{"empty ACL entry", "POST", docs, `{"documents":[{"id":"x","text":"t","acl":["ok",""]}]}`, 400, codeInvalid, "documents[0].acl[1]", ""},
		{"document and batch", "POST", docs, `{"id":"a","documents":[{"id":"b","text":"t"}]}`, 400, codeInvalid, "documents", ""},
		{"empty batch", "POST", docs, `{"documents":[]}`, 400, codeInvalid, "documents", ""},
		{"invalid filter", "POST", search, `{"query":"x","filter":{"field":"y","op":"gte"}}`, 400, codeInvalid, "filter", ""},
		{"unknown filter op", "POST", search, `{"query":"x","filter":{"field":"y","op":"like","value":"a"}}`, 400, codeInvalid, "filter", "like"},
		{"k out of range", "POST", search, `{"query":"x","k":5000}`, 400, codeInvalid, "k", ""},
		{"unknown mode", "POST", search, `{"query":"x","mode":"dense"}`, 400, codeInvalid, "mode", ""},
		{"empty query", "POST", search, `{"query":" "}`, 400, codeInvalid, "query", ""},
		{"empty question", "POST", ask, `{}`, 400, codeInvalid, "question", ""},
		{"max_sentences", "POST", ask, `{"question":"x","max_sentences":50}`, 400, codeInvalid, "max_sentences", ""},
		{"bad collection name", "POST", "/v1/collections/-x/documents", `{"id":"a","text":"t"}`, 400, codeInvalid, "collection", ""},
		{"query too long", "POST", search, fmt.Sprintf(`{"query":%q}`, strings.Repeat("word ", 2000)), 413, codeTooLarge, "query", ""},
		{"search on a missing collection", "POST", "/v1/collections/nope/search", `{"query":"x"}`, 404, codeNotFound, "", "nope"},
		{"ask on a missing collection", "POST", "/v1/collections/nope/ask", `{"question":"x"}`, 404, codeNotFound, "", "nope"},
		{"missing document", "GET", docs + "/zzz", nil, 404, codeNotFound, "", "zzz"},
		{"unknown path", "GET", "/v2/everything", nil, 404, codeNotFound, "", ""},
		{"unknown path under v1", "GET", "/v1/collections/c/nothing", nil, 404, codeNotFound, "", ""},
		{"unclean path", "DELETE", docs + "/a//b", nil, 400, codeInvalid, "", "%2F"},
		{"dot segment", "GET", docs + "/x/../a", nil, 400, codeInvalid, "", "%2F"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(tt.method, tt.path, tt.body)
			wantError(t, r, tt.status, tt.code, tt.field)
			if msg := r.str("error.message"); !strings.Contains(msg, tt.msgContains) {
				t.Errorf("message %q does not contain %q", msg, tt.msgContains)
			}
		})
	}
	if got := h.do("GET", docs+"/a", nil).status; got != http.StatusOK {
		t.Errorf("an invalid batch wrote something: GET a = %d", got)
	}
	r := h.do("GET", "/v1/collections/c", nil).mustStatus(t, http.StatusOK)
	if n := r.get("stats.documents"); n != float64(1) {
		t.Errorf("invalid writes changed the collection: %v documents, want 1", n)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h := newHarness(t, Options{})
	tests := []struct {
		method, path string
		allow        []string
	}{
		{"DELETE", "/v1/collections", []string{"GET"}},
		{"POST", "/v1/collections/c", []string{"GET", "PUT"}},
		{"GET", "/v1/collections/c/search", []string{"POST"}},
		{"PATCH", "/v1/collections/c/documents/x/y", []string{"DELETE", "GET", "PUT"}},
		{"POST", "/", []string{"GET"}},
	}
	for _, tt := range tests {
		r := h.do(tt.method, tt.path, nil)
		wantError(t, r, http.StatusMethodNotAllowed, codeMethodNotAllowed, "")
		for _, m := range tt.allow {
			if !strings.Contains(r.header.Get("Allow"), m) {
				t.Errorf("%s %s: Allow %q lacks %s", tt.method, tt.path, r.header.Get("Allow"), m)
			}
		}
	}
}

func TestUnsupportedMediaType(t *testing.T) {
	h := newHarness(t, Options{})
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", "application/jsonx"} {
		r := h.doRaw("POST", "/v1/collections/c/documents", ct, []byte(`{"id":"a","text":"t"}`))
		wantError(t, r, http.StatusUnsupportedMediaType, codeUnsupportedMedia, "")
	}
	h.doRaw("POST", "/v1/collections/c/documents", "application/json; charset=UTF-8", []byte(`{"id":"a","text":"t"}`)).mustStatus(t, http.StatusOK)
	wantError(t, h.doRaw("POST", "/v1/collections/c/search", "text/plain", []byte(`{"query":"t"}`)), http.StatusUnsupportedMediaType, codeUnsupportedMedia, "")
	wantError(t, h.doRaw("PUT", "/v1/collections/c", "text/plain", []byte(`{}`)), http.StatusUnsupportedMediaType, codeUnsupportedMedia, "")
}

func TestBodyLimits(t *testing.T) {
	h := newHarness(t, Options{MaxBodyBytes: 2048, MaxQueryBodyBytes: 256})
	big := fmt.Sprintf(`{"id":"a","text":%q}`, strings.Repeat("granite ", 400))
	wantError(t, h.do("POST", "/v1/collections/c/documents", big), http.StatusRequestEntityTooLarge, codeTooLarge, "")
	small := fmt.Sprintf(`{"id":"a","text":%q}`, strings.Repeat("granite ", 100))
	h.do("POST", "/v1/collections/c/documents", small).mustStatus(t, http.StatusOK)
	wantError(t, h.do("POST", "/v1/collections/c/search", fmt.Sprintf(`{"query":%q}`, strings.Repeat("q ", 200))), http.StatusRequestEntityTooLarge, codeTooLarge, "")
	h.do("POST", "/v1/collections/c/search", `{"query":"granite"}`).mustStatus(t, http.StatusOK)

	// Without a Content-Length (chunked), the limit is enforced while reading.
	req, _ := http.NewRequest("POST", h.ts.URL+"/v1/collections/c/documents", io.MultiReader(strings.NewReader(big)))
	req.Header.Set("Content-Type", "application/json")
	res, err := h.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge || req.ContentLength != 0 {
		t.Errorf("chunked oversized body: %d (request length %d), want 413", res.StatusCode, req.ContentLength)
	}

	// The collection's own document limit is the engine's 413, with the field.
	h.do("PUT", "/v1/collections/tiny", map[string]any{"max_document_bytes": 100}).mustStatus(t, http.StatusCreated)
	wantError(t, h.do("POST", "/v1/collections/tiny/documents", fmt.Sprintf(`{"id":"a","text":%q}`, strings.Repeat("x", 101))), http.StatusRequestEntityTooLarge, codeTooLarge, "text")
	wantError(t, h.do("POST", "/v1/collections/tiny/documents", fmt.Sprintf(`{"documents":[{"id":"a","text":"ok"},{"id":"b","text":%q}]}`, strings.Repeat("x", 101))), http.StatusRequestEntityTooLarge, codeTooLarge, "documents[1].text")
}

func TestEngineClosed(t *testing.T) {
	h := newHarness(t, Options{})
	h.upsert("c", map[string]any{"id": "a", "text": "Slate splits into sheets."})
	if err := h.eng.Close(); err != nil {
		t.Fatal(err)
	}
	wantError(t, h.do("GET", "/readyz", nil), http.StatusServiceUnavailable, codeUnavailable, "")
	wantError(t, h.do("POST", "/v1/collections/c/search", map[string]any{"query": "slate"}), http.StatusServiceUnavailable, codeUnavailable, "")
	wantError(t, h.do("POST", "/v1/collections/c/documents", map[string]any{"id": "b", "text": "Shale is soft."}), http.StatusServiceUnavailable, codeUnavailable, "")
	wantError(t, h.do("PUT", "/v1/collections/d", nil), http.StatusServiceUnavailable, codeUnavailable, "")
	h.do("GET", "/healthz", nil).mustStatus(t, http.StatusOK)
}

// TestErrorMapping covers the classes the API cannot easily provoke (a
// corrupt store) and the one-place mapping as a whole.
func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		status   int
		code     string
		field    string
		msg      string
		internal bool
	}{
		{"corrupt", fmt.Errorf("collection x: %w: bucket docs: bad page 7", quarry.ErrCorrupt), 500, codeInternal, "", "integrity", true},
		{"unknown", errors.New("disk on fire at /var/lib/quarry"), 500, codeInternal, "", "internal error", true},
		{"closed", fmt.Errorf("op: %w", quarry.ErrClosed), 503, codeUnavailable, "", "closed", false},
		{"deadline", fmt.Errorf("search: %w", context.DeadlineExceeded), 503, codeUnavailable, "", "", false},
		{"not found with message", withMessage(fmt.Errorf("x: %w", quarry.ErrNotFound), "document %q does not exist", "d"), 404, codeNotFound, "", `document "d" does not exist`, false},
		{"field error", &quarry.FieldError{Field: "documents[2].text", Msg: "is empty"}, 400, codeInvalid, "documents[2].text", "is empty", false},
		{"field too large", &quarry.FieldError{Field: "text", Msg: "is big", Err: quarry.ErrTooLarge}, 413, codeTooLarge, "text", "is big", false},
		{"max bytes", fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 10}), 413, codeTooLarge, "", "10 bytes", false},
		{"api error", invalid("k", "bad"), 400, codeInvalid, "k", "bad", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, internal := toAPIError(tt.err)
			if e.status() != tt.status || e.Code != tt.code || e.Field != tt.field || internal != tt.internal || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("got %d %+v internal=%v, want %d %s field %q message containing %q internal=%v", e.status(), e, internal, tt.status, tt.code, tt.field, tt.msg, tt.internal)
			}
			if tt.internal && strings.Contains(e.Message, "/var/lib") {
				t.Errorf("an internal error leaks its detail to the client: %q", e.Message)
			}
		})
	}
	for code, status := range codeStatus {
		if status < 400 || http.StatusText(status) == "" {
			t.Errorf("code %s has status %d", code, status)
		}
	}
}

func TestPanicRecovery(t *testing.T) {
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	s := New(eng, Options{})
	s.handle("GET /boom", func(http.ResponseWriter, *http.Request) error { panic("boom") })
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	for range 2 { // the server keeps serving
		res, err := ts.Client().Get(ts.URL + "/boom")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 500 || !strings.Contains(string(b), `"code":"internal"`) {
			t.Errorf("panic: %d %s", res.StatusCode, b)
		}
	}
}
