package quarry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/testutil"
)

// TestDeleteCollectionWeaviate: deleting a collection stored on Weaviate
// drops its classes there, so another engine on the same Weaviate no
// longer sees it; listing pages through the documents first.
func TestDeleteCollectionWeaviate(t *testing.T) {
	url := testutil.Weaviate(t)
	ctx := context.Background()
	opts := &quarry.Options{Backend: quarry.BackendWeaviate, WeaviateURL: url, WeaviateConsistency: "ONE"}
	eng, err := quarry.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	name := fmt.Sprintf("del%d", time.Now().UnixNano())
	col, err := eng.EnsureCollection(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	var docs []quarry.Document
	for i := range 7 {
		docs = append(docs, quarry.Document{ID: fmt.Sprintf("d%d", i), Text: fmt.Sprintf("granite sample %d", i)})
	}
	if _, err := col.Upsert(ctx, docs, nil); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for after := ""; ; {
		p, err := col.ListDocuments(ctx, quarry.ListOptions{After: after, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		seen += len(p.Documents)
		if after = p.Next; after == "" {
			break
		}
	}
	if seen != 7 {
		t.Errorf("listed %d documents on Weaviate, want 7", seen)
	}
	if err := eng.DeleteCollection(ctx, name); err != nil {
		t.Fatal(err)
	}
	other, err := quarry.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Collection(context.Background(), name); !errors.Is(err, quarry.ErrNotFound) {
		t.Errorf("another engine still finds the deleted collection on Weaviate: %v", err)
	}
	if err := eng.DeleteCollection(ctx, name); !errors.Is(err, quarry.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
}
