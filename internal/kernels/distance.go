package kernels

import "fmt"

// Distance kernels for the vector index: squared L2, cosine, and the
// asymmetric float32·int8 dot product used to traverse a scalar-quantized
// HNSW graph. Like the transformer kernels, the generic Go versions are the
// reference and assembly (distance_amd64.s) takes over on AVX2+FMA; they are
// kept in their own registry so the encoder's impl set stays unchanged.

type distImpl struct {
	name  string
	l2sq  func(a, b []float32) float32
	dotI8 func(a []float32, b []int8) float32
}

var (
	distGeneric = &distImpl{name: "generic", l2sq: l2sqGeneric, dotI8: dotI8Generic}
	distImpls   = []*distImpl{distGeneric}
	distActive  = distGeneric
)

func registerDist(im *distImpl) {
	distImpls = append(distImpls, im)
	distActive = im
}

// L2Sq returns Σ (a[i]-b[i])². b must be at least as long as a (else it
// panics). L2Sq, DotI8 and DotF32 are small enough to inline into callers.
func L2Sq(a, b []float32) float32 {
	if len(b) < len(a) {
		panic("kernels: L2Sq: second vector shorter than the first")
	}
	return l2sqFast(a, b)
}

// DotI8 returns Σ a[i]·float32(b[i]), the inner product of a float32 query
// with an int8 code. b must be at least as long as a.
func DotI8(a []float32, b []int8) float32 {
	if len(b) < len(a) {
		panic("kernels: DotI8: code shorter than the vector")
	}
	return dotI8Fast(a, b)
}

// DotF32 is Dot for the vector index's hot loop: the same check and result,
// but a direct call of the assembly rather than one through the kernel
// table.
func DotF32(a, b []float32) float32 {
	if len(b) < len(a) {
		panic("kernels: DotF32: second vector shorter than the first")
	}
	return dotFast(a, b)
}

// Cosine returns a·b / (|a|·|b|), or 0 when either vector is zero. It is
// three SIMD dot products; callers that normalise once should use Dot.
func Cosine(a, b []float32) float32 {
	if len(b) < len(a) {
		panic(fmt.Sprintf("kernels: Cosine length mismatch %d > %d", len(a), len(b)))
	}
	b = b[:len(a)]
	ab, aa, bb := active.dot(a, b), active.dot(a, a), active.dot(b, b)
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / sqrt32(aa*bb)
}

func l2sqGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0, d1, d2, d3 := a[i]-b[i], a[i+1]-b[i+1], a[i+2]-b[i+2], a[i+3]-b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

func dotI8Generic(a []float32, b []int8) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * float32(b[i])
		s1 += a[i+1] * float32(b[i+1])
		s2 += a[i+2] * float32(b[i+2])
		s3 += a[i+3] * float32(b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += a[i] * float32(b[i])
	}
	return (s0 + s1) + (s2 + s3)
}
