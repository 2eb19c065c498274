package embedded

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/quarry-rag/quarry/internal/index/vector"
	"github.com/quarry-rag/quarry/internal/store"
	"github.com/quarry-rag/quarry/internal/store/storetest"
	"github.com/quarry-rag/quarry/internal/vfs"
)

var metamorphicOps = flag.Int("metamorphic.ops", 300, "operations per seed of TestMetamorphic (raise for a longer run)")

// TestMetamorphic runs seeded random sequences of upserts, deletes,
// searches, flushes, reopens and simulated crashes (unsynced snapshot data
// dropped through vfs.Mem) against the embedded store, on each vector
// index, and checks every search and Get against a plain map of what was
// acknowledged. A failing seed prints the command that replays it.
func TestMetamorphic(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	if s := os.Getenv("QUARRY_METAMORPHIC_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seeds = []uint64{n}
	}
	for _, index := range []vector.Kind{IndexHNSW, IndexFlat, IndexIVF} {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("%s/seed=%d", index, seed), func(t *testing.T) {
				if !runMetamorphic(t, index, seed, *metamorphicOps) {
					t.Logf("replay: QUARRY_METAMORPHIC_SEED=%d go test ./internal/store/embedded -run 'TestMetamorphic/%s/'", seed, index)
				}
			})
		}
	}
}

func runMetamorphic(t *testing.T, index vector.Kind, seed uint64, ops int) bool {
	ctx := context.Background()
	dir := t.TempDir()
	mem := vfs.NewMem()
	mem.MkdirAll(dir, 0o755)
	cfg := Config{FS: mem, Vector: VectorConfig{Index: index}, SnapshotEvery: 25}
	if index == IndexIVF {
		cfg.Vector.NList = 2
	}
	b, err := Open(ctx, dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	open := func(t *testing.T, fsys vfs.FS) store.Backend {
		cfg.FS = fsys
		nb, err := Open(ctx, dir, cfg)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		return nb
	}
	end, ok := storetest.Metamorphic(t, b, storetest.MetamorphicOptions{
		Seed: seed, Ops: ops, ExactDense: true,
		Reopen: func(t *testing.T, old store.Backend) store.Backend {
			if err := old.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			return open(t, mem)
		},
		Crash: func(t *testing.T, old store.Backend) store.Backend { // keep only what was synced
			old.(*Backend).db.Close() // no final snapshot
			mem = mem.CrashClone()
			return open(t, mem)
		},
	})
	defer end.Close()
	if err := end.(*Backend).Verify(ctx); err != nil {
		t.Errorf("verify at the end: %v", err)
		return false
	}
	return ok
}
