package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/quarry-rag/quarry"
)

// damagedHarness serves the engine data in dir; unlike newHarness it does
// not require the collections to verify at the end, since the test damaged
// them on purpose.
func damagedHarness(t *testing.T, dir string) *harness {
	t.Helper()
	eng, err := quarry.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := New(eng, Options{})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		if err := eng.Close(); err != nil {
			t.Errorf("closing the engine: %v", err)
		}
	})
	return &harness{t: t, eng: eng, srv: srv, ts: ts}
}

// storeFile returns the path of the named file of collection col's
// embedded store under the engine directory dir.
func storeFile(t *testing.T, dir, col, name string) string {
	t.Helper()
	var found []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == name && strings.Contains(p, string(filepath.Separator)+col+string(filepath.Separator)) {
			found = append(found, p)
		}
		return nil
	})
	if len(found) != 1 {
		t.Fatalf("store file %s of %s: found %v", name, col, found)
	}
	return found[0]
}

// withBolt opens a closed collection's store.db and applies damage to it.
func withBolt(t *testing.T, path string, damage func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(damage); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCheckCollectionDamaged: POST /v1/collections/{c}/check on a store
// damaged on disk while the server was stopped. Damage to the stored
// records is reported as a 200 with consistent false and a problem naming
// the record; a damaged snapshot is rebuilt from the store when the
// collection opens, so check then reports it consistent and every
// document is found again.
func TestCheckCollectionDamaged(t *testing.T) {
	docs := []map[string]any{
		{"id": "a", "text": "Granite forms from magma deep in the crust."},
		{"id": "b", "text": "Basalt forms from lava at the surface."},
		{"id": "c", "text": "Sandstone forms from grains of quartz."},
	}
	// fresh writes docs into collection "rocks" of a new engine directory
	// and closes it (which snapshots the index).
	fresh := func(t *testing.T) string {
		dir := t.TempDir()
		h := damagedHarness(t, dir)
		h.upsert("rocks", docs...)
		h.do("POST", "/v1/collections/rocks/check", nil).mustStatus(t, http.StatusOK)
		h.ts.Close()
		if err := h.eng.Close(); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	setChunkText := func(id, text string) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("chunks"))
			var c map[string]any
			if err := json.Unmarshal(b.Get([]byte(id)), &c); err != nil {
				return err
			}
			c["text"] = text
			v, _ := json.Marshal(c)
			return b.Put([]byte(id), v)
		}
	}
	for _, tc := range []struct {
		name    string
		damage  func(t *testing.T, dir string)
		problem []string // substrings of the problem; nil when consistent
	}{
		{"chunk text rewritten", func(t *testing.T, dir string) {
			withBolt(t, storeFile(t, dir, "rocks", "store.db"), setChunkText("b#0", "Basalt forms from ice."))
		}, []string{`"b#0"`, "does not match its document"}},
		{"chunk record dropped", func(t *testing.T, dir string) {
			withBolt(t, storeFile(t, dir, "rocks", "store.db"), func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("chunks")).Delete([]byte("c#0"))
			})
		}, []string{`"c#0"`, "missing"}},
		{"document record garbled", func(t *testing.T, dir string) {
			withBolt(t, storeFile(t, dir, "rocks", "store.db"), func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("docs")).Put([]byte("a"), []byte(`{"id":"a","text":`))
			})
		}, []string{`document "a"`}},
		{"orphan chunk record", func(t *testing.T, dir string) {
			withBolt(t, storeFile(t, dir, "rocks", "store.db"), func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("chunks")).Put([]byte("zz#0"), []byte(`{"id":"zz#0","doc_id":"zz","text":"x"}`))
			})
		}, []string{"4 chunk records for 3 chunks"}},
		{"snapshot truncated", func(t *testing.T, dir string) {
			p := storeFile(t, dir, "rocks", "bm25.snap")
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(p, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fresh(t)
			tc.damage(t, dir)
			h := damagedHarness(t, dir)
			r := h.do("POST", "/v1/collections/rocks/check", nil).mustStatus(t, http.StatusOK)
			if r.str("collection") != "rocks" {
				t.Errorf("collection %q", r.str("collection"))
			}
			if tc.problem == nil {
				if r.get("consistent") != true || r.get("problem") != nil {
					t.Fatalf("check after rebuilding the snapshot: %s", r.body)
				}
				s := h.do("POST", "/v1/collections/rocks/search", map[string]any{"query": "lava", "mode": "bm25"}).mustStatus(t, http.StatusOK)
				if ids := hitIDs(s.list("results")); len(ids) == 0 || ids[0] != "b" {
					t.Errorf("search after the rebuild: %v", ids)
				}
				return
			}
			if r.get("consistent") != false {
				t.Fatalf("check of a damaged store: %s", r.body)
			}
			for _, want := range tc.problem {
				if !strings.Contains(r.str("problem"), want) {
					t.Errorf("problem %q does not say %q", r.str("problem"), want)
				}
			}
		})
	}

}

