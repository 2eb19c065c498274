package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkMatMul reports GFLOP/s for the encoder's two matmul shapes
// (128 tokens × 384 → 384 and 256 tokens × 384 → 1536), weights pre-packed,
// on one goroutine and on a pool of GOMAXPROCS.
func BenchmarkMatMul(b *testing.B) {
	for _, s := range [][3]int{{16, 1152, 384}, {16, 1536, 384}, {16, 384, 1536}, {128, 384, 384}, {256, 1536, 384}, {256, 384, 1536}} {
		m, n, k := s[0], s[1], s[2]
		r := rand.New(rand.NewPCG(1, 1))
		a, w := randVec(r, m*k, 1), randVec(r, n*k, 1)
		c := make([]float32, m*n)
		pw := PackBT(w, n, k)
		for _, im := range impls {
			for _, par := range []bool{false, true} {
				name := fmt.Sprintf("%dx%dx%d/%s/serial", m, k, n, im.name)
				var p *Pool
				if par {
					p = NewPool(0)
					name = fmt.Sprintf("%dx%dx%d/%s/pool%d", m, k, n, im.name, p.Size())
				}
				b.Run(name, func(b *testing.B) {
					saved := active
					active = im
					defer func() { active = saved }()
					for b.Loop() {
						MatMulPacked(p, c, n, a, k, m, pw)
					}
					b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
				p.Close()
			}
		}
	}
}

func BenchmarkElementwise(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	x := randVec(r, 384*64, 1)
	g, bb := randVec(r, 384, 1), randVec(r, 384, 1)
	for _, im := range impls {
		b.Run("GELU/"+im.name, func(b *testing.B) {
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				im.gelu(x)
			}
		})
		b.Run("Softmax256/"+im.name, func(b *testing.B) {
			b.SetBytes(4 * 256)
			for b.Loop() {
				im.softmax(x[:256])
			}
		})
		b.Run("LayerNorm384/"+im.name, func(b *testing.B) {
			b.SetBytes(4 * 384)
			for b.Loop() {
				im.layerNorm(x[:384], g, bb, 1e-12)
			}
		})
		b.Run("Dot384/"+im.name, func(b *testing.B) {
			b.SetBytes(8 * 384)
			for b.Loop() {
				im.dot(x[:384], x[384:768])
			}
		})
	}
}

// BenchmarkMatMulQ reports int8 GOP/s (2·m·n·k per call, activation
// quantization included) for the encoder's shapes, beside BenchmarkMatMul.
func BenchmarkMatMulQ(b *testing.B) {
	for _, s := range [][3]int{{16, 1152, 384}, {16, 1536, 384}, {16, 384, 1536}, {128, 384, 384}, {256, 1536, 384}, {256, 384, 1536}} {
		m, n, k := s[0], s[1], s[2]
		r := rand.New(rand.NewPCG(1, 1))
		x, w := randVec(r, m*k, 1), randVec(r, n*k, 1)
		c := make([]float32, m*n)
		qw := QuantizeBT(w, nil, n, k)
		for _, im := range impls {
			for _, par := range []bool{false, true} {
				name := fmt.Sprintf("%dx%dx%d/%s/serial", m, k, n, im.name)
				var p *Pool
				if par {
					p = NewPool(0)
					name = fmt.Sprintf("%dx%dx%d/%s/pool%d", m, k, n, im.name, p.Size())
				}
				b.Run(name, func(b *testing.B) {
					var a QActs
					withImpl(im, func() {
						for b.Loop() {
							a.Quantize(p, x, k, m, k)
							MatMulQ(p, c, n, &a, qw)
						}
					})
					b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
				})
				p.Close()
			}
		}
	}
}
