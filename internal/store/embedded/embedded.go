package embedded

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/index/bm25"
	"github.com/quarry-rag/quarry/internal/index/vector"
	"github.com/quarry-rag/quarry/internal/store"
	"github.com/quarry-rag/quarry/internal/text"
	"github.com/quarry-rag/quarry/internal/vfs"
)

// Config configures a backend. The zero value is usable.
type Config struct {
	BM25 bm25.Params
	// Language forces one analyzer language for every chunk and query;
	// "" analyses each chunk in its document's language.
	Language string
	// SnapshotEvery is the number of logged document changes after which a
	// write also refreshes the snapshot. Default 20000; <0 disables (Close
	// still snapshots).
	SnapshotEvery int
	// Vector selects the dense index; the zero value is an HNSW with
	// default parameters.
	Vector VectorConfig
	Logger *slog.Logger
	// FS holds the snapshot files (bm25.snap, vectors.snap). Default
	// vfs.Default; crash tests pass a vfs.Mem. bbolt's store.db is always
	// on the operating system's file system.
	FS vfs.FS
}

func (c *Config) ensureDefaults() {
	if c.BM25 == (bm25.Params{}) {
		c.BM25 = bm25.DefaultParams()
	}
	if c.FS == nil {
		c.FS = vfs.Default
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 20000
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

var (
	bucketDocs   = []byte("docs")
	bucketChunks = []byte("chunks")
	bucketLog    = []byte("log")
	bucketMeta   = []byte("meta")
	keySeq       = []byte("seq")
	keyFormat    = []byte("format")
)

// formatVersion 2 stores documents' texts in the text bucket (text.go);
// format 1 stores are opened and upgraded in place (their records stay
// readable).
const formatVersion = 2

// storedDoc is the value in the docs bucket. Since format 2 its Text is
// empty and TextSeq and TextLen name the text in the text bucket; a record
// of format 1 has its text inline and TextSeq 0.
type storedDoc struct {
	base.Document
	NumChunks int    `json:"num_chunks"`
	TextSeq   uint64 `json:"text_seq,omitempty"`
	TextLen   int    `json:"text_len,omitempty"`
}

// damagedError is a store.db that bbolt cannot open (no valid meta page, a
// checksum or version mismatch): it is store.ErrCorrupt, and its message
// is bbolt's.
type damagedError struct{ err error }

func (e *damagedError) Error() string        { return e.err.Error() }
func (e *damagedError) Unwrap() error        { return e.err }
func (e *damagedError) Is(target error) bool { return target == store.ErrCorrupt }

// Backend is the embedded store. Create it with Open.
type Backend struct {
	dir string
	fs  vfs.FS // cfg.FS
	cfg Config
	db  *bolt.DB
	an  *text.AnalyzerCache

	writeMu sync.Mutex // serialises Upsert, Delete, snapshot and Close

	// mu protects the following fields.
	mu struct {
		sync.RWMutex
		ix  *bm25.Index
		cat *catalog
		// vix indexes the chunk vectors by internal id; nil until the
		// collection has a dimension.
		vix    annIndex
		closed bool
	}
	// dim is the vector dimension (0 until the first vector is written). It
	// changes only with both writeMu and mu held, so either lock reads it.
	dim int

	seq     atomic.Uint64 // last committed log sequence number
	snapSeq atomic.Uint64 // sequence number the snapshot on disk reflects
	// vecStale is set when the vector snapshot on disk does not match the
	// index (it was rebuilt at open), so the next Flush or Close writes one
	// even if nothing changed. Guarded by writeMu (and set during Open).
	vecStale bool
	// vecSource says how Open obtained the vector index: "snapshot",
	// "rebuilt" or "" (no vectors, or built by replaying writes).
	vecSource string
}

var _ store.Backend = (*Backend)(nil)

// Open opens or creates the backend in dir.
func Open(ctx context.Context, dir string, cfg Config) (*Backend, error) {
	cfg.ensureDefaults()
	if err := cfg.BM25.Validate(); err != nil {
		return nil, err
	}
	if err := validateVector(cfg.Vector); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil { // bbolt's folder: always the OS's
		return nil, err
	}
	db, err := bolt.Open(filepath.Join(dir, "store.db"), 0o644, &bolt.Options{
		Timeout:      2 * time.Second,
		FreelistType: bolt.FreelistMapType,
	})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("store: %s is in use by another process", dir)
		}
		if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrVersionMismatch) || errors.Is(err, berrors.ErrChecksum) {
			err = &damagedError{err}
		}
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	b := &Backend{dir: dir, fs: cfg.FS, cfg: cfg, db: db, an: text.NewAnalyzerCache(cfg.Language)}
	if err := b.initBuckets(); err != nil {
		db.Close()
		return nil, err
	}
	if err := b.load(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return b, nil
}

func (b *Backend) initBuckets() error {
	return b.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketDocs, bucketChunks, bucketLog, bucketMeta, bucketVectors, bucketText} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keyDim); len(v) == 8 {
			b.dim = int(binary.BigEndian.Uint64(v))
		}
		if v := meta.Get(keyFormat); v != nil {
			if len(v) != 8 || binary.BigEndian.Uint64(v) < 1 || binary.BigEndian.Uint64(v) > formatVersion {
				return fmt.Errorf("%w: unsupported store format %x", store.ErrCorrupt, v)
			}
			if binary.BigEndian.Uint64(v) == formatVersion {
				return nil
			}
			// Format 1: the text bucket was created above; mark the store so
			// that a binary that does not know it refuses it.
		}
		return meta.Put(keyFormat, u64(formatVersion))
	})
}

