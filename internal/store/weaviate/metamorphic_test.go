package weaviate

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/quarry-rag/quarry/internal/store"
	"github.com/quarry-rag/quarry/internal/store/storetest"
)

// TestMetamorphic runs storetest.Metamorphic against a real Weaviate: a
// seeded random sequence of upserts, deletes, searches and reopens, every
// search checked right after the writes before it (read-your-writes with
// no wait). QUARRY_METAMORPHIC_SEED replays one seed.
func TestMetamorphic(t *testing.T) {
	url := needWeaviate(t)
	seeds := []uint64{1, 2}
	if s := os.Getenv("QUARRY_METAMORPHIC_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seeds = []uint64{n}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			b := openTest(t, url, Config{})
			_, ok := storetest.Metamorphic(t, b, storetest.MetamorphicOptions{
				Seed: seed, Ops: 150,
				Reopen: func(t *testing.T, old store.Backend) store.Backend {
					name := old.(*Backend).name
					if err := old.Close(); err != nil {
						t.Fatal(err)
					}
					nb, err := Open(context.Background(), name, Config{URL: url})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { nb.Close() })
					return nb
				},
			})
			if !ok {
				t.Logf("replay: QUARRY_METAMORPHIC_SEED=%d go test ./internal/store/weaviate -run TestMetamorphic", seed)
			}
		})
	}
}
