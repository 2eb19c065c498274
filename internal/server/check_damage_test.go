package server

import (
	"encoding/json"
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

	// A store.db that is not a bbolt file: the engine opens its
	// collections at start-up, so the server does not start, with an error
	// naming the collection and the damage (there is nothing to check).
	t.Run("store file overwritten", func(t *testing.T) {
		dir := fresh(t)
		p := storeFile(t, dir, "rocks", "store.db")
		if err := os.WriteFile(p, []byte(strings.Repeat("not a store\n", 1000)), 0o644); err != nil {
			t.Fatal(err)
		}
		eng, err := quarry.Open(dir, nil)
		if err == nil {
			eng.Close()
			t.Fatal("an engine with an unreadable store opened")
		}
		if msg := err.Error(); !strings.Contains(msg, `collection "rocks"`) || !strings.Contains(msg, "invalid database") {
			t.Errorf("error %q does not name the collection and the damage", msg)
		}
	})
}
