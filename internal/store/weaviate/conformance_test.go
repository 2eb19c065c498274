package weaviate

import (
	"context"
	"testing"

	"github.com/quarry-rag/quarry/internal/store"
	"github.com/quarry-rag/quarry/internal/store/storetest"
)

// TestConformance runs the shared backend suite on a single Weaviate node.
func TestConformance(t *testing.T) {
	url := needWeaviate(t)
	storetest.Run(t, func(t *testing.T) store.Backend {
		return openTest(t, url, Config{Consistency: One})
	}, func(t *testing.T, old store.Backend) store.Backend {
		name := old.(*Backend).name
		old.Close()
		b, err := Open(context.Background(), name, Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}
