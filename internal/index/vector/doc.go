// Package vector is Quarry's approximate nearest-neighbour search: an HNSW
// graph (HNSW), an inverted-file index over k-means cells (IVF) and a scan
// of centred 1-bit codes with float32 rescoring (Binary), all over
// caller-supplied uint32 ids, all satisfying Index, plus the exact scan
// (Flat, TopK) they are checked against.
//
// # Configuration
//
// Settings is Quarry's one vector-index configuration: the typed Kind
// (IndexHNSW, IndexFlat, IndexIVF) and Quantization (QuantNone, QuantInt8,
// QuantBinary), their tuning fields, the defaults (DefaultM, …,
// EnsureDefaults) and Validate, whose *FieldError names the JSON field. The
// root's CollectionConfig.Vector, store.VectorSettings (an alias), the
// embedded and Weaviate backends and the server's JSON all map onto it;
// HNSWConfig and IVFConfig turn it into the per-index Config.
//
// # Managed indexes
//
// NewManaged builds the index a Settings names as a Managed index — the
// form a store keeps: batch adds, Compact when tombstones are worth it,
// Snapshotted, Kind — and ReadManaged loads its snapshot. Every kind but
// the float32 flat table sits behind a Mapped id table, which keys the
// index by ids of its own so that a store may renumber its ids when it
// loads (the embedded store's BM25 index does): WriteSnapshot writes the
// table under the new numbers, and the index itself is written unchanged.
// FlatOf and AutoIVFOf reach the concrete index where a store needs it
// (exact scans, IVF training outside its lock).
//
// # HNSW layout
//
// Storage is flat and slot-indexed (a slot is an insertion position; a map
// turns caller ids into slots). Each slot has one block in a single
// []uint32: its Dim float32 components (viewed as []float32 in place),
// then its level-0 links (count, then up to 2M neighbours), padded to a
// multiple of 64 bytes, so a node's vector and its list share one region,
// as in hnswlib. With Quantize "int8" there is also one int8 code of Dim
// bytes per slot plus a per-vector scale, offset and norm (and the block
// holds only links when Config.Full serves the float32 vectors). Upper-level
// links are one small slice per node that has them (about 1 in M). The
// per-slot arrays grow 2× while small and 1.25× beyond 16k slots, or once
// with Reserve or AddBatch; on Linux the big ones are advised to
// transparent huge pages, as random reads over hundreds of MiB otherwise
// also miss the TLB. The file format (docs/format/hnsw.md) keeps vectors
// and links in separate sections either way. Searches use a pooled visited
// list with epoch tags (no clearing per query), typed binary heaps,
// software prefetch of the neighbours' vectors before scoring them (the
// whole vector of the neighbour three ahead), and the AVX2 kernels of
// internal/kernels (DotF32, L2Sq, DotI8). Neighbours are chosen with
// the heuristic of the HNSW paper (Malkov & Yashunin, alg. 4); Config.
// KeepPruned fills lists with pruned candidates as hnswlib's option does.
//
// # Concurrency
//
// Add, AddBatch, Delete and Search may run concurrently. Link lists are read
// and written with atomic word loads and stores, and every writer holds the
// list's striped lock (1024 stripes), so readers never lock; a reader may
// see a list mid-rewrite, which only ever contains valid slots (as in
// hnswlib). A new slot's vector, level and id are written before any link
// to it is published. An insert that raises the top level holds the entry
// point lock for its duration. A sync.RWMutex is held shared by all of these
// and exclusively only to grow the arrays, by Compact and by WriteTo.
//
// # Deletes
//
// Delete tombstones: the node stops being a result but still routes
// searches (results skip it; a search over many tombstones widens ef like a
// filter). Compact repairs every node that links to a tombstone: candidates
// are its live neighbours and theirs plus the live nodes behind its
// tombstoned neighbours (up to two deep), the heuristic picks the new list,
// and the reverse of each new link is added as an insert would. Then the
// slots are renumbered densely. On the tests' data, recall after 30%
// deletes and Compact matches a fresh build of the survivors.
//
// # Quantization
//
// With Quantize "int8" traversal computes asymmetric distances between the
// float32 query and int8 codes; the best Config.Rescore candidates (default
// max(4k, 40), at most ef) are rescored with float32 vectors taken from the
// index's own copy or, when Config.Full is set, from the owner (the store
// keeps floats on disk), in which case the index holds only codes. Stats
// reports which.
//
// # Quantized traversal
//
// With Config.Traverse = TraverseSQ8 (Settings.Quantization "sq8") a float32
// index also keeps one unsigned byte per component, x[i] ≈ lo[i] +
// step[i]·code[i], with lo and step per dimension from the minimum and
// maximum over the index's vectors (trained at 1,024 slots, retrained at
// each doubling up to 65,536, later vectors clamped). The graph is built
// with float32 distances, as without codes. A search folds the query into
// code space once (q[i]·step[i] rounded to int8 with one scale), walks the
// graph with integer dot products of Dim bytes (kernels.DotU8I8: VPDPBUSD
// on AVX-512 VNNI) instead of float32 ones of 4·Dim bytes, then re-ranks
// its ef candidates with float32 distances, so scores and order are exact
// and only the set of candidates can differ from the float32 walk. The
// file keeps a flag and Read retrains the codes (sq8.go).
//
// # Filters
//
// Search estimates the fraction of live vectors a filter admits from 512
// sampled slots. Below 4% (or when few matches are expected) it scans the
// admitted vectors exactly; above, it runs the graph search with ef scaled by
// 1/fraction, traversing rejected nodes but returning only admitted ones.
//
// # Files
//
// WriteTo/Read (and ReadIVF, ReadBinary) use the versioned format of docs/format/hnsw.md:
// a checksummed header and CRC-32C sections written from and read into the
// flat arrays in large blocks. Any damage yields an error wrapping ErrCorrupt.
//
// Why hand-written: no maintained pure-Go HNSW offers filtered search with
// tombstones, int8 traversal with rescoring from an external store, and a
// persistence format we control; this package is small enough to own.
//
//	h, _ := vector.New(vector.Config{Dim: 384, Metric: vector.Cosine})
//	_ = h.Add(7, vec)
//	hits, _ := h.Search(query, 10, 0, func(id uint32) bool { return allowed[id] })
package vector
