package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/embed"
)

// TestOverloaded: a Batcher's refusal, wrapped as the engine wraps query
// embedding errors, becomes 503 unavailable with Retry-After in seconds.
func TestOverloaded(t *testing.T) {
	h := newHarness(t, Options{})
	err := fmt.Errorf("quarry: embedding the query: %w", &embed.OverloadedError{Queue: 256, RetryAfter: 1500 * time.Millisecond})
	rec := httptest.NewRecorder()
	h.srv.writeError(rec, httptest.NewRequest("POST", "/v1/collections/c/search", nil), err)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "2" {
		t.Fatalf("status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	var body errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != codeUnavailable {
		t.Errorf("body %s (%v)", rec.Body, err)
	}
	// Other 503s carry no Retry-After.
	rec = httptest.NewRecorder()
	h.srv.writeError(rec, httptest.NewRequest("POST", "/v1/collections/c/search", nil), fmt.Errorf("x: %w", quarry.ErrClosed))
	if rec.Header().Get("Retry-After") != "" {
		t.Errorf("Retry-After on an unrelated error: %q", rec.Header().Get("Retry-After"))
	}
}
