package obs

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// LLM are the collectors of the generation path: language-model latency
// and throughput, and answer-cache outcomes.
type LLM struct {
	ttft        prometheus.Histogram
	tokensPerS  prometheus.Histogram
	generation  prometheus.Histogram
	answerCache *prometheus.CounterVec
}

// NewLLM creates the generation collectors and registers them with reg
// when it is not nil. Registering twice with the same registry is allowed:
// the collectors already registered are reused, so every engine sharing a
// registry counts into the same series.
func NewLLM(reg prometheus.Registerer) *LLM {
	m := &LLM{
		ttft: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "quarry_llm_ttft_seconds",
			Help:    "Time from sending a prompt to the language model to its first answer token.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14), // 10ms … ~80s
		}),
		tokensPerS: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "quarry_llm_tokens_per_second",
			Help:    "Completion tokens per second of generation after the first token.",
			Buckets: prometheus.ExponentialBuckets(0.5, 2, 12), // 0.5 … 1024
		}),
		generation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "quarry_llm_generation_seconds",
			Help:    "Duration of one language-model call, prompt to last token.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 14), // 50ms … ~7min
		}),
		answerCache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quarry_answer_cache_total",
			Help: "Answer cache lookups, by cache (exact, semantic) and result (hit, miss).",
		}, []string{"cache", "result"}),
	}
	if reg != nil {
		m.ttft = register(reg, m.ttft)
		m.tokensPerS = register(reg, m.tokensPerS)
		m.generation = register(reg, m.generation)
		m.answerCache = register(reg, m.answerCache)
	}
	return m
}

// register registers c, or returns the equal collector registered before.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(C); ok {
				return old
			}
		}
		panic(err) // a conflicting definition is a programming error
	}
	return c
}

// Generation records one finished language-model call: its time to first
// token, its duration and how many tokens it generated.
func (m *LLM) Generation(ttft, total time.Duration, completionTokens int) {
	if ttft > 0 {
		m.ttft.Observe(ttft.Seconds())
	}
	m.generation.Observe(total.Seconds())
	if gen := total - ttft; completionTokens > 1 && gen > 0 {
		m.tokensPerS.Observe(float64(completionTokens-1) / gen.Seconds())
	}
}

// AnswerCache counts one lookup of cache ("exact" or "semantic").
func (m *LLM) AnswerCache(cache string, hit bool) {
	result := "miss"
	if hit {
		result = "hit"
	}
	m.answerCache.WithLabelValues(cache, result).Inc()
}
