package embedded

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/quarry-rag/quarry/internal/store"
	"github.com/quarry-rag/quarry/internal/store/storetest"
	"github.com/quarry-rag/quarry/internal/vfs"
)

var errCrash = errors.New("simulated crash")

// TestSnapshotCrashAtEverySyncPoint writes a snapshot (vectors.snap, then
// bm25.snap) over an older one and crashes before each of its sync points
// — and once after the last — dropping every write not yet synced (a
// vfs.Mem crash clone; a SIGKILL would keep them in the page cache). Each
// time, the store must open from what is left, agree with itself, and
// find every document written before the crash.
func TestSnapshotCrashAtEverySyncPoint(t *testing.T) {
	ctx := context.Background()
	cfg := func(fsys vfs.FS) Config { return Config{FS: fsys, Vector: VectorConfig{Index: IndexHNSW}} }
	var docs []store.DocChunks
	for i := range 12 {
		docs = append(docs, storetest.Doc(fmt.Sprintf("d%02d", i), storetest.E(i, 0.1*float32(i%4)), fmt.Sprintf("stone%02d granite quarry", i)))
	}
	syncPoints := -1
	for k := 0; syncPoints < 0 || k <= syncPoints; k++ {
		dir := t.TempDir()
		mem := vfs.NewMem()
		mem.MkdirAll(dir, 0o755)
		armed, syncs := false, 0
		var crashed *vfs.Mem
		fsys := vfs.Inject(mem, func(op vfs.Op, _ string) error {
			switch {
			case !armed:
				return nil
			case crashed != nil:
				return errCrash // the machine is down: nothing more reaches the disk
			case op == vfs.OpSync || op == vfs.OpDirSync:
				if syncs == k {
					crashed = mem.CrashClone()
					return errCrash
				}
				syncs++
			}
			return nil
		})
		b, err := Open(ctx, dir, cfg(fsys))
		if err != nil {
			t.Fatal(err)
		}
		// An older snapshot of the first half, then the rest in the log.
		if err := b.Upsert(ctx, docs[:6]); err != nil {
			t.Fatal(err)
		}
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := b.Upsert(ctx, docs[6:]); err != nil {
			t.Fatal(err)
		}
		armed = true
		err = b.Flush(ctx)
		if crashed == nil { // k is past the last sync point: crash after it
			if err != nil {
				t.Fatal(err)
			}
			syncPoints = syncs
			crashed = mem.CrashClone()
		} else if !errors.Is(err, errCrash) {
			t.Fatalf("sync point %d: flush: %v, want the crash", k, err)
		}
		b.db.Close() // the process dies: no Close, no final snapshot

		b, err = Open(ctx, dir, cfg(crashed))
		if err != nil {
			t.Fatalf("sync point %d: open after the crash: %v", k, err)
		}
		if err := b.Verify(ctx); err != nil {
			t.Errorf("sync point %d: %v", k, err)
		}
		for i, d := range docs {
			id := d.Doc.ID
			hits, err := b.Lexical(ctx, store.LexicalQuery{Text: fmt.Sprintf("stone%02d", i), K: 3, Language: "en"})
			if err != nil || len(hits) != 1 || hits[0].DocID != id {
				t.Errorf("sync point %d: lexical search for %s: %v, %v", k, id, hits, err)
			}
			dense, err := b.Dense(ctx, store.DenseQuery{Vector: d.Vectors[0], K: 12, Exact: false})
			if err != nil || len(dense) != len(docs) {
				t.Errorf("sync point %d: dense search: %d hits, %v", k, len(dense), err)
			}
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if syncPoints < 4 {
		t.Fatalf("a snapshot write has %d sync points, want at least 4 (two files, two directory syncs)", syncPoints)
	}
	t.Logf("crashed at each of %d sync points and after the last", syncPoints)
}
