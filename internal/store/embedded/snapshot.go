package embedded

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/index/bm25"
	"github.com/quarry-rag/quarry/internal/store"
	"github.com/quarry-rag/quarry/internal/vfs"
)

const (
	snapName    = "bm25.snap"
	snapMagic   = "QSNAP\x00\r\n"
	snapVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errSnapshot marks a snapshot that cannot be used; the caller rebuilds.
var errSnapshot = errors.New("unusable snapshot")

// snapshotLocked writes the index and catalog at the current sequence
// number, then trims the log up to it. b.writeMu must be held.
func (b *Backend) snapshotLocked() error {
	seq := b.seq.Load()
	// Deleted ids stay in the indexes until compaction (compact.go); a
	// snapshot is also the moment to drop them once they are a fifth of the
	// index, whatever their number.
	b.mu.Lock()
	if d := b.mu.ix.Deleted(); d > 0 && d*5 > b.mu.ix.Len() {
		b.compactLocked()
	}
	if b.mu.vix != nil {
		b.mu.vix.Compact()
	}
	b.mu.Unlock()
	// The vector snapshot goes first: a crash between the two files leaves
	// a vectors.snap whose seq differs from bm25.snap's, which Open detects
	// and rebuilds from.
	if err := b.snapshotVectorsLocked(seq); err != nil {
		return fmt.Errorf("store: vector snapshot: %w", err)
	}
	var catBuf, ixBuf bytes.Buffer
	b.mu.RLock()
	err := encodeCatalog(&catBuf, b.mu.cat)
	if err == nil {
		_, err = b.mu.ix.WriteTo(&ixBuf)
	}
	b.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("store: snapshot: %w", err)
	}
	if err := vfs.WriteFileAtomic(b.fs, filepath.Join(b.dir, snapName), func(w io.Writer) error {
		var hdr [20]byte
		copy(hdr[:8], snapMagic)
		binary.LittleEndian.PutUint32(hdr[8:12], snapVersion)
		binary.LittleEndian.PutUint64(hdr[12:20], seq)
		if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
		for _, sec := range [][]byte{catBuf.Bytes(), ixBuf.Bytes()} {
			var sh [12]byte
			binary.LittleEndian.PutUint64(sh[:8], uint64(len(sec)))
			binary.LittleEndian.PutUint32(sh[8:], crc32.Checksum(sec, castagnoli))
			if _, err := w.Write(sh[:]); err != nil {
				return err
			}
			if _, err := w.Write(sec); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("store: snapshot: %w", err)
	}
	b.snapSeq.Store(seq)
	b.vecStale = false
	// The snapshot covers every record up to seq: drop them.
	return b.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLog).Cursor()
		for k, _ := c.First(); k != nil && seqOf(k) <= seq; k, _ = c.Next() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}

func encodeCatalog(w *bytes.Buffer, c *catalog) error {
	var tmp [binary.MaxVarintLen64]byte
	w.Write(tmp[:binary.PutUvarint(tmp[:], uint64(c.live))])
	for i := range c.docs {
		e := &c.docs[i]
		if !e.live {
			continue
		}
		v, err := json.Marshal(&e.attrs)
		if err != nil {
			return err
		}
		w.Write(tmp[:binary.PutUvarint(tmp[:], uint64(len(v)))])
		w.Write(v)
	}
	return nil
}

// readSnapshot loads the snapshot file. It returns errSnapshot (wrapped)
// when the file is absent, damaged or inconsistent.
func readSnapshot(fsys vfs.FS, path string) (seq uint64, ix *bm25.Index, cat *catalog, err error) {
	f, err := fsys.Open(path)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%w: %v", errSnapshot, err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var hdr [20]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil || string(hdr[:8]) != snapMagic {
		return 0, nil, nil, fmt.Errorf("%w: bad header", errSnapshot)
	}
	if v := binary.LittleEndian.Uint32(hdr[8:12]); v != snapVersion {
		return 0, nil, nil, fmt.Errorf("%w: version %d", errSnapshot, v)
	}
	seq = binary.LittleEndian.Uint64(hdr[12:20])
	fi, _ := fsys.Stat(path)
	var secs [2][]byte
	for i := range secs {
		var sh [12]byte
		if _, err := io.ReadFull(r, sh[:]); err != nil {
			return 0, nil, nil, fmt.Errorf("%w: section %d: %v", errSnapshot, i, err)
		}
		n := binary.LittleEndian.Uint64(sh[:8])
		if fi != nil && n > uint64(fi.Size()) {
			return 0, nil, nil, fmt.Errorf("%w: section %d length %d", errSnapshot, i, n)
		}
		secs[i] = make([]byte, n)
		if _, err := io.ReadFull(r, secs[i]); err != nil {
			return 0, nil, nil, fmt.Errorf("%w: section %d: %v", errSnapshot, i, err)
		}
		if crc32.Checksum(secs[i], castagnoli) != binary.LittleEndian.Uint32(sh[8:]) {
			return 0, nil, nil, fmt.Errorf("%w: section %d checksum mismatch", errSnapshot, i)
		}
	}
	ix, err = bm25.Read(bytes.NewReader(secs[1]))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%w: %v", errSnapshot, err)
	}
	cat = newCatalog()
	rd := bytes.NewReader(secs[0])
	n, err := binary.ReadUvarint(rd)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%w: catalog: %v", errSnapshot, err)
	}
	for i := uint64(0); i < n; i++ {
		l, err := binary.ReadUvarint(rd)
		if err != nil || l > uint64(rd.Len()) {
			return 0, nil, nil, fmt.Errorf("%w: catalog entry %d", errSnapshot, i)
		}
		buf := make([]byte, l)
		io.ReadFull(rd, buf)
		var a docAttrs
		if err := json.Unmarshal(buf, &a); err != nil {
			return 0, nil, nil, fmt.Errorf("%w: catalog entry %d: %v", errSnapshot, i, err)
		}
		ids := make([]uint32, a.NumChunks)
		for j := range ids {
			id, ok := ix.ID(base.ChunkID(a.ID, j))
			if !ok {
				return 0, nil, nil, fmt.Errorf("%w: chunk %d of %q not in index", errSnapshot, j, a.ID)
			}
			ids[j] = id
		}
		cat.put(a, ids)
	}
	if sumChunks(cat) != ix.Len() {
		return 0, nil, nil, fmt.Errorf("%w: catalog has %d chunks, index %d", errSnapshot, sumChunks(cat), ix.Len())
	}
	return seq, ix, cat, nil
}

