package kernels

import (
	"math/rand/v2"
	"testing"
)

// TestHammingMatchesGeneric: the assembly agrees with the pure-Go loop for
// every code width from 1 to 13 words (odd and even, so both the paired
// and the single-word steps run) and for several code counts.
func TestHammingMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for w := 1; w <= 13; w++ {
		for _, n := range []int{1, 2, 7, 100} {
			codes := make([]uint64, n*w)
			for i := range codes {
				codes[i] = r.Uint64()
			}
			q := make([]uint64, w)
			for i := range q {
				q[i] = r.Uint64()
			}
			copy(codes[:w], q) // code 0 equals q: distance 0
			got, want := make([]uint32, n), make([]uint32, n)
			Hamming(got, codes, q)
			hammingGeneric(want, codes, q)
			for s := range got {
				if got[s] != want[s] {
					t.Fatalf("words %d, code %d of %d: %d, want %d", w, s, n, got[s], want[s])
				}
			}
			if got[0] != 0 {
				t.Fatalf("words %d: identical code at distance %d", w, got[0])
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Hamming with too few code words did not panic")
		}
	}()
	Hamming(make([]uint32, 3), make([]uint64, 5), make([]uint64, 2))
}

func BenchmarkHamming384(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	const n, w = 4096, 6
	codes := make([]uint64, n*w)
	for i := range codes {
		codes[i] = r.Uint64()
	}
	q := codes[:w]
	dst := make([]uint32, n)
	b.Run("asm", func(b *testing.B) {
		for b.Loop() {
			Hamming(dst, codes, q)
		}
	})
	b.Run("generic", func(b *testing.B) {
		for b.Loop() {
			hammingGeneric(dst, codes, q)
		}
	})
}
