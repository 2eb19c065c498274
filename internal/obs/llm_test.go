package obs

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "," + l.GetValue()
			}
			if c := m.GetCounter(); c != nil {
				out[key] = c.GetValue()
			}
			if h := m.GetHistogram(); h != nil {
				out[key] = h.GetSampleSum()
			}
		}
	}
	return out
}

func TestNewLLMSharesARegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, b := NewLLM(reg), NewLLM(reg) // two engines on one registry
	a.AnswerCache("exact", true)
	b.AnswerCache("exact", true)
	b.AnswerCache("semantic", false)
	a.Generation(100*time.Millisecond, 1100*time.Millisecond, 11)
	got := gather(t, reg)
	for key, want := range map[string]float64{
		"quarry_answer_cache_total,exact,hit":     2,
		"quarry_answer_cache_total,semantic,miss": 1,
		"quarry_llm_ttft_seconds":                 0.1,
		"quarry_llm_generation_seconds":           1.1,
		"quarry_llm_tokens_per_second":            10, // 10 tokens after the first, in 1 s
	} {
		if d := got[key] - want; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
	NewLLM(nil).Generation(0, time.Second, 0) // unregistered: no panic
}
