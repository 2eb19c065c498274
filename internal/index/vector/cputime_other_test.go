//go:build !unix

package vector

// cpuNanos is not measured here.
func cpuNanos() int64 { return 0 }
