package embedded

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/quarry-rag/quarry/internal/index/vector"
	"github.com/quarry-rag/quarry/internal/vfs"
)

// The vector snapshot, vectors.snap, holds the vector index as of the same
// log sequence number as bm25.snap; it is written at the same checkpoint,
// before bm25.snap, through the same tmp → fsync → rename → fsync(dir)
// path. Layout (little-endian):
//
//	magic   8  "QVSNAP\x00\n"
//	version 4  vsnapVersion
//	seq     8  log sequence number the index reflects
//	dim     4  vector dimension
//	clen    4  length of the configuration description
//	config  clen bytes (VectorConfig.describe)
//	hcrc    4  CRC-32C of every byte above
//	ids     the id table of vector.Mapped.WriteSnapshot (checksummed): the index
//	        id of each chunk, by the chunk id bm25.snap gives it
//	index   the index's own format (internal/index/vector, checksummed; for
//	        ivf a tag byte first, see vector.AutoIVF.WriteTo)
//
// The id table refers to the chunk ids of a bm25.snap of the same seq, so
// the file is only usable together with it; otherwise (or when
// the file is missing, damaged or of another configuration) Open rebuilds
// the index from the store's vectors and logs a warning.

const (
	vsnapName    = "vectors.snap"
	vsnapMagic   = "QVSNAP\x00\n"
	vsnapVersion = 1
)

// writeVectorSnapshot writes ix, which reflects sequence number seq.
func writeVectorSnapshot(fsys vfs.FS, dir string, seq uint64, dim int, desc string, write func(io.Writer) error) error {
	return vfs.WriteFileAtomic(fsys, filepath.Join(dir, vsnapName), func(w io.Writer) error {
		hdr := []byte(vsnapMagic)
		hdr = binary.LittleEndian.AppendUint32(hdr, vsnapVersion)
		hdr = binary.LittleEndian.AppendUint64(hdr, seq)
		hdr = binary.LittleEndian.AppendUint32(hdr, uint32(dim))
		hdr = binary.LittleEndian.AppendUint32(hdr, uint32(len(desc)))
		hdr = append(hdr, desc...)
		hdr = binary.LittleEndian.AppendUint32(hdr, crc32.Checksum(hdr, castagnoli))
		if _, err := w.Write(hdr); err != nil {
			return err
		}
		return write(w)
	})
}

// readVectorSnapshot loads the vector snapshot if it reflects sequence
// number seq, dimension dim and configuration cfg. Every failure wraps
// errSnapshot.
func readVectorSnapshot(fsys vfs.FS, dir string, seq uint64, dim int, cfg VectorConfig, full vector.FullFunc) (annIndex, error) {
	f, err := fsys.Open(filepath.Join(dir, vsnapName))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errSnapshot, err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	fixed := make([]byte, 28)
	if _, err := io.ReadFull(r, fixed); err != nil || string(fixed[:8]) != vsnapMagic {
		return nil, fmt.Errorf("%w: vectors: bad header", errSnapshot)
	}
	le := binary.LittleEndian
	if v := le.Uint32(fixed[8:]); v != vsnapVersion {
		return nil, fmt.Errorf("%w: vectors: version %d", errSnapshot, v)
	}
	clen := le.Uint32(fixed[24:])
	if clen > 1<<10 {
		return nil, fmt.Errorf("%w: vectors: bad header", errSnapshot)
	}
	rest := make([]byte, clen+4)
	if _, err := io.ReadFull(r, rest); err != nil {
		return nil, fmt.Errorf("%w: vectors: bad header", errSnapshot)
	}
	hdr := append(fixed, rest[:clen]...)
	if crc32.Checksum(hdr, castagnoli) != le.Uint32(rest[clen:]) {
		return nil, fmt.Errorf("%w: vectors: header checksum mismatch", errSnapshot)
	}
	if s := le.Uint64(fixed[12:]); s != seq {
		return nil, fmt.Errorf("%w: vectors: snapshot at seq %d, index at %d", errSnapshot, s, seq)
	}
	if d := int(le.Uint32(fixed[20:])); d != dim {
		return nil, fmt.Errorf("%w: vectors: dimension %d, store %d", errSnapshot, d, dim)
	}
	if desc := string(rest[:clen]); desc != describe(cfg, dim) {
		return nil, fmt.Errorf("%w: vectors: built as %q, configured as %q", errSnapshot, desc, describe(cfg, dim))
	}
	ix, err := readIndex(cfg, dim, r, full)
	if err != nil {
		return nil, fmt.Errorf("%w: vectors: %v", errSnapshot, err)
	}
	if _, err := r.Peek(1); err != io.EOF {
		return nil, fmt.Errorf("%w: vectors: trailing bytes", errSnapshot)
	}
	return ix, nil
}

// removeVectorSnapshot deletes a vector snapshot that no longer applies (the
// collection switched to an index that has none).
func removeVectorSnapshot(fsys vfs.FS, dir string) error {
	err := fsys.Remove(filepath.Join(dir, vsnapName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// loadVectorsLocked makes the vector index agree with the catalog as of
// snapshot sequence number seq: from vectors.snap when it is usable, else by
// rebuilding it from the stored vectors (with a warning when a snapshot was
// expected).
func (b *Backend) loadVectorsLocked(ctx context.Context, seq uint64) error {
	b.mu.vix = nil
	if b.dim == 0 {
		return nil
	}
	if snapshotted(b.cfg.Vector) {
		start := time.Now()
		vix, err := readVectorSnapshot(b.fs, b.dir, seq, b.dim, b.cfg.Vector, b.fullVectors)
		if err == nil && vix.Len() != sumChunks(b.mu.cat) {
			err = fmt.Errorf("%w: vectors: index has %d vectors, the catalog %d chunks", errSnapshot, vix.Len(), sumChunks(b.mu.cat))
		}
		if err == nil {
			b.mu.vix, b.vecSource = vix, "snapshot"
			b.cfg.Logger.Debug("store: vector index loaded from snapshot", "dir", b.dir, "vectors", vix.Len(), "took", time.Since(start))
			return nil
		}
		b.cfg.Logger.Warn("store: vector snapshot unusable; rebuilding the vector index from the store", "dir", b.dir, "err", err)
		b.vecStale = true
	}
	b.vecSource = "rebuilt"
	return b.rebuildVectorsLocked(ctx)
}

// snapshotVectorsLocked writes vectors.snap for sequence number seq (or
// removes a stale one when the index has no snapshot format). b.writeMu
// must be held, so the index cannot change meanwhile.
func (b *Backend) snapshotVectorsLocked(seq uint64) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	m, ok := b.mu.vix.(*vector.Mapped)
	if !ok || !m.Snapshotted() {
		return removeVectorSnapshot(b.fs, b.dir)
	}
	// bm25.snap will number the live chunks 0..n-1 in id order.
	cat := b.mu.cat
	rank := make([]uint32, len(cat.byID))
	next := uint32(0)
	for id, slot := range cat.byID {
		rank[id] = noID
		if slot >= 0 {
			rank[id] = next
			next++
		}
	}
	renumbered := func(id uint32) (uint32, bool) {
		if int(id) >= len(rank) || rank[id] == noID {
			return 0, false
		}
		return rank[id], true
	}
	return writeVectorSnapshot(b.fs, b.dir, seq, b.dim, describe(b.cfg.Vector, b.dim), func(w io.Writer) error {
		return m.WriteSnapshot(w, renumbered)
	})
}
