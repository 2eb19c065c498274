// Package embedded is Quarry's default storage backend: documents and chunks
// in a bbolt file, a BM25 index in memory, and a checksummed snapshot of that
// index on disk, all inside one collection directory.
//
// Why bbolt: it is a single-file B+tree with copy-on-write pages and an
// fsync on every commit, so a transaction is atomic and durable by design
// and a kill -9 leaves either the old or the new state, never a torn one. It
// is well kept (etcd depends on it), pure Go, and its single-writer model
// matches ingestion, which is serialised per collection anyway. An LSM
// engine such as Pebble would buy write throughput we do not need at the
// price of compactions and more moving parts.
//
// Layout of a collection directory:
//
//	store.db    bbolt: buckets docs, text, chunks, log, meta, vectors (see
//	            docs/format/store.md; documents' texts apart from their
//	            records, text.go)
//	bm25.snap   snapshot of the in-memory index and document catalog at a log
//	            sequence number, written tmp → fsync → rename → fsync(dir)
//	vectors.snap  snapshot of the vector index (HNSW) at the same sequence
//	            number, written the same way just before bm25.snap
//
// Vectors: the store's "vectors" bucket is their source of truth; the dense
// index in memory (VectorConfig, the vector package's Settings: an HNSW by default, optionally with int8
// codes whose rescoring reads the float32 vectors back from the store; IVF
// cells; or a flat table, searched exactly or through 1-bit codes) is keyed by the BM25 index's internal chunk
// ids and changes under the same lock as the BM25 index and the catalog. A
// vectors.snap that is missing, damaged, of another configuration or of
// another sequence number than bm25.snap is ignored with a warning and the
// index is rebuilt from the bucket.
//
// Write path: Upsert writes, in one bbolt transaction, every document, its
// text, its chunks and one log record per document (the change log) and
// commits (fsync) while it analyses the chunks' text beside it, outside any
// lock; only once the commit has succeeded does it apply the change to the
// in-memory index. A document is therefore acknowledged only
// once it is durable, and the index never holds what the store does not.
// After each write (and after Versions, which decodes whole stored
// documents) the pages bbolt read through its memory map are dropped from
// the process (MADV_DONTNEED on Linux, release_linux.go): they stay in the
// page cache, and RSS stays the heap's rather than growing to the store's
// size as an ingest touches it.
//
// Open path: load the snapshot if it is valid, then replay the log records
// written after it (each record names a document; replay makes the index
// agree with the document's current stored state, so it is idempotent). A
// missing or corrupt snapshot triggers a full rebuild from the store.
//
// Churn: every replaced or deleted chunk leaves a deleted id in the BM25
// index, the catalog's id table and the vector index (an HNSW tombstone)
// until compaction. The write path compacts once deleted ids are a quarter
// of the live ones (and at least 256): the BM25 index drops them and
// renumbers the live chunks densely, and the same old → new table is
// applied to the catalog and the vector index's id table in the same hold
// of the index lock, so memory stays proportional to the live collection
// however many writes it has seen (compact.go says why readers stay
// correct). A snapshot compacts too, at a fifth.
//
// Concurrency: writers are serialised by writeMu; searches take the index
// read lock and run concurrently with each other and with the bbolt part of
// a write. A write applies its text and catalog changes in one hold of the
// index lock and its new vectors in slices of 16 (flushVectors), so searches
// are not held for a whole batch's HNSW inserts; until its slice is in, a
// new chunk is found by BM25 but not yet by dense search.
package embedded
