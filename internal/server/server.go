package server

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/auth"
	"github.com/quarry-rag/quarry/internal/trace"
)

// Options configure a Server. The zero value is valid; every field
// documents its default.
type Options struct {
	// Logger receives request errors and lifecycle events. Default: discard.
	Logger *slog.Logger
	// Registry receives the route metrics and is what /metrics serves.
	// Default: a new registry holding only the route metrics.
	Registry *prometheus.Registry
	// MaxBodyBytes limits the body of any request (a document write is the
	// largest). Default 32 MiB. Bodies are read into memory as they arrive,
	// never pre-allocated from Content-Length.
	MaxBodyBytes int64
	// MaxQueryBodyBytes limits the body of every other request (search,
	// ask, collection config). Default 1 MiB.
	MaxQueryBodyBytes int64
	// ReadHeaderTimeout bounds reading a request's headers. Default 10s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included. Default
	// 2m, enough for a 32 MiB body at 300 KB/s.
	ReadTimeout time.Duration
	// WriteTimeout bounds the handling of a request from the end of its
	// headers to the end of the response. Default 10m; large batches are
	// chunked and fsynced before they are acknowledged.
	WriteTimeout time.Duration
	// IdleTimeout bounds keep-alive connections waiting for a request.
	// Default 2m.
	IdleTimeout time.Duration
	// ShutdownTimeout bounds how long ListenAndServe waits for in-flight
	// requests once its context is cancelled. Default 30s.
	ShutdownTimeout time.Duration
	// HeartbeatInterval is how long a streamed response (Server-Sent
	// Events) may stay silent before the server writes a comment line to
	// keep proxies from closing it. Default 15s; negative disables it.
	HeartbeatInterval time.Duration
	// FeedbackDir is where answer feedback (POST /v1/feedback) is
	// appended, as feedback.jsonl. Default "": feedback is refused (503).
	FeedbackDir string

	// Keys are the API keys requests must carry (Authorization: Bearer).
	// Default nil, or a store that has never held a key: no keys, every
	// route is open (the CLI allows that on loopback addresses only).
	Keys *auth.Store
	// AllowHosts are the Host header names the server answers (DNS
	// rebinding protection); "*" allows any. Default: localhost,
	// 127.0.0.1 and ::1.
	AllowHosts []string
	// MaxConcurrent bounds the requests handled at once; beyond it a
	// request is answered 503 with Retry-After instead of queueing. A
	// request with a body counts from when its body has arrived. Default
	// 64.
	MaxConcurrent int
	// MaxConns bounds open connections; beyond it a new connection is
	// answered 503 and closed. Default 4096.
	MaxConns int
	// MaxCollections bounds the collections clients may create (each
	// holds open files). Default 1000.
	MaxCollections int
	// Drift serves GET /v1/collections/{c}/drift. Default nil: the route
	// answers 404, drift monitoring is off.
	Drift DriftSource
	// TracerProvider receives a server span per request (and carries the
	// caller's traceparent). Default nil: no spans; requests still get an
	// X-Request-Id and an access log line.
	TracerProvider oteltrace.TracerProvider
	// Evals enables the evaluation jobs (/v1/evals, evals.go). Default
	// nil: those routes answer 404 saying evaluation is not enabled.
	Evals *EvalOptions
	// Agent configures the agent endpoint (nil: it answers 503; sessions
	// and /mcp still work).
	Agent *AgentOptions
}

func (o *Options) ensureDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	setDefault(&o.MaxBodyBytes, 32<<20)
	setDefault(&o.MaxQueryBodyBytes, 1<<20)
	setDefault(&o.ReadHeaderTimeout, 10*time.Second)
	setDefault(&o.ReadTimeout, 2*time.Minute)
	setDefault(&o.MaxConcurrent, 64)
	setDefault(&o.MaxConns, 4096)
	setDefault(&o.MaxCollections, 1000)
	o.MaxQueryBodyBytes = min(o.MaxQueryBodyBytes, o.MaxBodyBytes)
	setDefault(&o.WriteTimeout, 10*time.Minute)
	setDefault(&o.IdleTimeout, 2*time.Minute)
	setDefault(&o.ShutdownTimeout, 30*time.Second)
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = 15 * time.Second
	}
}

func setDefault[T int | int64 | time.Duration](p *T, def T) {
	if *p <= 0 {
		*p = def
	}
}

