package embedded

import (
	"context"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/quarry-rag/quarry/internal/store"
)

// TestANNLatencyOnCollection measures Dense latency and recall on a copy of
// a real collection directory (QUARRY_ANN_DIR, e.g. a SciFact eval index),
// exact scan vs the configured indexes, interleaved so machine noise hits
// them alike. Queries are every 20th stored chunk vector (so each query's
// own chunk is in the collection). Skipped without the variable:
//
//	QUARRY_ANN_DIR=path/to/collections/eval go test -run ANNLatency -v ./internal/store/embedded
func TestANNLatencyOnCollection(t *testing.T) {
	src := os.Getenv("QUARRY_ANN_DIR")
	if src == "" {
		t.Skip("QUARRY_ANN_DIR not set")
	}
	ctx := context.Background()
	configs := map[string]VectorConfig{"hnsw": {}, "int8": {Quantization: "int8"}, "flat": {Index: IndexFlat}, "ivf": {Index: IndexIVF}, "ivf-int8": {Index: IndexIVF, Quantization: "int8"}, "binary": {Index: IndexFlat, Quantization: "binary"}}
	backends := map[string]*Backend{}
	for name, vc := range configs {
		dir := filepath.Join(t.TempDir(), name)
		if err := exec.Command("cp", "-r", src, dir).Run(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		b, err := Open(ctx, dir, Config{Vector: vc})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: first open %v (source %q)", name, time.Since(start), b.vecSource)
		b.Close()
		start = time.Now()
		b, err = Open(ctx, dir, Config{Vector: vc})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: reopen %v (source %q)", name, time.Since(start), b.vecSource)
		defer b.Close()
		backends[name] = b
		st, _ := b.Stats(ctx)
		t.Logf("%s: %d vectors × %d, %d bytes/vector, %.1f MiB", name, st.Vectors, st.Dimension, st.BytesPerVector, float64(st.VectorBytes)/(1<<20))
	}
	var queries [][]float32
	b := backends["flat"]
	b.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketVectors).Cursor()
		r := rand.New(rand.NewSource(1))
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if r.Intn(20) == 0 {
				q, _ := decodeVector(v, b.dim)
				queries = append(queries, q)
			}
		}
		return nil
	})
	for _, k := range []int{10, 100, 300} {
		for _, ef := range []int{0, 128} {
			times := map[string]time.Duration{}
			recall := map[string]float64{}
			for _, q := range queries {
				t0 := time.Now()
				ex, _ := backends["hnsw"].Dense(ctx, store.DenseQuery{Vector: q, K: k, NoText: true, Exact: true})
				times["exact(bbolt)"] += time.Since(t0)
				want := map[string]bool{}
				for _, h := range ex {
					want[h.ChunkID] = true
				}
				for name, be := range backends {
					t0 := time.Now()
					hs, _ := be.Dense(ctx, store.DenseQuery{Vector: q, K: k, NoText: true, Ef: ef})
					times[name] += time.Since(t0)
					n := 0
					for _, h := range hs {
						if want[h.ChunkID] {
							n++
						}
					}
					recall[name] += float64(n) / float64(len(ex))
				}
			}
			for name, d := range times {
				ms := float64(d.Microseconds()) / 1000 / float64(len(queries))
				if _, ok := recall[name]; !ok {
					t.Logf("k=%d ef=%d %-13s %8.3f ms/query (the reference)", k, ef, name, ms)
					continue
				}
				t.Logf("k=%d ef=%d %-13s %8.3f ms/query recall@k %.4f", k, ef, name, ms, recall[name]/float64(len(queries)))
			}
		}
	}
}
