package trace

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/query"
)

func TestEnabled(t *testing.T) {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER"} {
		t.Setenv(k, "")
	}
	if Enabled(Options{}) {
		t.Fatal("on with nothing configured")
	}
	if tp, err := Setup(context.Background(), Options{}); tp != nil || err != nil {
		t.Fatalf("Setup with nothing configured: %v %v", tp, err)
	}
	if !Enabled(Options{Endpoint: "http://127.0.0.1:4318"}) {
		t.Fatal("off with an endpoint")
	}
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
	if !Enabled(Options{}) {
		t.Fatal("off with OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	if Enabled(Options{}) {
		t.Fatal("on with OTEL_TRACES_EXPORTER=none")
	}
}

// TestStageSpans: started stages nest by context; a stage reported only
// at its end becomes a span of its duration under the open one; errors
// and the answer's figures become attributes and status.
func TestStageSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	st := NewStageTracer(tp, "docs")
	var tr query.Tracer = Multi(st, nil)
	ctx := context.Background()
	rctx := tr.(query.SpanTracer).Start(ctx, query.StageRetrieve)
	dctx := tr.(query.SpanTracer).Start(rctx, query.StageDense)
	tr.Trace(dctx, query.StageEvent{Stage: query.StageEmbed, Took: 3 * time.Millisecond})
	tr.Trace(dctx, query.StageEvent{Stage: query.StageDense, Hits: []base.Hit{{Score: 0.5}}, Err: errors.New("boom")})
	tr.Trace(rctx, query.StageEvent{Stage: query.StageRetrieve, Hits: nil})
	spans := exp.GetSpans()
	if len(spans) != 3 {
		t.Fatalf("%d spans", len(spans))
	}
	embed, dense, retrieve := spans[0], spans[1], spans[2]
	if embed.Name != "quarry.embed" || dense.Name != "quarry.dense" || retrieve.Name != "quarry.retrieve" {
		t.Fatalf("names %s %s %s", embed.Name, dense.Name, retrieve.Name)
	}
	if embed.Parent.SpanID() != dense.SpanContext.SpanID() || dense.Parent.SpanID() != retrieve.SpanContext.SpanID() || retrieve.Parent.IsValid() {
		t.Error("wrong parents")
	}
	if d := embed.EndTime.Sub(embed.StartTime); d < 3*time.Millisecond || d > 50*time.Millisecond {
		t.Errorf("retroactive embed span lasted %v", d)
	}
	if dense.Status.Code.String() != "Error" || len(dense.Events) == 0 {
		t.Errorf("dense status %v, events %v", dense.Status, dense.Events)
	}
}

// TestHTTPBegin: a request gets X-Request-Id (its trace id, continuing the
// caller's traceparent) and one access log line with the trace id.
func TestHTTPBegin(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	var buf bytes.Buffer
	h := NewHTTP(tp, slog.New(LogHandler(slog.NewTextHandler(&buf, nil))))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/v1/x", nil)
	req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	r2, end := h.Begin(rec, req, "/v1/{c}")
	if RequestID(r2.Context()) != "0af7651916cd43dd8448eb211c80319c" || rec.Header().Get(RequestIDHeader) != "0af7651916cd43dd8448eb211c80319c" {
		t.Fatalf("request id %q / %q", RequestID(r2.Context()), rec.Header().Get(RequestIDHeader))
	}
	end(http.StatusInternalServerError)
	line := buf.String()
	for _, want := range []string{"msg=request", "status=500", "route=/v1/{c}", "trace_id=0af7651916cd43dd8448eb211c80319c"} {
		if !strings.Contains(line, want) {
			t.Errorf("access log %q lacks %q", line, want)
		}
	}
	if s := exp.GetSpans(); len(s) != 1 || s[0].Name != "GET /v1/{c}" || s[0].Status.Code.String() != "Error" {
		t.Errorf("spans %v", s)
	}
	// Without tracing: still an id, random.
	h = NewHTTP(nil, nil)
	rec = httptest.NewRecorder()
	_, end = h.Begin(rec, httptest.NewRequest("GET", "/", nil), "/")
	end(200)
	if id := rec.Header().Get(RequestIDHeader); len(id) != 32 {
		t.Errorf("untraced request id %q", id)
	}
}
