// Package store defines the storage backend seam: what the engine needs from
// a place that keeps documents and chunks and searches them. Two backends
// implement it: store/embedded (the default: bbolt, Quarry's BM25 and
// vector indexes) and store/weaviate (a Weaviate server shared by several
// processes). Every backend passes the same conformance suite
// (store/storetest).
//
// The engine receives backends by value: an Opener (Options.Store) opens
// each collection's Backend from a Config. Optional capabilities are named
// interfaces here, found with one type assertion each: ConfigChecker,
// Sharer and Validator on openers; Flusher, Verifier, ReadyProber and
// Hybrider on backends.
//
// A backend receives documents already chunked and embedded; the lexical
// analysis and indexing are its own business, since a remote database does
// its own BM25.
//
// Concurrency: all methods are safe for concurrent use. Upsert and Delete
// calls are serialised by the backend; searches run concurrently with them
// and see each write either entirely or not at all.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/quarry-rag/quarry/internal/base"
)

// Sentinel errors.
var (
	ErrNotFound = errors.New("store: not found")
	ErrCorrupt  = errors.New("store: corrupt")
	ErrClosed   = errors.New("store: closed")
	// ErrDimension: a vector's dimension differs from the collection's.
	ErrDimension = errors.New("store: vector dimension mismatch")
)

// DocChunks is one document with its chunks, the unit of an atomic write.
// Vectors, when the collection has an embedding model, holds one vector per
// chunk, in chunk order.
type DocChunks struct {
	Doc     base.Document
	Chunks  []base.Chunk
	Vectors [][]float32
}

// Scope restricts a search to what one caller may read. It is applied inside
// the search, never by trimming a result list.
type Scope struct {
	Tenant     string      // documents of this tenant only ("" = untenanted documents only)
	Principals []string    // a document with an ACL is visible only if one of these is in it
	Filter     base.Filter // metadata filter; the zero Filter matches all
}

// LexicalQuery is a BM25 search.
type LexicalQuery struct {
	Text     string
	Language string // analyzer language for the query; "" = detect, then the collection default
	K        int
	Scope    Scope
	NoText   bool // leave Hit.Text, Title and Section empty (evaluation needs only ids)
	// WithVectors fills Hit.Vector (when the chunk has one), for MMR.
	WithVectors bool
}

// Version is what the engine needs to know about a stored document to decide
// whether an incoming one changes it.
type Version struct {
	Hash    string
	Version uint64
	Created time.Time
}

// DenseQuery is a nearest-neighbour search by inner product (cosine for
// normalised vectors).
type DenseQuery struct {
	Vector []float32
	K      int
	Scope  Scope
	NoText bool
	// WithVectors fills Hit.Vector, for MMR.
	WithVectors bool
	// Ef is the search effort of an approximate index (HNSW ef, IVF nprobe);
	// 0 = the collection's default. Backends without one ignore it.
	Ef int
	// Exact forces an exhaustive scan (evaluation of an approximate index).
	Exact bool
}

// HybridQuery is one search fused by the backend itself (BM25 and vector
// in one request), for backends that implement Hybrider.
type HybridQuery struct {
	Text     string
	Language string
	Vector   []float32
	K        int
	Scope    Scope
	NoText   bool
	// WithVectors fills Hit.Vector, for MMR.
	WithVectors bool
	// Fusion is "rrf" (rank fusion, the default) or "weighted"
	// (relative-score fusion of normalised scores).
	Fusion string
	// Alpha weighs the vector side: 0 = BM25 only, 1 = vector only.
	// Default 0.5.
	Alpha float64
}

// Hybrider is implemented by backends that fuse lexical and vector results
// themselves (Weaviate's hybrid search). The engine uses it only when asked
// to ("backend" fusion); by default it fuses in Quarry.
type Hybrider interface {
	Hybrid(ctx context.Context, q HybridQuery) ([]base.Hit, error)
}

// Stats describes a backend's contents.
type Stats struct {
	Documents  int            `json:"documents"`
	Chunks     int            `json:"chunks"`
	Terms      int            `json:"terms"`
	Postings   int64          `json:"postings"`
	IndexBytes int64          `json:"index_bytes"`
	DiskBytes  int64          `json:"disk_bytes"`
	Generation uint64         `json:"generation"`
	Languages  map[string]int `json:"languages,omitempty"`
	Vectors    int            `json:"vectors"`
	Dimension  int            `json:"dimension,omitempty"`
	// VectorBytes is the memory held by vectors: float32 vectors, or the
	// quantized codes (int8, binary) when the index keeps only those.
	VectorBytes int64 `json:"vector_bytes"`
	// BytesPerVector is VectorBytes per indexed vector, links included.
	BytesPerVector int64 `json:"bytes_per_vector"`
}

// Backend stores documents and chunks and searches them.
type Backend interface {
	// Versions returns the stored content hash and version of each id that
	// exists.
	Versions(ctx context.Context, ids []string) (map[string]Version, error)
	// Upsert writes documents atomically per call: after it returns nil,
	// every document is durable and searchable; after a crash, each is
	// either entirely present (old or new version) or absent.
	Upsert(ctx context.Context, docs []DocChunks) error
	// Get returns a stored document (with its text).
	Get(ctx context.Context, id string) (base.Document, error)
	// Chunks returns the stored chunks of a document in ordinal order.
	Chunks(ctx context.Context, docID string) ([]base.Chunk, error)
	// Delete removes a document, its chunks and its postings. It reports
	// whether the document existed.
	Delete(ctx context.Context, id string) (bool, error)
	// Lexical runs a BM25 search.
	Lexical(ctx context.Context, q LexicalQuery) ([]base.Hit, error)
	// Dense runs a vector search (approximate unless DenseQuery.Exact). It
	// returns no hits when the backend holds no vectors.
	Dense(ctx context.Context, q DenseQuery) ([]base.Hit, error)
	// Stats reports sizes; Generation changes on every successful write.
	Stats(ctx context.Context) (Stats, error)
	// Generation is a counter that increases on every committed write.
	Generation() uint64
	// Close flushes and releases resources.
	Close() error
}

// MapErr maps a backend's sentinel errors to the product API's (in
// internal/base), keeping the backend's message.
func MapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w: %v", base.ErrNotFound, err)
	case errors.Is(err, ErrCorrupt):
		return fmt.Errorf("%w: %v", base.ErrCorrupt, err)
	case errors.Is(err, ErrClosed):
		return base.ErrClosed
	case errors.Is(err, ErrDimension):
		return fmt.Errorf("%w: %v", base.ErrInvalid, err)
	}
	return err
}
