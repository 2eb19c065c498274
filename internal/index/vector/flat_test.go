package vector

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestFlatIsAnExactScan: Flat returns the k best by inner product (ties by
// lower id), honours accept, and forgets deleted ids.
func TestFlatIsAnExactScan(t *testing.T) {
	const dim, n, k = 8, 300, 10
	r := rand.New(rand.NewPCG(1, 2))
	f := NewFlat(dim)
	vecs := make([][]float32, n)
	for i := range vecs {
		vecs[i] = make([]float32, dim)
		for j := range vecs[i] {
			vecs[i][j] = float32(r.NormFloat64())
		}
		f.Add(uint32(i), vecs[i])
	}
	for i := 0; i < n; i += 3 {
		if !f.Delete(uint32(i)) {
			t.Fatalf("delete %d", i)
		}
	}
	if f.Delete(0) || f.Len() != n-n/3 || f.Get(0) != nil || f.Get(1) == nil {
		t.Fatalf("after deletes: len %d", f.Len())
	}
	q := vecs[1]
	even := func(id uint32) bool { return id%2 == 0 }
	got, _ := f.Search(q, k, 0, even)
	var want []Result
	for i, v := range vecs {
		if i%3 != 0 && i%2 == 0 {
			var s float32
			for j := range v {
				s += q[j] * v[j]
			}
			want = append(want, Result{uint32(i), s})
		}
	}
	slices.SortFunc(want, func(a, b Result) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		return int(a.ID) - int(b.ID)
	})
	if len(got) != k {
		t.Fatalf("got %d results", len(got))
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Score-want[i].Score > 1e-4 || want[i].Score-got[i].Score > 1e-4 {
			t.Fatalf("rank %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
