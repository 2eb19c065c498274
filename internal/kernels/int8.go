package kernels

import (
	"fmt"
	"math"
	"sync"
)

// Int8 matmul: C = dequant(A_q · W_qᵀ) + bias, with W quantized per output
// channel (symmetric int8, scale max|w|/127) once at load, and A quantized
// per row (symmetric, scale max|a|/127) on every call. The kernels take
// unsigned activations and signed weights (the VPDPBUSD / VPMADDWD operand
// types), so a row is stored as q+128 and each column's accumulator starts
// at −128·Σ_k w_q[k], which makes the int32 result exactly Σ_k a_q·w_q.
//
// Epilogue, in this order and rounded to float32 after each step (the
// assembly does the same, so every implementation gives identical bits):
// c = float32(acc)·wscale[n]·ascale[r] + bias[n].

// Tile of the int8 micro-kernel: QMR rows by QNR columns. K is padded to a
// multiple of 4 (one VPDPBUSD lane: 4 bytes of A times 4 bytes of B).
const (
	QMR = 8
	QNR = 32
)

// qmaxK bounds K so that the int32 accumulator cannot overflow:
// 255·127·K + 128·127·K < 2³¹.
const qmaxK = 1 << 15

// QPacked is a weight matrix W (N×K, a Linear weight [out, in]) quantized to
// int8 per output channel and packed for MatMulQ: column panels of QNR, and
// inside a panel, for each group of 4 k, the 4 bytes of every column
// contiguously (QNR·4 = 128 bytes per group). Padding columns and k are 0.
type QPacked struct {
	N, K  int
	kp    int       // K rounded up to 4
	data  []int8    // panels·kp·QNR
	scale []float32 // per column, panels·QNR, padding 0
	corr  []int32   // per column: −128·Σ_k w_q
	bias  []float32 // per column, padding 0
}

func (w *QPacked) panels() int { return (w.N + QNR - 1) / QNR }

// quantizeRowGeneric writes x's codes round(x·127/amax) (clamped to ±127,
// stored +128) to dst and returns the scale amax/127 (0 for an all-zero x,
// whose codes are all 128; NaN if x holds a NaN or an infinity).
func quantizeRowGeneric(x []float32, dst []uint8) float32 {
	var amax float32
	for _, v := range x {
		amax = max(amax, float32(math.Abs(float64(v))))
	}
	if amax == 0 || math.IsInf(float64(amax), 0) || math.IsNaN(float64(amax)) {
		for i := range x {
			dst[i] = 128
		}
		if amax == 0 {
			return 0
		}
		return float32(math.NaN()) // propagates: the output is NaN, as float32 would be
	}
	inv := 127 / amax
	for i, v := range x {
		dst[i] = uint8(int8(quantCode(v*inv))) ^ 0x80
	}
	return amax / 127
}

// quantCode rounds v (|v| ≤ ~127) half to even and clamps to ±127.
func quantCode(v float32) int32 {
	q := int32(math.RoundToEven(float64(v)))
	return min(max(q, -127), 127)
}

// QuantizeBT quantizes w, an n×k row-major matrix (a Linear weight [out,
// in]), per row (output channel) and packs it with bias (nil: zeros) for
// MatMulQ. k must be at most 32768.
func QuantizeBT(w, bias []float32, n, k int) *QPacked {
	if len(w) < n*k || (bias != nil && len(bias) < n) || k > qmaxK || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: QuantizeBT: bad shape %d×%d, len(w)=%d len(bias)=%d", n, k, len(w), len(bias)))
	}
	q := &QPacked{N: n, K: k, kp: (k + 3) &^ 3}
	np := q.panels()
	q.data = make([]int8, np*q.kp*QNR)
	q.scale = make([]float32, np*QNR)
	q.corr = make([]int32, np*QNR)
	q.bias = make([]float32, np*QNR)
	codes := make([]int8, k)
	for col := 0; col < n; col++ {
		row := w[col*k : (col+1)*k]
		var amax float32
		for _, v := range row {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		var sum int32
		if amax > 0 {
			inv := 127 / amax
			for i, v := range row {
				codes[i] = int8(quantCode(v * inv))
				sum += int32(codes[i])
			}
			q.scale[col] = amax / 127
		} else {
			clear(codes)
		}
		q.corr[col] = -128 * sum
		if bias != nil {
			q.bias[col] = bias[col]
		}
		p, j := col/QNR, col%QNR
		panel := q.data[p*q.kp*QNR : (p+1)*q.kp*QNR]
		for kk, c := range codes {
			panel[(kk/4)*QNR*4+j*4+kk%4] = c
		}
	}
	return q
}

