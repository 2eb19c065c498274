package vector

import (
	"bytes"
	"errors"
	"math/rand"
	"testing"
)

// TestManagedSnapshotRenumbers: every snapshotted kind, keyed by sparse
// caller ids with deletions, written with a renumbering and read back,
// answers the same searches under the new ids; the quantized kinds read
// their full vectors by caller id (never by the index's own ids).
func TestManagedSnapshotRenumbers(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	const dim, n = 16, 400
	data := mixture(r, n, dim)
	for _, s := range []Settings{
		{Index: IndexHNSW},
		{Index: IndexHNSW, Quantization: QuantInt8},
		{Index: IndexHNSW, Quantization: QuantSQ8},
		{Index: IndexIVF, NList: 4, NProbe: 4},
		{Index: IndexFlat, Quantization: QuantBinary},
	} {
		t.Run(string(s.Kind())+"/"+string(s.Quantization), func(t *testing.T) {
			// Caller ids are 3i+5: sparse, so index ids differ from them.
			outer := func(i int) uint32 { return uint32(3*i + 5) }
			byOuter := map[uint32][]float32{}
			var badFull bool
			full := func(ids []uint32, dst [][]float32) {
				for i, id := range ids {
					if id != NoID && byOuter[id] == nil {
						badFull = true
					}
					dst[i] = byOuter[id]
				}
			}
			m, err := NewManaged(s, dim, full)
			if err != nil {
				t.Fatal(err)
			}
			if m.Kind() != s.Kind() || !m.Snapshotted() {
				t.Fatalf("kind %s snapshotted %v", m.Kind(), m.Snapshotted())
			}
			var ids []uint32
			for i := range n {
				ids = append(ids, outer(i))
				byOuter[outer(i)] = data[i]
			}
			if err := m.AddBatch(ids, data); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < n; i += 4 { // delete a quarter, then reuse slots
				if !m.Delete(outer(i)) {
					t.Fatalf("delete %d", outer(i))
				}
			}
			if m.Delete(outer(0)) || m.Delete(9999) {
				t.Fatal("deleted an absent id")
			}
			if err := m.Add(outer(0), data[0]); err != nil {
				t.Fatal(err)
			}
			before, err := m.Search(data[1], 10, 400, nil)
			if err != nil {
				t.Fatal(err)
			}
			// Renumber: caller id 3i+5 becomes i.
			var buf bytes.Buffer
			err = m.(*Mapped).WriteSnapshot(&buf, func(id uint32) (uint32, bool) {
				if (id-5)%3 != 0 {
					return 0, false
				}
				return (id - 5) / 3, true
			})
			if err != nil {
				t.Fatal(err)
			}
			raw := buf.Bytes()
			byNew := map[uint32][]float32{}
			for i := range n {
				byNew[uint32(i)] = data[i]
			}
			got, err := ReadManaged(s, dim, bytes.NewReader(raw), func(ids []uint32, dst [][]float32) {
				for i, id := range ids {
					dst[i] = byNew[id]
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if got.Len() != m.Len() {
				t.Fatalf("read %d vectors, wrote %d", got.Len(), m.Len())
			}
			after, err := got.Search(data[1], 10, 400, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(before) {
				t.Fatalf("%d results after, %d before", len(after), len(before))
			}
			for i := range before {
				if after[i].ID != (before[i].ID-5)/3 {
					t.Fatalf("result %d: id %d after, caller id %d before", i, after[i].ID, before[i].ID)
				}
			}
			if badFull {
				t.Fatal("the index asked its FullFunc for an id the caller never gave")
			}
			// A flipped byte in the id table is refused as corrupt.
			bad := bytes.Clone(raw)
			bad[6] ^= 0xff
			if _, err := ReadManaged(s, dim, bytes.NewReader(bad), nil); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("corrupt id table: %v", err)
			}
		})
	}
}

// TestManagedFlat: the float32 flat table is exact, has no snapshot and
// is found by FlatOf; AutoIVFOf finds only the IVF.
func TestManagedFlat(t *testing.T) {
	m, err := NewManaged(Settings{Index: IndexFlat}, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Snapshotted() || FlatOf(m) == nil || AutoIVFOf(m) != nil {
		t.Fatalf("flat: snapshotted %v, FlatOf %v", m.Snapshotted(), FlatOf(m))
	}
	if _, err := ReadManaged(Settings{Index: IndexFlat}, 4, bytes.NewReader(nil), nil); !errors.Is(err, ErrConfig) {
		t.Fatalf("flat snapshot read: %v", err)
	}
	ivf, err := NewManaged(Settings{Index: IndexIVF}, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	if AutoIVFOf(ivf) == nil || FlatOf(ivf) != nil {
		t.Fatal("AutoIVFOf/FlatOf on an IVF")
	}
	if _, err := NewManaged(Settings{Index: "annoy"}, 4, nil); !errors.Is(err, ErrConfig) {
		t.Fatalf("unknown kind: %v", err)
	}
}
