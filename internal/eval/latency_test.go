package eval

import (
	"slices"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(n int) []time.Duration { // 1ms, 2ms, ..., n ms
		s := make([]time.Duration, n)
		for i := range s {
			s[i] = time.Duration(i+1) * time.Millisecond
		}
		return s
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample", ms(1), 99, time.Millisecond},
		{"median of 100", ms(100), 50, 50 * time.Millisecond}, // ceil(0.50*100) = 50th
		{"p99 of 100", ms(100), 99, 99 * time.Millisecond},    // ceil(0.99*100) = 99th
		{"p99 of 300", ms(300), 99, 297 * time.Millisecond},   // ceil(0.99*300) = 297th, no float drift
		{"p50 of 3", ms(3), 50, 2 * time.Millisecond},         // ceil(1.5) = 2nd
		{"p95 of 10", ms(10), 95, 10 * time.Millisecond},      // ceil(9.5) = 10th
		{"p99 of 10 is the max", ms(10), 99, 10 * time.Millisecond},
		{"fraction is not percent", ms(100), 0.99, time.Millisecond}, // ceil(0.99) = 1st
		{"p0 is the min", ms(10), 0, time.Millisecond},
		{"over 100 is the max", ms(10), 250, 10 * time.Millisecond},
	}
	for _, tc := range tests {
		if got := Percentile(tc.sorted, tc.p); got != tc.want {
			t.Errorf("%s: Percentile(p=%v) = %v, want %v", tc.name, tc.p, got, tc.want)
		}
	}
}

func TestQPS(t *testing.T) {
	if got := QPS(300, 1500*time.Millisecond); got != 200 {
		t.Errorf("QPS(300, 1.5s) = %v, want 200", got)
	}
	if got := QPS(300, 0); got != 0 {
		t.Errorf("QPS(300, 0) = %v, want 0", got)
	}
}

func TestSummarizeLatency(t *testing.T) {
	samples := []time.Duration{4, 1, 3, 2} // nanoseconds, unsorted
	orig := slices.Clone(samples)
	got := SummarizeLatency(samples, 2*time.Second)
	want := Latency{N: 4, P50: 2, P99: 4, Max: 4, QPS: 2}
	if got != want {
		t.Errorf("SummarizeLatency = %+v, want %+v", got, want)
	}
	if !slices.Equal(samples, orig) {
		t.Errorf("samples modified: %v", samples)
	}
	if got := SummarizeLatency(nil, 0); got != (Latency{}) {
		t.Errorf("SummarizeLatency(nil) = %+v, want zero", got)
	}
}
