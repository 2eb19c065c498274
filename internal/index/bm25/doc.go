// Package bm25 is Quarry's in-memory BM25 inverted index: analysed terms
// in, the exact top k out, with deletion, compaction and a checksummed
// on-disk image.
//
// # What it owns
//
// Posting lists (parallel doc-id and term-frequency arrays with a block
// summary per 128 postings), the term dictionary, per-document lengths,
// tombstones, BM25 scoring and pruning, and the binary format
// (docs/format/bm25.md). It does not analyse text: callers pass the terms
// their analyzer produced (internal/text) and must analyse queries the
// same way.
//
// # Scoring
//
// Lucene's BM25 (the variant Anserini uses for BEIR, and bm25s's
// "lucene" method), with titles folded in BM25F-style:
//
//	tf(t,d) = tf_body(t,d) + TitleBoost·tf_title(t,d)
//	dl(d)   = len(body) + TitleBoost·len(title),  avgdl = mean dl over live documents
//	idf(t)  = ln(1 + (N − df(t) + 0.5)/(df(t) + 0.5))
//	score   = Σ over query terms  qtf · idf(t) · tf/(tf + K1·(1 − B + B·dl/avgdl))
//
// N is the number of live documents (empty ones included) and df counts
// live documents with tf > 0; with TitleBoost 0 titles are ignored. The
// query is a bag: a term repeated in it counts qtf times, as in Anserini's
// bag-of-words queries. The (K1+1) factor of classic BM25 is omitted, as in
// Lucene ≥ 8: it scales every score equally and changes no ranking. Unlike
// Lucene, document lengths are exact, not quantised to a byte. Term
// frequencies and lengths are stored as float32 (exact for integers below
// 2^24 when TitleBoost is an integer).
//
// Scores are summed in 52-bit fixed point per query, so they do not depend
// on traversal order: pruned and exhaustive scoring agree bit for bit, and
// an index that went through any sequence of adds and deletes scores
// exactly like one built from scratch with the surviving documents.
// Results are sorted by score descending, then key ascending.
//
// # Deletion
//
// Delete tombstones a document and, through a forward index (each
// document's term ids), decrements every df it contributed, and N and
// avgdl, at once: statistics are exact immediately, not only after
// Compact. Postings of deleted documents stay in the lists, skipped at
// query time, until Compact rewrites the lists.
//
// # Ids under churn
//
// Internal ids are dense and handed out in increasing order; a deleted id
// is never handed out again by Add, so a posting list stays sorted by
// appending and a search never finds a freed id's stale postings attached
// to another document. Compact is what bounds them: it drops deleted
// documents and renumbers the live ones densely (0..Len()-1, in id order,
// the numbering Read gives) and returns the old → new table, so the
// per-document arrays, the key map and the posting lists shrink back to
// the live set. Without it every upsert or delete would grow them for the
// index's life (about 500 bytes per upserted document, and ErrFull after
// 2^32−1 adds). Renumbering in place, rather than a free list of ids, was
// chosen because reusing an id below the largest one would need sorted
// inserts into every posting list it touches and a purge of its old
// postings first, and because renumbering keeps ids dense, which the
// doc-id windows of the traversal rely on. The price is that ids held by a
// caller change at Compact: a caller that keys data by id (the embedded
// store's catalog and vector index) must hold Compact exclusive of every
// reader and apply the table before releasing it, as it must with Read.
// WriteTo writes live documents only, so Read returns a compacted index.
// The forward index costs 4 bytes per posting; it is not persisted and is
// rebuilt lazily by the first Delete after Read or Compact.
//
// # Search
//
// A document-at-a-time traversal over doc-id windows of 4096 with
// block-max MaxScore pruning: within a window, terms whose summed block
// bounds cannot lift a document into the current top k are not scanned
// but only probed for documents the other terms found; windows where no
// term can are skipped whole. Bounds come from each block's largest term
// frequency and smallest document length, so they hold for any avgdl and
// need no refresh. The accept filter (tenant, ACL, metadata) runs inside
// the traversal, once per document that could still enter the top k, so
// the k results are the best k the caller may read. Pruning never changes
// results; SearchWithStats reports how much it saved.
//
// # Concurrency
//
// Search and SearchWithStats, and the read-only accessors (Len, Key, ID,
// Stats, Params, WriteTo), may run concurrently with each other. Add,
// Delete and Compact mutate without internal locking: the caller must
// hold them exclusive of every other call (Quarry's store holds a
// sync.RWMutex: read lock for searches and snapshots, write lock for
// changes). accept is called on the searching goroutine and must not call
// a mutating method.
//
// # Caveats
//
// Memory is about 8 bytes per posting (doc id and tf) plus 4 for the
// forward index (built on the first delete), plus the dictionary and the
// keys (each key's bytes and string header, and 4 to 8 bytes in the
// pointer-free key → id table, keys.go); Stats reports an estimate.
// Deleted documents cost memory and query time until Compact; the store
// compacts when Deleted() is a sizeable fraction of Len(). Up to 2^32−1
// ids may be handed out between two compactions (ErrFull after). Everything here is hand-written rather than borrowed (bleve,
// bluge) because those own their analysis, storage and segment merging,
// while Quarry needs a small index it can snapshot with its own catalog,
// exact in-traversal filtering, and exact statistics under deletion.
package bm25
