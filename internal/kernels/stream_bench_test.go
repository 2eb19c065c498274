package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkMatMulStream reports GFLOP/s of a 16-row matmul (a 16-token
// query) against one weight matrix, and cycling through enough of them
// (about 40 MB, the size of MiniLM's float32 Linear weights) that every
// call streams its weights from memory, as an encoder's batch-1 forward
// pass does. One goroutine.
func BenchmarkMatMulStream(b *testing.B) {
	for _, s := range [][2]int{{1536, 384}, {384, 1536}} {
		b.Run(fmt.Sprintf("16x%dx%d", s[1], s[0]), func(b *testing.B) { benchStream(b, 16, s[0], s[1]) })
	}
}

func benchStream(b *testing.B, m, n, k int) {
	r := rand.New(rand.NewPCG(1, 1))
	a := randVec(r, m*k, 1)
	c := make([]float32, m*n)
	ws := make([]*Packed, 17)
	for i := range ws {
		ws[i] = PackBT(randVec(r, n*k, 1), n, k)
	}
	for _, count := range []int{1, len(ws)} {
		b.Run(fmt.Sprintf("weights%d", count), func(b *testing.B) {
			i := 0
			for b.Loop() {
				MatMulPacked(nil, c, n, a, k, m, ws[i%count])
				i++
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