func u64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

// Versions implements store.Backend.
func (b *Backend) Versions(ctx context.Context, ids []string) (map[string]store.Version, error) {
	out := make(map[string]store.Version, len(ids))
	err := b.db.View(func(tx *bolt.Tx) error {
		docs := tx.Bucket(bucketDocs)
		for _, id := range ids {
			v := docs.Get([]byte(id))
			if v == nil {
				continue
			}
			var h struct {
				Hash    string    `json:"hash"`
				Version uint64    `json:"version"`
				Created time.Time `json:"created"`
			}
			if err := json.Unmarshal(v, &h); err != nil {
				return fmt.Errorf("%w: document %q: %v", store.ErrCorrupt, id, err)
			}
			out[id] = store.Version{Hash: h.Hash, Version: h.Version, Created: h.Created}
		}
		return nil
	})
	// Decoding a stored document reads all of it through the map; an
	// unchanged re-ingest writes nothing, so release here too.
	b.writeMu.Lock()
	b.releaseMappedLocked()
	b.writeMu.Unlock()
	return out, err
}

// Get implements store.Backend.
func (b *Backend) Get(ctx context.Context, id string) (base.Document, error) {
	var d storedDoc
	err := b.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketDocs).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("document %q: %w", id, store.ErrNotFound)
		}
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("%w: document %q: %v", store.ErrCorrupt, id, err)
		}
		return loadText(tx, &d)
	})
	return d.Document, err
}

// Chunks implements store.Backend.
func (b *Backend) Chunks(ctx context.Context, docID string) ([]base.Chunk, error) {
	var out []base.Chunk
	err := b.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketDocs).Get([]byte(docID))
		if v == nil {
			return fmt.Errorf("document %q: %w", docID, store.ErrNotFound)
		}
		var d storedDoc
		if err := json.Unmarshal(v, &d); err != nil {
			return fmt.Errorf("%w: document %q: %v", store.ErrCorrupt, docID, err)
		}
		var err error
		out, err = readChunks(tx, docID, d.NumChunks)
		return err
	})
	return out, err
}

func readChunks(tx *bolt.Tx, docID string, n int) ([]base.Chunk, error) {
	cb := tx.Bucket(bucketChunks)
	out := make([]base.Chunk, 0, n)
	for i := 0; i < n; i++ {
		id := base.ChunkID(docID, i)
		v := cb.Get([]byte(id))
		if v == nil {
			return nil, fmt.Errorf("%w: chunk %q of document %q is missing", store.ErrCorrupt, id, docID)
		}
		var c base.Chunk
		if err := json.Unmarshal(v, &c); err != nil {
			return nil, fmt.Errorf("%w: chunk %q: %v", store.ErrCorrupt, id, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// Generation implements store.Backend.
func (b *Backend) Generation() uint64 { return b.seq.Load() }

// Close snapshots the index and closes the store.
func (b *Backend) Close() error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.RLock()
	closed := b.mu.closed
	b.mu.RUnlock()
	if closed {
		return nil
	}
	var snapErr error
	if b.seq.Load() != b.snapSeq.Load() || b.vecStale {
		snapErr = b.snapshotLocked()
	}
	b.mu.Lock()
	b.mu.closed = true
	b.mu.Unlock()
	if err := b.db.Close(); err != nil {
		return err
	}
	return snapErr
}

// Flush writes a fresh snapshot if the index changed since the last one, so
// the next Open has no log to replay.
func (b *Backend) Flush(ctx context.Context) error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	if err := b.checkOpen(); err != nil {
		return err
	}
	if b.seq.Load() == b.snapSeq.Load() && !b.vecStale {
		return nil
	}
	return b.snapshotLocked()
}

func (b *Backend) checkOpen() error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.mu.closed {
		return store.ErrClosed
	}
	return nil
}

// Stats implements store.Backend.
func (b *Backend) Stats(ctx context.Context) (store.Stats, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.mu.closed {
		return store.Stats{}, store.ErrClosed
	}
	is := b.mu.ix.Stats()
	var vs vector.Stats
	if b.mu.vix != nil {
		vs = b.mu.vix.Stats()
	}
	st := store.Stats{
		Vectors:        vs.Vectors,
		Dimension:      b.dim,
		VectorBytes:    int64(vs.Bytes),
		BytesPerVector: int64(vs.BytesPerVector),
		Documents:      b.mu.cat.live,
		Chunks:         b.mu.ix.Len(),
		Terms:          is.Terms,
		Postings:       is.Postings,
		IndexBytes:     is.Bytes,
		Generation:     b.seq.Load(),
		Languages:      b.mu.cat.languages(),
	}
	for _, name := range []string{"store.db", snapName, vsnapName} {
		fsys := b.fs
		if name == "store.db" {
			fsys = vfs.Default
		}
		if fi, err := fsys.Stat(filepath.Join(b.dir, name)); err == nil {
			st.DiskBytes += fi.Size()
		}
	}
	return st, nil
}
