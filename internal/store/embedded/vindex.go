package embedded

import (
	"fmt"
	"io"

	"github.com/quarry-rag/quarry/internal/index/vector"
)

// Vector index kinds (VectorConfig.Index), the vector package's.
const (
	IndexHNSW = vector.IndexHNSW // approximate graph index (default)
	IndexFlat = vector.IndexFlat // exact scan over float32 vectors in memory
	IndexIVF  = vector.IndexIVF  // inverted-file index over k-means cells
)

// VectorConfig selects and tunes the dense index: the vector package's one
// configuration (defaults and Validate live there). The zero value is an
// HNSW with the package's defaults.
type VectorConfig = vector.Settings

// validateVector reports a configuration the backend cannot serve: one
// vector.Settings.Validate refuses, or one the index itself would refuse
// once it knows the dimension.
func validateVector(c VectorConfig) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("store: vector index: %w", err)
	}
	var err error
	switch c.Kind() {
	case IndexHNSW:
		err = c.HNSWConfig(8, vector.Dot).Validate()
	case IndexIVF:
		err = c.IVFConfig(8, vector.Dot).Validate()
	}
	if err != nil {
		return fmt.Errorf("store: vector index: %w", err)
	}
	return nil
}

// snapshotted reports whether the index is saved in vectors.snap: all but
// the float32 flat table, which loads from the store as fast as from a file.
func snapshotted(c VectorConfig) bool {
	return c.Kind() != IndexFlat || c.Quantization == vector.QuantBinary
}

// describe names the configuration a snapshot was built with; a snapshot of
// another configuration is not loaded.
func describe(c VectorConfig, dim int) string {
	return fmt.Sprintf("%s dim=%d m=%d efc=%d nlist=%d q=%s", c.Kind(), dim, c.M, c.EfConstruction, c.NList, c.Quantization)
}

// annIndex is what the backend needs from a vector index. Every method is
// called with Backend.mu held (read lock for Search, Stats, Len and WriteTo;
// write lock for the others), so implementations need no locking of their
// own.
type annIndex interface {
	Add(id uint32, v []float32) error
	// AddBatch adds vecs[i] under ids[i] (on several cores when it can).
	AddBatch(ids []uint32, vecs [][]float32) error
	Delete(id uint32) bool
	// Search returns the k best accepted ids, best first; ef <= 0 is the
	// index's default effort.
	Search(q []float32, k, ef int, accept func(id uint32) bool) ([]vector.Result, error)
	Len() int
	Stats() vector.Stats
	// Compact drops deleted entries if they are worth dropping.
	Compact()
	// persistent reports whether the index is worth a snapshot file (a
	// flat table loads from the store as fast as from a file).
	persistent() bool
	WriteTo(w io.Writer) (int64, error)
}

// newIndex returns an empty index for dim-dimensional vectors. full reads a
// vector from the store by chunk id, for an int8 index to rescore its
// candidates without keeping float32 copies in memory. Persistent indexes
// are wrapped in a mappedIndex (see there why).
func newIndex(c VectorConfig, dim int, full vector.FullFunc) (annIndex, error) {
	switch c.Kind() {
	case IndexFlat:
		if c.Quantization == vector.QuantBinary {
			return newMapped(full, func(full vector.FullFunc) (annIndex, error) {
				x, err := vector.NewBinary(vector.BinaryConfig{Dim: dim, Metric: vector.Dot, Full: full})
				if err != nil {
					return nil, fmt.Errorf("store: vector index: %w", err)
				}
				return &binaryIndex{x}, nil
			})
		}
		return newFlatIndex(dim), nil
	case IndexHNSW:
		return newMapped(full, func(full vector.FullFunc) (annIndex, error) {
			vc := c.HNSWConfig(dim, vector.Dot)
			if vc.Quantize != "" {
				vc.Full = full
			}
			h, err := vector.New(vc)
			if err != nil {
				return nil, fmt.Errorf("store: vector index: %w", err)
			}
			return &hnswIndex{h}, nil
		})
	case IndexIVF:
		return newMapped(full, func(full vector.FullFunc) (annIndex, error) {
			return newIVFIndex(c, dim, full), nil
		})
	}
	return nil, fmt.Errorf("store: vector index %q is not available", c.Index)
}

// readIndex loads an index written by snapshotVectorsLocked.
func readIndex(c VectorConfig, dim int, r io.Reader, full vector.FullFunc) (annIndex, error) {
	switch c.Kind() {
	case IndexIVF:
		return readMapped(r, full, func(r io.Reader, full vector.FullFunc) (annIndex, error) {
			return readIVFIndex(c, dim, r, full)
		})
	case IndexFlat:
		if c.Quantization == vector.QuantBinary {
			return readMapped(r, full, func(r io.Reader, full vector.FullFunc) (annIndex, error) {
				x, err := vector.ReadBinary(r)
				if err != nil {
					return nil, err
				}
				x.SetFull(full)
				return &binaryIndex{x}, nil
			})
		}
	case IndexHNSW:
		return readMapped(r, full, func(r io.Reader, full vector.FullFunc) (annIndex, error) {
			h, err := vector.Read(r)
			if err != nil {
				return nil, err
			}
			if c.Quantization != "" {
				h.SetFull(full)
			}
			return &hnswIndex{h}, nil
		})
	}
	return nil, fmt.Errorf("%w: no snapshot format for index %q", errSnapshot, c.Kind())
}

// binaryIndex adapts vector.Binary: sign codes scanned in full, the best
// candidates (a search's ef) rescored from the store.
type binaryIndex struct{ *vector.Binary }

func (x *binaryIndex) persistent() bool { return true }
func (x *binaryIndex) Compact()         {}

func (x *binaryIndex) AddBatch(ids []uint32, vecs [][]float32) error {
	for i, v := range vecs {
		if err := x.Add(ids[i], v); err != nil {
			return err
		}
	}
	return nil
}

// hnswIndex adapts vector.HNSW.
type hnswIndex struct{ *vector.HNSW }

func (h *hnswIndex) persistent() bool { return true }

func (h *hnswIndex) AddBatch(ids []uint32, vecs [][]float32) error {
	return h.HNSW.AddBatch(ids, vecs, 0)
}

// Compact rebuilds the graph once tombstones are a third of its nodes.
func (h *hnswIndex) Compact() {
	if st := h.HNSW.Stats(); st.Deleted*2 > st.Vectors {
		h.HNSW.Compact()
	}
}

// flatIndex adapts vector.Flat, the exact scan of the float32 vectors.
type flatIndex struct{ *vector.Flat }

func newFlatIndex(dim int) *flatIndex { return &flatIndex{vector.NewFlat(dim)} }

func (f *flatIndex) AddBatch(ids []uint32, vecs [][]float32) error {
	for i, id := range ids {
		if err := f.Add(id, vecs[i]); err != nil {
			return err
		}
	}
	return nil
}

func (f *flatIndex) Compact()         {}
func (f *flatIndex) persistent() bool { return false }