// Server serves the HTTP API and the web UI for one Engine. It is safe for
// concurrent use; the Engine stays owned by the caller, who closes it after
// the server has stopped.
type Server struct {
	eng     *quarry.Engine
	opts    Options
	log     *slog.Logger
	tracing *trace.HTTP
	mux     *http.ServeMux
	metrics *metrics
	guard   *guard
	routes  []string // registered mux patterns, in registration order
	agents  *agentHub

	feedback feedbackStore
	evals    *evalHub

	draining atomic.Bool  // set when shutdown begins: /readyz reports 503
	inFlight atomic.Int64 // requests being handled
}

// New returns a Server for eng. It registers the route metrics with
// opts.Registry (reusing them if another Server registered them already).
func New(eng *quarry.Engine, opts Options) *Server {
	opts.ensureDefaults()
	s := &Server{eng: eng, opts: opts, log: slog.New(trace.LogHandler(opts.Logger.Handler())), mux: http.NewServeMux()}
	s.tracing = trace.NewHTTP(opts.TracerProvider, s.log)
	for name, err := range eng.Unavailable() {
		s.log.Error("collection unavailable", "collection", name, "err", err)
	}
	s.metrics = newMetrics(opts.Registry, &s.inFlight)
	s.feedback.dir = opts.FeedbackDir
	s.guard = newGuard(&s.opts, opts.Registry)
	s.agents = newAgentHub(eng, opts.Agent)
	s.register()
	return s
}

//go:embed openapi.json
var openAPISpec []byte

// register declares every route. A route's pattern is also its metrics
// label and its key in openapi.json (TestOpenAPIRoutes checks both ways).
func (s *Server) register() {
	s.handle("GET /healthz", s.healthz)
	s.handle("GET /readyz", s.readyz)
	s.handleHTTP("GET /metrics", promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelError)}))
	s.handle("GET /openapi.json", s.openAPI)
	s.handle("GET /{$}", s.index)
	s.handle("GET /static/{name}", s.static)

	s.handle("GET /v1/collections", s.listCollections)
	s.handle("PUT /v1/collections/{c}", s.putCollection)
	s.handle("GET /v1/collections/{c}", s.getCollection)
	s.handle("POST /v1/collections/{c}/documents", s.upsertDocuments)
	s.handle("GET /v1/collections/{c}/documents/{id...}", s.getDocument)
	s.handle("PUT /v1/collections/{c}/documents/{id...}", s.putDocument)
	s.handle("DELETE /v1/collections/{c}/documents/{id...}", s.deleteDocument)
	s.handle("POST /v1/collections/{c}/search", s.search)
	s.handle("POST /v1/collections/{c}/ask", s.ask)
	s.handle("POST /v1/feedback", s.postFeedback)
	s.handle("GET /v1/feedback", s.exportFeedback)
	s.handle("GET /v1/collections/{c}/drift", s.driftReport)
	s.handle("GET /v1/collections/{c}/drift/windows/{which}", s.driftWindow)
	s.registerManage() // manage.go, upload.go
	s.registerEvals()  // evals.go
	s.handle("POST /v1/collections/{c}/agent", s.runAgent)
	s.handle("POST /v1/agent/sessions", s.createSession)
	s.handle("GET /v1/agent/sessions", s.listSessions)
	s.handle("GET /v1/agent/sessions/{id}", s.getSession)
	s.handle("DELETE /v1/agent/sessions/{id}", s.deleteSession)
	s.handleHTTP("POST /mcp", http.HandlerFunc(s.mcp))
	s.handleHTTP("GET /mcp", http.HandlerFunc(s.mcp))
	s.handleHTTP("DELETE /mcp", http.HandlerFunc(s.mcp))

	// OpenAI-compatible: collections are models.
	s.handle("POST /v1/chat/completions", s.chatCompletions)
	s.handle("GET /v1/models", s.listModels)
	s.handle("GET /v1/models/{model}", s.getModel)
}

// handlerFunc is a handler that returns its error instead of writing it:
// errors are written in one place, writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(pattern string, h handlerFunc) {
	s.handleHTTP(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}))
}

func (s *Server) handleHTTP(pattern string, h http.Handler) {
	_, path, _ := strings.Cut(pattern, " ")
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, s.instrument(path, h))
}

// Handler returns the server's http.Handler: the API, /metrics, the OpenAPI
// document and the web UI.
func (s *Server) Handler() http.Handler { return s }

