package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lengths hit every tail of the 8- and 32-wide loops.
var lengths = []int{0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 383, 384, 385, 1536}

func randVec(r *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * scale)
	}
	return v
}

func forEachImpl(t *testing.T, f func(t *testing.T, im *impl)) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) { f(t, im) })
	}
}

func near(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func TestImplementations(t *testing.T) {
	names := []string{}
	for _, im := range impls {
		names = append(names, im.name)
	}
	t.Logf("implementations: %v, active %s", names, Implementation())
}

func TestDotAxpyAddScale(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(1, 2))
		for _, n := range lengths {
			a, b := randVec(r, n, 1), randVec(r, n, 1)
			var want float64
			for i := range a {
				want += float64(a[i]) * float64(b[i])
			}
			if got := im.dot(a, b); !near(float64(got), want, 1e-5*math.Sqrt(float64(n+1))) {
				t.Errorf("dot n=%d: got %v want %v", n, got, want)
			}
			y := append([]float32(nil), b...)
			im.axpy(0.75, a, y)
			for i := range y {
				if w := float64(b[i]) + 0.75*float64(a[i]); !near(float64(y[i]), w, 1e-6) {
					t.Fatalf("axpy n=%d i=%d: got %v want %v", n, i, y[i], w)
				}
			}
			y = append(y[:0], b...)
			im.add(y, a)
			for i := range y {
				if w := float64(b[i]) + float64(a[i]); !near(float64(y[i]), w, 1e-6) {
					t.Fatalf("add n=%d i=%d: got %v want %v", n, i, y[i], w)
				}
			}
			y = append(y[:0], b...)
			im.scale(y, -3)
			for i := range y {
				if y[i] != -3*b[i] {
					t.Fatalf("scale n=%d i=%d: got %v want %v", n, i, y[i], -3*b[i])
				}
			}
		}
	})
}

func TestGELU(t *testing.T) {
	// Golden points plus a dense sweep; the reference is float64 math.Erf.
	pts := []float32{0, 1, -1, 0.5, -0.5, 3, -3, 5.5, -5.5, 10, -10, 1e-6, -1e-6, 40, -40}
	for x := -8.0; x <= 8; x += 0.0137 {
		pts = append(pts, float32(x))
	}
	forEachImpl(t, func(t *testing.T, im *impl) {
		for _, n := range append(lengths, len(pts)) {
			x := make([]float32, n)
			for i := range x {
				x[i] = pts[i%len(pts)]
			}
			im.gelu(x)
			for i, got := range x {
				v := float64(pts[i%len(pts)])
				want := 0.5 * v * (1 + math.Erf(v/math.Sqrt2))
				if math.Abs(float64(got)-want) > 2e-6*math.Max(1, math.Abs(want)) {
					t.Fatalf("gelu(%v) n=%d = %v, want %v", v, n, got, want)
				}
			}
		}
	})
}

func TestLayerNorm(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, n := range lengths[1:] {
			x := randVec(r, n, 2)
			for i := range x {
				x[i] += 5 // an offset, as real activations have
			}
			g, b := randVec(r, n, 1), randVec(r, n, 1)
			orig := append([]float32(nil), x...)
			im.layerNorm(x, g, b, 1e-12)
			var mean, v float64
			for _, o := range orig {
				mean += float64(o)
			}
			mean /= float64(n)
			for _, o := range orig {
				v += (float64(o) - mean) * (float64(o) - mean)
			}
			v /= float64(n)
			for i := range x {
				want := (float64(orig[i])-mean)/math.Sqrt(v+1e-12)*float64(g[i]) + float64(b[i])
				if n > 1 && !near(float64(x[i]), want, 2e-5) {
					t.Fatalf("layernorm n=%d i=%d: got %v want %v", n, i, x[i], want)
				}
			}
		}
	})
}

