package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// withImpl runs f with im as the active kernel set.
func withImpl(im *impl, f func()) {
	saved := active
	active = im
	defer func() { active = saved }()
	f()
}

// code returns the signed activation code of row r, column k of a.
func (a *QActs) code(r, k int) int64 { return int64(a.data[r*a.kp+k]) - 128 }

// wcode returns the weight code of column col, input k of w.
func (w *QPacked) wcode(col, k int) int64 {
	p, j := col/QNR, col%QNR
	return int64(w.data[p*w.kp*QNR+(k/4)*QNR*4+j*4+k%4])
}

// bruteQ is the oracle: exact Σ codes in int64, then the documented
// float32 epilogue.
func bruteQ(a *QActs, w *QPacked) []float32 {
	out := make([]float32, a.M*w.N)
	for r := 0; r < a.M; r++ {
		for col := 0; col < w.N; col++ {
			var acc int64
			for k := 0; k < a.K; k++ {
				acc += a.code(r, k) * w.wcode(col, k)
			}
			if acc != int64(int32(acc)) {
				panic("int32 overflow in oracle")
			}
			v := float32(float32(acc) * w.scale[col])
			v = float32(v * a.scale[r])
			out[r*w.N+col] = v + w.bias[col]
		}
	}
	return out
}

var qShapes = [][3]int{ // m, n, k: tails of QMR, QNR and the 4-byte k groups
	{1, 1, 1}, {1, 32, 4}, {7, 31, 3}, {8, 32, 4}, {9, 33, 5}, {8, 64, 384},
	{17, 70, 17}, {33, 96, 384}, {5, 384, 1536}, {64, 1152, 384}, {3, 40, 1001},
}

func TestMatMulQMatchesOracle(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(7, 7))
		for _, s := range qShapes {
			m, n, k := s[0], s[1], s[2]
			x, wf, bias := randVec(r, m*k, 1), randVec(r, n*k, 0.1), randVec(r, n, 1)
			w := QuantizeBT(wf, bias, n, k)
			var a QActs
			c := make([]float32, m*n)
			withImpl(im, func() {
				a.Quantize(nil, x, k, m, k)
				MatMulQ(nil, c, n, &a, w)
			})
			want := bruteQ(&a, w)
			for i := range c {
				if math.Float32bits(c[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%v: c[%d]=%v, oracle %v", s, i, c[i], want[i])
				}
			}
			// Quantized codes and scales agree bit for bit with the reference.
			var ref QActs
			withImpl(generic, func() { ref.Quantize(nil, x, k, m, k) })
			for i := range ref.data {
				if ref.data[i] != a.data[i] {
					t.Fatalf("%v: activation code %d: %d, reference %d", s, i, a.data[i], ref.data[i])
				}
			}
			for i := range ref.scale {
				if ref.scale[i] != a.scale[i] {
					t.Fatalf("%v: activation scale %d: %v, reference %v", s, i, a.scale[i], ref.scale[i])
				}
			}
		}
	})
}

// TestMatMulQExtremes saturates every code (±127 activations, ±127
// weights, long K) so the int32 accumulators hold tens of millions: any
// lost carry, wrong sign extension or wrong zero-point correction shows.
func TestMatMulQExtremes(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(3, 9))
		for _, k := range []int{4, 1024, 4099} {
			m, n := 9, 33
			x := make([]float32, m*k)
			wf := make([]float32, n*k)
			for i := range x {
				x[i] = float32(1 - 2*r.IntN(2)) // codes ±127
			}
			for i := range wf {
				wf[i] = float32(1 - 2*r.IntN(2))
			}
			if k == 1024 { // all positive: the largest sums
				for i := range x {
					x[i] = 1
				}
				for i := range wf {
					wf[i] = 1
				}
			}
			w := QuantizeBT(wf, nil, n, k)
			var a QActs
			c := make([]float32, m*n)
			withImpl(im, func() {
				a.Quantize(nil, x, k, m, k)
				MatMulQ(nil, c, n, &a, w)
			})
			want := bruteQ(&a, w)
			for i := range c {
				if c[i] != want[i] {
					t.Fatalf("k=%d: c[%d]=%v, oracle %v", k, i, c[i], want[i])
				}
			}
			if k == 1024 && math.Abs(float64(c[0])-1024) > 1e-3 {
				t.Fatalf("k=1024 all ones: c[0]=%v, want 1024", c[0])
			}
		}
	})
}

