// Package tokenizer encodes text into model token ids from a Hugging Face
// tokenizer.json, with ids identical to the Python `tokenizers` package.
//
// It owns the parsing of tokenizer.json and the whole encode pipeline:
// added/special tokens matched on the raw text, normalizers (BertNormalizer,
// Precompiled — SentencePiece's double-array charsmap — Sequence,
// NFC/NFD/NFKC/NFKD, Lowercase, StripAccents, Strip, Prepend, Replace),
// pre-tokenizers (BertPreTokenizer, Metaspace, Whitespace, WhitespaceSplit,
// Punctuation, Digits, Sequence), models (WordPiece, Unigram) and
// post-processors (TemplateProcessing, BertProcessing, RobertaProcessing),
// plus truncation. Anything else (BPE, WordLevel, ByteLevel, ...) fails to
// load with an error wrapping ErrUnsupported that names the component.
//
// Offsets are byte offsets into the input and follow the reference's
// alignment model (NormalizedString::transform), quirks included, so they
// match the Python offsets after converting code points to bytes.
//
// Parity is checked by TestParity against fixtures made by
// tools/tokref/make_fixture.py (testdata/fixture_<model>.jsonl.gz); the test
// needs the models in ${QUARRY_HOME:-~/.cache/quarry}/models (`make models`).
//
// Concurrency: a *Tokenizer is immutable after Load and safe for concurrent
// use; per-call scratch buffers come from a sync.Pool.
//
// Caveats: Unicode tables are Go's (Unicode 15); grapheme clusters (used by
// the Precompiled normalizer) come from github.com/clipperhouse/uax29. A
// Unigram model without unk_id drops unknown spans (the reference errors).
// Regex patterns (Replace) use Go's regexp syntax. Hand-written because no
// Go package reproduces the reference's alignments and quirks.
//
// Example:
//
//	tk, err := tokenizer.Load(filepath.Join(dir, "tokenizer.json"))
//	if err != nil { ... }
//	enc := tk.EncodeWith("query: how are you?", &tokenizer.EncodeOpts{MaxLen: 512})
//	_ = enc.IDs // [CLS] ... [SEP] or <s> ... </s>
package tokenizer
