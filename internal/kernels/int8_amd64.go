//go:build !purego

package kernels

import (
	"math"
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:noescape
func qgemm8x32VNNI(kp int, a *uint8, lda int, b *int8, corr *int32, wscale, ascale, bias, c *float32, ldc int)

// qgemm2x32AVX2 computes 2 rows × QNR columns of the int8 tile (see
// int8_amd64.s) with AVX2 only.
//
//go:noescape
func qgemm2x32AVX2(kp int, a *uint8, lda int, b *int8, wscale, ascale, bias, c *float32, ldc int)

// qkernelAVX2 runs qgemm2x32AVX2 over the QMR rows of a tile. corr is not
// needed: the AVX2 kernel sums signed codes directly.
func qkernelAVX2(kp int, a []uint8, lda int, b []int8, corr []int32, wscale, ascale, bias []float32, c []float32, ldc int) {
	_ = a[(QMR-1)*lda+kp-1]
	_ = b[kp*QNR-1]
	_, _, _, _ = corr[QNR-1], wscale[QNR-1], ascale[QMR-1], bias[QNR-1]
	_ = c[(QMR-1)*ldc+QNR-1]
	for r := 0; r < QMR; r += 2 {
		qgemm2x32AVX2(kp, &a[r*lda], lda, unsafe.SliceData(b), unsafe.SliceData(wscale), &ascale[r],
			unsafe.SliceData(bias), &c[r*ldc], ldc)
	}
}

// absMaxAVX512 returns max |x[i]| over n values, n a positive multiple of 16.
//
//go:noescape
func absMaxAVX512(x *float32, n int) float32

// quantAVX512 writes clamp(round(x[i]·inv), ±127)+128 for n (a multiple of
// 16) values.
//
//go:noescape
func quantAVX512(x *float32, n int, inv float32, dst *uint8)

// hasVNNI reports whether the int8 kernels of AVX-512 VNNI (VPDPBUSD on
// ZMM registers) can run.
func hasVNNI() bool {
	return cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI
}

// vnniImpl is the AVX2 kernel set with the AVX-512 VNNI int8 kernels and
// the AVX-512 16-row float32 matmul kernel.
func vnniImpl() *impl {
	im := *avx2
	im.name = "avx512vnni"
	im.quantRow = quantRowAVX512
	im.qkernel = qkernelVNNI
	im.kernelTall = kernel16AVX512
	return &im
}

func qkernelVNNI(kp int, a []uint8, lda int, b []int8, corr []int32, wscale, ascale, bias []float32, c []float32, ldc int) {
	// Bounds are the caller's (qgemmBlock's) contract; check cheaply anyway.
	_ = a[(QMR-1)*lda+kp-1]
	_ = b[kp*QNR-1]
	_, _, _, _ = corr[QNR-1], wscale[QNR-1], ascale[QMR-1], bias[QNR-1]
	_ = c[(QMR-1)*ldc+QNR-1]
	qgemm8x32VNNI(kp, unsafe.SliceData(a), lda, unsafe.SliceData(b), unsafe.SliceData(corr),
		unsafe.SliceData(wscale), unsafe.SliceData(ascale), unsafe.SliceData(bias), unsafe.SliceData(c), ldc)
}

func quantRowAVX512(x []float32, dst []uint8) float32 {
	n := len(x)
	_ = dst[n-1]
	body := n &^ 15
	var amax float32
	if body > 0 {
		amax = absMaxAVX512(&x[0], body)
	}
	for _, v := range x[body:] {
		amax = max(amax, float32(math.Abs(float64(v))))
	}
	if amax == 0 || math.IsInf(float64(amax), 0) || math.IsNaN(float64(amax)) {
		return quantizeRowGeneric(x, dst)
	}
	inv := 127 / amax
	if body > 0 {
		quantAVX512(&x[0], body, inv, &dst[0])
	}
	for i := body; i < n; i++ {
		dst[i] = uint8(int8(quantCode(x[i]*inv))) ^ 0x80
	}
	return amax / 127
}
