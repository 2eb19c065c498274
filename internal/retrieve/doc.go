// Package retrieve combines ranked lists from several retrievers. Fuse
// merges a lexical (BM25) and a dense list into one ranking, either by
// reciprocal rank fusion (RRF: score = Σ 1/(k + rank), rank from 1), which
// needs no score calibration, or by a weighted sum of min-max normalised
// scores (alpha·dense + (1−alpha)·lexical).
//
// Inputs are hit lists sorted best first; fusion is by chunk id. Functions
// are pure and safe for concurrent use.
package retrieve
