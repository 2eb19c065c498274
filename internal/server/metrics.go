package server

import (
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the route metrics. The route label is the mux pattern's path
// ("/v1/collections/{c}/search"), never the raw path, so its cardinality is
// the number of routes; requests no route matches are "unmatched".
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// ttft and streamed measure streamed answers (Server-Sent Events): the
	// time from the request's arrival to its first answer token written to
	// the client, and the token events written. The LLM's own latencies are
	// the engine's (internal/obs), not these.
	ttft     *prometheus.HistogramVec
	streamed *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry, inFlight *atomic.Int64) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quarry_http_requests_total",
			Help: "HTTP requests by route (mux pattern), method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "quarry_http_request_duration_seconds",
			Help:    "HTTP request latency by route (mux pattern) and method, until the handler returns.",
			Buckets: prometheus.ExponentialBuckets(250e-6, 2.5, 14), // 250µs … ~37s
		}, []string{"route", "method"}),
	}
	m.ttft = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "quarry_http_ttft_seconds",
		Help:    "Time from a streamed request's arrival to its first answer token written to the client, by route.",
		Buckets: prometheus.ExponentialBuckets(1e-3, 2, 16), // 1ms … ~33s
	}, []string{"route"})
	m.streamed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "quarry_http_streamed_tokens_total",
		Help: "Answer token events written to streaming clients (one per piece of text the model produced), by route.",
	}, []string{"route"})
	m.requests = registerOrReuse(reg, m.requests)
	m.duration = registerOrReuse(reg, m.duration)
	m.ttft = registerOrReuse(reg, m.ttft)
	m.streamed = registerOrReuse(reg, m.streamed)
	registerOrReuse(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "quarry_http_requests_in_flight",
		Help: "HTTP requests being handled.",
	}, func() float64 { return float64(inFlight.Load()) }))
	return m
}

// registerOrReuse registers c, or returns the equal collector registered
// before (two Servers on one registry share their route metrics).
func registerOrReuse[C prometheus.Collector](reg *prometheus.Registry, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(C); ok {
				return old
			}
		}
		panic(err) // a programming error: a conflicting metric of the same name
	}
	return c
}

// instrument wraps a route's handler with metrics, the in-flight count and
// panic recovery.
func (s *Server) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.inFlight.Add(1)
		rw := &responseWriter{ResponseWriter: w}
		r, end := s.tracing.Begin(rw, r, route)
		defer func() {
			s.inFlight.Add(-1)
			code := rw.status
			if code == 0 {
				code = http.StatusOK
			}
			end(code)
			// HEAD is served by GET routes; label it as what was asked.
			s.metrics.requests.WithLabelValues(route, r.Method, strconv.Itoa(code)).Inc()
			s.metrics.duration.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
		}()
		defer s.recoverPanic(rw, r, func() bool { return rw.status != 0 })
		h.ServeHTTP(rw, r)
	})
}

// responseWriter records the status code. Unwrap lets
// http.ResponseController reach the underlying writer (Flush, deadlines).
type responseWriter struct {
	http.ResponseWriter
	status int
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush lets promhttp and future streaming routes flush through the wrapper.
func (w *responseWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}