func TestSoftmax(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, n := range lengths[1:] {
			x := randVec(r, n, 4)
			x[0] = 80 // stability: a naive exp would overflow after +80
			for i := range x {
				x[i] += 20
			}
			orig := append([]float32(nil), x...)
			im.softmax(x)
			m := math.Inf(-1)
			for _, o := range orig {
				m = math.Max(m, float64(o))
			}
			var s float64
			for _, o := range orig {
				s += math.Exp(float64(o) - m)
			}
			var total float64
			for i := range x {
				want := math.Exp(float64(orig[i])-m) / s
				total += float64(x[i])
				if math.Abs(float64(x[i])-want) > 1e-6*math.Max(want, 1e-3) && math.Abs(float64(x[i])-want) > 1e-9 {
					t.Fatalf("softmax n=%d i=%d: got %v want %v", n, i, x[i], want)
				}
			}
			if math.Abs(total-1) > 1e-5 {
				t.Fatalf("softmax n=%d sums to %v", n, total)
			}
		}
	})
}

// naive computes C = A·Bᵀ in float64.
func naive(a, b []float32, m, n, k int) []float64 {
	c := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for kk := 0; kk < k; kk++ {
				s += float64(a[i*k+kk]) * float64(b[j*k+kk])
			}
			c[i*n+j] = s
		}
	}
	return c
}

var shapes = [][3]int{
	{1, 1, 1}, {1, 16, 1}, {6, 16, 4}, {5, 15, 3}, {7, 17, 9}, {13, 33, 385}, {48, 384, 384},
	{50, 40, 800}, {97, 130, 65}, {128, 64, 32},
	// The tall (16-row) kernel: a 16-token query's shapes, 16 rows with a
	// k tail of 1..3 and past kc, 16+MR-edge rows, and edge columns.
	{16, 1152, 384}, {16, 32, 1}, {16, 16, 7}, {16, 48, 1537}, {16, 40, 800}, {18, 48, 1537}, {33, 17, 5}, {64, 48, 2},
}

func TestMatMulAllImpls(t *testing.T) {
	pool := NewPool(0)
	defer pool.Close()
	for _, im := range impls {
		saved := active
		active = im
		t.Run(im.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, 8))
			for _, s := range shapes {
				m, n, k := s[0], s[1], s[2]
				a, b := randVec(r, m*k, 1), randVec(r, n*k, 1)
				want := naive(a, b, m, n, k)
				var serial []float32
				for _, p := range []*Pool{nil, pool} {
					c := randVec(r, m*n, 1) // garbage that must be overwritten
					MatMul(p, c, a, b, m, n, k)
					for i := range c {
						if !near(float64(c[i]), want[i], 1e-5*math.Sqrt(float64(k))) {
							t.Fatalf("%v pool=%v: c[%d]=%v want %v", s, p != nil, i, c[i], want[i])
						}
					}
					// One core or many: the same blocks, the same sums,
					// bit for bit (ingest's serial and parallel writes
					// must give the same vectors).
					if serial == nil {
						serial = c
					} else if !slices.Equal(serial, c) {
						t.Fatalf("%v: the pool's result differs from the serial one", s)
					}
				}
			}
		})
		active = saved
	}
}

func TestPackBStrided(t *testing.T) {
	// C = A·B with B given k×n (attention's P·V), inside a strided buffer.
	r := rand.New(rand.NewPCG(9, 10))
	m, k, n, ldb, lda, ldc := 9, 21, 19, 40, 30, 25
	a := randVec(r, m*lda, 1)
	b := randVec(r, k*ldb, 1)
	c := make([]float32, m*ldc)
	for i := range c {
		c[i] = 42
	}
	var w Packed
	w.PackB(b, ldb, k, n)
	MatMulPacked(nil, c, ldc, a, lda, m, &w)
	for i := 0; i < m; i++ {
		for j := 0; j < ldc; j++ {
			if j >= n {
				if c[i*ldc+j] != 42 {
					t.Fatalf("wrote outside C at (%d,%d)", i, j)
				}
				continue
			}
			var s float64
			for kk := 0; kk < k; kk++ {
				s += float64(a[i*lda+kk]) * float64(b[kk*ldb+j])
			}
			if !near(float64(c[i*ldc+j]), s, 1e-5) {
				t.Fatalf("(%d,%d)=%v want %v", i, j, c[i*ldc+j], s)
			}
		}
	}
	// Reuse the buffer for a smaller transposed pack.
	w.PackBT(b, ldb, 3, 5)
	if w.N != 3 || w.K != 5 || len(w.data) != NR*5 {
		t.Fatalf("repack: N=%d K=%d len=%d", w.N, w.K, len(w.data))
	}
}

