package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/store"
)

// storedTextBytes is the number of bytes in the text bucket.
func storedTextBytes(t *testing.T, b *Backend) int {
	t.Helper()
	n := 0
	if err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketText).ForEach(func(_, v []byte) error { n += len(v); return nil })
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTextStoredApart: texts of every size around a piece's come back byte
// for byte (multi-byte UTF-8 split across pieces included), the docs
// records hold no text, and replacing or deleting a document leaves none of
// its old text behind.
func TestTextStoredApart(t *testing.T) {
	ctx := context.Background()
	b := open(t, t.TempDir())
	defer b.Close()
	piece := textPieceSize(b.db.Info().PageSize)
	sizes := []int{1, piece - 1, piece, piece + 1, 3*piece + 7, 100 << 10}
	var docs []store.DocChunks
	want := map[string]string{}
	total := 0
	for i, n := range sizes {
		text := ""
		for len(text) < n {
			text += fmt.Sprintf("Zeile %d: 水は低きに流れる, é. ", len(text))
		}
		id := fmt.Sprintf("d%02d", i)
		d := doc(id, nil, text)
		docs = append(docs, d)
		want[id] = text
		total += len(text)
	}
	docs = append(docs, store.DocChunks{Doc: base.Document{ID: "empty", Language: "en"}})
	want["empty"] = ""
	if err := b.Upsert(ctx, docs); err != nil {
		t.Fatal(err)
	}
	for id, text := range want {
		got, err := b.Get(ctx, id)
		if err != nil || got.Text != text {
			t.Fatalf("%s: got %d bytes (%v), want %d", id, len(got.Text), err, len(text))
		}
	}
	if err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDocs).ForEach(func(k, v []byte) error {
			var d storedDoc
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			if d.Text != "" || (want[string(k)] != "" && (d.TextSeq == 0 || d.TextLen != len(want[string(k)]))) {
				return fmt.Errorf("record %s holds text %d bytes, text_seq %d, text_len %d", k, len(d.Text), d.TextSeq, d.TextLen)
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if got := storedTextBytes(t, b); got != total {
		t.Fatalf("text bucket holds %d bytes, want %d", got, total)
	}
	page, err := b.List(ctx, store.ListQuery{Limit: 100})
	if err != nil || len(page.Docs) != len(want) {
		t.Fatalf("list: %d docs, %v", len(page.Docs), err)
	}
	for _, d := range page.Docs {
		if d.Text != want[d.ID] {
			t.Fatalf("list: %s has %d bytes, want %d", d.ID, len(d.Text), len(want[d.ID]))
		}
	}

	// Replace one document with a shorter text and delete another: their old
	// pieces go.
	short := doc("d05", nil, "now short")
	if err := b.Upsert(ctx, []store.DocChunks{short}); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Delete(ctx, "d04"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	total += len("now short") - len(want["d05"]) - len(want["d04"])
	if got := storedTextBytes(t, b); got != total {
		t.Fatalf("after replace and delete the text bucket holds %d bytes, want %d", got, total)
	}
	if got, _ := b.Get(ctx, "d05"); got.Text != "now short" {
		t.Fatalf("replaced text: %q", got.Text)
	}
	if err := b.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestFormat1StoreReadable: a store written before texts moved out of the
// docs records (format 1: text inline, no text bucket) opens, reads, lists
// and verifies; it is marked format 2, and a rewritten document moves to
// the new layout.
func TestFormat1StoreReadable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := open(t, dir)
	if err := b.Upsert(ctx, []store.DocChunks{doc("new", nil, "granite quarry")}); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// Rewrite it as format 1 would have stored it, with a second document.
	old := doc("old", nil, "marble quarry", "slate roof")
	db, err := bolt.Open(filepath.Join(dir, "store.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketText); err != nil {
			return err
		}
		for _, dc := range []store.DocChunks{doc("new", nil, "granite quarry"), old} {
			v, _ := json.Marshal(struct {
				base.Document
				NumChunks int `json:"num_chunks"`
			}{dc.Doc, len(dc.Chunks)})
			if err := tx.Bucket(bucketDocs).Put([]byte(dc.Doc.ID), v); err != nil {
				return err
			}
			for _, c := range dc.Chunks {
				cv, _ := json.Marshal(&c)
				if err := tx.Bucket(bucketChunks).Put([]byte(c.ID), cv); err != nil {
					return err
				}
			}
		}
		seq := seqOf(tx.Bucket(bucketMeta).Get(keySeq)) + 1
		if err := tx.Bucket(bucketLog).Put(u64(seq), []byte("old")); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMeta).Put(keySeq, u64(seq)); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keyFormat, u64(1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	b = open(t, dir)
	defer b.Close()
	for id, text := range map[string]string{"new": "granite quarry", "old": "marble quarry\n\nslate roof"} {
		if got, err := b.Get(ctx, id); err != nil || got.Text != text {
			t.Fatalf("%s: %q, %v", id, got.Text, err)
		}
	}
	if err := b.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	var format uint64
	b.db.View(func(tx *bolt.Tx) error { format = seqOf(tx.Bucket(bucketMeta).Get(keyFormat)); return nil })
	if format != formatVersion {
		t.Fatalf("format %d after open, want %d", format, formatVersion)
	}
	if err := b.Upsert(ctx, []store.DocChunks{doc("old", nil, "marble quarry", "slate roof", "new paragraph")}); err != nil {
		t.Fatal(err)
	}
	if got := storedTextBytes(t, b); got != len("marble quarry\n\nslate roof\n\nnew paragraph") {
		t.Fatalf("text bucket holds %d bytes after rewriting the format-1 document", got)
	}
	if err := b.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestOutOfOrderInsertWritesLittle: documents inserted between stored ones
// of ~50 KB each allocate pages for about their own size. With whole texts
// in the id-keyed records, each insert rewrote the stored neighbours in its
// leaf (bbolt keeps at least two entries a leaf, whatever their size).
func TestOutOfOrderInsertWritesLittle(t *testing.T) {
	ctx := context.Background()
	b := open(t, t.TempDir())
	defer b.Close()
	paras := func(i int) []string { // ~50 KB in chunks of ~1 KB, as the chunker cuts them
		var ps []string
		for p := 0; p < 50; p++ {
			var sb strings.Builder
			for sb.Len() < 1000 {
				fmt.Fprintf(&sb, "granite %d basalt quartz feldspar %d. ", i, sb.Len())
			}
			ps = append(ps, sb.String())
		}
		return ps
	}
	for i := 0; i < 40; i += 2 { // the even ids first, one commit each
		if err := b.Upsert(ctx, []store.DocChunks{doc(fmt.Sprintf("f%03d", i), nil, paras(i)...)}); err != nil {
			t.Fatal(err)
		}
	}
	st := b.db.Stats()
	before := st.TxStats.GetPageAlloc()
	inserted := 0
	for i := 1; i < 40; i += 2 { // then each odd id between two stored ones
		d := doc(fmt.Sprintf("f%03d", i), nil, paras(i)...)
		inserted += len(d.Doc.Text)
		if err := b.Upsert(ctx, []store.DocChunks{d}); err != nil {
			t.Fatal(err)
		}
	}
	st = b.db.Stats()
	alloc := st.TxStats.GetPageAlloc() - before
	// Each document is stored twice (its text and its chunks, whose leaves
	// bbolt fills half when keys arrive out of order), so ~3.5× its size is
	// the floor: 3.9× measured; with texts inside the records, 6.3×.
	ratio := float64(alloc) / float64(inserted)
	t.Logf("pages allocated: %d bytes for %d bytes of text (%.2f×)", alloc, inserted, ratio)
	if ratio > 5 {
		t.Fatalf("inserting between stored documents allocated %.2f× their text", ratio)
	}
}

// TestNewerFormatRefused: a store written by a newer binary is refused, not
// misread.
func TestNewerFormatRefused(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, "store.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyFormat, u64(formatVersion+1)) })
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), dir, Config{})
	if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "unsupported store format") {
		t.Fatalf("opening a format %d store: %v", formatVersion+1, err)
	}
}
