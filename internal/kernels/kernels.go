package kernels

import "fmt"

// impl is one implementation of the kernel set. generic is always
// registered; architecture files register faster ones in init.
type impl struct {
	name      string
	dot       func(a, b []float32) float32
	axpy      func(alpha float32, x, y []float32)
	add       func(dst, x []float32)
	scale     func(x []float32, s float32)
	gelu      func(x []float32)
	layerNorm func(x, g, b []float32, eps float32)
	softmax   func(x []float32)
	// kernel computes one MR×NR tile of C from MR rows of A and one packed
	// panel of B. With accum it adds to C, else it overwrites.
	kernel func(k int, a []float32, lda int, b []float32, c []float32, ldc int, accum bool)
	// kernelTall, when not nil, is kernel for TallMR rows: gemmBlock uses it
	// on every full TallMR×NR tile (a 16-token query is one such strip), and
	// kernel on what is left.
	kernelTall func(k int, a []float32, lda int, b []float32, c []float32, ldc int, accum bool)
	// quantRow quantizes one activation row (see QActs) and returns its
	// scale.
	quantRow func(x []float32, dst []uint8) float32
	// qkernel computes one QMR×QNR int8 tile (see qkernelGeneric).
	qkernel func(kp int, a []uint8, lda int, b []int8, corr []int32, wscale, ascale, bias []float32, c []float32, ldc int)
}

var generic = &impl{
	name:      "generic",
	dot:       dotGeneric,
	axpy:      axpyGeneric,
	add:       addGeneric,
	scale:     scaleGeneric,
	gelu:      geluGeneric,
	layerNorm: layerNormGeneric,
	softmax:   softmaxGeneric,
	kernel:    kernelGeneric,
	quantRow:  quantizeRowGeneric,
	qkernel:   qkernelGeneric,
}

// impls lists every implementation usable on this machine, generic first.
// active is the fastest of them.
var (
	impls  = []*impl{generic}
	active = generic
)

func register(im *impl) {
	impls = append(impls, im)
	active = im
}

// Implementation names the kernel set in use ("avx512vnni", "avx2" or
// "generic").
func Implementation() string { return active.name }

// Dot returns Σ a[i]·b[i]. b must be at least as long as a.
func Dot(a, b []float32) float32 {
	if len(b) < len(a) {
		panic(fmt.Sprintf("kernels: Dot length mismatch %d > %d", len(a), len(b)))
	}
	return active.dot(a, b)
}

// Axpy computes y[i] += alpha·x[i]. y must be at least as long as x.
func Axpy(alpha float32, x, y []float32) {
	if len(y) < len(x) {
		panic(fmt.Sprintf("kernels: Axpy length mismatch %d > %d", len(x), len(y)))
	}
	active.axpy(alpha, x, y)
}

// Add computes dst[i] += x[i]. dst must be at least as long as x.
func Add(dst, x []float32) {
	if len(dst) < len(x) {
		panic(fmt.Sprintf("kernels: Add length mismatch %d > %d", len(x), len(dst)))
	}
	active.add(dst, x)
}

// AddBias adds bias to every row of c, which holds len(c)/len(bias) rows of
// len(bias) values.
func AddBias(c, bias []float32) {
	n := len(bias)
	if n == 0 || len(c)%n != 0 {
		panic(fmt.Sprintf("kernels: AddBias: len(c)=%d is not a multiple of len(bias)=%d", len(c), n))
	}
	for i := 0; i < len(c); i += n {
		active.add(c[i:i+n], bias)
	}
}

// Scale multiplies x by s in place.
func Scale(x []float32, s float32) { active.scale(x, s) }

// GELU applies the exact (erf) GELU in place, PyTorch's default
// (approximate="none").
func GELU(x []float32) { active.gelu(x) }

// LayerNorm normalises each row of x (len(gamma) wide) in place:
// (x-mean)/sqrt(var+eps)·gamma+beta, variance biased, as torch.nn.LayerNorm.
func LayerNorm(x, gamma, beta []float32, eps float32) {
	n := len(gamma)
	if n == 0 || len(beta) != n || len(x)%n != 0 {
		panic(fmt.Sprintf("kernels: LayerNorm: len(x)=%d, len(gamma)=%d, len(beta)=%d", len(x), n, len(beta)))
	}
	for i := 0; i < len(x); i += n {
		active.layerNorm(x[i:i+n], gamma, beta, eps)
	}
}

// Softmax replaces one row x by its softmax, subtracting the maximum first.
func Softmax(x []float32) { active.softmax(x) }
