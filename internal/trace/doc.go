// Package trace is Quarry's request tracing and request logging:
// OpenTelemetry spans exported over OTLP/HTTP, one per HTTP request and one
// per query-pipeline stage, and an access log line per request carrying the
// trace id, which is also the X-Request-Id response header.
//
// Tracing is off unless an endpoint is configured: Setup returns a nil
// provider when neither Options.Endpoint nor OTEL_EXPORTER_OTLP_ENDPOINT /
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, or when OTEL_SDK_DISABLED=true
// or OTEL_TRACES_EXPORTER=none. The exporter reads the other standard
// OTEL_* variables (headers, timeout, OTEL_BSP_* queue sizes,
// OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES).
//
// A collector that is down never blocks or fails a request: spans go to a
// bounded queue (OTEL_BSP_MAX_QUEUE_SIZE, default 2048) drained by one
// background goroutine; when the queue is full new spans are dropped, and
// each export is bounded by a timeout (default 5s).
//
// StageTracer implements query.SpanTracer: each stage is a span named
// "quarry.<stage>" (quarry.retrieve, quarry.lexical, quarry.dense,
// quarry.embed, quarry.fuse, quarry.rerank, quarry.mmr, quarry.rewrite,
// quarry.cache, quarry.generate), child of the span in the context it
// starts with, so embed nests in dense, dense in retrieve, retrieve in the
// request's server span. Multi fans a pipeline's one Tracer hook out.
//
// HTTP.Begin starts a request's server span (continuing a W3C traceparent
// from the caller), sets X-Request-Id and returns the function that ends
// the span and writes the access log line. LogHandler adds trace_id and
// span_id to every log record written with a traced context; NewLogger
// writes text or, with QUARRY_LOG_FORMAT=json, JSON.
//
// Concurrency: everything here is safe for concurrent use.
package trace
