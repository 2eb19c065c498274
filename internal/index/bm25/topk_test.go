package bm25

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTopkSortPrefix checks topk.sort against a full sort: its first n
// hits must be the n best in order (score descending, key ascending), for
// hit counts that choose every bucket count (256 to 4096), scores that
// bunch at the low end, span one value, or all tie.
func TestTopkSortPrefix(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 19))
	var tmp []hit
	var cnt []int32
	for _, m := range []int{2, 3, 40, 255, 300, 1000, 2500, 5000} {
		keys := make([]string, m) // unique, as live keys are, and not in id order
		for i, p := range rng.Perm(m) {
			keys[i] = fmt.Sprintf("k%05d", p)
		}
		for _, shape := range []string{"uniform", "bunched", "ties", "narrow"} {
			h := make([]hit, m)
			for i := range h {
				var s int64
				switch shape {
				case "uniform":
					s = rng.Int64N(1 << 52)
				case "bunched": // most scores near the bottom, a long tail up
					x := rng.Float64()
					s = int64(x * x * x * x * (1 << 40))
				case "ties":
					s = 7
				case "narrow":
					s = 1<<40 + rng.Int64N(3)
				}
				h[i] = hit{s, uint32(i)}
			}
			for _, n := range []int{1, m / 3, m} {
				top := topk{h: slices.Clone(h), k: n, keys: keys}
				tmp, cnt = top.sort(n, tmp, cnt)
				want := slices.Clone(h)
				slices.SortFunc(want, func(a, b hit) int {
					if top.better(a, b) {
						return -1
					}
					return 1
				})
				if !slices.Equal(top.h[:n], want[:n]) {
					t.Fatalf("%d hits, %s, n %d: first n differ from a full sort", m, shape, n)
				}
				got := slices.Clone(top.h)
				slices.SortFunc(got, func(a, b hit) int { return int(a.id) - int(b.id) })
				if !slices.Equal(got, h) {
					t.Fatalf("%d hits, %s, n %d: sort lost or duplicated hits", m, shape, n)
				}
			}
		}
	}
}
