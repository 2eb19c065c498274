package trace

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/quarry-rag/quarry/internal/query"
)

// ScopeName is the instrumentation scope of Quarry's spans.
const ScopeName = "github.com/quarry-rag/quarry"

// Span attribute keys of stage spans.
const (
	AttrCollection   = "quarry.collection"
	AttrHits         = "quarry.hits"
	AttrQueries      = "quarry.queries"
	AttrTopScore     = "quarry.top_score"
	AttrCacheHit     = "quarry.cache.hit"
	AttrTTFT         = "quarry.ttft_ms"
	AttrMethod       = "quarry.answer.method"
	AttrAbstained    = "quarry.answer.abstained"
	AttrGrounded     = "quarry.answer.grounded"
	AttrModel        = "gen_ai.request.model"
	AttrInputTokens  = "gen_ai.usage.input_tokens"
	AttrOutputTokens = "gen_ai.usage.output_tokens"
	AttrFinishReason = "gen_ai.response.finish_reasons"
	spanPrefix       = "quarry."
)

// SpanName returns the name of stage's span.
func SpanName(stage query.Stage) string { return spanPrefix + string(stage) }

// StageTracer turns pipeline stages into spans. It implements
// query.SpanTracer.
type StageTracer struct {
	tr         oteltrace.Tracer
	collection string
}

// NewStageTracer returns a StageTracer for one collection's pipeline.
func NewStageTracer(tp oteltrace.TracerProvider, collection string) *StageTracer {
	return &StageTracer{tr: tp.Tracer(ScopeName), collection: collection}
}

type stageKey struct{}

type openStage struct {
	stage query.Stage
	span  oteltrace.Span
}

// Start opens stage's span as a child of the span in ctx.
func (t *StageTracer) Start(ctx context.Context, stage query.Stage) context.Context {
	ctx, span := t.tr.Start(ctx, SpanName(stage), oteltrace.WithSpanKind(oteltrace.SpanKindInternal))
	return context.WithValue(ctx, stageKey{}, openStage{stage, span})
}

// Trace ends the span Start opened for ev.Stage, or, for a stage that was
// not started (a tracer added after the fact), records one ending now that
// lasted ev.Took.
func (t *StageTracer) Trace(ctx context.Context, ev query.StageEvent) {
	st, ok := ctx.Value(stageKey{}).(openStage)
	span := st.span
	var end []oteltrace.SpanEndOption
	if !ok || st.stage != ev.Stage {
		now := time.Now()
		_, span = t.tr.Start(ctx, SpanName(ev.Stage), oteltrace.WithTimestamp(now.Add(-ev.Took)))
		end = append(end, oteltrace.WithTimestamp(now))
	}
	if !span.IsRecording() {
		span.End(end...)
		return
	}
	attrs := make([]attribute.KeyValue, 0, 12)
	attrs = append(attrs, attribute.String(AttrCollection, t.collection))
	if len(ev.Queries) > 0 {
		attrs = append(attrs, attribute.Int(AttrQueries, len(ev.Queries)))
	}
	if ev.Hits != nil || ev.Stage == query.StageLexical || ev.Stage == query.StageDense || ev.Stage == query.StageRetrieve {
		attrs = append(attrs, attribute.Int(AttrHits, len(ev.Hits)))
		if len(ev.Hits) > 0 {
			attrs = append(attrs, attribute.Float64(AttrTopScore, ev.Hits[0].Score))
		}
	}
	if ev.Stage == query.StageCache {
		attrs = append(attrs, attribute.Bool(AttrCacheHit, ev.Hit))
	}
	if a := ev.Answer; a != nil {
		attrs = append(attrs, attribute.String(AttrMethod, a.Method), attribute.Bool(AttrAbstained, a.Abstained),
			attribute.Bool(AttrGrounded, a.Grounded), attribute.Float64(AttrTTFT, a.Timings.LLMTTFT))
		if a.Model != "" {
			attrs = append(attrs, attribute.String(AttrModel, a.Model))
		}
		if a.Usage != nil {
			attrs = append(attrs, attribute.Int(AttrInputTokens, a.Usage.PromptTokens), attribute.Int(AttrOutputTokens, a.Usage.CompletionTokens))
		}
		if a.FinishReason != "" {
			attrs = append(attrs, attribute.StringSlice(AttrFinishReason, []string{a.FinishReason}))
		}
	}
	span.SetAttributes(attrs...)
	if ev.Err != nil {
		span.RecordError(ev.Err)
		span.SetStatus(codes.Error, ev.Err.Error())
	}
	span.End(end...)
}

// Multi fans one pipeline hook out to several tracers; nil members are
// skipped. It returns nil for none and the tracer itself for one.
func Multi(ts ...query.Tracer) query.Tracer {
	var keep multi
	for _, t := range ts {
		if t != nil {
			keep = append(keep, t)
		}
	}
	switch len(keep) {
	case 0:
		return nil
	case 1:
		return keep[0]
	}
	return keep
}

type multi []query.Tracer

func (m multi) Start(ctx context.Context, stage query.Stage) context.Context {
	for _, t := range m {
		if st, ok := t.(query.SpanTracer); ok {
			ctx = st.Start(ctx, stage)
		}
	}
	return ctx
}

func (m multi) Trace(ctx context.Context, ev query.StageEvent) {
	for _, t := range m {
		t.Trace(ctx, ev)
	}
}
