package embedded

import (
	"context"
	"math"
	"math/rand"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/quarry-rag/quarry/internal/store"
)

// randomDocs returns n one-chunk documents "d<lo+i>" with random
// dim-dimensional vectors.
func randomDocs(r *rand.Rand, lo, n, dim int) []store.DocChunks {
	docs := make([]store.DocChunks, n)
	for i := range docs {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		id := "d" + strconv.Itoa(lo+i)
		docs[i] = doc(id, v, "text "+id)
	}
	return docs
}

// duringUpsert calls poll repeatedly until be.Upsert(docs), run in the
// background, returns.
func duringUpsert(t *testing.T, be *Backend, docs []store.DocChunks, poll func()) {
	t.Helper()
	done := make(chan error)
	go func() { done <- be.Upsert(context.Background(), docs) }()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return
		default:
			poll()
		}
	}
}

// BenchmarkSearchDuringIngest measures dense-search latency (k=10,
// 384-d, HNSW) on a 5,000-chunk collection while another goroutine upserts
// 20 batches of 500 one-chunk documents, against the same searches with no
// writer. Vectors are inserted into the index under the collection's write
// lock, so a search that arrives during a batch's inserts waits for them:
// the gap between the two p99s is that wait.
//
//	go test -run '^$' -bench SearchDuringIngest -benchtime 1x ./internal/store/embedded
func BenchmarkSearchDuringIngest(b *testing.B) {
	const dim, batch = 384, 500
	ctx := context.Background()
	r := rand.New(rand.NewSource(1))
	vec := func() []float32 {
		v := make([]float32, dim)
		var n float64
		for i := range v {
			v[i] = float32(r.NormFloat64())
			n += float64(v[i]) * float64(v[i])
		}
		for i := range v {
			v[i] /= float32(math.Sqrt(n))
		}
		return v
	}
	docs := func(lo int) []store.DocChunks {
		out := make([]store.DocChunks, batch)
		for i := range out {
			out[i] = doc("d"+strconv.Itoa(lo+i), vec(), "text "+strconv.Itoa(lo+i))
		}
		return out
	}
	for b.Loop() {
		be, err := Open(ctx, b.TempDir(), Config{})
		if err != nil {
			b.Fatal(err)
		}
		for lo := 0; lo < 5000; lo += batch {
			if err := be.Upsert(ctx, docs(lo)); err != nil {
				b.Fatal(err)
			}
		}
		queries := make([][]float32, 200)
		for i := range queries {
			queries[i] = vec()
		}
		batches := make([][]store.DocChunks, 20)
		for i := range batches {
			batches[i] = docs(5000 + i*batch)
		}
		search := func(stop <-chan struct{}, min int) []time.Duration {
			var lat []time.Duration
			for i := 0; ; i++ {
				select {
				case <-stop:
					return lat
				default:
				}
				if stop == nil && i == min {
					return lat
				}
				t0 := time.Now()
				if _, err := be.Dense(ctx, store.DenseQuery{Vector: queries[i%len(queries)], K: 10, NoText: true}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				time.Sleep(200 * time.Microsecond) // a steady query stream, not a spin
			}
		}
		quiet := search(nil, 2000)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		var ingest time.Duration
		go func() {
			defer wg.Done()
			t0 := time.Now()
			for _, d := range batches {
				if err := be.Upsert(ctx, d); err != nil {
					b.Error(err)
				}
			}
			ingest = time.Since(t0)
			close(stop)
		}()
		busy := search(stop, 0)
		wg.Wait()
		be.Close()
		pct := func(l []time.Duration, p float64) float64 {
			slices.Sort(l)
			return float64(l[min(len(l)-1, int(p*float64(len(l))))].Microseconds()) / 1000
		}
		b.ReportMetric(pct(quiet, 0.5), "quiet-p50-ms")
		b.ReportMetric(pct(quiet, 0.99), "quiet-p99-ms")
		b.ReportMetric(pct(busy, 0.5), "ingest-p50-ms")
		b.ReportMetric(pct(busy, 0.99), "ingest-p99-ms")
		b.ReportMetric(pct(busy, 1), "ingest-max-ms")
		b.ReportMetric(float64(20*batch)/ingest.Seconds(), "chunks/s")
	}
}

// TestVectorInsertsLetReadersIn: a batch's vectors are inserted in slices
// with the lock released between them, so a reader polling Stats during a
// large upsert sees the batch partly indexed (with one hold of the lock for
// the whole batch it could only see none or all of it), and the batch ends
// fully indexed.
func TestVectorInsertsLetReadersIn(t *testing.T) {
	ctx := context.Background()
	be, err := Open(ctx, t.TempDir(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	const n = 1000
	docs := randomDocs(rand.New(rand.NewSource(2)), 0, n, 384)
	partial := map[int]bool{}
	duringUpsert(t, be, docs, func() {
		st, err := be.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Vectors > 0 && st.Vectors < n {
			partial[st.Vectors] = true
		}
	})
	if len(partial) == 0 {
		t.Error("no partly indexed state seen: the batch's vector inserts held the lock throughout")
	}
	if st, _ := be.Stats(ctx); st.Vectors != n {
		t.Errorf("after the upsert: %d vectors, want %d", st.Vectors, n)
	}
	t.Logf("%d distinct partial vector counts seen during the upsert", len(partial))
}

// TestIVFTrainsWithoutTheLock: k-means runs with the index lock released,
// so a reader sees the state "enough vectors to train, not yet trained"
// (with training inside the lock it never could), searches answer from the
// buffer meanwhile, and the IVF is installed at the end.
func TestIVFTrainsWithoutTheLock(t *testing.T) {
	ctx := context.Background()
	be, err := Open(ctx, t.TempDir(), Config{Vector: VectorConfig{Index: IndexIVF, NList: 128, NProbe: 16}})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	docs := randomDocs(rand.New(rand.NewSource(4)), 0, ivfTrainPer*128, 384)
	window, searched := false, false
	duringUpsert(t, be, docs, func() {
		be.mu.RLock()
		x := be.ivfLocked()
		due := x != nil && x.TrainDue()
		be.mu.RUnlock()
		if due {
			window = true
			hits, err := be.Dense(ctx, store.DenseQuery{Vector: docs[5].Vectors[0], K: 1, NoText: true})
			if err != nil || len(hits) != 1 || hits[0].DocID != "d5" {
				t.Fatalf("search during training: %+v %v", hits, err)
			}
			searched = true
		}
	})
	if !window || !searched {
		t.Error("never saw the index due for training with the lock free: k-means ran under the lock")
	}
	be.mu.RLock()
	trained := be.ivfLocked().IsTrained()
	be.mu.RUnlock()
	if !trained {
		t.Error("the IVF was not installed after the upsert")
	}
}

// BenchmarkSearchDuringIVFTraining: dense-search latency while upserts of
// 1,024 one-chunk documents (384-d) fill an IVF collection (nlist 1,024)
// up to and past its training point (16,384 vectors), k-means included.
//
//	go test -run '^$' -bench SearchDuringIVFTraining -benchtime 1x ./internal/store/embedded
func BenchmarkSearchDuringIVFTraining(b *testing.B) {
	const dim, batch, nlist = 384, 1024, 1024
	ctx := context.Background()
	r := rand.New(rand.NewSource(6))
	batches := make([][]store.DocChunks, ivfTrainPer*nlist/batch+2)
	for i := range batches {
		batches[i] = randomDocs(r, i*batch, batch, dim)
	}
	for b.Loop() {
		be, err := Open(ctx, b.TempDir(), Config{Vector: VectorConfig{Index: IndexIVF, NList: nlist}})
		if err != nil {
			b.Fatal(err)
		}
		if err := be.Upsert(ctx, batches[0]); err != nil {
			b.Fatal(err)
		}
		q := batches[0][0].Vectors[0]
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, d := range batches[1:] {
				if err := be.Upsert(ctx, d); err != nil {
					b.Error(err)
				}
			}
			close(stop)
		}()
		var worst time.Duration
		searches := 0
		for running := true; running; {
			select {
			case <-stop:
				running = false
			default:
				t0 := time.Now()
				if _, err := be.Dense(ctx, store.DenseQuery{Vector: q, K: 10, NoText: true}); err != nil {
					b.Fatal(err)
				}
				worst = max(worst, time.Since(t0))
				searches++
				time.Sleep(time.Millisecond)
			}
		}
		wg.Wait()
		be.Close()
		b.ReportMetric(float64(worst.Milliseconds()), "worst-search-ms")
		b.ReportMetric(float64(searches), "searches")
	}
}

// ivfTrainPer is how many vectors per cell vector.AutoIVF trains on.
const ivfTrainPer = 16
