// Package weaviate is a store.Backend kept in a Weaviate database, so that
// several stateless Quarry processes can serve one corpus and Weaviate's
// replication carries the durability. It speaks Weaviate's REST and GraphQL
// APIs with net/http (no client library: the API surface used is small and
// the official client would pull in gRPC and dozens of modules).
//
// # Data model
//
// One Quarry collection is two Weaviate classes, named from the collection
// name with every character other than [a-z0-9] escaped as _XX (hex), so the
// mapping is injective and case-safe:
//
//   - Quarry_<name>_C: one object per chunk, with Quarry's own vector
//     (vectorizer none, distance "dot", so scores are inner products like the
//     embedded backend's). Properties: docId, chunkId, ordinal, text, title,
//     section, byteStart, byteEnd, runeStart, tokens, language, source,
//     tenantKey, acl (text[]), restricted, metaKeys (text[]), terms, and one
//     property per metadata key and type (see below).
//   - Quarry_<name>_D: one object per document (no vector): the whole
//     document (text, title, metadata and sections as JSON, hash, version,
//     created/updated), the number of chunks. Versions and Get read it.
//
// A third class, QuarryMeta, holds one object per collection: the write
// generation, the vector dimension and the engine's collection config, so
// that every Quarry process sees the same state.
//
// Object ids are UUIDv5 of the collection and the chunk or document id, so
// every write is an idempotent overwrite and a retried batch is harmless.
//
// # BM25
//
// Weaviate's own tokenizers do not stem, so chunks carry a "terms" property:
// the chunk's title and text analysed by Quarry's analyzer (internal/text,
// the embedded backend's, in the chunk's language), stored space-separated
// and tokenised by whitespace. Queries are analysed the same way, so the
// BM25 of both backends ranks alike. The title is folded in BM25F-style by
// repeating its terms TitleBoost times (rounded).
//
// # Tenants, ACLs and metadata
//
// Tenants are a filtered property (tenantKey = "t:"+tenant), not Weaviate
// multi-tenancy: Quarry document ids are global (Get, Versions and Delete
// take no tenant), and a request without a tenant must see exactly the
// untenanted documents — a filter expresses both without a tenant lookup per
// id. ACLs are an acl text[] plus a restricted flag; a scope becomes
// restricted == false OR acl ContainsAny principals. Both are part of the
// where filter of the search itself, never a trim of its results.
//
// Metadata is flattened into one property per key and value type:
// m_<escaped key>_s (text, field tokenization), _n (number) or _b (boolean),
// added to the class on first use; metaKeys lists "s:key", "n:key", "b:key"
// for exists. Filters translate to where clauses (ne and not use Weaviate's
// Not operator; a field that no document has becomes an always-false
// clause). String equality uses field tokenization, which trims surrounding
// whitespace.
//
// # Consistency and failure
//
// Every read and write carries a consistency level (default QUORUM). Batch
// imports are split into requests of BatchSize objects, at most
// BatchWorkers at once (back-pressure), retried with backoff on transport
// errors, 429 and 5xx (on the next node when URL lists several); an object
// Weaviate rejects fails its document's write with the document id in the
// error, and a new document whose chunks were partly written has them
// removed. An unreachable server is retried a bounded number of times,
// then reported. A document's chunks are written
// before its document object, and deleted before it, so the document object
// is the commit marker: after a crash a re-ingest repairs a half-written
// document. Searches may see a document's old and new chunks mixed during
// an update (Weaviate has no multi-object transactions).
//
// Generation is the QuarryMeta counter: each write sets it to
// max(stored+1, now in ns); every process polls it, so caches keyed on it
// see other processes' writes within PollInterval.
//
// Not supported: DenseQuery.Ef and Exact (HNSW ef is a class setting in
// Weaviate); Stats.Terms, Postings, IndexBytes and DiskBytes stay 0.
package weaviate
