package embedded

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/quarry-rag/quarry/internal/index/vector"
	"github.com/quarry-rag/quarry/internal/store"
)

// churnDoc is the model's view of one live document.
type churnDoc struct {
	version int // the write that produced it; its text holds "vN"
	chunks  int
	vec     []float32
}

func churnTenant(k int) string { return [...]string{"acme", "globex", ""}[k%3] }

func churnScope(k int) store.Scope {
	sc := store.Scope{Tenant: churnTenant(k)}
	if k%5 == 0 {
		sc.Principals = []string{"team-x"}
	}
	return sc
}

func churnDocChunks(rng *rand.Rand, k, version int) (store.DocChunks, churnDoc) {
	vec := make([]float32, 16)
	var norm float64
	for i := range vec {
		vec[i] = float32(rng.NormFloat64())
		norm += float64(vec[i]) * float64(vec[i])
	}
	for i := range vec {
		vec[i] /= float32(math.Sqrt(norm))
	}
	words := strings.Fields("granite basalt magma quartz feldspar river valley sediment glacier volcano")
	paras := make([]string, 1+rng.IntN(2))
	for i := range paras {
		var b strings.Builder
		fmt.Fprintf(&b, "v%d", version)
		for range 5 + rng.IntN(30) {
			b.WriteString(" " + words[rng.IntN(len(words))])
		}
		paras[i] = b.String()
	}
	dc := doc(fmt.Sprintf("doc-%d", k), vec, paras...)
	for j := 1; j < len(dc.Vectors); j++ { // a chunk's own vector: no ties
		v := slices.Clone(vec)
		v[j] += 0.05
		dc.Vectors[j] = v
	}
	dc.Doc.Title = fmt.Sprintf("doc-%d v%d", k, version)
	dc.Doc.Tenant = churnTenant(k)
	if k%5 == 0 {
		dc.Doc.ACL = []string{"team-x"}
	}
	return dc, churnDoc{version: version, chunks: len(paras), vec: vec}
}

// TestChurnKeepsTheIndexesBounded upserts and deletes 50,000 times over a
// fixed pool of 500 documents (three tenants, some with an ACL, one or two
// chunks each, with vectors) and checks that
//   - the BM25 id slots, the catalog's id table and the HNSW's nodes stay
//     within a constant factor of the live chunks, and the live heap after
//     a collection grows by less than 4 MB between the first fifth of the
//     writes and the end (before compaction renumbered ids on the write
//     path, all three grew by one entry per written chunk: the slot bound
//     failed after 646 writes);
//   - every live document is found, by BM25 and by dense search, in its own
//     tenant's scope only, under its current title, and no deleted version
//     is ever found: a renumbered id never resolves to another document;
//   - a crash (the store closed without a final snapshot, so the next open
//     loads an older snapshot and replays the log) and a clean reopen both
//     give the same results as before.
func TestChurnKeepsTheIndexesBounded(t *testing.T) {
	writes := 50000
	if testing.Short() {
		writes = 10000
	}
	churn(t, Config{SnapshotEvery: 7000}, 500, writes)
}

// TestChurnOtherVectorIndexes runs the churn with each other kind of
// vector index: the float32 flat table (keyed by the BM25 ids directly, so
// renumbered in place), the binary table and int8 HNSW (behind the Mapped
// id table), sq8 HNSW and the IVF, with pools large enough for them to train.
func TestChurnOtherVectorIndexes(t *testing.T) {
	for _, c := range []struct {
		name string
		vc   VectorConfig
		pool int
	}{
		{"flat", VectorConfig{Index: IndexFlat}, 500},
		{"binary", VectorConfig{Index: IndexFlat, Quantization: vector.QuantBinary}, 500},
		{"hnsw-int8", VectorConfig{Quantization: vector.QuantInt8}, 500},
		{"hnsw-sq8", VectorConfig{Quantization: vector.QuantSQ8}, 1200}, // pool above sqMinTrain: the codes train
		{"ivf", VectorConfig{Index: IndexIVF, NList: 8}, 1200},
	} {
		t.Run(c.name, func(t *testing.T) {
			writes := 4000
			if testing.Short() {
				writes = 1500
			}
			churn(t, Config{SnapshotEvery: 1500, Vector: c.vc}, c.pool, writes)
		})
	}
}

