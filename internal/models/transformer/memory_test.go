package transformer

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// TestLoadAllocatesTheWeightsAboutOnce: a float32 load allocates one
// float32 copy of the tensors, the packed Linear weights and the fused QKV
// matrices — about 1.6× the file for all-MiniLM-L6-v2 — and not the file
// besides (reading it whole made it 2.6×, and a server's start-up peak
// followed; docs/benchmarks.md, "issue 18: soak run 5"). The weights held
// after the load are the packed Linears and the embedding tables, about
// the file's size.
func TestLoadAllocatesTheWeightsAboutOnce(t *testing.T) {
	dir := modelDir(t, "all-MiniLM-L6-v2")
	fi, err := os.Stat(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Skipf("no safetensors file: %v", err)
	}
	file := float64(fi.Size())
	var m0, m1, m2 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	enc, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&m1)
	runtime.GC()
	runtime.ReadMemStats(&m2)
	alloc := float64(m1.TotalAlloc - m0.TotalAlloc)
	held := float64(m2.HeapAlloc) - float64(m0.HeapAlloc)
	t.Logf("file %.1f MB: load allocated %.1f MB (%.2f×), holds %.1f MB (%.2f×)", file/1e6, alloc/1e6, alloc/file, held/1e6, held/file)
	if alloc > 2*file {
		t.Errorf("load allocated %.2f× the file (want ≤ 2: one float32 copy, the packed weights, QKV)", alloc/file)
	}
	if held > 1.15*file {
		t.Errorf("the loaded encoder holds %.2f× the file (want ≤ 1.15)", held/file)
	}
	runtime.KeepAlive(enc)
	enc.Close()
}

// TestWorkspaceKeptIsBoundedAndStays: after concurrent calls with long
// sequences the encoder keeps one idle workspace, no larger than the
// default MaxBatchTokens (2048) rows of activations; garbage collections
// do not drop it and a later short call does not replace it — what a
// server holds after its first long batch is what it holds later, so its
// heap does not fall in steps long after start-up (the sync.Pool this
// replaces did).
func TestWorkspaceKeptIsBoundedAndStays(t *testing.T) {
	enc, _ := loadMiniLM(t, nil)
	if enc.opts.MaxBatchTokens != 2048 {
		t.Fatalf("default MaxBatchTokens %d, want 2048", enc.opts.MaxBatchTokens)
	}
	r := rand.New(rand.NewPCG(3, 4))
	seqs := make([][]int32, 24)
	for i := range seqs {
		s := make([]int32, enc.MaxLen())
		s[0], s[len(s)-1] = 101, 102
		for j := 1; j < len(s)-1; j++ {
			s[j] = int32(1000 + r.IntN(20000))
		}
		seqs[i] = s
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			if _, err := enc.Embed(ctx, seqs[g*6:(g+1)*6]); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	kept := enc.idle
	H, FF := enc.cfg.HiddenSize, enc.cfg.IntermediateSize
	limit := enc.opts.MaxBatchTokens * (6*H + FF)
	if kept == nil || kept.floats() == 0 || kept.floats() > limit {
		t.Fatalf("kept workspace %v: want one of 1..%d floats (MaxBatchTokens rows)", kept, limit)
	}
	size := kept.floats()
	for range 3 {
		runtime.GC()
	}
	if _, err := enc.Embed(ctx, [][]int32{seqs[0][:16]}); err != nil {
		t.Fatal(err)
	}
	if enc.idle != kept || kept.floats() != size {
		t.Fatalf("the kept workspace changed across garbage collections and a short call (%d floats → %v)", size, enc.idle)
	}
}
