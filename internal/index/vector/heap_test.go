package vector

import (
	"math/rand"
	"sort"
	"testing"
)

// TestHeaps checks the typed heaps against sorting.
func TestHeaps(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, n := range []int{0, 1, 2, 5, 47, 48, 49, 200} {
		xs := make([]item, n)
		for i := range xs {
			xs[i] = item{float32(r.Intn(50)), uint32(i)}
		}
		want := append([]item(nil), xs...)
		sort.SliceStable(want, func(i, j int) bool { return want[i].d < want[j].d })
		var mn minHeap
		var mx maxHeap
		for _, x := range xs {
			mn.push(x)
			mx.push(x)
		}
		for i := range n {
			if got := mn.pop(); got.d != want[i].d {
				t.Fatalf("n=%d minHeap pop %d: %v want %v", n, i, got.d, want[i].d)
			}
			if got := mx.pop(); got.d != want[n-1-i].d {
				t.Fatalf("n=%d maxHeap pop %d: %v want %v", n, i, got.d, want[n-1-i].d)
			}
		}
		s := append([]item(nil), xs...)
		sortAsc(s)
		for i := range s {
			if s[i].d != want[i].d {
				t.Fatalf("n=%d sortAsc at %d: %v want %v", n, i, s[i].d, want[i].d)
			}
		}
		// Keep the 10 smallest with replaceTop.
		var top maxHeap
		for _, x := range xs {
			if len(top) < 10 {
				top.push(x)
			} else if x.d < top[0].d {
				top.replaceTop(x)
			}
		}
		got := drainAsc(&top, nil)
		for i := range got {
			if got[i].d != want[i].d {
				t.Fatalf("n=%d replaceTop top-10 at %d: %v want %v", n, i, got[i].d, want[i].d)
			}
		}
	}
}
