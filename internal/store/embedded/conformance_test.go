package embedded

import (
	"context"
	"testing"

	"github.com/quarry-rag/quarry/internal/store"
	"github.com/quarry-rag/quarry/internal/store/storetest"
)

// TestConformance runs the backend conformance suite shared with every
// store.Backend (internal/store/storetest).
func TestConformance(t *testing.T) {
	dirs := map[store.Backend]string{}
	storetest.Run(t, func(t *testing.T) store.Backend {
		dir := t.TempDir()
		b := open(t, dir)
		dirs[b] = dir
		return b
	}, func(t *testing.T, old store.Backend) store.Backend {
		dir := dirs[old]
		if err := old.Close(); err != nil {
			t.Fatal(err)
		}
		b, err := Open(context.Background(), dir, Config{})
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}
