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

// annIndex is the dense index the backend keeps: the vector package's
// Managed index. Every method is called with Backend.mu held (read lock
// for Search, Stats, Len and WriteTo; write lock for the others).
type annIndex = vector.Managed

// newIndex returns an empty index for dim-dimensional vectors. full reads a
// vector from the store by chunk id, for a quantized index to rescore its
// candidates without keeping float32 copies in memory.
func newIndex(c VectorConfig, dim int, full vector.FullFunc) (annIndex, error) {
	x, err := vector.NewManaged(c, dim, full)
	if err != nil {
		return nil, fmt.Errorf("store: vector index: %w", err)
	}
	return x, nil
}

// readIndex loads an index written by snapshotVectorsLocked.
func readIndex(c VectorConfig, dim int, r io.Reader, full vector.FullFunc) (annIndex, error) {
	x, err := vector.ReadManaged(c, dim, r, full)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errSnapshot, err)
	}
	return x, nil
}

// noID marks an id no chunk holds (vector.NoID: what the index passes to
// fullVectors for a freed slot).
const noID = vector.NoID
