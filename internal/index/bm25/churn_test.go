package bm25

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestChurnStaysBounded upserts and deletes 50,000 times over a fixed pool
// of 500 keys, compacting as the embedded store does (when deleted ids are
// a quarter of the live ones), and checks that the index's per-document
// arrays, key map, dictionary and postings stay within a constant factor
// of the live set's — before Compact renumbered, they grew by one slot per
// write for the index's life — and that searches equal those of an index
// built from the live documents alone, throughout and after a persistence
// round trip.
func TestChurnStaysBounded(t *testing.T) {
	const pool, writes = 500, 50000
	rng := rand.New(rand.NewPCG(18, 18))
	c := newCorpus(rng, 1, 30, 2000)
	ix := New(DefaultParams())
	live := map[string]corpusDoc{}
	compactions, maxSlots, maxTerms := 0, 0, 0
	var maxPostings int64
	check := func(stage string) {
		t.Helper()
		if err := ix.check(); err != nil {
			t.Fatalf("%s: %v", stage, err)
		}
		fresh := New(DefaultParams())
		for _, k := range sortedKeys(live) {
			d := live[k]
			fresh.Add(k, d.title, d.body)
		}
		for range 20 {
			q := c.query(4)
			if got, want := ix.Search(q, 10, nil), fresh.Search(q, 10, nil); !sameResults(got, want) {
				t.Fatalf("%s: query %v: churned %v, fresh %v", stage, q, got, want)
			}
		}
	}
	for i := range writes {
		k := fmt.Sprintf("doc-%d", rng.IntN(pool))
		if rng.IntN(4) == 0 {
			if ix.Delete(k) != (live[k].key != "") {
				t.Fatalf("write %d: Delete(%q) disagrees with the model", i, k)
			}
			delete(live, k)
		} else {
			ix.Delete(k)
			// A term of its own per write, as ids and dates in real text:
			// the dictionary must shed them too.
			d := corpusDoc{key: k, title: c.draw(rng.IntN(4)), body: append(c.draw(rng.IntN(60)), fmt.Sprintf("w%d", i))}
			if _, err := ix.Add(k, d.title, d.body); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
			live[k] = d
		}
		if ix.Deleted() >= 64 && ix.Deleted()*4 >= ix.Len() {
			deleted := ix.Deleted()
			remap := ix.Compact()
			compactions++
			if ix.Deleted() != 0 || len(remap) != ix.Len()+deleted {
				t.Fatalf("write %d: Compact left %d deleted, remap of %d", i, ix.Deleted(), len(remap))
			}
			next := uint32(0)
			for old, nid := range remap {
				if nid == NoID {
					continue
				}
				if nid != next { // dense and in the old order
					t.Fatalf("write %d: Compact mapped %d to %d, want %d", i, old, nid, next)
				}
				next++
			}
		}
		st := ix.Stats()
		maxSlots = max(maxSlots, len(ix.keys))
		maxTerms = max(maxTerms, st.Terms)
		maxPostings = max(maxPostings, st.Postings)
		if i%10000 == 9999 {
			check(fmt.Sprintf("write %d", i))
		}
	}
	if ix.Len() != len(live) {
		t.Fatalf("Len %d, model %d", ix.Len(), len(live))
	}
	t.Logf("%d writes over %d keys: %d compactions; at most %d id slots, %d terms, %d postings (live now %d docs)",
		writes, pool, compactions, maxSlots, maxTerms, maxPostings, ix.Len())
	// Bounds: live ≤ 500 documents, each of ≤ 64 distinct terms; compaction
	// at a quarter deleted (at least 64) keeps slots under 1.25·500 + 64.
	if maxSlots > pool*5/4+64 {
		t.Fatalf("id slots reached %d for ≤ %d live documents", maxSlots, pool)
	}
	if maxTerms > 2000+pool*5/4+64 {
		t.Fatalf("dictionary reached %d terms", maxTerms)
	}
	if maxPostings > int64(64*(pool*5/4+64)) {
		t.Fatalf("postings reached %d", maxPostings)
	}
	check("end")
	var buf bytes.Buffer
	if _, err := ix.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	ix2, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		q := c.query(4)
		if got, want := ix2.Search(q, 10, nil), ix.Search(q, 10, nil); !sameResults(got, want) {
			t.Fatalf("after Read: query %v: %v, before %v", q, got, want)
		}
	}
}

func sortedKeys(m map[string]corpusDoc) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// sameResults compares keys and scores (ids differ between a churned and a
// fresh index).
func sameResults(a, b []Result) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].Score != b[i].Score {
			return false
		}
	}
	return true
}