func TestPublicWrappers(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6}
	AddBias(x, []float32{10, 20, 30})
	if fmt.Sprint(x) != "[11 22 33 14 25 36]" {
		t.Fatalf("AddBias: %v", x)
	}
	LayerNorm(x, []float32{1, 1, 1}, []float32{0, 0, 0}, 1e-12)
	for i := 0; i < 6; i += 3 {
		if s := x[i] + x[i+1] + x[i+2]; math.Abs(float64(s)) > 1e-5 {
			t.Fatalf("LayerNorm row mean %v", s)
		}
	}
	for _, f := range []func(){
		func() { Dot([]float32{1, 2}, []float32{1}) },
		func() { AddBias(make([]float32, 5), make([]float32, 2)) },
		func() { MatMul(nil, make([]float32, 3), make([]float32, 4), make([]float32, 4), 2, 2, 2) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("expected a panic on bad shapes")
				}
			}()
			f()
		}()
	}
}

// TestArenaAndCompact: packing into an Arena, and moving packed weights
// with Compact, change no result, keep each matrix on a cache line and
// keep them apart; an arena too small falls back to separate buffers.
func TestArenaAndCompact(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	shapes := [][2]int{{1152, 384}, {17, 5}, {1536, 384}, {384, 1536}} // 6.8 MiB in all
	const m = 16
	total := 0
	for _, s := range shapes {
		total += PackedSize(s[0], s[1])
	}
	for _, mode := range []string{"arena", "short arena", "compact"} {
		t.Run(mode, func(t *testing.T) {
			size := total
			if mode == "short arena" {
				size = total - 1
			}
			ar := NewArena(size)
			ws := make([]*Packed, len(shapes))
			for i, s := range shapes {
				n, k := s[0], s[1]
				b, a := randVec(r, n*k, 1), randVec(r, m*k, 1)
				want := make([]float32, m*n)
				MatMulPacked(nil, want, n, a, k, m, PackBT(b, n, k))
				if mode == "compact" {
					ws[i] = PackBT(b, n, k)
				} else {
					ws[i] = ar.PackBT(b, n, k)
				}
				if mode == "compact" && i == len(shapes)-1 {
					Compact(append([]*Packed{nil}, ws...)...)
				}
				got := make([]float32, m*n)
				MatMulPacked(nil, got, n, a, k, m, ws[i])
				if !slices.Equal(got, want) {
					t.Fatalf("matrix %d: results differ from PackBT's", i)
				}
			}
			for i, w := range ws {
				p := uintptr(unsafe.Pointer(unsafe.SliceData(w.data)))
				if p%64 != 0 {
					t.Errorf("matrix %d at %#x: not on a cache line", i, p)
				}
				if i > 0 {
					q := uintptr(unsafe.Pointer(unsafe.SliceData(ws[i-1].data)))
					if p < q+uintptr(4*len(ws[i-1].data)) && q < p+uintptr(4*len(w.data)) {
						t.Errorf("matrix %d overlaps matrix %d", i, i-1)
					}
				}
			}
			inArena := &ws[len(ws)-1].data[0] == &ar.buf[total-PackedSize(384, 1536)]
			if want := mode == "arena"; inArena != want {
				t.Errorf("last matrix in the arena: %v, want %v", inArena, want)
			}
		})
	}
	Compact() // nothing to do
}
