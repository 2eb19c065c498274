package vector

import (
	"fmt"
	"math"

	"github.com/quarry-rag/quarry/internal/kernels"
)

// Internally every index works with distances, lower is better:
// Dot and Cosine use -a·b (Cosine vectors are normalised first), L2 the
// squared Euclidean distance. The public score is -distance.

// prep validates v and returns a copy ready for the metric (normalised for
// Cosine) in dst (reused when large enough).
func prep(dst, v []float32, dim int, m Metric) ([]float32, error) {
	if len(v) != dim {
		return nil, fmt.Errorf("%w: got %d, want %d", ErrDim, len(v), dim)
	}
	if cap(dst) < dim {
		dst = make([]float32, dim)
	}
	dst = dst[:dim]
	copy(dst, v)
	if i := nonFinite(dst); i >= 0 {
		return nil, fmt.Errorf("%w at component %d", ErrNotFin, i)
	}
	if m == Cosine {
		normalize(dst)
	}
	return dst, nil
}

// nonFinite returns the index of the first NaN or ±Inf in v, or -1. A
// float32 is not finite exactly when its exponent bits are all ones, and
// then (and only then) adding 1 to the exponent field carries into the
// sign bit; the loop ORs that bit without branching, and only a vector
// that has one is scanned again for its index. (float64 IsNaN/IsInf per
// component was a tenth of a small-set HNSW query.)
func nonFinite(v []float32) int {
	var bad uint32
	for _, x := range v {
		bad |= math.Float32bits(x)&0x7f800000 + 0x00800000
	}
	if bad&0x80000000 == 0 {
		return -1
	}
	for i, x := range v {
		if math.Float32bits(x)&0x7f800000 == 0x7f800000 {
			return i
		}
	}
	return -1
}

func normalize(v []float32) {
	n := kernels.Dot(v, v)
	if n > 0 && !math.IsInf(float64(n), 0) {
		kernels.Scale(v, float32(1/math.Sqrt(float64(n))))
	}
}

// fdist is the distance between two float32 vectors.
func fdist(m Metric, a, b []float32) float32 {
	if m == L2 {
		return kernels.L2Sq(a, b)
	}
	return -kernels.DotF32(a, b)
}

// query is a prepared query: its float32 vector and, for int8 codes, the
// sum and squared norm of its components.
type query struct {
	v       []float32
	sum, nn float32
	// With sq, the walk scores sq8 codes: cq is the query in code space
	// and cs its scale (see sq8.go).
	cq []int8
	cs float32
	sq bool
}

func (q *query) set(v []float32) {
	q.v = v
	q.sum, q.nn = 0, kernels.Dot(v, v)
	for _, x := range v {
		q.sum += x
	}
}

// Per-vector affine int8 quantization: x[i] ≈ off + scale·code[i], codes in
// -128..127 spanning [min, max] of the vector. meta holds scale, off and the
// squared norm of the decoded vector (for L2), 3 floats per vector.
const metaStride = 3

func quantize(code []int8, meta []float32, v []float32) {
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	scale := (hi - lo) / 255
	off := lo + 128*scale
	inv := float32(0)
	if scale > 0 {
		inv = 1 / scale
	}
	var nn float32
	for i, x := range v {
		c := math.Round(float64((x - off) * inv))
		c = min(max(c, -128), 127)
		code[i] = int8(c)
		d := off + scale*float32(c)
		nn += d * d
	}
	meta[0], meta[1], meta[2] = scale, off, nn
}

// dequantize decodes code into dst and returns the sum of dst.
func dequantize(dst []float32, code []int8, meta []float32) float32 {
	scale, off := meta[0], meta[1]
	dst = dst[:len(code)]
	var sum float32
	for i, c := range code {
		x := off + scale*float32(c)
		dst[i] = x
		sum += x
	}
	return sum
}

// qdist is the distance from q to an int8 code.
func qdist(m Metric, q *query, code []int8, meta []float32) float32 {
	d := meta[0]*kernels.DotI8(q.v, code) + meta[1]*q.sum
	if m == L2 {
		return q.nn - 2*d + meta[2]
	}
	return -d
}

// cosine is the cosine of a (already unit length) and b.
func cosine(a, b []float32) float32 { return kernels.Cosine(a, b) }