func TestMatMulQPool(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	r := rand.New(rand.NewPCG(5, 1))
	m, n, k := 77, 1152, 384
	x, wf := randVec(r, m*k, 1), randVec(r, n*k, 0.05)
	w := QuantizeBT(wf, nil, n, k)
	var a, b QActs
	serial, par := make([]float32, m*n), make([]float32, m*n)
	a.Quantize(nil, x, k, m, k)
	MatMulQ(nil, serial, n, &a, w)
	b.Quantize(p, x, k, m, k)
	MatMulQ(p, par, n, &b, w)
	for i := range serial {
		if serial[i] != par[i] {
			t.Fatalf("pool result %d differs: %v vs %v", i, par[i], serial[i])
		}
	}
}

// TestQuantizeRoundTrip bounds the error of the codes: every value is
// within half a step (scale/2) of its dequantized code, and the int8
// product is within the error those steps allow of the float32 product.
func TestQuantizeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 4))
	for _, s := range [][2]int{{1, 1}, {3, 17}, {40, 384}, {7, 1536}} {
		n, k := s[0], s[1]
		wf := randVec(r, n*k, 0.2)
		w := QuantizeBT(wf, nil, n, k)
		dq := w.Dequantize()
		for i := range wf {
			if step := w.scale[i/k]; math.Abs(float64(wf[i]-dq[i])) > float64(step)/2*(1+1e-5) {
				t.Fatalf("%v: weight %d: %v dequantized to %v (step %v)", s, i, wf[i], dq[i], step)
			}
		}
		forEachImpl(t, func(t *testing.T, im *impl) {
			x := randVec(r, 5*k, 3)
			var a QActs
			withImpl(im, func() { a.Quantize(nil, x, k, 5, k) })
			for row := 0; row < 5; row++ {
				for j := 0; j < k; j++ {
					got := float64(a.code(row, j)) * float64(a.scale[row])
					if d := math.Abs(float64(x[row*k+j]) - got); d > float64(a.scale[row])/2*(1+1e-5) {
						t.Fatalf("%v: activation (%d,%d): %v dequantized to %v", s, row, j, x[row*k+j], got)
					}
				}
			}
		})
	}
	// All-zero rows and columns quantize to scale 0 and give exactly bias.
	w := QuantizeBT(make([]float32, 4*8), []float32{1, 2, 3, 4}, 4, 8)
	var a QActs
	a.Quantize(nil, make([]float32, 2*8), 8, 2, 8)
	c := make([]float32, 2*4)
	MatMulQ(nil, c, 4, &a, w)
	if fmt.Sprint(c) != "[1 2 3 4 1 2 3 4]" {
		t.Fatalf("zero input: %v", c)
	}
}

// TestMatMulQNearFloat checks the end result against float32 MatMul on
// encoder-like data: relative error of the output well under 2%.
func TestMatMulQNearFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 2))
	m, n, k := 64, 384, 384
	x, wf := randVec(r, m*k, 1), randVec(r, n*k, 0.05)
	want := make([]float32, m*n)
	MatMul(nil, want, x, wf, m, n, k)
	var a QActs
	a.Quantize(nil, x, k, m, k)
	got := make([]float32, m*n)
	MatMulQ(nil, got, n, &a, QuantizeBT(wf, nil, n, k))
	var num, den float64
	for i := range got {
		d := float64(got[i] - want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	if rel := math.Sqrt(num / den); rel > 0.02 {
		t.Fatalf("relative error %.4f > 0.02", rel)
	} else {
		t.Logf("relative error %.4f", rel)
	}
}
