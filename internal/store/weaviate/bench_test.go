package weaviate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/store"
)

// benchWords make synthetic chunk text with a Zipf-like vocabulary.
var benchWords = func() []string {
	w := make([]string, 5000)
	for i := range w {
		w[i] = "w" + strconv.Itoa(i)
	}
	return w
}()

func benchDocs(r *rand.Rand, lo, n, dim int) []store.DocChunks {
	z := rand.NewZipf(r, 1.1, 1, uint64(len(benchWords)-1))
	docs := make([]store.DocChunks, n)
	for i := range docs {
		id := "d" + strconv.Itoa(lo+i)
		words := make([]byte, 0, 600)
		for j := 0; j < 80; j++ {
			words = append(words, benchWords[z.Uint64()]...)
			words = append(words, ' ')
		}
		v := randVec(r, dim)
		var norm float32
		for _, x := range v {
			norm += x * x
		}
		for k := range v {
			v[k] /= float32(math.Sqrt(float64(norm)))
		}
		text := string(words)
		d := base.Document{ID: id, Text: text, Language: "en", Hash: id, Version: 1}
		docs[i] = store.DocChunks{Doc: d, Chunks: []base.Chunk{{ID: base.ChunkID(id, 0), DocID: id, Text: text, End: len(text)}}, Vectors: [][]float32{v}}
	}
	return docs
}

// BenchmarkIngest measures batch import of chunks with precomputed
// 384-dimensional vectors (MiniLM's size) into a single node, in Upsert
// calls of 1,000 one-chunk documents, and reports chunks/s, for a few
// batch-request concurrencies.
func BenchmarkIngest(b *testing.B) {
	url := needWeaviate(b)
	r := rand.New(rand.NewPCG(7, 7))
	const per = 1000
	batches := make([][]store.DocChunks, 5)
	for i := range batches {
		batches[i] = benchDocs(r, i*per, per, 384)
	}
	for _, workers := range []int{2, 4} {
		b.Run("workers="+strconv.Itoa(workers), func(b *testing.B) {
			be := openTest(b, url, Config{Consistency: One, BatchWorkers: workers})
			b.ResetTimer()
			srv0, cli0 := serverCPU(), selfCPU()
			start := time.Now()
			n := 0
			for i := 0; i < b.N; i++ {
				for _, docs := range batches {
					if err := be.Upsert(context.Background(), docs); err != nil {
						b.Fatal(err)
					}
					n += len(docs)
				}
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "chunks/s")
			// On a shared machine the wall rate depends on the load; the
			// CPU spent per chunk does not.
			if srv := serverCPU() - srv0; srv > 0 {
				cpu := srv + selfCPU() - cli0
				b.ReportMetric(float64(n)/cpu.Seconds(), "chunks/cpu-s")
			}
		})
	}
}

// BenchmarkQuery measures single-query latency on a node holding 20,000
// chunks (384 dimensions) and reports p50 and p95 per search kind.
func BenchmarkQuery(b *testing.B) {
	url := needWeaviate(b)
	be := openTest(b, url, Config{Consistency: One})
	r := rand.New(rand.NewPCG(8, 8))
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		if err := be.Upsert(ctx, benchDocs(r, i*1000, 1000, 384)); err != nil {
			b.Fatal(err)
		}
	}
	for _, kind := range []string{"bm25", "dense", "hybrid"} {
		b.Run(kind, func(b *testing.B) {
			var lat []time.Duration
			for i := 0; i < b.N; i++ {
				q := benchWords[r.IntN(200)] + " " + benchWords[r.IntN(2000)]
				v := randVec(r, 384)
				t := time.Now()
				var err error
				switch kind {
				case "bm25":
					_, err = be.Lexical(ctx, store.LexicalQuery{Text: q, K: 10, Language: "en"})
				case "dense":
					_, err = be.Dense(ctx, store.DenseQuery{Vector: v, K: 10})
				case "hybrid":
					_, err = be.Hybrid(ctx, store.HybridQuery{Text: q, Language: "en", Vector: v, K: 10})
				}
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			slices.Sort(lat)
			p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(p(0.5), "p50-ms")
			b.ReportMetric(p(0.95), "p95-ms")
		})
	}
}

// serverCPU is the CPU time of the local single node started by
// scripts/weaviate.sh (0 when its pid file is not found).
func serverCPU() time.Duration {
	pid, err := os.ReadFile(filepath.Join(quarryHome(), "weaviate", "weaviate-single", "pid"))
	if err != nil {
		return 0
	}
	stat, err := os.ReadFile("/proc/" + strings.TrimSpace(string(pid)) + "/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ = 100
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
