package quarry_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/store"
)

// slowSharedStore is the embedded store behind a shared-backend front
// whose lookup and open of one collection block until release is closed:
// a fault double for a slow remote backend (a Weaviate that takes seconds
// to answer), which a test cannot provoke on demand. It counts lookups
// and opens of the slow collection.
type slowSharedStore struct {
	quarry.StoreOpener
	slow    string
	release chan struct{}
	lookups atomic.Int32
	opens   atomic.Int32
}

func (s *slowSharedStore) Lookup(ctx context.Context, name string) (string, bool, error) {
	if name != s.slow {
		return "", false, nil
	}
	s.lookups.Add(1)
	select {
	case <-s.release:
		return `{"bm25":{"k1":1.2}}`, true, nil
	case <-ctx.Done():
		return "", false, ctx.Err()
	}
}

func (s *slowSharedStore) Open(ctx context.Context, name string, cfg store.Config) (store.Backend, error) {
	if name == s.slow {
		s.opens.Add(1)
	}
	return s.StoreOpener.Open(ctx, name, cfg)
}

// TestSlowBackendOpenBlocksNoOneElse: while one collection's lookup hangs
// in the backend, requests for other collections (lookups, searches,
// creation, listing) go on; a caller waiting for the slow one leaves at
// its own deadline; concurrent requests for it share one lookup and one
// open, and all get the same collection.
func TestSlowBackendOpenBlocksNoOneElse(t *testing.T) {
	st := &slowSharedStore{StoreOpener: quarry.EmbeddedStore(), slow: "slow", release: make(chan struct{})}
	eng, err := quarry.Open(t.TempDir(), &quarry.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx := context.Background()
	fast := mustCol(t, eng, "fast")
	upsert(t, fast, quarry.Document{ID: "a", Text: "granite quarry"})

	const waiters = 4
	var wg sync.WaitGroup
	got := make([]*quarry.Collection, waiters)
	errs := make([]error, waiters)
	for i := range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = eng.Collection(ctx, "slow")
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for st.lookups.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if st.lookups.Load() != 1 {
		t.Fatalf("%d lookups of the slow collection in flight, want 1", st.lookups.Load())
	}

	// Everything else answers while the slow lookup hangs.
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			c, err := eng.Collection(ctx, "fast")
			if err != nil {
				return err
			}
			if res, err := c.Search(ctx, quarry.SearchRequest{Query: "granite"}); err != nil || len(res.Results) != 1 {
				return errors.Join(err, errors.New("search of fast found nothing"))
			}
			if _, _, err := eng.CreateCollection(ctx, "other", nil); err != nil {
				return err
			}
			if _, err := eng.Collection(ctx, "missing"); !errors.Is(err, quarry.ErrNotFound) {
				return errors.Join(err, errors.New("missing: want ErrNotFound"))
			}
			if n := len(eng.Collections()); n != 2 {
				return errors.New("Collections() does not list fast and other")
			}
			tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			if _, err := eng.Collection(tctx, "slow"); !errors.Is(err, context.DeadlineExceeded) {
				return errors.Join(err, errors.New("a waiter for slow did not leave at its deadline"))
			}
			return nil
		}()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("requests for other collections blocked behind the slow collection's lookup")
	}

	close(st.release)
	wg.Wait()
	for i := range waiters {
		if errs[i] != nil || got[i] == nil || got[i] != got[0] {
			t.Fatalf("waiter %d: %v, %p (first %p)", i, errs[i], got[i], got[0])
		}
	}
	if st.lookups.Load() != 1 || st.opens.Load() != 1 {
		t.Fatalf("%d lookups and %d opens of the slow collection, want 1 and 1", st.lookups.Load(), st.opens.Load())
	}
	if got[0].Config().BM25.K1 != 1.2 {
		t.Fatalf("adopted configuration %+v, want the stored one", got[0].Config().BM25)
	}
}
