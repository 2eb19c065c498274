package kernels

import (
	"math/rand"
	"testing"
)

// TestDotU8I8 checks the dispatched kernel (VNNI or AVX2 where the CPU has
// them) against the generic loop on every length up to 320, including the
// extremes of both operands (255 × -128 saturates nothing: the sums are
// int32).
func TestDotU8I8(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for n := 0; n <= 320; n++ {
		a, b := make([]uint8, n), make([]int8, n)
		for i := range a {
			a[i], b[i] = uint8(r.Intn(256)), int8(r.Intn(256)-128)
		}
		if got, want := DotU8I8(a, b), dotU8I8Generic(a, b); got != want {
			t.Fatalf("n %d (%s): got %d, want %d", n, DotU8I8Kernel(), got, want)
		}
		for i := range a {
			a[i], b[i] = 255, -128
		}
		if got, want := DotU8I8(a, b), int32(-255*128*n); got != want {
			t.Fatalf("n %d extremes (%s): got %d, want %d", n, DotU8I8Kernel(), got, want)
		}
	}
	t.Logf("kernel %s", DotU8I8Kernel())
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a short query")
		}
	}()
	DotU8I8(make([]uint8, 4), make([]int8, 3))
}

func BenchmarkDotU8I8(b *testing.B) {
	x, q := make([]uint8, 384), make([]int8, 384)
	for i := range x {
		x[i], q[i] = uint8(i), int8(i)
	}
	var s int32
	for b.Loop() {
		s += DotU8I8(x, q)
	}
	_ = s
}
