package embedded

// Compaction keeps the in-memory indexes as large as the live collection.
//
// Every upsert or delete of a chunk leaves a deleted id in the BM25 index
// (its slot in the per-document arrays, its postings, its key) and, with
// vectors, a tombstoned HNSW node; the catalog's byID table and the vector
// index's id table are sized by the largest BM25 id. None of these ids is
// handed out again, so without compaction a collection under steady churn
// grows with every written chunk until a restart renumbers it (the soak of
// issue 18 measured +1 MB/min of live heap at three writes per second,
// about 5 KB per write with 384-dimensional vectors). compactLocked drops the deleted ids and renumbers the live chunks
// densely in the BM25 index (bm25.Index.Compact), then applies the same
// old → new table to the catalog and to the vector index's id table
// (vector.Managed.Renumber), and lets the vector index drop its tombstones
// when they are worth it (an HNSW rebuilds once they are half its live
// nodes).
//
// Readers stay correct because internal ids never leave a hold of b.mu:
// Lexical and Dense translate every id to its chunk key and catalog entry
// before releasing the read lock, the accept filters run inside the index
// searches, and the write path keeps ids only between two holds of b.mu
// under b.writeMu (applyPutLocked, then flushVectors), which compaction also
// needs. compactLocked runs with b.mu held for writing, so no search sees a
// half-renumbered state, and an id can never be read as another document's:
// after the lock is released every table uses the new numbers.
//
// Cost: one pass over the postings and the per-chunk tables, O(index), with
// searches waiting; it runs once deleted ids reach a quarter of the live
// ones (and at least compactMin), so its cost per write is a constant.

// compactMin is the number of deleted BM25 ids below which the write path
// does not compact (a small collection would otherwise compact on almost
// every write).
const compactMin = 256

// compactDue reports whether the write path should compact: deleted ids are
// at least a quarter of the live ones and at least compactMin.
func compactDue(deleted, live int) bool {
	return deleted >= compactMin && 4*deleted >= live
}

// maybeCompactLocked compacts when compactDue says so. b.mu must be held
// for writing and b.writeMu held (no write has ids outstanding).
func (b *Backend) maybeCompactLocked() {
	if compactDue(b.mu.ix.Deleted(), b.mu.ix.Len()) {
		b.compactLocked()
	}
}

// compactLocked drops deleted chunks from the BM25 index, renumbers the
// live ones and carries the renumbering to the catalog and the vector
// index. b.mu must be held for writing and b.writeMu held.
func (b *Backend) compactLocked() {
	remap := b.mu.ix.Compact()
	if remap == nil {
		return
	}
	b.mu.cat.renumber(remap, b.mu.ix.Len())
	if b.mu.vix != nil {
		b.mu.vix.Renumber(remap)
		b.mu.vix.Compact()
	}
}
