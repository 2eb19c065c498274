package transformer

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/quarry-rag/quarry/internal/kernels"
)

// benchIDs loads the token ids of the first 512 SciFact abstracts
// (max length 256) written by `tools/embref/make_fixture.py --bench 512`.
func benchIDs(b *testing.B) (passages [][]int32) {
	path := filepath.Join(quarryHome(), "bench", "scifact512_ids.json.gz")
	f, err := os.Open(path)
	if err != nil {
		b.Skipf("%s absent: run tools/embref/make_fixture.py --minilm DIR --bench 512 (make embref)", path)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	var v struct {
		Passages [][]int32 `json:"passages"`
	}
	if err := json.NewDecoder(gz).Decode(&v); err != nil {
		b.Fatal(err)
	}
	return v.Passages
}

// BenchmarkSciFact reports passages/s for all-MiniLM-L6-v2 on 512 SciFact
// abstracts at max length 256, on every core.
func BenchmarkSciFact(b *testing.B) {
	passages := benchIDs(b)
	enc, _ := loadMiniLM(b, nil)
	ctx := context.Background()
	tokens := 0
	for _, p := range passages {
		tokens += len(p)
	}
	for b.Loop() {
		if _, err := enc.Embed(ctx, passages); err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(len(passages))/sec, "passages/s")
	b.ReportMetric(float64(tokens)/sec, "tokens/s")
}

// BenchmarkQuery16 reports the median latency of embedding one 16-token
// query with all-MiniLM-L6-v2.
func BenchmarkQuery16(b *testing.B) {
	passages := benchIDs(b)
	enc, _ := loadMiniLM(b, nil)
	q := slices.Concat(passages[0][:15], passages[0][len(passages[0])-1:]) // [CLS] 14 tokens [SEP]
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		t0 := time.Now()
		if _, err := enc.Embed(ctx, [][]int32{q}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkSciFactInt8 reports passages/s for all-MiniLM-L6-v2 on the same
// 512 SciFact abstracts in float32 and int8 (Options.Quantization),
// loaded side by side so the ratio is measured under the same load.
func BenchmarkSciFactInt8(b *testing.B) {
	passages := benchIDs(b)
	ctx := context.Background()
	for _, q := range []Quantization{Float32, Int8} {
		enc, _ := loadMiniLM(b, &Options{Quantization: q})
		b.Run(q.String(), func(b *testing.B) {
			for b.Loop() {
				if _, err := enc.Embed(ctx, passages); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(passages))*float64(b.N)/b.Elapsed().Seconds(), "passages/s")
		})
	}
}

// query16 is a 16-token query ([CLS] 14 ids [SEP]) cut from the first text
// of the parity fixture, so the single-thread benchmarks need no download.
func query16(b *testing.B) []int32 {
	recs := readFixture(b, "all-MiniLM-L6-v2")
	for _, r := range recs {
		if len(r.IDs) >= 16 {
			return slices.Concat(r.IDs[:15], r.IDs[len(r.IDs)-1:])
		}
	}
	b.Fatal("fixture has no text of 16 tokens")
	return nil
}

// BenchmarkQuery16Single is BenchmarkQuery16 on one thread: a pool of
// size 1, as bench/embed_peers/query.sh runs Quarry against ONNX Runtime
// with intra_op_num_threads=1. Run with GOMAXPROCS=1 for the same setup.
func BenchmarkQuery16Single(b *testing.B) {
	for _, q := range []Quantization{Float32, Int8} {
		b.Run(q.String(), func(b *testing.B) {
			ids := query16(b)
			enc, _ := loadMiniLM(b, &Options{Pool: kernels.NewPool(1), Quantization: q})
			ctx := context.Background()
			in := [][]int32{ids}
			lat := make([]time.Duration, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				if _, err := enc.Embed(ctx, in); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		})
	}
}
