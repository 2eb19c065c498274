package quarry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
)

// TestBackupDuringIngest: a backup taken while an ingest runs (with
// snapshots written in between) restores in another data directory to a
// collection that passes its check and holds every document acknowledged
// before the backup began.
func TestBackupDuringIngest(t *testing.T) {
	ctx := context.Background()
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	col, err := eng.EnsureCollection(ctx, "live")
	if err != nil {
		t.Fatal(err)
	}
	var acked atomic.Int64 // documents d0..d(acked-1) are acknowledged
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for b := 0; ; b++ {
			select {
			case <-stop:
				return
			default:
			}
			n := int(acked.Load())
			docs := make([]quarry.Document, 20)
			for i := range docs {
				docs[i] = quarry.Document{ID: fmt.Sprintf("d%06d", n+i), Text: fmt.Sprintf("granite sample %d from quarry %d", n+i, b)}
			}
			if _, err := col.Upsert(ctx, docs, nil); err != nil {
				t.Error(err)
				return
			}
			acked.Add(20)
			if b%5 == 4 {
				col.Flush(ctx) // a snapshot the backup may catch mid-way
			}
		}
	}()
	for acked.Load() < 200 {
		time.Sleep(5 * time.Millisecond)
	}
	before := acked.Load()
	var buf bytes.Buffer
	if err := eng.BackupCollection(ctx, "live", &buf); err != nil {
		t.Fatal(err)
	}
	// The writer never pauses, so an upsert was in flight while the
	// backup ran; wait for the next acknowledgement to see that it went on
	// (on a loaded machine one upsert can outlast the backup and 20 ms —
	// CI failed once when this was a fixed sleep).
	for deadline := time.Now().Add(10 * time.Second); acked.Load() <= before && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if acked.Load() <= before {
		t.Fatalf("the ingest did not run during the backup")
	}

	other, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	restored, err := other.RestoreCollection(ctx, bytes.NewReader(buf.Bytes()), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := restored.Verify(ctx); err != nil {
		t.Fatalf("restored collection fails its check: %v", err)
	}
	st, _ := restored.Stats(ctx)
	if int64(st.Documents) < before || st.Documents%20 != 0 {
		t.Errorf("restored %d documents, %d acknowledged before the backup (whole batches expected)", st.Documents, before)
	}
	for i := int64(0); i < before; i++ {
		if _, err := restored.Get(ctx, fmt.Sprintf("d%06d", i)); err != nil {
			t.Fatalf("acknowledged document d%06d missing: %v", i, err)
		}
	}
	hits, err := restored.Search(ctx, quarry.SearchRequest{Query: "granite sample 7"})
	if err != nil || len(hits.Results) == 0 {
		t.Errorf("search on the restored collection: %v %v", err, hits)
	}

	// Restoring again under the same name is refused; under another works.
	if _, err := other.RestoreCollection(ctx, bytes.NewReader(buf.Bytes()), ""); !errors.Is(err, quarry.ErrInvalid) {
		t.Errorf("restore over an existing collection: %v", err)
	}
	if _, err := other.RestoreCollection(ctx, bytes.NewReader(buf.Bytes()), "copy2"); err != nil {
		t.Errorf("restore under another name: %v", err)
	}
	// A truncated archive restores nothing.
	if _, err := other.RestoreCollection(ctx, bytes.NewReader(buf.Bytes()[:buf.Len()/2]), "cut"); err == nil {
		t.Errorf("truncated archive restored")
	}
	if _, err := other.Collection(context.Background(), "cut"); !errors.Is(err, quarry.ErrNotFound) {
		t.Errorf("truncated restore left a collection: %v", err)
	}
	if names := other.Collections(); strings.Join(names, ",") != "copy2,live" {
		t.Errorf("collections after restores: %v", names)
	}
}
