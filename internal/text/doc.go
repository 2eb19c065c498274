// Package text owns Quarry's language-aware text processing: the analysis
// chain that turns text into BM25 terms (Analyzer), sentence splitting
// (Sentences), word-token counting for chunk sizes (CountTokens,
// TokensSeq) and language identification (DetectLanguage).
//
// # Offsets
//
// Every offset is a byte offset into the string the caller passed in,
// even where the analysis works on a normalised copy: NFKC is applied one
// normalisation unit at a time, so a term made from "ﬁne" (with the ligature)
// points at the ligature. Spans are half-open, [Start, End).
//
// # Units
//
// A "token" in CountTokens and chunk sizes is a UAX #29 word segment that
// contains a letter or a digit, except that every Han, kana and Hangul
// character counts as one token, since those scripts do not separate words
// with spaces. Model tokens (BPE/WordPiece) are a different unit and live
// with the models.
//
// # Concurrency
//
// All functions are safe for concurrent use. An Analyzer is immutable after
// NewAnalyzer except for an internal, bounded, lock-free-on-read cache of
// analysed words, so one Analyzer per language can be shared by every
// goroutine.
//
// # Caveats
//
//   - Scripts without spaces other than CJK (Thai, Lao, Khmer, Myanmar) are
//     not segmented into words: UAX #29 yields one segment per character,
//     and each becomes a term.
//   - Hindi has stopwords but no stemmer (Snowball has none in the library
//     used); Irish and Tamil are stemmed but have no stopword list.
//   - Sentence splitting keeps a known abbreviation or dotted acronym from
//     ending a sentence even when it does ("... moved to the U.S. Then ...").
//
// # Why hand-written
//
// Segmentation (uax29), normalisation and case folding (x/text), stemming
// (snowballstem) and trigram language models (whatlanggo) come from
// libraries; this package only composes them, keeps offsets exact, adds CJK
// bigrams, stopword lists and the sentence-boundary corrections, and caches
// per-word results for speed.
package text
