//go:build !linux

package kernels

// hugeFloats returns a zeroed slice of n float32 (see hugepage_linux.go).
func hugeFloats(n int) []float32 { return make([]float32, n) }
