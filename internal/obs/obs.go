// Package obs holds Quarry's metrics: pipeline stage latencies and ingestion
// counters, as Prometheus collectors. HTTP route metrics live with the
// server; this package holds what the engine itself measures.
//
// A Metrics value is safe for concurrent use. With a nil Registerer the
// collectors still work but are exported nowhere, so the engine never needs
// to check whether metrics are on.
package obs

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Stage names used as the "stage" label.
const (
	StageValidate = "validate"
	StageChunk    = "chunk"
	StageEmbed    = "embed"
	StageIndex    = "index"
	StageRetrieve = "retrieve"
	StageRerank   = "rerank"
	StageAnswer   = "answer"
)

// Metrics are the engine's collectors.
type Metrics struct {
	stage     *prometheus.HistogramVec
	documents *prometheus.CounterVec
	chunks    prometheus.Counter
	embedded  *prometheus.CounterVec
}

// New creates the collectors and registers them with reg when it is not nil.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "quarry_stage_duration_seconds",
			Help:    "Latency of one pipeline stage for one request or ingest batch.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2.5, 14), // 50µs … ~7.5s
		}, []string{"stage"}),
		documents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quarry_documents_written_total",
			Help: "Documents written, by outcome (created, updated, unchanged, deleted).",
		}, []string{"outcome"}),
		chunks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "quarry_chunks_indexed_total",
			Help: "Chunks written to the index.",
		}),
	}
	m.embedded = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "quarry_embedded_texts_total",
		Help: "Texts sent to the embedding model, by kind (passage, query).",
	}, []string{"kind"})
	if reg != nil {
		reg.MustRegister(m.stage, m.documents, m.chunks, m.embedded)
	}
	return m
}

// ObserveStage records how long a stage took.
func (m *Metrics) ObserveStage(stage string, d time.Duration) {
	m.stage.WithLabelValues(stage).Observe(d.Seconds())
}

// Since records the time elapsed since start for stage and returns now, so
// consecutive stages chain: t = m.Since(StageChunk, t).
func (m *Metrics) Since(stage string, start time.Time) time.Time {
	now := time.Now()
	m.ObserveStage(stage, now.Sub(start))
	return now
}

// Documents counts written documents by outcome.
func (m *Metrics) Documents(outcome string, n int) {
	if n > 0 {
		m.documents.WithLabelValues(outcome).Add(float64(n))
	}
}

// Chunks counts indexed chunks.
func (m *Metrics) Chunks(n int) {
	if n > 0 {
		m.chunks.Add(float64(n))
	}
}

// Embedded counts texts sent to the embedding model.
func (m *Metrics) Embedded(kind string, n int) {
	if n > 0 {
		m.embedded.WithLabelValues(kind).Add(float64(n))
	}
}
