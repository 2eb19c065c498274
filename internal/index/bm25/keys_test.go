package bm25

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestKeyTableMatchesMap runs seeded random inserts, deletes and lookups
// against a Go map, on tables small enough that probe runs wrap around
// and collide, and checks every key after each step's batch.
func TestKeyTableMatchesMap(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		var keys []string
		tab := newKeyTable(0)
		model := map[string]uint32{}
		universe := 10 + rng.IntN(300)
		for step := range 3000 {
			k := fmt.Sprintf("doc-%d#%d", rng.IntN(universe), rng.IntN(3))
			if id, ok := model[k]; ok && rng.IntN(2) == 0 {
				got, ok := tab.remove(keys, k)
				if !ok || got != id {
					t.Fatalf("seed %d step %d: remove(%q) = %d %v, want %d", seed, step, k, got, ok, id)
				}
				delete(model, k)
				keys[id] = ""
			} else if !ok {
				id := uint32(len(keys))
				keys = append(keys, k)
				tab.insert(keys, id)
				model[k] = id
			}
			if step%97 == 0 || step == 2999 {
				if tab.len() != len(model) {
					t.Fatalf("seed %d step %d: %d keys, want %d", seed, step, tab.len(), len(model))
				}
				for k, id := range model {
					if got, ok := tab.get(keys, k); !ok || got != id {
						t.Fatalf("seed %d step %d: get(%q) = %d %v, want %d", seed, step, k, got, ok, id)
					}
				}
				for i := range 20 {
					k := fmt.Sprintf("absent-%d", i)
					if _, ok := tab.get(keys, k); ok {
						t.Fatalf("seed %d: found absent key %q", seed, k)
					}
				}
				if (tab.n+1)*4 > len(tab.slots)*3+4 {
					t.Fatalf("seed %d: table over 3/4 full: %d of %d", seed, tab.n, len(tab.slots))
				}
			}
		}
	}
}

// TestKeyTableEmpty: lookups and removes on an empty or zero table.
func TestKeyTableEmpty(t *testing.T) {
	var zero keyTable
	if _, ok := zero.get(nil, "a"); ok {
		t.Fatal("zero table finds a key")
	}
	if _, ok := zero.remove(nil, "a"); ok {
		t.Fatal("zero table removes a key")
	}
	keys := []string{"a"}
	zero.insert(keys, 0)
	if id, ok := zero.get(keys, "a"); !ok || id != 0 {
		t.Fatalf("after insert into a zero table: %d %v", id, ok)
	}
}
