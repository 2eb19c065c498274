//go:build !purego

package kernels

import (
	"math"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// AVX2+FMA kernels, hand-written in kernels_amd64.s. Each assembly routine
// processes whole vectors; the Go wrappers below handle empty inputs and
// tails (tails go through an 8-lane scratch vector so every element sees the
// same arithmetic).

//go:noescape
func dotAVX2(a, b *float32, n int) float32

//go:noescape
func axpyAVX2(alpha float32, x, y *float32, n int)

//go:noescape
func addAVX2(dst, x *float32, n int)

//go:noescape
func scaleAVX2(x *float32, n int, s float32)

//go:noescape
func sumAVX2(x *float32, n int) float32

//go:noescape
func sumSqDevAVX2(x *float32, n int, mean float32) float32

//go:noescape
func normAffineAVX2(x, gamma, beta *float32, n int, mean, inv float32)

//go:noescape
func maxAVX2(x *float32, n int) float32

// expSubSumAVX2 sets x[i] = exp(x[i]-m) for n (a multiple of 8) values and
// returns their sum.
//
//go:noescape
func expSubSumAVX2(x *float32, n int, m float32) float32

// geluAVX2 applies GELU to n (a multiple of 8) values.
//
//go:noescape
func geluAVX2(x *float32, n int)

//go:noescape
func gemm6x16AVX2(k int, a *float32, lda int, b *float32, c *float32, ldc int, accum bool)

var avx2 = &impl{
	name:      "avx2",
	dot:       dotA,
	axpy:      axpyA,
	add:       addA,
	scale:     scaleA,
	gelu:      geluA,
	layerNorm: layerNormA,
	softmax:   softmaxA,
	kernel:    kernelA,
	quantRow:  quantizeRowGeneric,
	qkernel:   qkernelAVX2,
}

func init() {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		register(avx2)
	}
	if hasVNNI() {
		register(vnniImpl()) // registered last: the active set
	}
}

func dotA(a, b []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	return dotAVX2(&a[0], &b[0], len(a))
}

func axpyA(alpha float32, x, y []float32) {
	if len(x) == 0 {
		return
	}
	axpyAVX2(alpha, &x[0], &y[0], len(x))
}

func addA(dst, x []float32) {
	if len(x) == 0 {
		return
	}
	addAVX2(&dst[0], &x[0], len(x))
}

func scaleA(x []float32, s float32) {
	if len(x) == 0 {
		return
	}
	scaleAVX2(&x[0], len(x), s)
}

func geluA(x []float32) {
	n := len(x) &^ 7
	if n > 0 {
		geluAVX2(&x[0], n)
	}
	if t := x[n:]; len(t) > 0 {
		var v [8]float32
		copy(v[:], t)
		geluAVX2(&v[0], 8)
		copy(t, v[:])
	}
}

func layerNormA(x, g, b []float32, eps float32) {
	n := len(x)
	if n == 0 {
		return
	}
	g, b = g[:n], b[:n]
	mean := sumAVX2(&x[0], n) / float32(n)
	v := sumSqDevAVX2(&x[0], n, mean) / float32(n)
	inv := float32(1 / math.Sqrt(float64(v+eps)))
	normAffineAVX2(&x[0], &g[0], &b[0], n, mean, inv)
}

func softmaxA(x []float32) {
	if len(x) == 0 {
		return
	}
	m := maxAVX2(&x[0], len(x))
	n := len(x) &^ 7
	var sum float32
	if n > 0 {
		sum = expSubSumAVX2(&x[0], n, m)
	}
	if t := x[n:]; len(t) > 0 {
		// Pad with m-∞-like values whose exp is 0 so the sum is unchanged.
		v := [8]float32{}
		for i := range v {
			v[i] = -math.MaxFloat32
		}
		copy(v[:], t)
		sum += expSubSumAVX2(&v[0], 8, m)
		copy(t, v[:])
	}
	scaleAVX2(&x[0], len(x), 1/sum)
}

func kernelA(k int, a []float32, lda int, b []float32, c []float32, ldc int, accum bool) {
	// Bounds are the caller's (gemmBlock's) contract; check cheaply anyway.
	_ = a[(MR-1)*lda+k-1]
	_ = b[k*NR-1]
	_ = c[(MR-1)*ldc+NR-1]
	gemm6x16AVX2(k, unsafe.SliceData(a), lda, unsafe.SliceData(b), unsafe.SliceData(c), ldc, accum)
}
