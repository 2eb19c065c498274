// Package quarry is a retrieval-augmented generation engine: it ingests
// documents, chunks and indexes them, retrieves the passages that answer a
// question, and answers with citations that point at real text.
//
// The path of a write, readable top to bottom in Collection.Upsert, and
// of a query, run by the one query pipeline (internal/query):
//
//	Collection.Upsert: validate ─► hash (unchanged? done) ─► detect language ─► chunk ─► embed ─► store + index
//	Search / Ask:      plan ─► (cache) ─► rewrite ─► query vectors ─► lexical ∥ dense ─► fuse ─► rerank ─► MMR ─► (answer)
//
// This package is the product API (Open, Engine, Collection) and its
// wiring: it opens each collection's store and models and hands them to
// the pipeline; it holds no retrieval, fusion, rewriting, reranking,
// caching or language-model client logic (lint_test.go checks it).
//
// An Engine owns a data directory with one sub-directory per collection.
// Collections are independent: each has its own chunking and BM25 settings,
// store and index.
//
//	eng, err := quarry.Open("data", nil)
//	if err != nil { ... }
//	defer eng.Close()
//	col, _ := eng.EnsureCollection(ctx, "default")
//	col.Upsert(ctx, []quarry.Document{{ID: "a", Text: "Quarry answers questions."}}, nil)
//	res, _ := col.Search(ctx, quarry.SearchRequest{Query: "questions"})
//
// Concurrency: Engine and Collection methods are safe for concurrent use.
// Writes to one collection are serialised; searches run concurrently with
// writes and see each write entirely or not at all. One write uses every
// core (Options.IngestParallelism: chunking and the embedding of its chunks
// in parts), and so does one SearchBatch; the result is the same as a
// serial run's.
package quarry
