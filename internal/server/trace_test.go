package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/trace"
)

// otlpReceiver is an OTLP/HTTP trace receiver: it decodes each
// ExportTraceServiceRequest (protobuf, the exporter's default encoding)
// with the OpenTelemetry protocol's own types, as a collector does, and
// keeps the spans. It is a protocol peer, not a stand-in for Quarry.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []*tracepb.Span
	bad   []string
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(body, &req)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" || err != nil {
		o.bad = append(o.bad, r.URL.Path+" "+r.Header.Get("Content-Type"))
		http.Error(w, "bad export", http.StatusBadRequest)
		return
	}
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			o.spans = append(o.spans, ss.Spans...)
		}
	}
	b, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(b)
}

func (o *otlpReceiver) snapshot() ([]*tracepb.Span, []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*tracepb.Span(nil), o.spans...), append([]string(nil), o.bad...)
}

// tracedHarness is a harness whose engine and server trace to endpoint,
// with a scripted LLM (fakeLLM, browser_test.go) and an embedding model.
func tracedHarness(t *testing.T, endpoint string, opts trace.Options) (*harness, func(context.Context) error) {
	t.Helper()
	opts.Endpoint = endpoint
	tp, err := trace.Setup(context.Background(), opts)
	if err != nil || tp == nil {
		t.Fatalf("setup: %v %v", tp, err)
	}
	t.Cleanup(func() { trace.Shutdown(tp) })
	llm := httptest.NewServer(&fakeLLM{})
	t.Cleanup(llm.Close)
	h := newHarnessEngine(t, Options{TracerProvider: tp}, &quarry.Options{TracerProvider: tp,
		LLM: quarry.LLMConfig{URL: llm.URL + "/v1", Model: "fake", Provider: quarry.ProviderOpenAI}})
	h.do("PUT", "/v1/collections/rocks", map[string]any{"embedding": embeddingModel}).mustStatus(t, http.StatusCreated)
	seedRocks(t, h)
	return h, tp.ForceFlush
}

