package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

func forEachDist(t *testing.T, f func(t *testing.T, im *distImpl)) {
	for _, im := range distImpls {
		t.Run(im.name, func(t *testing.T) { f(t, im) })
	}
}

func TestL2SqDotI8(t *testing.T) {
	forEachDist(t, func(t *testing.T, im *distImpl) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, n := range lengths {
			a, b := randVec(r, n, 1), randVec(r, n, 1)
			c := make([]int8, n)
			for i := range c {
				c[i] = int8(r.IntN(255) - 127)
			}
			var wl, wd float64
			for i := range a {
				d := float64(a[i]) - float64(b[i])
				wl += d * d
				wd += float64(a[i]) * float64(c[i])
			}
			if got := im.l2sq(a, b); !near(float64(got), wl, 1e-5*math.Sqrt(float64(n+1))) {
				t.Errorf("l2sq n=%d: got %v want %v", n, got, wl)
			}
			if got := im.dotI8(a, c); !near(float64(got), wd, 1e-5*math.Sqrt(float64(n+1))) {
				t.Errorf("dotI8 n=%d: got %v want %v", n, got, wd)
			}
			// The implementations agree with the generic reference.
			if g, a2 := l2sqGeneric(a, b), im.l2sq(a, b); !near(float64(g), float64(a2), 1e-5) {
				t.Errorf("l2sq n=%d: %s %v vs generic %v", n, im.name, a2, g)
			}
		}
	})
}

func TestCosineAndWrappers(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	a, b := randVec(r, 100, 1), randVec(r, 100, 1)
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if got, want := Cosine(a, b), ab/math.Sqrt(aa*bb); !near(float64(got), want, 1e-5) {
		t.Errorf("Cosine %v want %v", got, want)
	}
	if got := Cosine(a, make([]float32, 100)); got != 0 {
		t.Errorf("Cosine with zero vector %v", got)
	}
	if got, want := DotF32(a, b), dotGeneric(a, b); !near(float64(got), float64(want), 1e-5) {
		t.Errorf("DotF32 %v want %v", got, want)
	}
	c := make([]int8, 100)
	for i := range c {
		c[i] = int8(i - 50)
	}
	if got, want := DotI8(a, c), dotI8Generic(a, c); !near(float64(got), float64(want), 1e-5) {
		t.Errorf("DotI8 %v want %v", got, want)
	}
	if got, want := L2Sq(a, b), l2sqGeneric(a, b); !near(float64(got), float64(want), 1e-5) {
		t.Errorf("L2Sq %v want %v", got, want)
	}
	if got := L2Sq(a, a); got != 0 {
		t.Errorf("L2Sq(a,a)=%v", got)
	}
	for _, f := range []func(){
		func() { L2Sq(a, b[:3]) },
		func() { DotI8(a, make([]int8, 3)) },
		func() { Cosine(a, b[:3]) },
		func() { DotF32(a, b[:3]) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("short second argument did not panic")
				}
			}()
			f()
		}()
	}
}

func BenchmarkDistance(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 7))
	x, y := randVec(r, 384, 1), randVec(r, 384, 1)
	c := make([]int8, 384)
	for _, im := range distImpls {
		b.Run("L2Sq384/"+im.name, func(b *testing.B) {
			for b.Loop() {
				im.l2sq(x, y)
			}
		})
		b.Run("DotI8_384/"+im.name, func(b *testing.B) {
			for b.Loop() {
				im.dotI8(x, c)
			}
		})
	}
}

func TestPrefetch(t *testing.T) {
	x := make([]float32, 64)
	Prefetch(unsafe.Pointer(&x[0])) // a hint: must simply not fault
	Prefetch(unsafe.Pointer(&x[32]))
}
