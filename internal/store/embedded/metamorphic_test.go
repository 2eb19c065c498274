package embedded

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
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

var mmWords = strings.Fields("granite marble slate basalt quartz feldspar mica gneiss schist shale chalk flint jade onyx opal")

func runMetamorphic(t *testing.T, index vector.Kind, seed uint64, ops int) bool {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
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
	defer func() { b.Close() }()
	model := map[string][]string{} // doc id → its words (one chunk per doc)
	reopen := func(fsys vfs.FS, clean bool) {
		if clean {
			if err := b.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
		} else {
			b.db.Close() // crash: no final snapshot
		}
		cfg.FS = fsys
		if b, err = Open(ctx, dir, cfg); err != nil {
			t.Fatalf("reopen: %v", err)
		}
	}
	for op := range ops {
		switch r := rng.IntN(100); {
		case r < 45: // upsert a few documents
			var batch []store.DocChunks
			for range 1 + rng.IntN(3) {
				id := "d" + strconv.Itoa(rng.IntN(40))
				if slices.ContainsFunc(batch, func(d store.DocChunks) bool { return d.Doc.ID == id }) {
					continue
				}
				words := make([]string, 2+rng.IntN(4))
				for i := range words {
					words[i] = mmWords[rng.IntN(len(mmWords))]
				}
				batch = append(batch, storetest.Doc(id, storetest.E(rng.IntN(storetest.Dim), rng.Float32()), strings.Join(words, " ")))
				model[id] = words
			}
			if err := b.Upsert(ctx, batch); err != nil {
				t.Fatalf("op %d upsert: %v", op, err)
			}
		case r < 60: // delete
			id := "d" + strconv.Itoa(rng.IntN(40))
			found, err := b.Delete(ctx, id)
			_, want := model[id]
			if err != nil || found != want {
				t.Errorf("op %d delete %s: found %v, err %v; model says %v", op, id, found, err, want)
				return false
			}
			delete(model, id)
		case r < 85: // search a word: exactly the documents holding it
			w := mmWords[rng.IntN(len(mmWords))]
			hits, err := b.Lexical(ctx, store.LexicalQuery{Text: w, K: 100, Language: "en", NoText: true})
			if err != nil {
				t.Fatalf("op %d search: %v", op, err)
			}
			var got, want []string
			for _, h := range hits {
				got = append(got, h.DocID)
			}
			for id, words := range model {
				if slices.Contains(words, w) {
					want = append(want, id)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("op %d search %q: got %v, want %v", op, w, got, want)
				return false
			}
			dense, err := b.Dense(ctx, store.DenseQuery{Vector: storetest.E(0, 0.5), K: 100, Exact: true})
			if err != nil || len(dense) != len(model) {
				t.Errorf("op %d exact dense search: %d hits, model holds %d documents (%v)", op, len(dense), len(model), err)
				return false
			}
		case r < 90:
			if err := b.Flush(ctx); err != nil {
				t.Fatalf("op %d flush: %v", op, err)
			}
		case r < 95:
			reopen(mem, true)
		default: // crash, keeping only what was synced
			crashed := mem.CrashClone()
			mem = crashed
			reopen(crashed, false)
		}
	}
	if err := b.Verify(ctx); err != nil {
		t.Errorf("verify at the end: %v", err)
		return false
	}
	for id, words := range model {
		d, err := b.Get(ctx, id)
		if err != nil || d.Text != strings.Join(words, " ") {
			t.Errorf("get %s: %q, %v; want %q", id, d.Text, err, strings.Join(words, " "))
			return false
		}
	}
	return !t.Failed()
}
