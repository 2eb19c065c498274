package vector

import (
	"math"
	"math/rand"
	"testing"
)

// nonFiniteRef is the definition nonFinite must agree with.
func nonFiniteRef(v []float32) int {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return i
		}
	}
	return -1
}

// TestNonFinite checks the branch-free scan against float64 IsNaN/IsInf on
// the edge values of float32 (largest finite, subnormals, ±0, NaN
// payloads, ±Inf) at every position, and on random bit patterns.
func TestNonFinite(t *testing.T) {
	edges := []uint32{
		0, 0x80000000, 1, 0x007fffff, 0x00800000, 0x7f7fffff, 0xff7fffff, // finite
		0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffffffff, 0x7fffffff, // Inf, NaN
	}
	for _, e := range edges {
		for _, n := range []int{1, 2, 7, 384} {
			for pos := range n {
				v := make([]float32, n)
				for i := range v {
					v[i] = 0.5
				}
				v[pos] = math.Float32frombits(e)
				if got, want := nonFinite(v), nonFiniteRef(v); got != want {
					t.Fatalf("bits %#08x at %d of %d: got %d, want %d", e, pos, n, got, want)
				}
			}
		}
	}
	r := rand.New(rand.NewSource(19))
	v := make([]float32, 16)
	for range 200000 {
		for i := range v {
			v[i] = math.Float32frombits(r.Uint32())
		}
		if got, want := nonFinite(v), nonFiniteRef(v); got != want {
			t.Fatalf("%v: got %d, want %d", v, got, want)
		}
	}
	if nonFinite(nil) != -1 {
		t.Fatal("empty vector")
	}
}
