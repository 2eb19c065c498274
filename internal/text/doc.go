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
// with spaces, and Thai and Lao text counts one token per word as the
// dictionary segmenter finds it (one per character cluster where the
// dictionary has no word). Khmer and Myanmar, without a dictionary, count
// one token per UAX #29 segment (about a character cluster). Model tokens
// (BPE/WordPiece) are a different unit and live with the models.
//
// # Scripts and languages
//
// Segmentation depends on the script, whatever the analyzer's language:
// UAX #29 words for alphabets and abugidas with spaces; overlapping
// character bigrams for Han, kana and Hangul; dictionary words by maximal
// matching for Thai (PyThaiNLP's word list) and Lao (the Lao-Dictionary
// list), with cluster bigrams for stretches the dictionary does not cover;
// cluster bigrams for Khmer and Myanmar. The language then adds a
// normaliser (normalize.go), stopwords (stopwords.go, data/stopwords) and a
// stemmer (Snowball, or a published light stemmer in lightstem.go). Arabic
// clitics (و ف ب ك ل ال before a word, pronouns after it) are removed
// only where the rest is a word of the Ayaspell lexicon, before light10's
// suffixes (arabic.go). German compounds are also indexed as their parts
// (decompound.go): a capitalised word that splits into noun forms of
// German Wiktionary yields the compound's term followed by its parts'
// terms, all at one position.
// docs/languages.md has the table; data/NOTICE names every data file's
// source and licence.
//
// Language identification (DetectLanguage) decides single-language
// scripts by counting characters, and Latin and Cyrillic text by
// whatlanggo's trigram models, restricted to languages an enterprise is
// likely to index, overruled by function-word votes (Snowball stop lists)
// where those disagree: on a single sentence the function words are the
// stronger evidence. Question words (wann, cuándo, …) supplement the stop
// lists, and capitalised Latin words inside a sentence of another script
// ("Кто основал McKinsey & Company?") count as names, not as Latin text. ConfidentLanguage returns "" below MinConfidence, for
// the language-neutral chain.
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
//   - The Thai dictionary holds compounds, and maximal matching prefers
//     them: "สภาพภูมิอากาศ" (climate conditions) is one term and does not
//     match a query for "ภูมิอากาศ" (climate).
//   - German decompounding knows nouns only: a compound whose modifier is
//     an adjective or a particle ("Schmalspurbahn", "Südkalifornien") is
//     not split, and lower-case words are never split, so a query typed in
//     lower case matches compounds only whole. The noun list (252k forms)
//     is loaded once per process, on the first German text: about 0.05 s
//     of CPU, about 8 MB kept.
//   - Arabic clitics are read against a lexicon without frequencies or
//     context: a name the lexicon lacks whose rest is a rare word loses
//     its first letter (لوثر "Luther" is read as ل + وثر), a name that
//     begins like one of light10's prefixes loses it (كاليفورنيا →
//     يفورن) but not after a preposition (لكاليفورنيا), and a word that
//     is both (باسم "smiling", or ب + اسم "in the name of") keeps its
//     letters. The lexicon (99k forms, 255 KB gzipped) is
//     loaded once per process, on the first Arabic word.
//   - Languages without a stemmer (Armenian, Basque, Bengali, Catalan,
//     Estonian, Galician, Greek, Latvian, Lithuanian, Nepali, Persian,
//     Serbian, Sorani, Telugu) are normalised and stopped only; Polish,
//     Ukrainian and Vietnamese get the neutral chain.
//   - Sentence splitting keeps a known abbreviation or dotted acronym from
//     ending a sentence even when it does ("... moved to the U.S. Then ...").
//
// # Why hand-written
//
// Segmentation (uax29), normalisation and case folding (x/text), stemming
// (snowballstem) and trigram language models (whatlanggo) come from
// libraries; this package only composes them, scores text against
// whatlanggo's trigram profiles itself (trigram.go: the library allocates
// ~48 KB a call and cannot reuse its buffers; the same profiles, generated
// from its source, and the same arithmetic give its answers, checked
// against it by TestTrigramsMatchWhatlanggo), keeps offsets exact, adds CJK
// bigrams, the Thai/Lao segmenter (no maintained Go library does
// dictionary maximal matching with exact offsets), normalisers and light
// stemmers written from their published descriptions, stopword lists and
// the sentence-boundary corrections, and caches per-word results for
// speed.
package text
