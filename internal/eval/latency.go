package eval

import (
	"math"
	"slices"
	"time"
)

// Percentile returns the p-th percentile, p in percent (50 for the median,
// 99 for p99, not 0.99), of samples sorted in ascending order, by the
// nearest-rank method: the sample at 1-based rank ceil(p/100 × n). It always
// returns an observed value and never interpolates. p <= 0 (or NaN) gives
// the minimum, p >= 100 the maximum, an empty slice 0. The result is
// unspecified if sorted is not sorted.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	switch {
	case n == 0:
		return 0
	case !(p > 0):
		return sorted[0]
	case p >= 100:
		return sorted[n-1]
	}
	// p*n before /100 keeps integer percentiles exact (0.99*300 is not 297).
	rank := int(math.Ceil(p * float64(n) / 100))
	return sorted[min(max(rank, 1), n)-1]
}

// QPS returns queries per second of wall-clock time; 0 if elapsed <= 0.
func QPS(queries int, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return float64(queries) / elapsed.Seconds()
}

// Latency summarises per-query latencies.
type Latency struct {
	// N is the number of samples.
	N int
	// P50 and P99 are nearest-rank percentiles (see Percentile).
	P50, P99 time.Duration
	// Max is the slowest sample.
	Max time.Duration
	// QPS is N divided by the wall-clock time passed to SummarizeLatency.
	QPS float64
}

// SummarizeLatency summarises samples, one per query, taken over wall of
// wall-clock time (for a serial loop, the loop's total time, which includes
// the per-query overhead the samples miss). It sorts a copy; samples is not
// modified.
func SummarizeLatency(samples []time.Duration, wall time.Duration) Latency {
	s := slices.Clone(samples)
	slices.Sort(s)
	l := Latency{N: len(s), P50: Percentile(s, 50), P99: Percentile(s, 99), QPS: QPS(len(s), wall)}
	if len(s) > 0 {
		l.Max = s[len(s)-1]
	}
	return l
}