func churn(t *testing.T, cfg Config, pool, writes int) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := Open(ctx, dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { b.Close() }()
	rng := rand.New(rand.NewPCG(18, 42))
	live := map[int]churnDoc{}
	gone := map[int]int{} // deleted or replaced: document → an old version
	var heapWarm uint64
	maxSlots, maxNodes := 0, 0
	nextCheck, crashed := 5000, false

	checkScopes := func(stage string) {
		t.Helper()
		if err := b.Verify(ctx); err != nil {
			t.Fatalf("%s: %v", stage, err)
		}
		for k := range pool {
			if k%7 != 0 {
				continue
			}
			d, ok := live[k]
			id := fmt.Sprintf("doc-%d", k)
			sc := churnScope(k)
			if ok {
				q := store.LexicalQuery{Text: fmt.Sprintf("v%d", d.version), K: 5, Language: "en", Scope: sc, NoText: true}
				hits, err := b.Lexical(ctx, q)
				if err != nil || len(hits) != d.chunks {
					t.Fatalf("%s: %s v%d: %d lexical hits (%v), want %d", stage, id, d.version, len(hits), err, d.chunks)
				}
				for _, h := range hits {
					if h.DocID != id || h.Title != fmt.Sprintf("%s v%d", id, d.version) {
						t.Fatalf("%s: %s v%d: lexical hit %s titled %q", stage, id, d.version, h.ChunkID, h.Title)
					}
				}
				other := sc
				other.Tenant = churnTenant(k + 1)
				if hits, _ := b.Lexical(ctx, store.LexicalQuery{Text: q.Text, K: 5, Language: "en", Scope: other, NoText: true}); len(hits) != 0 {
					t.Fatalf("%s: %s (tenant %q) found from tenant %q: %v", stage, id, sc.Tenant, other.Tenant, hits)
				}
				if len(sc.Principals) > 0 {
					if hits, _ := b.Lexical(ctx, store.LexicalQuery{Text: q.Text, K: 5, Language: "en", Scope: store.Scope{Tenant: sc.Tenant}, NoText: true}); len(hits) != 0 {
						t.Fatalf("%s: %s found without its ACL's principal", stage, id)
					}
				}
				// Exact: the check is of the id → document mapping after
				// renumbering and reopening; an approximate HNSW search
				// filtered to one tenant's ACL may miss a node now and then
				// (recall < 1), which is not what this test is about.
				dh, err := b.Dense(ctx, store.DenseQuery{Vector: d.vec, K: 1, Scope: sc, NoText: true, Exact: true})
				if err != nil || len(dh) != 1 || dh[0].DocID != id || dh[0].Title != fmt.Sprintf("%s v%d", id, d.version) {
					t.Fatalf("%s: %s v%d: dense hits %v (%v)", stage, id, d.version, dh, err)
				}
			}
			if v, ok := gone[k]; ok {
				if hits, _ := b.Lexical(ctx, store.LexicalQuery{Text: fmt.Sprintf("v%d", v), K: 5, Language: "en", Scope: sc, NoText: true}); len(hits) != 0 {
					t.Fatalf("%s: old version v%d of %s found: %v", stage, v, id, hits)
				}
			}
		}
	}
	results := func() []string {
		var out []string
		for k := range pool {
			if k%25 != 0 {
				continue
			}
			sc := churnScope(k)
			hits, _ := b.Lexical(ctx, store.LexicalQuery{Text: "granite glacier", K: 10, Language: "en", Scope: sc, NoText: true})
			for _, h := range hits {
				out = append(out, fmt.Sprintf("%d lex %s %.9g %s", k, h.ChunkID, h.Score, h.Title))
			}
			if d, ok := live[k]; ok {
				// Exact: the HNSW graph a reopen builds may differ.
				dh, _ := b.Dense(ctx, store.DenseQuery{Vector: d.vec, K: 5, Scope: sc, NoText: true, Exact: true})
				for _, h := range dh {
					out = append(out, fmt.Sprintf("%d dense %s %.6g %s", k, h.ChunkID, h.Score, h.Title))
				}
			}
		}
		return out
	}
	reopen := func(stage string, crash bool) {
		t.Helper()
		before := results()
		if crash {
			// What kill -9 leaves: every write committed, the snapshot as
			// of the last checkpoint, the log after it.
			b.mu.Lock()
			b.mu.closed = true
			b.mu.Unlock()
			if err := b.db.Close(); err != nil {
				t.Fatal(err)
			}
		} else if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if b, err = Open(ctx, dir, cfg); err != nil {
			t.Fatal(err)
		}
		if after := results(); !slices.Equal(before, after) {
			t.Fatalf("%s: results differ after reopening:\n%v\n%v", stage, before, after)
		}
		checkScopes(stage + " reopened")
	}

	// Readers run concurrently with the writes (and their compactions)
	// until the crash: every hit must be its own document's — the title
	// comes from the catalog, the chunk id from the BM25 keys — and visible
	// in the reader's scope.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for r := range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			rr := rand.New(rand.NewPCG(uint64(r), 7))
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				k := rr.IntN(pool)
				sc := churnScope(k)
				hits, err := b.Lexical(ctx, store.LexicalQuery{Text: "granite glacier volcano", K: 10, Language: "en", Scope: sc, NoText: true})
				if err == nil && n%2 == 0 {
					_, v := churnDocChunks(rr, k, 0)
					hits, err = b.Dense(ctx, store.DenseQuery{Vector: v.vec, K: 10, Scope: sc, NoText: true})
				}
				if err != nil {
					t.Errorf("concurrent search: %v", err)
					return
				}
				for _, h := range hits {
					var hk int
					fmt.Sscanf(h.DocID, "doc-%d", &hk)
					if !strings.HasPrefix(h.Title, h.DocID+" v") || churnTenant(hk) != sc.Tenant || (hk%5 == 0 && len(sc.Principals) == 0) {
						t.Errorf("concurrent search in scope %+v: hit %s titled %q", sc, h.ChunkID, h.Title)
						return
					}
				}
			}
		}()
	}
	stopReaders := sync.OnceFunc(func() { close(stop); readers.Wait() })
	defer stopReaders()
	for i := 0; i < writes; {
		// A batch of up to 32 upserts in one transaction (one fsync), or one
		// delete.
		if rng.IntN(5) == 0 {
			k := rng.IntN(pool)
			ok, err := b.Delete(ctx, fmt.Sprintf("doc-%d", k))
			if err != nil || ok != (live[k].version != 0) {
				t.Fatalf("write %d: Delete doc-%d = %v, %v", i, k, ok, err)
			}
			if d, ok := live[k]; ok {
				gone[k] = d.version
			}
			delete(live, k)
			i++
		} else {
			var batch []store.DocChunks
			seen := map[int]bool{}
			for n := 1 + rng.IntN(32); n > 0 && i < writes; n-- {
				k := rng.IntN(pool)
				if seen[k] {
					continue
				}
				seen[k] = true
				i++
				dc, d := churnDocChunks(rng, k, i)
				batch = append(batch, dc)
				if old, ok := live[k]; ok {
					gone[k] = old.version
				}
				live[k] = d
			}
			if err := b.Upsert(ctx, batch); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
		b.mu.RLock()
		slots, byID := b.mu.ix.Len()+b.mu.ix.Deleted(), len(b.mu.cat.byID)
		vs := b.mu.vix.Stats()
		chunks := b.mu.ix.Len()
		b.mu.RUnlock()
		maxSlots, maxNodes = max(maxSlots, slots), max(maxNodes, vs.Vectors+vs.Deleted)
		if byID > slots || slots > chunks*5/4+compactMin+16 || vs.Vectors+vs.Deleted > 2*chunks+3*compactMin {
			t.Fatalf("write %d: %d live chunks, %d BM25 id slots, %d catalog ids, %d vector index entries", i, chunks, slots, byID, vs.Vectors+vs.Deleted)
		}
		if i >= nextCheck {
			checkScopes(fmt.Sprintf("write %d", i))
			nextCheck += 5000
		}
		if heapWarm == 0 && i >= writes/5 {
			heapWarm = liveHeap()
		}
		if !crashed && i >= writes/2 {
			stopReaders()
			reopen(fmt.Sprintf("crash at write %d", i), true)
			crashed = true
		}
	}
	checkScopes("end")
	heapEnd := liveHeap()
	t.Logf("%d writes over %d documents: at most %d BM25 id slots and %d vector index entries (live and tombstoned) for ≤ %d live documents; live heap %.1f MB after %d writes, %.1f MB at the end",
		writes, pool, maxSlots, maxNodes, pool, float64(heapWarm)/(1<<20), writes/5, float64(heapEnd)/(1<<20))
	if heapEnd > heapWarm+4<<20 {
		t.Fatalf("live heap grew from %.1f MB to %.1f MB under churn", float64(heapWarm)/(1<<20), float64(heapEnd)/(1<<20))
	}
	reopen("clean reopen", false)
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