// TestTraceSpanTree: a hybrid ask with a language model and a follow-up
// history is one trace: the request's server span, under it rewrite,
// retrieve and generate; under retrieve lexical, dense and fuse; under
// dense the query's embedding. The trace id is the X-Request-Id. Spans are
// read back from a real OTLP/HTTP receiver.
func TestTraceSpanTree(t *testing.T) {
	rcv := &otlpReceiver{}
	col := httptest.NewServer(rcv)
	defer col.Close()
	h, flush := tracedHarness(t, col.URL, trace.Options{})
	r := h.do("POST", "/v1/collections/rocks/ask", map[string]any{"question": "And how does it form?", "method": "llm", "mode": "hybrid",
		"history": []map[string]any{{"role": "user", "content": "Tell me about granite."}, {"role": "assistant", "content": "Granite is a rock."}}})
	r.mustStatus(t, http.StatusOK)
	reqID := r.header.Get("X-Request-Id")
	if len(reqID) != 32 {
		t.Fatalf("X-Request-Id %q", reqID)
	}
	if err := flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans, bad := rcv.snapshot()
	if len(bad) > 0 {
		t.Fatalf("bad exports: %v", bad)
	}
	byID := map[string]*tracepb.Span{}
	byName := map[string][]*tracepb.Span{}
	var root *tracepb.Span
	for _, s := range spans {
		if hexID(s.TraceId) != reqID {
			continue
		}
		byID[hexID(s.SpanId)] = s
		byName[s.Name] = append(byName[s.Name], s)
		if len(s.ParentSpanId) == 0 {
			root = s
		}
	}
	if root == nil || root.Name != "POST /v1/collections/{c}/ask" || root.Kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Fatalf("root span %v; spans %v", root, names(spans))
	}
	parent := func(s *tracepb.Span) string {
		if p := byID[hexID(s.ParentSpanId)]; p != nil {
			return p.Name
		}
		return "?"
	}
	want := map[string]string{ // span → its parent
		"quarry.rewrite": root.Name, "quarry.retrieve": root.Name, "quarry.generate": root.Name,
		"quarry.lexical": "quarry.retrieve", "quarry.dense": "quarry.retrieve", "quarry.fuse": "quarry.retrieve",
		"quarry.cache": root.Name,
	}
	for name, p := range want {
		ss := byName[name]
		if len(ss) == 0 {
			t.Errorf("no %s span; spans %v", name, names(spans))
			continue
		}
		for _, s := range ss {
			if got := parent(s); got != p {
				t.Errorf("%s's parent is %s, want %s", name, got, p)
			}
			if s.StartTimeUnixNano < root.StartTimeUnixNano || s.EndTimeUnixNano > root.EndTimeUnixNano || s.EndTimeUnixNano < s.StartTimeUnixNano {
				t.Errorf("%s is not inside the request's time", name)
			}
		}
	}
	// The question's embedding is the semantic cache's probe (the
	// condensed question, the follow-up itself here, reuses it).
	for _, s := range byName["quarry.embed"] {
		if parent(s) != "quarry.cache" {
			t.Errorf("quarry.embed's parent is %s, want quarry.cache", parent(s))
		}
	}
	grounded := "bool_value:false"
	if r.get("grounded") == true {
		grounded = "bool_value:true"
	}
	if g := byName["quarry.generate"]; len(g) == 1 {
		for k, v := range map[string]string{trace.AttrInputTokens: "int_value:100", trace.AttrOutputTokens: "int_value:20", trace.AttrGrounded: grounded} {
			if got := attrString(g[0], k); got != v {
				t.Errorf("generate %s = %q, want %q", k, got, v)
			}
		}
		if attrString(g[0], trace.AttrTTFT) == "" {
			t.Error("generate has no TTFT")
		}
	}
	if d := byName["quarry.dense"]; len(d) > 0 && attrString(d[0], trace.AttrHits) == "" {
		t.Error("dense has no hit count")
	}

	// A search has no cache: the query is embedded inside dense.
	r = h.do("POST", "/v1/collections/rocks/search", map[string]any{"query": "magma", "mode": "hybrid"}).mustStatus(t, http.StatusOK)
	if err := flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans, _ = rcv.snapshot()
	got := map[string]string{}
	ids := map[string]string{}
	for _, s := range spans {
		if hexID(s.TraceId) == r.header.Get("X-Request-Id") {
			ids[hexID(s.SpanId)] = s.Name
		}
	}
	for _, s := range spans {
		if hexID(s.TraceId) == r.header.Get("X-Request-Id") {
			got[s.Name] = ids[hexID(s.ParentSpanId)]
		}
	}
	wantSearch := map[string]string{"POST /v1/collections/{c}/search": "", "quarry.retrieve": "POST /v1/collections/{c}/search",
		"quarry.lexical": "quarry.retrieve", "quarry.dense": "quarry.retrieve", "quarry.embed": "quarry.dense", "quarry.fuse": "quarry.retrieve"}
	if !maps.Equal(got, wantSearch) {
		t.Errorf("search span tree (span → parent) %v, want %v", got, wantSearch)
	}
}

func hexID(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func names(spans []*tracepb.Span) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

// attrString is an attribute's value in protobuf text ("int_value:20"), ""
// when absent.
func attrString(s *tracepb.Span, key string) string {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return strings.ReplaceAll(kv.Value.String(), " ", "")
		}
	}
	return ""
}

