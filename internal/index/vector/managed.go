package vector

import (
	"fmt"
	"io"
)

// Managed is a dense index as a store keeps one: built from Settings by
// NewManaged (or loaded by ReadManaged), filled in batches, compacted when
// tombstones are worth dropping, and written to a snapshot. The graph,
// IVF and binary indexes are keyed by ids of their own through a Mapped
// table (see there why); the float32 flat table is not, as it is rebuilt
// from the store at open and never snapshotted.
//
// A Managed index does no locking of its own: the caller serialises writes
// and may run Search, Len, Stats and WriteTo concurrently with each other.
type Managed interface {
	Index
	// AddBatch adds vecs[i] under ids[i] (on several cores when it can).
	AddBatch(ids []uint32, vecs [][]float32) error
	// Compact drops deleted entries if they are worth dropping.
	Compact()
	// Renumber moves every vector from caller id old to remap[old] (and
	// drops those whose new id is NoID), for an owner whose ids were
	// renumbered, as the embedded store's are when its BM25 index compacts.
	// remap must be injective on the ids that hold vectors.
	Renumber(remap []uint32)
	// Snapshotted reports whether the index is worth a snapshot file: all
	// but the float32 flat table, which loads from the store as fast as
	// from a file.
	Snapshotted() bool
	// Kind is the index kind it was built as (a binary table is IndexFlat
	// with QuantBinary).
	Kind() Kind
}

// keyed is a Managed index without Renumber: what a Mapped table wraps
// (it renumbers in its own tables, so the index behind it never has to).
type keyed interface {
	Index
	// AddBatch adds vecs[i] under ids[i] (on several cores when it can).
	AddBatch(ids []uint32, vecs [][]float32) error
	// Compact drops deleted entries if they are worth dropping.
	Compact()
	// Snapshotted reports whether the index is worth a snapshot file: all
	// but the float32 flat table, which loads from the store as fast as
	// from a file.
	Snapshotted() bool
	// Kind is the index kind it was built as (a binary table is IndexFlat
	// with QuantBinary).
	Kind() Kind
}

// NewManaged returns an empty index of kind s.Kind() for dim-dimensional
// vectors under the dot product. full reads a vector by id, for quantized
// indexes to rescore their candidates without float32 copies in memory.
func NewManaged(s Settings, dim int, full FullFunc) (Managed, error) {
	switch s.Kind() {
	case IndexFlat:
		if s.Quantization == QuantBinary {
			return newMapped(full, func(full FullFunc) (keyed, error) {
				x, err := NewBinary(BinaryConfig{Dim: dim, Metric: Dot, Full: full})
				if err != nil {
					return nil, err
				}
				return managedBinary{x}, nil
			})
		}
		return managedFlat{NewFlat(dim)}, nil
	case IndexHNSW:
		return newMapped(full, func(full FullFunc) (keyed, error) {
			c := s.HNSWConfig(dim, Dot)
			if c.Quantize != "" {
				c.Full = full
			}
			h, err := New(c)
			if err != nil {
				return nil, err
			}
			return managedHNSW{h}, nil
		})
	case IndexIVF:
		return newMapped(full, func(full FullFunc) (keyed, error) {
			return managedIVF{NewAutoIVF(s.IVFConfig(dim, Dot), full)}, nil
		})
	}
	return nil, fmt.Errorf("%w: index %q is not available", ErrConfig, s.Index)
}

// ReadManaged loads what Mapped.WriteSnapshot wrote for an index built
// with settings s. Errors wrap ErrCorrupt (or ErrConfig for settings
// without a snapshot format: the float32 flat table).
func ReadManaged(s Settings, dim int, r io.Reader, full FullFunc) (Managed, error) {
	switch s.Kind() {
	case IndexIVF:
		return readMapped(r, full, func(r io.Reader, full FullFunc) (keyed, error) {
			x, err := ReadAutoIVF(s.IVFConfig(dim, Dot), r, full)
			if err != nil {
				return nil, err
			}
			return managedIVF{x}, nil
		})
	case IndexFlat:
		if s.Quantization == QuantBinary {
			return readMapped(r, full, func(r io.Reader, full FullFunc) (keyed, error) {
				x, err := ReadBinary(r)
				if err != nil {
					return nil, err
				}
				x.SetFull(full)
				return managedBinary{x}, nil
			})
		}
	case IndexHNSW:
		return readMapped(r, full, func(r io.Reader, full FullFunc) (keyed, error) {
			h, err := Read(r)
			if err != nil {
				return nil, err
			}
			if s.Quantization == QuantInt8 {
				h.SetFull(full)
			}
			return managedHNSW{h}, nil
		})
	}
	return nil, fmt.Errorf("%w: no snapshot format for index %q", ErrConfig, s.Kind())
}