// SetBias sets the bias MatMulQ adds to every row (nil: zeros).
func (w *QPacked) SetBias(bias []float32) {
	if bias != nil && len(bias) < w.N {
		panic(fmt.Sprintf("kernels: QPacked.SetBias: len(bias)=%d < N=%d", len(bias), w.N))
	}
	clear(w.bias)
	copy(w.bias, bias[:min(len(bias), w.N)])
}

// Int8Accelerated reports whether MatMulQ runs an assembly kernel (AVX-512
// VNNI, or AVX2); otherwise it runs the generic Go kernel, exact but much
// slower than float32 MatMul.
func Int8Accelerated() bool { return active.name != generic.name }

// Dequantize returns the n×k float32 matrix W_q·scale that MatMulQ
// multiplies by, for measuring quantization error.
func (w *QPacked) Dequantize() []float32 {
	out := make([]float32, w.N*w.K)
	for col := 0; col < w.N; col++ {
		p, j := col/QNR, col%QNR
		panel := w.data[p*w.kp*QNR:]
		for kk := 0; kk < w.K; kk++ {
			out[col*w.K+kk] = float32(panel[(kk/4)*QNR*4+j*4+kk%4]) * w.scale[col]
		}
	}
	return out
}

// QActs holds activation rows quantized for MatMulQ: per row a scale and
// K codes stored as q+128 (uint8), rows padded to QMR and K to 4 with the
// code of 0. Reuse one QActs across calls: Quantize grows its buffers.
type QActs struct {
	M, K  int
	kp    int
	data  []uint8
	scale []float32
}

// Quantize quantizes rows [0,m) of x (row stride ldx, k values each) into
// a, splitting rows over p (nil: the caller).
func (a *QActs) Quantize(p *Pool, x []float32, ldx, m, k int) {
	if k > qmaxK || ldx < k || (m > 0 && len(x) < (m-1)*ldx+k) {
		panic(fmt.Sprintf("kernels: QActs.Quantize: bad shape m=%d k=%d ldx=%d len(x)=%d", m, k, ldx, len(x)))
	}
	a.M, a.K, a.kp = m, k, (k+3)&^3
	mp := (m + QMR - 1) / QMR * QMR
	if n := mp * a.kp; cap(a.data) < n {
		a.data = make([]uint8, n)
	} else {
		a.data = a.data[:n]
	}
	if cap(a.scale) < mp {
		a.scale = make([]float32, mp)
	} else {
		a.scale = a.scale[:mp]
	}
	im := active
	do := func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			dst := a.data[r*a.kp : (r+1)*a.kp]
			if r >= m {
				for i := range dst {
					dst[i] = 128
				}
				a.scale[r] = 0
				continue
			}
			a.scale[r] = im.quantRow(x[r*ldx:r*ldx+k], dst[:k])
			for i := k; i < a.kp; i++ {
				dst[i] = 128
			}
		}
	}
	const chunk = 32
	tasks := (mp + chunk - 1) / chunk
	if p.Size() == 1 || tasks == 1 {
		do(0, mp)
		return
	}
	p.ParallelFor(tasks, func(t int) { do(t*chunk, min(t*chunk+chunk, mp)) })
}

