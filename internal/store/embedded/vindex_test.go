package embedded

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/index/vector"
	"github.com/quarry-rag/quarry/internal/store"
)

const synthDim = 32

// synthVec returns a unit vector near one of 40 random centres, so the data
// has the cluster structure that makes approximate search non-trivial.
func synthVec(r *rand.Rand, centres [][]float32) []float32 {
	c := centres[r.Intn(len(centres))]
	v := make([]float32, synthDim)
	var n float64
	for i := range v {
		v[i] = c[i] + float32(r.NormFloat64()*0.35)
		n += float64(v[i]) * float64(v[i])
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(n))
	}
	return v
}

func synthCentres(r *rand.Rand) [][]float32 {
	cs := make([][]float32, 40)
	for i := range cs {
		cs[i] = make([]float32, synthDim)
		for j := range cs[i] {
			cs[i][j] = float32(r.NormFloat64())
		}
	}
	return cs
}

// synthStore fills a backend in dir with n one-chunk documents; document i
// has metadata group = i%10 and, for i%4 == 0, tenant "t1".
func synthStore(t *testing.T, dir string, cfg Config, n int) (*Backend, [][]float32) {
	t.Helper()
	ctx := context.Background()
	b, err := Open(ctx, dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(7))
	centres := synthCentres(r)
	var queries [][]float32
	for q := 0; q < 60; q++ {
		queries = append(queries, synthVec(r, centres))
	}
	for start := 0; start < n; start += 500 {
		var docs []store.DocChunks
		for i := start; i < min(start+500, n); i++ {
			d := doc("d"+strconv.Itoa(i), synthVec(r, centres), "text of document "+strconv.Itoa(i))
			d.Doc.Metadata = base.Metadata{"group": base.Number(float64(i % 10))}
			if i%4 == 0 {
				d.Doc.Tenant = "t1"
			}
			docs = append(docs, d)
		}
		if err := b.Upsert(ctx, docs); err != nil {
			t.Fatal(err)
		}
	}
	return b, queries
}

