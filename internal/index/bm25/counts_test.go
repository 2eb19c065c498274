package bm25

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// TestAddCountsEqualsAdd builds one index with Add and one with
// Counter.Count and AddCounts from the same seeded operations (adds with
// and without titles, empty documents, deletes, re-adds under a deleted
// key, compactions) and requires the two to be identical after every
// operation: term ids, posting lists, blocks, lengths, keys, forward
// index, scratch.
func TestAddCountsEqualsAdd(t *testing.T) {
	params := append(slices.Clone(oracleParams), Params{K1: 1.2, B: 0.75, TitleBoost: 0}, Params{K1: 1.2, B: 0.75, TitleBoost: 2.5})
	for seed := range uint64(len(params)) {
		rng := rand.New(rand.NewPCG(seed, 99))
		p := params[seed]
		c := newCorpus(rng, 1500, 25, 400)
		a, b := New(p), New(p)
		var cnt Counter
		var live []string
		same := func(op string) {
			t.Helper()
			if err := sameIndex(a, b); err != nil {
				t.Fatalf("seed %d (params %+v): after %s: %v", seed, p, op, err)
			}
		}
		add := func(key string, title, body []string) {
			t.Helper()
			ida, erra := a.Add(key, title, body)
			counts := cnt.Count(title, body)
			idb, errb := b.AddCounts(key, &counts)
			if ida != idb || (erra == nil) != (errb == nil) {
				t.Fatalf("seed %d: Add %q = %d, %v; AddCounts = %d, %v", seed, key, ida, erra, idb, errb)
			}
		}
		for i, d := range c.docs {
			// Titles repeat body terms and themselves, so that terms occur
			// in both fields and title-only terms appear.
			title := d.title
			if len(title) > 0 && rng.IntN(2) == 0 {
				title = append(append(slices.Clone(title), title[0]), d.body[:min(2, len(d.body))]...)
			}
			add(d.key, title, d.body)
			live = append(live, d.key)
			if rng.IntN(8) == 0 {
				j := rng.IntN(len(live))
				k := live[j]
				if a.Delete(k) != b.Delete(k) {
					t.Fatalf("seed %d: Delete %q disagrees", seed, k)
				}
				live = slices.Delete(live, j, j+1)
				if rng.IntN(2) == 0 {
					add(k, nil, c.draw(rng.IntN(40)))
					live = append(live, k)
				}
			}
			if i%500 == 499 {
				a.Compact()
				b.Compact()
				same("compact")
			}
		}
		same("adds and deletes")
		// A duplicate key fails the same way and changes nothing.
		k := live[0]
		add(k, nil, []string{"x"})
		same("a duplicate add")
	}
}

// TestAddCountsInput: duplicate terms in Counts are summed, zero counts
// skipped, and mismatched lengths refused.
func TestAddCountsInput(t *testing.T) {
	a, b := New(DefaultParams()), New(DefaultParams())
	if _, err := a.Add("d", []string{"t"}, []string{"x", "y", "x"}); err != nil {
		t.Fatal(err)
	}
	c := Counts{
		Terms:   []string{"x", "z", "y", "x", "t"},
		Body:    []uint32{1, 0, 1, 1, 0},
		Title:   []uint32{0, 0, 0, 0, 1},
		BodyLen: 3, TitleLen: 1,
	}
	if _, err := b.AddCounts("d", &c); err != nil {
		t.Fatal(err)
	}
	if err := sameIndex(a, b); err != nil {
		t.Fatalf("summed and skipped counts do not give Add's index: %v", err)
	}
	bad := Counts{Terms: []string{"x"}, Body: []uint32{1}}
	if _, err := b.AddCounts("e", &bad); err == nil {
		t.Fatal("counts with a missing title frequency were accepted")
	}
	if b.Len() != 1 {
		t.Fatalf("a refused AddCounts changed the index: %d documents", b.Len())
	}
}

// TestCountExact: Count's result is sized exactly and does not alias the
// counter's scratch.
func TestCountExact(t *testing.T) {
	var cnt Counter
	c1 := cnt.Count([]string{"b", "c"}, []string{"a", "b", "a"})
	want := Counts{Terms: []string{"a", "b", "c"}, Body: []uint32{2, 1, 0}, Title: []uint32{0, 1, 1}, BodyLen: 3, TitleLen: 2}
	if !reflect.DeepEqual(c1, want) {
		t.Fatalf("Count = %+v, want %+v", c1, want)
	}
	if cap(c1.Terms) != 3 || cap(c1.Body) != 3 || cap(c1.Title) != 3 {
		t.Fatalf("Count's slices are not exact: caps %d %d %d", cap(c1.Terms), cap(c1.Body), cap(c1.Title))
	}
	cnt.Count(nil, []string{"q", "q", "r", "s"})
	if !reflect.DeepEqual(c1, want) {
		t.Fatalf("a second Count changed the first's result: %+v", c1)
	}
}

// sameIndex compares two indexes field by field; the key tables, whose
// hash seeds differ, are compared by looking up every key.
func sameIndex(a, b *Index) error {
	ca, cb := *a, *b
	ca.byKey, cb.byKey = keyTable{}, keyTable{}
	if !reflect.DeepEqual(ca, cb) {
		va, vb := reflect.ValueOf(ca), reflect.ValueOf(cb)
		for i := range va.NumField() {
			if fmt.Sprint(va.Field(i)) != fmt.Sprint(vb.Field(i)) {
				return fmt.Errorf("field %s differs", va.Type().Field(i).Name)
			}
		}
		return fmt.Errorf("the indexes differ")
	}
	for _, k := range a.keys {
		if k == "" {
			continue
		}
		ia, oka := a.ID(k)
		ib, okb := b.ID(k)
		if ia != ib || oka != okb {
			return fmt.Errorf("key %q: id %d, %v vs %d, %v", k, ia, oka, ib, okb)
		}
	}
	return nil
}

// TestLongListsGrowApart: terms in every document have posting lists of
// equal length; once they have grown past staggerAfter (which they reach
// full together) they are reallocated at different adds, not all by the
// same one (which held every old and new array at once).
func TestLongListsGrowApart(t *testing.T) {
	ix := New(DefaultParams())
	body := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"}
	caps := make([]int, len(body))
	most := 0
	for n := range 40_000 {
		if _, err := ix.Add(fmt.Sprintf("d%d", n), nil, body); err != nil {
			t.Fatal(err)
		}
		grown := 0
		for i, term := range body {
			id := ix.termIDs[term]
			if c := cap(ix.post[id].docs); c != caps[i] {
				caps[i] = c
				if n >= 2*staggerAfter {
					grown++
				}
			}
		}
		most = max(most, grown)
	}
	if most > len(body)/2 {
		t.Errorf("%d of %d equal posting lists were reallocated by one Add", most, len(body))
	}
	for i, term := range body {
		p := ix.post[ix.termIDs[term]]
		if len(p.docs) != 40_000 || cap(p.docs) > 40_000*5/4+1024 || cap(p.tfs) < len(p.tfs) {
			t.Errorf("term %s: %d postings, capacity %d", term, len(p.docs), caps[i])
		}
	}
}
