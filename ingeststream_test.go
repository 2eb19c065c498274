package quarry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry"
)

// bigJSONL returns n records of ~21 KB, then a broken one when broken.
func bigJSONL(n int, broken string) string {
	var b strings.Builder
	text := strings.Repeat("granite basalt quartz feldspar magma lava ", 500)
	for i := range n {
		line, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("r%03d", i), "text": text})
		b.Write(line)
		b.WriteByte('\n')
	}
	b.WriteString(broken)
	return b.String()
}

// TestIngestStreamBadRecordWritesNothing: a seekable stream (an upload
// spooled to disk) of several batches is checked whole before it is
// written, so a broken record — or a document the collection refuses —
// after ~3 MB leaves nothing; a good one is written whole.
func TestIngestStreamBadRecordWritesNothing(t *testing.T) {
	ctx := context.Background()
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	col, err := eng.EnsureCollection(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	longID := "{\"id\": \"" + strings.Repeat("x", 600) + "\", \"text\": \"granite\"}\n" // the collection refuses it
	for _, bad := range []string{"{\"id\": \"broken\", \"text\": \n", longID} {
		res, err := col.IngestStream(ctx, strings.NewReader(bigJSONL(150, bad)), "big.jsonl", nil)
		if err == nil {
			t.Fatalf("%q was accepted", bad)
		}
		if res.Documents != 0 {
			t.Fatalf("%q: %+v written", bad, res)
		}
		if st, err := col.Stats(ctx); err != nil || st.Documents != 0 {
			t.Fatalf("%q: the collection holds %d documents (%v)", bad, st.Documents, err)
		}
	}
	var fe *quarry.FieldError
	_, err = col.IngestStream(ctx, strings.NewReader(bigJSONL(150, longID)), "big.jsonl", nil)
	if !errors.As(err, &fe) || fe.Field != "documents[150].id" {
		t.Fatalf("the refused record is not named: %v", err)
	}
	res, err := col.IngestStream(ctx, strings.NewReader(bigJSONL(150, "")), "big.jsonl", nil)
	if err != nil || res.Created != 150 {
		t.Fatalf("good stream: %+v, %v", res, err)
	}
	if err := col.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestIngestStreamCommitsBoundedBatches: a stream that cannot be read
// twice is committed in batches of about BatchBytes of text (the default
// bounds the memory of an ingest), each atomic: a broken record after ~3 MB
// leaves exactly the batches before it, all of them counted.
func TestIngestStreamCommitsBoundedBatches(t *testing.T) {
	ctx := context.Background()
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	col, err := eng.EnsureCollection(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	once := struct{ io.Reader }{strings.NewReader(bigJSONL(150, "{\"id\": \"broken\", \"text\": \n"))}
	res, err := col.IngestStream(ctx, once, "big.jsonl", nil)
	if err == nil {
		t.Fatal("a broken record was accepted")
	}
	// 1 MiB batches hold 50 records: 100 or more were committed before
	// the broken one (a 32 MiB batch would have committed none).
	if res.Documents < 100 || res.Documents > 150 || res.Created != res.Documents {
		t.Fatalf("committed %+v before the broken record, want 100–150 created", res)
	}
	st, err := col.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Documents != res.Documents {
		t.Fatalf("the collection holds %d documents, the result counts %d", st.Documents, res.Documents)
	}
	if err := col.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestIngesterSharesBatches: files added to one Ingester share write
// batches (an upload of many small files is one commit per batch, not per
// file), each file still gets its own result, and a bad file queues
// nothing while the files around it are written.
func TestIngesterSharesBatches(t *testing.T) {
	ctx := context.Background()
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	col, err := eng.EnsureCollection(ctx, "files")
	if err != nil {
		t.Fatal(err)
	}
	stored := func(id string) bool {
		_, err := col.Get(ctx, id)
		return err == nil
	}
	g := col.NewIngester(&quarry.StreamOptions{BatchDocs: 3})
	add := func(name, text string) error { return g.Add(ctx, strings.NewReader(text), name) }
	if err := add("a.txt", "granite is igneous"); err != nil {
		t.Fatal(err)
	}
	if stored("a.txt") {
		t.Fatal("a.txt was written alone: files do not share batches")
	}
	// A JSONL file with a broken record after a good one queues nothing,
	// and leaves a.txt queued.
	if err := add("bad.jsonl", "{\"id\":\"ok\",\"text\":\"fine\"}\n{\"id\": \n"); err == nil {
		t.Fatal("bad.jsonl was accepted")
	}
	if err := add("photo.png", "\x89PNG"); !errors.Is(err, quarry.ErrUnsupportedFormat) {
		t.Fatalf("photo.png: %v", err)
	}
	if err := add("b.txt", "basalt is volcanic"); err != nil {
		t.Fatal(err)
	}
	if stored("a.txt") || stored("b.txt") {
		t.Fatal("two documents of a 3-document batch were written before it filled")
	}
	if err := add("two.jsonl", "{\"id\":\"c\",\"text\":\"obsidian glass\"}\n{\"id\":\"d\",\"text\":\"pumice floats\"}\n"); err != nil {
		t.Fatal(err)
	}
	// The batch filled at c: a, b and c are written together, d is queued.
	if !stored("a.txt") || !stored("b.txt") || !stored("c") || stored("d") {
		t.Fatalf("after the batch filled: a %v b %v c %v d %v", stored("a.txt"), stored("b.txt"), stored("c"), stored("d"))
	}
	g.Flush(ctx)
	if !stored("d") || stored("ok") {
		t.Fatalf("after Flush: d %v, ok (from the bad file) %v", stored("d"), stored("ok"))
	}
	res, errs := g.Results()
	want := []struct {
		docs int
		bad  bool
	}{{1, false}, {0, true}, {0, true}, {1, false}, {2, false}}
	if len(res) != len(want) {
		t.Fatalf("%d results", len(res))
	}
	for i, w := range want {
		if res[i].Documents != w.docs || res[i].Created != w.docs || (errs[i] != nil) != w.bad {
			t.Errorf("file %d: %+v, %v; want %d documents, error %v", i, res[i], errs[i], w.docs, w.bad)
		}
	}
}

// TestIngesterOverlapMatchesSerial: an Ingester that writes a batch while
// the next is loaded (StreamOptions.Overlap, as uploads do) stores and
// reports what the serial one does, also when a batch's write fails in
// the background: the batch's files get its error and a file's documents
// queued behind the failed batch are not written. Run with -race.
func TestIngesterOverlapMatchesSerial(t *testing.T) {
	ctx := context.Background()
	type outcome struct {
		results []quarry.StreamResult
		failed  []bool
		stored  map[string]bool
	}
	run := func(overlap bool) outcome {
		eng, err := quarry.Open(t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		col, err := eng.EnsureCollection(ctx, "files")
		if err != nil {
			t.Fatal(err)
		}
		// A document of tenant b that a write scoped to tenant a may not
		// replace: a batch that names it fails whole with ErrForbidden.
		if _, err := col.Upsert(ctx, []quarry.Document{{ID: "secret", Text: "tenant b's", Tenant: "b"}}, nil); err != nil {
			t.Fatal(err)
		}
		g := col.NewIngester(&quarry.StreamOptions{BatchDocs: 3, Overlap: overlap,
			Write: &quarry.WriteOptions{Scope: &quarry.WriteScope{Tenant: "a"}}})
		jsonl := func(ids ...string) string {
			var b strings.Builder
			for _, id := range ids {
				fmt.Fprintf(&b, "{\"id\":%q,\"text\":\"rock %s\"}\n", id, id)
			}
			return b.String()
		}
		for _, f := range []struct{ name, text string }{
			{"a.txt", "granite is igneous"},
			{"two.jsonl", jsonl("b1", "b2")}, // fills the first batch, written
			{"c.txt", "basalt is volcanic"},
			{"mix.jsonl", jsonl("m1", "secret", "m3", "m4", "m5", "m6")}, // its first batch fails
			{"bad.jsonl", "{\"id\": \n"},
			{"d.txt", "obsidian is glass"},
		} {
			g.Add(ctx, strings.NewReader(f.text), f.name)
		}
		g.Flush(ctx)
		res, errs := g.Results()
		o := outcome{results: res, stored: map[string]bool{}}
		for _, e := range errs {
			o.failed = append(o.failed, e != nil)
		}
		for _, id := range []string{"a.txt", "b1", "b2", "c.txt", "m1", "m3", "m4", "m5", "m6", "d.txt"} {
			_, err := col.Get(ctx, id)
			o.stored[id] = err == nil
		}
		if d, err := col.Get(ctx, "secret"); err != nil || d.Tenant != "b" {
			t.Fatalf("overlap %v: the other tenant's document: %+v, %v", overlap, d, err)
		}
		if err := col.Verify(ctx); err != nil {
			t.Fatal(err)
		}
		return o
	}
	serial, overlap := run(false), run(true)
	wantStored := map[string]bool{"a.txt": true, "b1": true, "b2": true, "d.txt": true}
	for _, o := range []outcome{serial, overlap} {
		for id, s := range o.stored {
			if s != wantStored[id] {
				t.Errorf("%s stored %v, want %v", id, s, wantStored[id])
			}
		}
	}
	// a and two: written; c and mix share the failed batch; bad: its own
	// error; d: written.
	wantDocs, wantFailed := []int{1, 2, 0, 0, 0, 1}, []bool{false, false, true, true, true, false}
	for name, o := range map[string]outcome{"serial": serial, "overlap": overlap} {
		for i := range wantDocs {
			if o.results[i].Documents != wantDocs[i] || o.failed[i] != wantFailed[i] {
				t.Errorf("%s: file %d: %+v failed %v; want %d documents, failed %v", name, i, o.results[i], o.failed[i], wantDocs[i], wantFailed[i])
			}
		}
	}
}
