// Package retrieve combines ranked lists from several retrievers. Fuse
// merges any number of lists — a lexical (BM25) and a dense one, or one
// per query of a multi-query search — into one ranking, either by
// reciprocal rank fusion (RRF: score = Σ 1/(k + rank), rank from 1), which
// needs no score calibration, or by a weighted sum of min-max normalised
// scores (alpha·dense + (1−alpha)·lexical), each list with its own weight.
// MMR reorders a ranking for diversity.
//
// Inputs are hit lists sorted best first; fusion is by chunk id. Functions
// are pure and safe for concurrent use.
package retrieve