// TestTraceDeadCollector: a collector that accepts connections and never
// answers, and one that refuses them, slow no request: searches take as
// long as without tracing (the export queue is bounded and drained in the
// background), none fails.
func TestTraceDeadCollector(t *testing.T) {
	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(stop)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()

	const n = 40
	run := func(h *harness) time.Duration {
		start := time.Now()
		for i := range n {
			r := h.do("POST", "/v1/collections/rocks/search", map[string]any{"query": "granite magma " + strings.Repeat("x", i%3), "mode": "hybrid"})
			r.mustStatus(t, http.StatusOK)
		}
		return time.Since(start)
	}
	opts := trace.Options{MaxQueue: 16, BatchTimeout: 10 * time.Millisecond, Timeout: 2 * time.Second}
	hHang, _ := tracedHarness(t, hang.URL, opts)
	hRef, _ := tracedHarness(t, refused, opts)
	hOff := newHarnessEngine(t, Options{}, nil)
	hOff.do("PUT", "/v1/collections/rocks", map[string]any{"embedding": embeddingModel}).mustStatus(t, http.StatusCreated)
	seedRocks(t, hOff)
	// Warm every engine first: the first searches of an engine load the
	// query encoder and build the lexical index, which costs a second
	// with or without tracing.
	run(hOff)
	run(hHang)
	run(hRef)
	off, dead, gone := run(hOff), run(hHang), run(hRef)
	t.Logf("%d hybrid searches: no tracing %v, hanging collector %v, refusing collector %v", n, off, dead, gone)
	limit := 2*off + 500*time.Millisecond
	if dead > limit || gone > limit {
		t.Fatalf("a dead collector slowed requests: %v and %v against %v without tracing", dead, gone, off)
	}
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAccessLog: every request is one JSON access log line naming its
// route, status and request id; with tracing on, log records written
// inside a request carry its trace id, which is the X-Request-Id.
func TestAccessLog(t *testing.T) {
	rcv := &otlpReceiver{}
	col := httptest.NewServer(rcv)
	defer col.Close()
	tp, err := trace.Setup(context.Background(), trace.Options{Endpoint: col.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer trace.Shutdown(tp)
	var buf syncBuffer
	lg := slog.New(slog.NewJSONHandler(&buf, nil))
	h := newHarnessEngine(t, Options{Logger: lg, TracerProvider: tp}, &quarry.Options{TracerProvider: tp})
	seedRocks(t, h)
	r := h.do("POST", "/v1/collections/rocks/search", map[string]any{"query": "granite"}).mustStatus(t, http.StatusOK)
	miss := h.do("GET", "/v1/collections/nope", nil)
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON log line: %q", l)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	find := func(id string) map[string]any {
		for _, m := range lines {
			if m["request_id"] == id {
				return m
			}
		}
		t.Fatalf("no access log line for request %s in %v", id, lines)
		return nil
	}
	m := find(r.header.Get("X-Request-Id"))
	if m["route"] != "/v1/collections/{c}/search" || m["status"] != float64(200) || m["method"] != "POST" || m["trace_id"] != r.header.Get("X-Request-Id") || m["span_id"] == nil {
		t.Errorf("access log line %v", m)
	}
	if m := find(miss.header.Get("X-Request-Id")); m["status"] != float64(miss.status) || miss.status != http.StatusNotFound {
		t.Errorf("404's access log line %v (status %d)", m, miss.status)
	}
}

// BenchmarkTraceOverhead: one search over HTTP with tracing off and on (spans
// exported to an in-process OTLP/HTTP receiver), side by side in one run:
//
//	go test -run '^$' -bench TraceOverhead -benchtime 300x -count 5 ./internal/server
func BenchmarkTraceOverhead(b *testing.B) {
	rcv := &otlpReceiver{}
	col := httptest.NewServer(rcv)
	defer col.Close()
	tp, err := trace.Setup(context.Background(), trace.Options{Endpoint: col.URL})
	if err != nil {
		b.Fatal(err)
	}
	defer trace.Shutdown(tp)
	send := func(method, url string, body any) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, url, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			b.Fatal(method, url, resp.Status)
		}
	}
	mk := func(traced bool) *harness {
		var so Options
		var eo quarry.Options
		if traced {
			so.TracerProvider, eo.TracerProvider = tp, tp
		}
		eng, err := quarry.Open(b.TempDir(), &eo)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { eng.Close() })
		ts := httptest.NewServer(New(eng, so).Handler())
		b.Cleanup(ts.Close)
		send("PUT", ts.URL+"/v1/collections/rocks", map[string]any{"embedding": embeddingModel})
		send("POST", ts.URL+"/v1/collections/rocks/documents", map[string]any{"documents": []map[string]any{
			{"id": "granite", "title": "Granite", "text": "Granite forms from slowly cooling magma deep underground."},
			{"id": "basalt", "title": "Basalt", "text": "Basalt forms when lava cools quickly at the surface."}}})
		return &harness{eng: eng, ts: ts}
	}
	hs := map[bool]*harness{false: mk(false), true: mk(true)}
	for _, mode := range []string{"bm25", "hybrid"} {
		for _, traced := range []bool{false, true} {
			name := mode + "/off"
			if traced {
				name = mode + "/on"
			}
			b.Run(name, func(b *testing.B) {
				h := hs[traced]
				body, _ := json.Marshal(map[string]any{"query": "how does granite form", "mode": mode})
				for b.Loop() {
					resp, err := http.Post(h.ts.URL+"/v1/collections/rocks/search", "application/json", bytes.NewReader(body))
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Fatal(resp.Status)
					}
				}
			})
		}
	}
}