// TestDamagedStoreUnavailable: a collection whose store.db bbolt cannot
// open (overwritten while the server was stopped) does not keep the engine
// from starting: the other collections serve, the damaged one answers 503
// JSON naming it (and the damage, without server paths) on its routes, is
// listed with its error by GET /v1/collections, and DELETE removes it so
// that it can be created again.
func TestDamagedStoreUnavailable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h := damagedHarness(t, dir)
	h.upsert("rocks", map[string]any{"id": "a", "text": "Granite forms from magma deep in the crust."})
	h.upsert("maps", map[string]any{"id": "m", "text": "A map of the granite quarry."})
	h.ts.Close()
	if err := h.eng.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(storeFile(t, dir, "rocks", "store.db"), []byte(strings.Repeat("not a store\n", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}

	h = damagedHarness(t, dir)
	r := h.do("POST", "/v1/collections/maps/search", map[string]any{"query": "granite"}).mustStatus(t, http.StatusOK)
	if ids := hitIDs(r.list("results")); len(ids) != 1 || ids[0] != "m" {
		t.Fatalf("the healthy collection found %v", ids)
	}
	for _, rq := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/collections/rocks", nil},
		{"POST", "/v1/collections/rocks/search", map[string]any{"query": "granite"}},
		{"POST", "/v1/collections/rocks/documents", map[string]any{"documents": []map[string]any{{"id": "b", "text": "basalt"}}}},
		{"PUT", "/v1/collections/rocks", nil},
	} {
		r := h.do(rq.method, rq.path, rq.body).mustStatus(t, http.StatusServiceUnavailable)
		msg := r.str("error.message")
		if r.str("error.code") != "unavailable" || !strings.Contains(msg, `collection "rocks"`) || !strings.Contains(msg, "invalid database") {
			t.Errorf("%s %s: %s", rq.method, rq.path, r.body)
		}
		if strings.Contains(msg, dir) {
			t.Errorf("%s %s: the message shows the server's path: %s", rq.method, rq.path, msg)
		}
	}
	r = h.do("GET", "/v1/collections", nil).mustStatus(t, http.StatusOK)
	if names := r.list("collections"); len(names) != 1 || names[0] != "maps" {
		t.Errorf("collections %v", names)
	}
	un := r.list("unavailable")
	if len(un) != 1 || un[0].(map[string]any)["name"] != "rocks" || !strings.Contains(fmt.Sprint(un[0].(map[string]any)["error"]), "invalid database") {
		t.Errorf("unavailable %v", un)
	}
	if _, err := h.eng.Collection(ctx, "rocks"); !errors.Is(err, quarry.ErrUnavailable) {
		t.Errorf("Engine.Collection of the damaged collection: %v", err)
	}

	h.do("DELETE", "/v1/collections/rocks", nil).mustStatus(t, http.StatusOK)
	h.upsert("rocks", map[string]any{"id": "b", "text": "Basalt forms from lava."})
	r = h.do("GET", "/v1/collections", nil).mustStatus(t, http.StatusOK)
	if names := r.list("collections"); len(names) != 2 || r.get("unavailable") != nil {
		t.Errorf("after delete and recreate: %s", r.body)
	}
}