// FlatOf returns the float32 flat table behind m, nil when m is another
// kind: its Search is exact, and Get serves a stored vector.
func FlatOf(m Managed) *Flat {
	if f, ok := m.(managedFlat); ok {
		return f.Flat
	}
	return nil
}

// AutoIVFOf returns the AutoIVF behind m, nil when m is another kind: the
// store trains it outside its lock (TrainDue, Trained, Install).
func AutoIVFOf(m Managed) *AutoIVF {
	if mp, ok := m.(*Mapped); ok {
		if x, ok := mp.inner.(managedIVF); ok {
			return x.AutoIVF
		}
	}
	return nil
}

// managedHNSW adapts HNSW.
type managedHNSW struct{ *HNSW }

func (h managedHNSW) Kind() Kind        { return IndexHNSW }
func (h managedHNSW) Snapshotted() bool { return true }

func (h managedHNSW) AddBatch(ids []uint32, vecs [][]float32) error {
	return h.HNSW.AddBatch(ids, vecs, 0)
}

// Compact rebuilds the graph once tombstones are a third of its nodes.
func (h managedHNSW) Compact() {
	if st := h.HNSW.Stats(); st.Deleted*2 > st.Vectors {
		h.HNSW.Compact()
	}
}

// managedBinary adapts Binary: sign codes scanned in full, the best
// candidates (a search's ef) rescored from full.
type managedBinary struct{ *Binary }

func (x managedBinary) Kind() Kind        { return IndexFlat }
func (x managedBinary) Snapshotted() bool { return true }
func (x managedBinary) Compact()          {}

func (x managedBinary) AddBatch(ids []uint32, vecs [][]float32) error {
	for i, v := range vecs {
		if err := x.Add(ids[i], v); err != nil {
			return err
		}
	}
	return nil
}

// managedIVF adapts AutoIVF: a flat table until there are enough vectors,
// then an IVF trained on them.
type managedIVF struct{ *AutoIVF }

func (x managedIVF) Kind() Kind        { return IndexIVF }
func (x managedIVF) Snapshotted() bool { return true }
func (x managedIVF) Compact()          {}

func (x managedIVF) AddBatch(ids []uint32, vecs [][]float32) error {
	for i, id := range ids {
		if err := x.Add(id, vecs[i]); err != nil {
			return err
		}
	}
	return nil
}

// managedFlat adapts Flat, the exact scan of the float32 vectors.
type managedFlat struct{ *Flat }

// Renumber rebuilds the table under the new ids; it is keyed by the
// caller's ids directly (no Mapped table), so it shrinks with them.
func (f managedFlat) Renumber(remap []uint32) {
	n := 0
	for _, nid := range remap {
		if nid != NoID {
			n = max(n, int(nid)+1)
		}
	}
	vecs := make([][]float32, n)
	f.n = 0
	for id, v := range f.vecs {
		if v == nil || id >= len(remap) || remap[id] == NoID {
			continue
		}
		vecs[remap[id]] = v
		f.n++
	}
	f.vecs = vecs
}

func (f managedFlat) Kind() Kind        { return IndexFlat }
func (f managedFlat) Snapshotted() bool { return false }
func (f managedFlat) Compact()          {}

func (f managedFlat) AddBatch(ids []uint32, vecs [][]float32) error {
	for i, id := range ids {
		if err := f.Add(id, vecs[i]); err != nil {
			return err
		}
	}
	return nil
}
