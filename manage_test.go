package quarry_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/quarry-rag/quarry"
)

// TestDeleteWhileSearching: searches running on a collection while it is
// deleted either finish or fail with ErrClosed (or ErrNotFound once it is
// gone), never panic or see half a store; the data directory is left
// without it.
func TestDeleteWhileSearching(t *testing.T) {
	ctx := context.Background()
	eng, err := quarry.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	col, err := eng.EnsureCollection(ctx, "busy")
	if err != nil {
		t.Fatal(err)
	}
	var docs []quarry.Document
	for i := range 300 {
		docs = append(docs, quarry.Document{ID: fmt.Sprintf("d%d", i), Text: fmt.Sprintf("granite basalt sample %d", i)})
	}
	if _, err := col.Upsert(ctx, docs, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range 200 {
				c, err := eng.Collection(context.Background(), "busy")
				if errors.Is(err, quarry.ErrNotFound) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := c.Search(ctx, quarry.SearchRequest{Query: "granite sample"}); err != nil && !errors.Is(err, quarry.ErrClosed) {
					t.Errorf("search during delete: %v", err)
					return
				}
			}
		}()
	}
	close(start)
	if err := eng.DeleteCollection(ctx, "busy"); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if names := eng.Collections(); len(names) != 0 {
		t.Errorf("collections after delete: %v", names)
	}
}
