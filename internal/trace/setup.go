package trace

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Options configure Setup. The zero value reads only the environment.
type Options struct {
	// Endpoint is the OTLP/HTTP base URL (e.g. http://127.0.0.1:4318; spans
	// go to /v1/traces) or full traces URL ending in /v1/traces. Overrides
	// OTEL_EXPORTER_OTLP_ENDPOINT. Default "": the environment decides.
	Endpoint string
	// Version is reported as service.version.
	Version string
	// Timeout bounds one export. Default OTEL_EXPORTER_OTLP_TIMEOUT, else 5s.
	Timeout time.Duration
	// MaxQueue bounds the spans waiting for export; more are dropped.
	// Default OTEL_BSP_MAX_QUEUE_SIZE, else 2048.
	MaxQueue int
	// Logger receives export failures, at most one a minute. Default:
	// slog.Default().
	Logger *slog.Logger
	// BatchTimeout is how long spans wait to be batched. Default
	// OTEL_BSP_SCHEDULE_DELAY, else 5s.
	BatchTimeout time.Duration
}

// Enabled reports whether the environment or opts ask for tracing.
func Enabled(opts Options) bool {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") || strings.EqualFold(os.Getenv("OTEL_TRACES_EXPORTER"), "none") {
		return false
	}
	return opts.Endpoint != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup returns a tracer provider exporting over OTLP/HTTP, or nil (and no
// error) when tracing is off (see Enabled). Call Shutdown on it at exit to
// flush what is queued.
func Setup(ctx context.Context, opts Options) (*sdktrace.TracerProvider, error) {
	if !Enabled(opts) {
		return nil, nil
	}
	lg := opts.Logger
	if lg == nil {
		lg = slog.Default()
	}
	otel.SetErrorHandler(&errorLog{log: lg})
	var eo []otlptracehttp.Option
	if opts.Endpoint != "" {
		u := opts.Endpoint
		if !strings.HasSuffix(strings.TrimRight(u, "/"), "/v1/traces") {
			u = strings.TrimRight(u, "/") + "/v1/traces"
		}
		eo = append(eo, otlptracehttp.WithEndpointURL(u))
	}
	if opts.Timeout > 0 {
		eo = append(eo, otlptracehttp.WithTimeout(opts.Timeout))
	} else if os.Getenv("OTEL_EXPORTER_OTLP_TIMEOUT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") == "" {
		eo = append(eo, otlptracehttp.WithTimeout(5*time.Second))
	}
	// Retries happen on the export goroutine, never on a request's; keep
	// them short so a dead collector does not hold the queue for long.
	eo = append(eo, otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: true,
		InitialInterval: 500 * time.Millisecond, MaxInterval: 2 * time.Second, MaxElapsedTime: 10 * time.Second}))
	exp, err := otlptracehttp.New(ctx, eo...)
	if err != nil {
		return nil, errors.Join(errors.New("quarry: OTLP trace exporter"), err)
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", "quarry")}
	if opts.Version != "" {
		attrs = append(attrs, attribute.String("service.version", opts.Version))
	}
	// Later options win: the environment (OTEL_SERVICE_NAME, …) overrides
	// the defaults.
	res, err := resource.New(ctx, resource.WithAttributes(attrs...), resource.WithTelemetrySDK(), resource.WithFromEnv())
	if err != nil && res == nil {
		return nil, err
	}
	var bo []sdktrace.BatchSpanProcessorOption
	if opts.MaxQueue > 0 {
		bo = append(bo, sdktrace.WithMaxQueueSize(opts.MaxQueue))
	}
	if opts.BatchTimeout > 0 {
		bo = append(bo, sdktrace.WithBatchTimeout(opts.BatchTimeout))
	}
	if opts.Timeout > 0 {
		bo = append(bo, sdktrace.WithExportTimeout(opts.Timeout))
	}
	// The batch processor never blocks a span's End: a full queue drops.
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, bo...), sdktrace.WithResource(res)), nil
}

// Shutdown flushes tp's queued spans, waiting at most 5s (a dead collector
// must not hold up an exit). A nil tp is a no-op.
func Shutdown(tp *sdktrace.TracerProvider) {
	if tp == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = tp.Shutdown(ctx)
}

// errorLog is OpenTelemetry's error handler: export failures (a collector
// that is down) are logged at most once a minute, not once per batch.
type errorLog struct {
	mu   sync.Mutex
	last time.Time
	log  *slog.Logger
}

func (e *errorLog) Handle(err error) {
	e.mu.Lock()
	now := time.Now()
	if now.Sub(e.last) < time.Minute {
		e.mu.Unlock()
		return
	}
	e.last = now
	e.mu.Unlock()
	e.log.Warn("tracing: export failed (spans are dropped while the collector is unreachable; logged at most once a minute)", "err", err)
}
