//go:build !purego

package kernels

import "unsafe"

//go:noescape
func gemm16x16AVX512(k int, a *float32, lda int, b *float32, c *float32, ldc int, accum bool)

// kernel16AVX512 computes one TallMR×NR tile (see impl.kernelTall) with
// gemm16x16AVX512.
func kernel16AVX512(k int, a []float32, lda int, b []float32, c []float32, ldc int, accum bool) {
	// Bounds are the caller's (gemmBlock's) contract; check cheaply anyway.
	_ = a[(TallMR-1)*lda+k-1]
	_ = b[k*NR-1]
	_ = c[(TallMR-1)*ldc+NR-1]
	gemm16x16AVX512(k, unsafe.SliceData(a), lda, unsafe.SliceData(b), unsafe.SliceData(c), ldc, accum)
}
