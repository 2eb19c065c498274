package server

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry"
)

// BenchmarkDecodeUpsert measures decoding a 1000-document batch (~0.5 MB).
func BenchmarkDecodeUpsert(b *testing.B) {
	body := []byte(`{"documents":[` + batchDocs(0, 1000) + `]}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := decodeUpsert(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearchHandler measures one search through the whole handler
// (routing, metrics, decoding, engine, encoding) over 2000 documents.
func BenchmarkSearchHandler(b *testing.B) {
	s := benchServer(b)
	body := []byte(`{"query":"granite near marble","k":10}`)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/v1/collections/b/search", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("search: %d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkAskHandler measures one extractive answer through the whole
// handler (answer cache bypassed), as JSON, as Server-Sent Events and as an
// OpenAI chat stream: the streaming overhead is the ratio to json.
func BenchmarkAskHandler(b *testing.B) {
	s := benchServer(b)
	for _, bc := range []struct{ name, path, body, want string }{
		{"json", "/v1/collections/b/ask", `{"question":"granite near marble","no_cache":true}`, `"answer"`},
		{"sse", "/v1/collections/b/ask", `{"question":"granite near marble","stream":true,"no_cache":true}`, "event: done"},
		{"chat-sse", "/v1/chat/completions", `{"model":"b","stream":true,"no_cache":true,"messages":[{"role":"user","content":"granite near marble"}]}`, "data: [DONE]"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				req := httptest.NewRequest("POST", bc.path, strings.NewReader(bc.body))
				req.Header.Set("Content-Type", "application/json")
				s.ServeHTTP(w, req)
				if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), bc.want) {
					b.Fatalf("%s: %d %s", bc.name, w.Code, w.Body)
				}
			}
		})
	}
}

// benchServer is a server over 2000 short documents in collection "b".
func benchServer(b *testing.B) *Server {
	b.Helper()
	eng, err := quarry.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	s := New(eng, Options{})
	words := strings.Fields("granite basalt quartz feldspar mica slate marble shale limestone sandstone obsidian pumice")
	var docs strings.Builder
	for i := range 2000 {
		if i > 0 {
			docs.WriteByte(',')
		}
		fmt.Fprintf(&docs, `{"id":"d%d","text":"%s rock number %d lies near %s and %s."}`, i, words[i%len(words)], i, words[(i*7)%len(words)], words[(i*5)%len(words)])
	}
	w := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/v1/collections/b/documents", strings.NewReader(`{"documents":[`+docs.String()+`]}`))
	req.Header.Set("Content-Type", "application/json")
	s.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("ingest: %d %s", w.Code, w.Body)
	}
	return s
}
