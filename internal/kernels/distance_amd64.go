//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

//go:noescape
func l2sqAVX2(a, b *float32, n int) float32

//go:noescape
func dotI8AVX2(a *float32, b *int8, n int) float32

// hasAVX2 selects the assembly in the direct (table-free) entry points.
var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

func init() {
	if hasAVX2 {
		registerDist(&distImpl{name: "avx2", l2sq: l2sqA, dotI8: dotI8A})
	}
}

func dotFast(a, b []float32) float32 {
	if hasAVX2 && len(a) > 0 {
		return dotAVX2(&a[0], &b[0], len(a))
	}
	return dotGeneric(a, b)
}

func l2sqFast(a, b []float32) float32 {
	if hasAVX2 && len(a) > 0 {
		return l2sqAVX2(&a[0], &b[0], len(a))
	}
	return l2sqGeneric(a, b)
}

func dotI8Fast(a []float32, b []int8) float32 {
	if hasAVX2 && len(a) > 0 {
		return dotI8AVX2(&a[0], &b[0], len(a))
	}
	return dotI8Generic(a, b)
}

func l2sqA(a, b []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	_ = b[len(a)-1]
	return l2sqAVX2(&a[0], &b[0], len(a))
}

func dotI8A(a []float32, b []int8) float32 {
	if len(a) == 0 {
		return 0
	}
	_ = b[len(a)-1]
	return dotI8AVX2(&a[0], &b[0], len(a))
}
