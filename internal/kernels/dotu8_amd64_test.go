//go:build !purego

package kernels

import (
	"math/rand"
	"testing"
)

// TestDotU8I8Asm checks both assembly kernels directly (the dispatch picks
// only one of them on a given CPU) against the generic loop.
func TestDotU8I8Asm(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for n := 32; n <= 1024; n += 32 {
		a, b := make([]uint8, n), make([]int8, n)
		for i := range a {
			a[i], b[i] = uint8(r.Intn(256)), int8(r.Intn(256)-128)
		}
		want := dotU8I8Generic(a, b)
		if hasAVX2 {
			if got := dotU8I8AVX2(&a[0], &b[0], n); got != want {
				t.Fatalf("avx2 n %d: got %d, want %d", n, got, want)
			}
		}
		if hasDotVNNI && n%64 == 0 {
			if got := dotU8I8VNNI(&a[0], &b[0], n); got != want {
				t.Fatalf("vnni n %d: got %d, want %d", n, got, want)
			}
		}
	}
}

// BenchmarkDotU8I8AVX2 times the AVX2 kernel that CPUs without VNNI use.
func BenchmarkDotU8I8AVX2(b *testing.B) {
	if !hasAVX2 {
		b.Skip("no AVX2")
	}
	x, q := make([]uint8, 384), make([]int8, 384)
	for i := range x {
		x[i], q[i] = uint8(i), int8(i)
	}
	var s int32
	for b.Loop() {
		s += dotU8I8AVX2(&x[0], &q[0], len(x))
	}
	_ = s
}