// MatMulQ computes C = dequant(A·Wᵀ) + bias for the a.M rows of a; C has
// row stride ldc. Row tiles × panel groups are split over p (nil: the
// caller).
func MatMulQ(p *Pool, c []float32, ldc int, a *QActs, w *QPacked) {
	m, n := a.M, w.N
	if a.K != w.K {
		panic(fmt.Sprintf("kernels: MatMulQ: activations have K=%d, weights K=%d", a.K, w.K))
	}
	if m == 0 || n == 0 {
		return
	}
	if ldc < n || len(c) < (m-1)*ldc+n {
		panic(fmt.Sprintf("kernels: MatMulQ: bad shape m=%d n=%d ldc=%d len(c)=%d", m, n, ldc, len(c)))
	}
	const qmc, qpg = QMR * 4, 4 // rows × panels of one task
	rowBlocks := (m + qmc - 1) / qmc
	panelGroups := (w.panels() + qpg - 1) / qpg
	tasks := rowBlocks * panelGroups
	im := active
	if p.Size() == 1 || tasks == 1 {
		qgemmBlock(im, c, ldc, a, w, 0, m, 0, w.panels())
		return
	}
	p.ParallelFor(tasks, func(t int) {
		rb, g := t/panelGroups, t%panelGroups
		qgemmBlock(im, c, ldc, a, w, rb*qmc, min(rb*qmc+qmc, m), g*qpg, min(g*qpg+qpg, w.panels()))
	})
}

// qTile is the output of an edge tile.
type qTile [QMR * QNR]float32

var qTilePool = sync.Pool{New: func() any { return new(qTile) }}

func qgemmBlock(im *impl, c []float32, ldc int, a *QActs, w *QPacked, r0, r1, p0, p1 int) {
	var tile *qTile
	for pi := p0; pi < p1; pi++ {
		col := pi * QNR
		panel := w.data[pi*w.kp*QNR : (pi+1)*w.kp*QNR]
		cols := min(QNR, w.N-col)
		for i := r0; i < r1; i += QMR {
			rows := min(QMR, a.M-i)
			ar := a.data[i*a.kp : (i+QMR)*a.kp]
			if rows == QMR && cols == QNR {
				im.qkernel(a.kp, ar, a.kp, panel, w.corr[col:col+QNR], w.scale[col:col+QNR],
					a.scale[i:i+QMR], w.bias[col:col+QNR], c[i*ldc+col:], ldc)
				continue
			}
			if tile == nil {
				tile = qTilePool.Get().(*qTile)
				defer qTilePool.Put(tile)
			}
			im.qkernel(a.kp, ar, a.kp, panel, w.corr[col:col+QNR], w.scale[col:col+QNR],
				a.scale[i:i+QMR], w.bias[col:col+QNR], tile[:], QNR)
			for r := 0; r < rows; r++ {
				copy(c[(i+r)*ldc+col:(i+r)*ldc+col+cols], tile[r*QNR:r*QNR+cols])
			}
		}
	}
}

// qkernelGeneric is the reference micro-kernel: one QMR×QNR tile from QMR
// rows of codes (stride lda) and one packed panel, kp a multiple of 4.
func qkernelGeneric(kp int, a []uint8, lda int, b []int8, corr []int32, wscale, ascale, bias []float32, c []float32, ldc int) {
	var acc [QMR][QNR]int32
	for r := range acc {
		copy(acc[r][:], corr[:QNR])
	}
	for g := 0; g < kp/4; g++ {
		bp := b[g*QNR*4 : (g+1)*QNR*4]
		for r := 0; r < QMR; r++ {
			ap := a[r*lda+g*4 : r*lda+g*4+4]
			a0, a1, a2, a3 := int32(ap[0]), int32(ap[1]), int32(ap[2]), int32(ap[3])
			row := &acc[r]
			for j := 0; j < QNR; j++ {
				row[j] += a0*int32(bp[4*j]) + a1*int32(bp[4*j+1]) + a2*int32(bp[4*j+2]) + a3*int32(bp[4*j+3])
			}
		}
	}
	for r := 0; r < QMR; r++ {
		out := c[r*ldc : r*ldc+QNR]
		for j := range out {
			// Explicit conversions keep each step a float32 rounding (no FMA).
			v := float32(float32(acc[r][j]) * wscale[j])
			v = float32(v * ascale[r])
			out[j] = v + bias[j]
		}
	}
}
