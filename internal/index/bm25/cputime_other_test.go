//go:build !unix

package bm25

// cpuNanos is not measured here.
func cpuNanos() int64 { return 0 }