// ServeHTTP routes r. Requests no route matches get a JSON 404 or 405 (with
// Allow) instead of the mux's plain-text ones.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(r.URL.Path, "/v1/") && !isClean(r.URL.EscapedPath()) {
		// The mux would redirect to the cleaned path, which turns a DELETE
		// of document "a//b" into a GET of "a/b". Refuse instead.
		s.instrument("unmatched", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.writeError(w, r, invalid("", "the path %q has empty, '.' or '..' segments; percent-encode '/' in document ids as %%2F", r.URL.EscapedPath()))
		})).ServeHTTP(w, r)
		return
	}
	_, pattern := s.mux.Handler(r)
	if pattern == "" {
		if !s.guard.hostAllowed(r) {
			pattern = "unmatched" // refused below, before the mux is asked anything
		} else {
			s.instrument("unmatched", http.HandlerFunc(s.unmatched)).ServeHTTP(w, r)
			return
		}
	}
	r2, release, err := s.admit(w, r, pattern)
	if err != nil {
		_, route, _ := strings.Cut(pattern, " ")
		if route == "" {
			route = "unmatched"
		}
		s.instrument(route, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.writeError(w, r, err)
		})).ServeHTTP(w, r)
		return
	}
	defer release()
	s.mux.ServeHTTP(w, r2)
}

// isClean reports whether the mux would leave p alone: no empty, "." or
// ".." segments.
func isClean(p string) bool {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

// unmatched asks the mux what it would have answered (404, 405 with an
// Allow header, or a redirect to a cleaned path) and answers that in JSON.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{header: http.Header{}}
	s.mux.ServeHTTP(rec, r)
	switch {
	case rec.status == http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		s.writeError(w, r, &apiError{Code: codeMethodNotAllowed, Message: fmt.Sprintf("method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, rec.header.Get("Allow"))})
	case rec.status >= 300 && rec.status < 400:
		w.Header().Set("Location", rec.header.Get("Location"))
		w.WriteHeader(rec.status)
	default:
		s.writeError(w, r, &apiError{Code: codeNotFound, Message: fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path)})
	}
}

// statusRecorder is a ResponseWriter that keeps only the status and headers.
type statusRecorder struct {
	header http.Header
	status int
}

func (r *statusRecorder) Header() http.Header         { return r.header }
func (r *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

// writeJSON writes v as the JSON response body.
func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding the response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	s.write(w, append(b, '\n'))
	return nil
}

// write writes a response body. An error means the client went away after
// the status was sent; there is nothing left to tell it.
func (s *Server) write(w http.ResponseWriter, b []byte) {
	if _, err := w.Write(b); err != nil {
		s.log.Debug("writing response", "err", err)
	}
}

// writeError writes err as a JSON error response with its status, in
// OpenAI's shape on the OpenAI-compatible routes.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, internal := toAPIError(err)
	if internal {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		s.log.Debug("request rejected", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if e.Code == codeTooLarge || e.Code == codeUnauthenticated || e.Code == codeRateLimited {
		// The rest of an oversized body is not read; the connection cannot
		// be reused.
		w.Header().Set("Connection", "close")
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
	if e.Code == codeLLMFailed || e.Code == codeLLMTimeout {
		s.log.Warn("language model failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var body any = errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, Field: e.Field, Score: e.Score}, Sources: sourcesOf(err)}
	if isOpenAIPath(r.URL.Path) {
		body = toOpenAIError(e, sourcesOf(err))
	}
	if err := s.writeJSON(w, e.status(), body); err != nil {
		s.log.Error("writing error response", "err", err)
	}
}

// ListenAndServe listens on addr and serves until ctx is cancelled, then
// shuts down gracefully: it stops accepting connections, reports not ready,
// and waits up to Options.ShutdownTimeout for in-flight requests to finish.
// It returns nil after a clean shutdown.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("server: listen %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is ListenAndServe on an existing listener, which it closes.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// When serving ends, the running evaluation stops (keeping its partial
	// report) before the caller closes the engine.
	defer s.evals.stop()
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		// Requests do not inherit ctx: cancelling it starts a graceful
		// shutdown, which lets them finish.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	ln = &capListener{Listener: ln, max: int64(s.opts.MaxConns), denied: func() { s.guard.denied.WithLabelValues("conns").Inc() }}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.log.Info("shutting down", "in_flight", s.inFlight.Load(), "timeout", s.opts.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		hs.Close() // the deadline passed: cut the remaining connections
		return fmt.Errorf("server: shutdown: %w", err)
	}
	s.log.Info("stopped")
	return nil
}

// recoverPanic turns a handler panic into a logged 500 so that one bad
// request does not take down the connection silently.
func (s *Server) recoverPanic(w http.ResponseWriter, r *http.Request, wrote func() bool) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	s.log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
	if !wrote() {
		s.writeError(w, r, fmt.Errorf("panic: %v", v))
	}
}