func sumChunks(c *catalog) int {
	n := 0
	for i := range c.docs {
		if c.docs[i].live {
			n += len(c.docs[i].ids)
		}
	}
	return n
}

// load brings the in-memory index up to the store's state.
func (b *Backend) load(ctx context.Context) error {
	var storeSeq uint64
	if err := b.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keySeq); v != nil {
			storeSeq = binary.BigEndian.Uint64(v)
		}
		return nil
	}); err != nil {
		return err
	}
	seq, ix, cat, err := readSnapshot(b.fs, filepath.Join(b.dir, snapName))
	if err == nil && seq <= storeSeq {
		b.mu.ix, b.mu.cat = ix, cat
		if err := b.loadVectorsLocked(ctx, seq); err != nil {
			return err
		}
		if err := b.replay(ctx, seq); err == nil {
			b.seq.Store(storeSeq)
			b.snapSeq.Store(seq)
			return nil
		} else if !errors.Is(err, errSnapshot) {
			return err
		} else {
			b.cfg.Logger.Warn("store: log replay failed; rebuilding index", "dir", b.dir, "err", err)
		}
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		b.cfg.Logger.Warn("store: snapshot unusable; rebuilding index", "dir", b.dir, "err", err)
	}
	if err := b.rebuild(ctx); err != nil {
		return err
	}
	b.seq.Store(storeSeq)
	b.snapSeq.Store(0)
	return nil
}

// replay applies the log records written after snapshot seq from.
func (b *Backend) replay(ctx context.Context, from uint64) error {
	var ids []string
	seen := map[string]bool{}
	err := b.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLog).Cursor()
		// The log is trimmed only after a snapshot has been renamed into
		// place, so every record after the snapshot's seq is still here.
		for k, v := c.Seek(u64(from + 1)); k != nil; k, v = c.Next() {
			if id := string(v); !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return b.resync(ctx, ids)
}

// resync makes the index agree with the stored state of each document.
func (b *Backend) resync(ctx context.Context, ids []string) error {
	const batch = 512
	for start := 0; start < len(ids); start += batch {
		part := ids[start:min(start+batch, len(ids))]
		var docs []store.DocChunks
		var gone []string
		err := b.db.View(func(tx *bolt.Tx) error {
			for _, id := range part {
				v := tx.Bucket(bucketDocs).Get([]byte(id))
				if v == nil {
					gone = append(gone, id)
					continue
				}
				var d storedDoc
				if err := json.Unmarshal(v, &d); err != nil {
					return fmt.Errorf("%w: document %q: %v", store.ErrCorrupt, id, err)
				}
				chunks, err := readChunks(tx, id, d.NumChunks)
				if err != nil {
					return err
				}
				vecs, err := readVectors(tx, id, d.NumChunks, b.dim)
				if err != nil {
					return err
				}
				docs = append(docs, store.DocChunks{Doc: d.Document, Chunks: chunks, Vectors: vecs})
			}
			return nil
		})
		if err != nil {
			return err
		}
		terms, err := b.analyzeAll(ctx, docs)
		if err != nil {
			return err
		}
		b.mu.Lock()
		for _, id := range gone {
			b.applyDeleteLocked(id)
		}
		var vb vecBatch
		for i := range docs {
			b.applyPutLocked(&docs[i], terms[i], &vb)
		}
		b.flushVectorsLocked(&vb)
		b.maybeCompactLocked()
		b.mu.Unlock()
	}
	return nil
}

// rebuild builds the index from every stored document.
func (b *Backend) rebuild(ctx context.Context) error {
	b.mu.ix = bm25.New(b.cfg.BM25)
	b.mu.cat = newCatalog()
	b.mu.vix = nil
	b.vecSource = ""
	var ids []string
	if err := b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDocs).ForEach(func(k, _ []byte) error {
			ids = append(ids, string(k))
			return nil
		})
	}); err != nil {
		return err
	}
	return b.resync(ctx, ids)
}
