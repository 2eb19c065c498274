package quarry

import (
	"context"

	"github.com/quarry-rag/quarry/internal/query"
	"github.com/quarry-rag/quarry/internal/trace"
)

// DriftRecorder receives one collection's quality signals; a
// drift.Monitor's Recorder (internal/drift) implements it.
type DriftRecorder interface {
	// ObserveQuery records one search: the query's embedding (nil for a
	// lexical-only search), the top-1 fused score and whether nothing was
	// found.
	ObserveQuery(vec []float32, top1 float64, empty bool)
	// ObserveAnswer records one answer's abstained and grounded flags.
	ObserveAnswer(abstained, grounded bool)
}

// opsTracer is the pipeline's Tracer hook for operations: OpenTelemetry
// stage spans and drift recording, each when the engine's options ask.
func (c *Collection) opsTracer() query.Tracer {
	e := c.engine
	var ts []query.Tracer
	if e.opts.TracerProvider != nil {
		ts = append(ts, trace.NewStageTracer(e.opts.TracerProvider, c.name))
	}
	if e.opts.Drift != nil {
		if r := e.opts.Drift(c.name); r != nil {
			ts = append(ts, driftTracer{r})
		}
	}
	return trace.Multi(ts...)
}

// driftTracer records drift signals from stage events: a search after
// fusion and before reranking (the score scale does not depend on the
// reranker), an answer when it is written.
type driftTracer struct{ r DriftRecorder }

func (d driftTracer) Trace(_ context.Context, ev query.StageEvent) {
	switch ev.Stage {
	case query.StageRetrieve:
		if ev.Err != nil {
			return
		}
		var top1 float64
		if len(ev.Hits) > 0 {
			top1 = ev.Hits[0].Score
		}
		d.r.ObserveQuery(ev.Vector, top1, len(ev.Hits) == 0)
	case query.StageGenerate:
		if ev.Answer != nil && ev.Err == nil {
			d.r.ObserveAnswer(ev.Answer.Abstained, ev.Answer.Grounded)
		}
	}
}
