package kernels

import (
	"math"
)

// The generic implementations are the reference: plain Go, float32 storage,
// always built. The assembly versions are tested against them.

func dotGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func axpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

func addGeneric(dst, x []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] += v
	}
}

func scaleGeneric(x []float32, s float32) {
	for i := range x {
		x[i] *= s
	}
}

// erf32 is the rational approximation used by Eigen and XLA for float32
// erf: x·P(x²)/Q(x²) on [-4, 4], ±1 outside. Max error is a few ulp, well
// under float32 rounding of the GELU that uses it. The assembly uses the same
// coefficients.
func erf32(x float32) float32 {
	x = min(max(x, -4), 4)
	x2 := x * x
	p := x2*erfA13 + erfA11
	p = x2*p + erfA9
	p = x2*p + erfA7
	p = x2*p + erfA5
	p = x2*p + erfA3
	p = x2*p + erfA1
	p *= x
	q := x2*erfB8 + erfB6
	q = x2*q + erfB4
	q = x2*q + erfB2
	q = x2*q + erfB0
	return p / q
}

const (
	erfA1  = -1.60960333262415e-02
	erfA3  = -2.95459980854025e-03
	erfA5  = -7.34990630326855e-04
	erfA7  = -5.69250639462346e-05
	erfA9  = -2.10102402082508e-06
	erfA11 = 2.77068142495902e-08
	erfA13 = -2.72614225801306e-10
	erfB0  = -1.42647390514189e-02
	erfB2  = -7.37332916720468e-03
	erfB4  = -1.68282697438203e-03
	erfB6  = -2.13374055278905e-04
	erfB8  = -1.45660718464996e-05
)

// geluGeneric is the exact (erf) GELU, PyTorch's default:
// 0.5·x·(1 + erf(x/√2)).
func geluGeneric(x []float32) {
	for i, v := range x {
		x[i] = 0.5 * v * (1 + erf32(v*math.Sqrt2/2))
	}
}

// layerNormGeneric normalises one row in place: (x-mean)/sqrt(var+eps)·g+b,
// with the biased variance, as torch.nn.LayerNorm.
func layerNormGeneric(x, g, b []float32, eps float32) {
	n := len(x)
	g, b = g[:n], b[:n]
	var sum float32
	for _, v := range x {
		sum += v
	}
	mean := sum / float32(n)
	var ss float32
	for _, v := range x {
		d := v - mean
		ss += d * d
	}
	inv := float32(1 / math.Sqrt(float64(ss/float32(n)+eps)))
	for i, v := range x {
		x[i] = (v-mean)*inv*g[i] + b[i]
	}
}

// softmaxGeneric is the max-subtracted softmax of one row, in place.
func softmaxGeneric(x []float32) {
	if len(x) == 0 {
		return
	}
	m := x[0]
	for _, v := range x[1:] {
		m = max(m, v)
	}
	var sum float32
	for i, v := range x {
		e := float32(math.Exp(float64(v - m)))
		x[i] = e
		sum += e
	}
	scaleGeneric(x, 1/sum)
}

// kernelGeneric computes one MR×NR tile: c[r*ldc+j] (+)= Σ_k a[r*lda+k]·b[k*NR+j]
// where b is one packed panel (NR floats per k).
func kernelGeneric(k int, a []float32, lda int, b []float32, c []float32, ldc int, accum bool) {
	var acc [MR][NR]float32
	for kk := 0; kk < k; kk++ {
		bp := (*[NR]float32)(b[kk*NR : kk*NR+NR])
		for r := 0; r < MR; r++ {
			av := a[r*lda+kk]
			row := &acc[r]
			for j := 0; j < NR; j++ {
				row[j] += av * bp[j]
			}
		}
	}
	for r := 0; r < MR; r++ {
		row := c[r*ldc : r*ldc+NR]
		if accum {
			for j := range row {
				row[j] += acc[r][j]
			}
		} else {
			copy(row, acc[r][:])
		}
	}
}