// recallVsExact is the mean fraction of the exact top k that the index
// search returns, over queries, for scope.
func recallVsExact(t *testing.T, b *Backend, queries [][]float32, k int, sc store.Scope) float64 {
	t.Helper()
	ctx := context.Background()
	var sum float64
	for _, q := range queries {
		exact, err := b.Dense(ctx, store.DenseQuery{Vector: q, K: k, Scope: sc, Exact: true, NoText: true})
		if err != nil {
			t.Fatal(err)
		}
		approx, err := b.Dense(ctx, store.DenseQuery{Vector: q, K: k, Scope: sc, NoText: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(exact) != len(approx) {
			t.Fatalf("exact %d hits, index %d", len(exact), len(approx))
		}
		want := map[string]bool{}
		for _, h := range exact {
			want[h.ChunkID] = true
		}
		got := 0
		for _, h := range approx {
			if want[h.ChunkID] {
				got++
			}
		}
		if len(exact) > 0 {
			sum += float64(got) / float64(len(exact))
		}
	}
	return sum / float64(len(queries))
}

func TestHNSWAgreesWithExactScan(t *testing.T) {
	ctx := context.Background()
	b, queries := synthStore(t, t.TempDir(), Config{}, 4000)
	defer b.Close()
	if _, ok := b.mu.vix.(*vector.Mapped); !ok || b.mu.vix.Kind() != vector.IndexHNSW {
		t.Fatalf("default index is %T, want HNSW", b.mu.vix)
	}
	if r := recallVsExact(t, b, queries, 10, store.Scope{}); r < 0.95 {
		t.Fatalf("recall@10 of the HNSW against the exact scan: %.3f < 0.95", r)
	}
	// Exact really is exhaustive: it equals the flat index on the same data.
	flat, _ := synthStore(t, t.TempDir(), Config{Vector: VectorConfig{Index: IndexFlat}}, 4000)
	defer flat.Close()
	for _, q := range queries[:10] {
		a, _ := b.Dense(ctx, store.DenseQuery{Vector: q, K: 10, Exact: true, NoText: true})
		f, _ := flat.Dense(ctx, store.DenseQuery{Vector: q, K: 10, NoText: true})
		for i := range a {
			if a[i].ChunkID != f[i].ChunkID || math.Abs(a[i].Score-f[i].Score) > 1e-5 {
				t.Fatalf("exact scan rank %d: %s %.5f, flat index %s %.5f", i, a[i].ChunkID, a[i].Score, f[i].ChunkID, f[i].Score)
			}
		}
	}
	// A larger ef finds at least as much.
	if _, err := b.Dense(ctx, store.DenseQuery{Vector: queries[0], K: 10, Ef: 5000}); err == nil {
		t.Fatal("ef 5000 accepted")
	}
	st, err := b.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Vectors != 4000 || st.BytesPerVector < 4*synthDim || st.VectorBytes < int64(st.Vectors)*st.BytesPerVector/2 {
		t.Fatalf("stats: %+v", st)
	}
	if err := b.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestDenseScopeIsAppliedInsideTheSearch(t *testing.T) {
	ctx := context.Background()
	b, queries := synthStore(t, t.TempDir(), Config{}, 4000)
	defer b.Close()
	group3 := base.Filter{Op: base.OpEq, Field: "group", Value: base.Number(3)}
	scopes := []store.Scope{
		{Filter: group3},               // 10% of the documents
		{Tenant: "t1"},                 // 25%
		{Tenant: "t1", Filter: group3}, // none: t1 documents have even numbers, group 3 odd ones
		{Filter: base.Filter{Op: base.OpEq, Field: "doc_id", Value: base.String("d17")}}, // one document
	}
	for si, sc := range scopes {
		for _, q := range queries[:20] {
			hits, err := b.Dense(ctx, store.DenseQuery{Vector: q, K: 10, Scope: sc})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hits {
				i, _ := strconv.Atoi(h.DocID[1:])
				if (sc.Tenant == "t1") != (i%4 == 0) || (!sc.Filter.IsZero() && sc.Filter.Field == "group" && i%10 != 3) {
					t.Fatalf("scope %d: hit %s is out of scope", si, h.DocID)
				}
			}
			switch si {
			case 2:
				if len(hits) != 0 {
					t.Fatalf("empty scope: %d hits", len(hits))
				}
			case 0, 1:
				if len(hits) != 10 {
					t.Fatalf("scope %d: %d hits, want 10 (the filter must apply inside the search)", si, len(hits))
				}
			case 3:
				if len(hits) != 1 || hits[0].DocID != "d17" {
					t.Fatalf("one-document filter: %+v", hits)
				}
			}
		}
		if si < 2 {
			if r := recallVsExact(t, b, queries, 10, sc); r < 0.95 {
				t.Fatalf("scope %d: filtered recall@10 %.3f < 0.95", si, r)
			}
		}
	}
}

func TestVectorIndexIsLoadedFromItsSnapshot(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, queries := synthStore(t, dir, Config{}, 2000)
	// Deletes and replacements before the snapshot leave holes in the
	// chunk ids, which bm25.snap renumbers away: the vector index must
	// follow.
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 2000; i += 7 {
		if i%2 == 0 {
			b.Delete(ctx, "d"+strconv.Itoa(i))
		} else if err := b.Upsert(ctx, []store.DocChunks{doc("d"+strconv.Itoa(i), synthVec(r, synthCentres(r)), "replaced")}); err != nil {
			t.Fatal(err)
		}
	}
	before, err := b.Dense(ctx, store.DenseQuery{Vector: queries[0], K: 20, NoText: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, vsnapName)); err != nil {
		t.Fatalf("no vector snapshot after Close: %v", err)
	}
	b = open(t, dir)
	if b.vecSource != "snapshot" {
		t.Fatalf("vector index source %q, want snapshot (no rebuild)", b.vecSource)
	}
	after, err := b.Dense(ctx, store.DenseQuery{Vector: queries[0], K: 20, NoText: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range before {
		if before[i].ChunkID != after[i].ChunkID {
			t.Fatalf("rank %d: %s before reopening, %s after", i, before[i].ChunkID, after[i].ChunkID)
		}
	}
	if r := recallVsExact(t, b, queries, 10, store.Scope{}); r < 0.95 {
		t.Fatalf("after reopening: recall@10 %.3f", r)
	}
	if err := b.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	// Writes after the snapshot are replayed on top of it after a crash.
	if err := b.Upsert(ctx, []store.DocChunks{doc("new", queries[1], "a new document")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Delete(ctx, before[0].DocID); err != nil {
		t.Fatal(err)
	}
	b.db.Close() // crash: no Close, no snapshot
	b = open(t, dir)
	defer b.Close()
	if b.vecSource != "snapshot" {
		t.Fatalf("after a crash: vector index source %q, want snapshot + replay", b.vecSource)
	}
	if err := b.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	hits, _ := b.Dense(ctx, store.DenseQuery{Vector: queries[1], K: 1})
	if len(hits) != 1 || hits[0].DocID != "new" {
		t.Fatalf("replayed document not found: %+v", hits)
	}
	hits, _ = b.Dense(ctx, store.DenseQuery{Vector: queries[0], K: 20})
	for _, h := range hits {
		if h.DocID == before[0].DocID {
			t.Fatalf("deleted document %s still returned after replay", h.DocID)
		}
	}
}

func TestCorruptVectorSnapshotIsRebuilt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, queries := synthStore(t, dir, Config{}, 2000)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, vsnapName)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int{len(raw) / 2, 20} { // inside the index, then in the header
		bad := append([]byte(nil), raw...)
		bad[off] ^= 0x5a
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		var logBuf bytes.Buffer
		b, err = Open(ctx, dir, Config{Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if b.vecSource != "rebuilt" {
			t.Fatalf("corrupt byte %d: vector index source %q, want rebuilt", off, b.vecSource)
		}
		if !strings.Contains(logBuf.String(), "level=WARN") || !strings.Contains(logBuf.String(), "vector snapshot unusable") {
			t.Fatalf("no warning logged: %q", logBuf.String())
		}
		if err := b.Verify(ctx); err != nil {
			t.Fatal(err)
		}
		if r := recallVsExact(t, b, queries, 10, store.Scope{}); r < 0.95 {
			t.Fatalf("after rebuild: recall@10 %.3f", r)
		}
		// Close writes a good snapshot again, though nothing changed.
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		b = open(t, dir)
		if b.vecSource != "snapshot" {
			t.Fatalf("after rebuild and Close: source %q, want snapshot", b.vecSource)
		}
		b.Close()
	}
	// A missing snapshot, and one of another sequence number (a crash
	// between writing vectors.snap and bm25.snap), are rebuilt too.
	os.Remove(path)
	b = open(t, dir)
	if b.vecSource != "rebuilt" {
		t.Fatalf("missing snapshot: source %q", b.vecSource)
	}
	b.Close()
	b = open(t, dir)
	if err := b.Upsert(ctx, []store.DocChunks{doc("x", queries[0], "x")}); err != nil {
		t.Fatal(err)
	}
	b.writeMu.Lock()
	err = b.snapshotVectorsLocked(b.seq.Load()) // vectors.snap ahead of bm25.snap
	b.writeMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	b.db.Close()
	b = open(t, dir)
	defer b.Close()
	if b.vecSource != "rebuilt" {
		t.Fatalf("snapshot of another seq: source %q, want rebuilt", b.vecSource)
	}
	if err := b.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestDeletesAndReplacementsLeaveTheIndex(t *testing.T) {
	ctx := context.Background()
	b, queries := synthStore(t, t.TempDir(), Config{SnapshotEvery: 300}, 1000)
	defer b.Close()
	q := queries[2]
	top, _ := b.Dense(ctx, store.DenseQuery{Vector: q, K: 5})
	for _, h := range top[:3] {
		if ok, err := b.Delete(ctx, h.DocID); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	// Replace the 4th with a vector far from q; write one document twice in
	// one batch (only the second version may stay indexed).
	far := make([]float32, synthDim)
	for i := range far {
		far[i] = -q[i]
	}
	if err := b.Upsert(ctx, []store.DocChunks{doc(top[3].DocID, far, "moved"), doc("twice", q, "first"), doc("twice", far, "second")}); err != nil {
		t.Fatal(err)
	}
	hits, _ := b.Dense(ctx, store.DenseQuery{Vector: q, K: 5})
	for _, h := range hits {
		for _, gone := range top[:4] {
			if h.DocID == gone.DocID {
				t.Fatalf("%s is deleted or moved away but still returned", h.DocID)
			}
		}
		if h.DocID == "twice" {
			t.Fatal("the first version of a document written twice is indexed")
		}
	}
	if hits[0].DocID != top[4].DocID {
		t.Fatalf("best hit %s, want %s", hits[0].DocID, top[4].DocID)
	}
	if err := b.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	// Delete most of the collection: snapshots compact the tombstones and
	// the index stays consistent with the store.
	for i := 0; i < 900; i++ {
		if _, err := b.Delete(ctx, "d"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	st, _ := b.Stats(ctx)
	if st.Vectors != st.Chunks || st.Vectors > 102 {
		t.Fatalf("after deletes: %d vectors for %d chunks", st.Vectors, st.Chunks)
	}
	if r := recallVsExact(t, b, queries, 10, store.Scope{}); r < 0.95 {
		t.Fatalf("recall after mass delete: %.3f", r)
	}
}

func TestHitsCarryVectorsWhenAsked(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []vector.Kind{IndexHNSW, IndexFlat} {
		b, err := Open(ctx, t.TempDir(), Config{Vector: VectorConfig{Index: kind}})
		if err != nil {
			t.Fatal(err)
		}
		v := []float32{0.6, 0.8, 0}
		if err := b.Upsert(ctx, []store.DocChunks{doc("a", v, "granite quarry")}); err != nil {
			t.Fatal(err)
		}
		lex, err := b.Lexical(ctx, store.LexicalQuery{Text: "granite", K: 1, Language: "en", WithVectors: true, NoText: true})
		if err != nil || len(lex) != 1 || len(lex[0].Vector) != 3 || lex[0].Vector[1] != 0.8 || lex[0].Text != "" {
			t.Fatalf("%s lexical: %+v %v", kind, lex, err)
		}
		den, err := b.Dense(ctx, store.DenseQuery{Vector: v, K: 1, WithVectors: true})
		if err != nil || len(den) != 1 || den[0].Vector[0] != 0.6 || den[0].Text != "granite quarry" {
			t.Fatalf("%s dense: %+v %v", kind, den, err)
		}
		den, _ = b.Dense(ctx, store.DenseQuery{Vector: v, K: 1})
		if den[0].Vector != nil {
			t.Fatalf("%s: vector filled without WithVectors", kind)
		}
		b.Close()
	}
}

func TestVectorConfigIsValidated(t *testing.T) {
	for _, c := range []VectorConfig{{Index: "annoy"}, {Index: IndexIVF, M: 8}, {Index: IndexIVF, NList: 4, NProbe: 5}, {M: 1}, {Quantization: "pq"}, {Index: IndexFlat, Quantization: "int8"}} {
		if _, err := Open(context.Background(), t.TempDir(), Config{Vector: c}); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if _, err := Open(context.Background(), t.TempDir(), Config{Vector: VectorConfig{Index: IndexFlat}}); err != nil {
		t.Error(err)
	}
}

func TestInt8IndexRescoresFromTheStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := Config{Vector: VectorConfig{Quantization: "int8"}}
	q8, queries := synthStore(t, dir, cfg, 3000)
	f32, _ := synthStore(t, t.TempDir(), Config{}, 3000)
	defer f32.Close()
	if r := recallVsExact(t, q8, queries, 10, store.Scope{}); r < 0.95 {
		t.Fatalf("int8 recall@10 %.3f < 0.95", r)
	}
	// Rescored scores are the float32 ones.
	a, _ := q8.Dense(ctx, store.DenseQuery{Vector: queries[0], K: 1, NoText: true})
	e, _ := q8.Dense(ctx, store.DenseQuery{Vector: queries[0], K: 1, NoText: true, Exact: true})
	if a[0].ChunkID != e[0].ChunkID || math.Abs(a[0].Score-e[0].Score) > 1e-5 {
		t.Fatalf("int8 best %s %.6f, exact %s %.6f", a[0].ChunkID, a[0].Score, e[0].ChunkID, e[0].Score)
	}
	s8, _ := q8.Stats(ctx)
	s32, _ := f32.Stats(ctx)
	if s8.BytesPerVector >= s32.BytesPerVector-2*synthDim {
		t.Fatalf("int8 index uses %d bytes per vector, float32 %d", s8.BytesPerVector, s32.BytesPerVector)
	}
	t.Logf("bytes per vector: float32 %d, int8 %d (dim %d)", s32.BytesPerVector, s8.BytesPerVector, synthDim)
	if err := q8.Close(); err != nil {
		t.Fatal(err)
	}
	q8, err := Open(ctx, dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer q8.Close()
	if q8.vecSource != "snapshot" {
		t.Fatalf("int8 index source %q, want snapshot", q8.vecSource)
	}
	b, _ := q8.Dense(ctx, store.DenseQuery{Vector: queries[0], K: 1, NoText: true})
	if b[0].ChunkID != a[0].ChunkID || b[0].Score != a[0].Score {
		t.Fatalf("after reopening: %+v, before %+v (rescoring must still read the store)", b[0], a[0])
	}
	// A float32 configuration does not load the int8 snapshot.
	q8.Close()
	f, err := Open(ctx, dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.vecSource != "rebuilt" {
		t.Fatalf("float32 open of an int8 snapshot: source %q", f.vecSource)
	}
}

// TestBinaryFlatIndex: binary codes in memory, float32 vectors only in
// bbolt; searches rescore from the store (exact scores), filters and
// deletes hold, the snapshot reloads, and hnsw refuses binary.
func TestBinaryFlatIndex(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := Config{Vector: VectorConfig{Index: IndexFlat, Quantization: "binary"}}
	bq, queries := synthStore(t, dir, cfg, 3000)
	if r := recallVsExact(t, bq, queries, 10, store.Scope{}); r < 0.95 {
		t.Fatalf("binary recall@10 %.3f < 0.95", r)
	}
	if r := recallVsExact(t, bq, queries, 10, store.Scope{Tenant: "t1"}); r < 0.95 {
		t.Fatalf("binary recall@10 in tenant t1 %.3f < 0.95", r)
	}
	a, _ := bq.Dense(ctx, store.DenseQuery{Vector: queries[0], K: 3, NoText: true})
	e, _ := bq.Dense(ctx, store.DenseQuery{Vector: queries[0], K: 3, NoText: true, Exact: true})
	if a[0].ChunkID != e[0].ChunkID || math.Abs(a[0].Score-e[0].Score) > 1e-5 {
		t.Fatalf("binary best %s %.6f, exact %s %.6f", a[0].ChunkID, a[0].Score, e[0].ChunkID, e[0].Score)
	}
	st, _ := bq.Stats(ctx)
	if st.BytesPerVector > 4*synthDim {
		t.Errorf("binary index: %d bytes per vector for %d dimensions", st.BytesPerVector, synthDim)
	}
	t.Logf("binary: %d bytes per vector (dim %d)", st.BytesPerVector, synthDim)
	doc := strings.SplitN(a[0].ChunkID, "#", 2)[0]
	if _, err := bq.Delete(ctx, doc); err != nil {
		t.Fatal(err)
	}
	b, _ := bq.Dense(ctx, store.DenseQuery{Vector: queries[0], K: 3, NoText: true})
	if b[0].ChunkID == a[0].ChunkID {
		t.Fatalf("deleted chunk %s still returned", a[0].ChunkID)
	}
	if err := bq.Close(); err != nil {
		t.Fatal(err)
	}
	bq, err := Open(ctx, dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer bq.Close()
	if bq.vecSource != "snapshot" {
		t.Fatalf("binary index source %q, want snapshot", bq.vecSource)
	}
	c, _ := bq.Dense(ctx, store.DenseQuery{Vector: queries[0], K: 3, NoText: true})
	for i := range c {
		if c[i].ChunkID != b[i].ChunkID || c[i].Score != b[i].Score {
			t.Fatalf("after reopening: %+v, before %+v", c, b)
		}
	}
	if err := (VectorConfig{Quantization: "binary"}).Validate(); err == nil {
		t.Error("hnsw with binary quantization accepted")
	}
	if err := (VectorConfig{Index: IndexIVF, Quantization: "binary"}).Validate(); err == nil {
		t.Error("ivf with binary quantization accepted")
	}
}

func TestIVFIndexTrainsThenSearchesCells(t *testing.T) {
	ctx := context.Background()
	for _, quant := range []vector.Quantization{"", "int8"} {
		cfg := Config{Vector: VectorConfig{Index: IndexIVF, NList: 16, NProbe: 6, Quantization: quant}}
		// 600 vectors stay in the untrained table (trained at 1024); 3000
		// train the IVF.
		for _, n := range []int{600, 3000} {
			dir := t.TempDir()
			b, queries := synthStore(t, dir, cfg, n)
			x := vector.AutoIVFOf(b.mu.vix)
			if trained := x.IsTrained(); trained != (n >= 1024) {
				t.Fatalf("%q n=%d: trained %v", quant, n, trained)
			}
			if r := recallVsExact(t, b, queries, 10, store.Scope{}); r < 0.9 {
				t.Fatalf("%q n=%d: recall@10 %.3f < 0.9", quant, n, r)
			}
			if r := recallVsExact(t, b, queries, 10, store.Scope{Tenant: "t1"}); r < 0.9 {
				t.Fatalf("%q n=%d: filtered recall@10 %.3f < 0.9", quant, n, r)
			}
			all, _ := b.Dense(ctx, store.DenseQuery{Vector: queries[0], K: 10, Ef: 16})
			ex, _ := b.Dense(ctx, store.DenseQuery{Vector: queries[0], K: 10, Exact: true})
			if all[0].ChunkID != ex[0].ChunkID || math.Abs(all[0].Score-ex[0].Score) > 1e-5 {
				t.Fatalf("%q n=%d: every cell probed: %+v, exact %+v", quant, n, all[0], ex[0])
			}
			if _, err := b.Delete(ctx, ex[0].DocID); err != nil {
				t.Fatal(err)
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			b, err := Open(ctx, dir, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if b.vecSource != "snapshot" {
				t.Fatalf("%q n=%d: source %q, want snapshot", quant, n, b.vecSource)
			}
			if err := b.Verify(ctx); err != nil {
				t.Fatal(err)
			}
			hits, _ := b.Dense(ctx, store.DenseQuery{Vector: queries[0], K: 10, Ef: 16})
			if hits[0].ChunkID != ex[1].ChunkID {
				t.Fatalf("%q n=%d: after delete and reopen: best %+v, want %+v (exact before: %+v)", quant, n, hits[:3], ex[1], ex[:3])
			}
			b.Close()
		}
	}
}
