package quarry_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry"
)

// TestIngestStreamCommitsBoundedBatches: a large JSONL stream is committed
// in batches of about BatchBytes of text (the default bounds the memory of
// an upload), each atomic: a broken record after ~3 MB leaves exactly the
// batches before it, all of them counted, and nothing of its own batch.
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
	var b strings.Builder
	text := strings.Repeat("granite basalt quartz feldspar magma lava ", 500) // ~21 KB
	for i := range 150 {
		line, _ := json.Marshal(map[string]string{"id": "r" + string(rune('a'+i/26)) + string(rune('a'+i%26)), "text": text})
		b.Write(line)
		b.WriteByte('\n')
	}
	b.WriteString("{\"id\": \"broken\", \"text\": \n")
	res, err := col.IngestStream(ctx, strings.NewReader(b.String()), "big.jsonl", nil)
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
