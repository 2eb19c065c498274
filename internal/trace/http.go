package trace

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// RequestIDHeader is the response header naming a request: its trace id.
const RequestIDHeader = "X-Request-Id"

// HTTP starts server spans and writes the access log.
type HTTP struct {
	tr     oteltrace.Tracer
	prop   propagation.TextMapPropagator
	log    *slog.Logger
	access bool
}

// NewHTTP returns request tracing through tp (nil: no spans, request ids
// and access log only) logging to log (nil: no access log).
func NewHTTP(tp oteltrace.TracerProvider, log *slog.Logger) *HTTP {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	h := &HTTP{tr: tp.Tracer(ScopeName), prop: propagation.TraceContext{}, log: log, access: log != nil}
	return h
}

type requestIDKey struct{}

// RequestID returns the id of the request ctx belongs to, "" outside one.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// Begin starts r's server span, named "METHOD route", and sets the
// X-Request-Id header on w. It returns the request to serve (its context
// carries the span) and the function to call with the response status
// when the handler returns.
func (h *HTTP) Begin(w http.ResponseWriter, r *http.Request, route string) (*http.Request, func(status int)) {
	start := time.Now()
	ctx := h.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	ctx, span := h.tr.Start(ctx, r.Method+" "+route, oteltrace.WithSpanKind(oteltrace.SpanKindServer),
		oteltrace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("http.route", route),
			attribute.String("url.path", r.URL.Path)))
	sc := span.SpanContext()
	id := ""
	if sc.HasTraceID() {
		id = sc.TraceID().String()
	} else {
		var b [16]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	w.Header().Set(RequestIDHeader, id)
	ctx = context.WithValue(ctx, requestIDKey{}, id)
	return r.WithContext(ctx), func(status int) {
		span.SetAttributes(attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
		span.End()
		if h.access {
			h.log.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("method", r.Method), slog.String("route", route),
				slog.String("path", r.URL.Path), slog.Int("status", status),
				slog.Float64("ms", float64(time.Since(start).Microseconds())/1000), slog.String("request_id", id))
		}
	}
}

// LogHandler adds trace_id and span_id (and request_id) to the records
// of h logged with a context inside a traced request.
func LogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(logHandler); ok {
		return h
	}
	return logHandler{h}
}

type logHandler struct{ slog.Handler }

func (l logHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if sc := oteltrace.SpanContextFromContext(ctx); sc.IsValid() {
			r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
		} else if id := RequestID(ctx); id != "" {
			r.AddAttrs(slog.String("request_id", id))
		}
	}
	return l.Handler.Handle(ctx, r)
}

func (l logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return logHandler{l.Handler.WithAttrs(as)}
}
func (l logHandler) WithGroup(g string) slog.Handler { return logHandler{l.Handler.WithGroup(g)} }

// NewLogger returns a logger writing to w: text, or JSON when
// QUARRY_LOG_FORMAT=json; records carry trace ids (LogHandler).
func NewLogger(w io.Writer) *slog.Logger {
	var h slog.Handler
	if strings.EqualFold(os.Getenv("QUARRY_LOG_FORMAT"), "json") {
		h = slog.NewJSONHandler(w, nil)
	} else {
		h = slog.NewTextHandler(w, nil)
	}
	return slog.New(LogHandler(h))
}
