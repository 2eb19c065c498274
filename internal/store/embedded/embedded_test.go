package embedded

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/store"
)

func open(t *testing.T, dir string) *Backend {
	t.Helper()
	b, err := Open(context.Background(), dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// doc builds a document with one chunk per paragraph and optional vectors.
func doc(id string, vec []float32, paras ...string) store.DocChunks {
	d := base.Document{ID: id, Text: strings.Join(paras, "\n\n"), Language: "en"}
	var cs []base.Chunk
	var vs [][]float32
	pos := 0
	for i, p := range paras {
		cs = append(cs, base.Chunk{ID: base.ChunkID(id, i), DocID: id, Ordinal: i, Text: p, Start: pos, End: pos + len(p)})
		pos += len(p) + 2
		if vec != nil {
			vs = append(vs, vec)
		}
	}
	return store.DocChunks{Doc: d, Chunks: cs, Vectors: vs}
}

func TestCorruptSnapshotIsRebuiltFromTheStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := open(t, dir)
	if err := b.Upsert(ctx, []store.DocChunks{doc("a", nil, "granite quarry"), doc("b", nil, "marble quarry", "slate")}); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, snapName)
	raw, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0xff // one flipped byte: the checksum catches it
	if err := os.WriteFile(snap, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	b = open(t, dir)
	defer b.Close()
	if err := b.Verify(ctx); err != nil {
		t.Fatalf("after rebuild: %v", err)
	}
	hits, err := b.Lexical(ctx, store.LexicalQuery{Text: "quarry", K: 10, Language: "en"})
	if err != nil || len(hits) != 2 {
		t.Fatalf("search after rebuild: %v %v", hits, err)
	}
}

func TestReplayAfterSnapshotAppliesLaterWrites(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := open(t, dir)
	if err := b.Upsert(ctx, []store.DocChunks{doc("a", nil, "granite"), doc("b", nil, "marble")}); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Writes after the snapshot live only in the log.
	if err := b.Upsert(ctx, []store.DocChunks{doc("a", nil, "basalt", "obsidian")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	// Simulate a crash: drop the process state without Close.
	b.db.Close()
	b = open(t, dir)
	defer b.Close()
	if err := b.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{"granite": 0, "marble": 0, "obsidian": 1, "basalt": 1} {
		hits, _ := b.Lexical(ctx, store.LexicalQuery{Text: q, K: 5, Language: "en"})
		if len(hits) != want {
			t.Errorf("%s: %d hits, want %d", q, len(hits), want)
		}
	}
}

func TestVectorsAreValidated(t *testing.T) {
	ctx := context.Background()
	b := open(t, t.TempDir())
	defer b.Close()
	if err := b.Upsert(ctx, []store.DocChunks{doc("a", []float32{1, 0, 0}, "one")}); err != nil {
		t.Fatal(err)
	}
	err := b.Upsert(ctx, []store.DocChunks{doc("b", []float32{1, 0}, "two")})
	if !errors.Is(err, store.ErrDimension) {
		t.Fatalf("wrong dimension: %v", err)
	}
	nan := float32(math.NaN())
	if err := b.Upsert(ctx, []store.DocChunks{doc("c", []float32{nan, 0, 0}, "three")}); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Fatalf("NaN vector: %v", err)
	}
	if err := b.Upsert(ctx, []store.DocChunks{doc("d", nil, "four")}); err == nil {
		t.Fatal("a document without vectors was accepted into a collection that has them")
	}
	if _, err := b.Dense(ctx, store.DenseQuery{Vector: []float32{1, 0}, K: 1}); !errors.Is(err, store.ErrDimension) {
		t.Fatalf("query of the wrong dimension: %v", err)
	}
	hits, err := b.Dense(ctx, store.DenseQuery{Vector: []float32{1, 0, 0}, K: 5})
	if err != nil || len(hits) != 1 || hits[0].DocID != "a" || hits[0].Text != "one" {
		t.Fatalf("dense: %+v %v", hits, err)
	}
	if err := b.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSecondProcessCannotOpen(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir)
	defer b.Close()
	_, err := Open(context.Background(), dir, Config{})
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second open: %v", err)
	}
}

// TestUpsertCancelled: a write whose ctx is already cancelled writes
// nothing; the text of a committed write is analysed after the commit, so
// it is searchable at once and the index agrees with the store.
func TestUpsertCancelled(t *testing.T) {
	b := open(t, t.TempDir())
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Upsert(ctx, []store.DocChunks{doc("a", nil, "granite quarry")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled upsert: %v", err)
	}
	if b.Generation() != 0 || b.mu.ix.Len() != 0 {
		t.Fatalf("a cancelled upsert wrote: generation %d, %d chunks indexed", b.Generation(), b.mu.ix.Len())
	}
	bg := context.Background()
	if err := b.Upsert(bg, []store.DocChunks{doc("a", nil, "granite quarry"), doc("b", nil, "marble", "slate quarry")}); err != nil {
		t.Fatal(err)
	}
	if n := b.mu.ix.Len(); n != 3 {
		t.Fatalf("%d chunks indexed, want 3", n)
	}
	if _, ok := b.mu.ix.ID(base.ChunkID("b", 1)); !ok {
		t.Fatal("chunk b#1 not indexed")
	}
	if err := b.Verify(bg); err != nil {
		t.Fatal(err)
	}
}
