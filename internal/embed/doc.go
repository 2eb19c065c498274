// Package embed is the seam between the engine and embedding models: the
// Embedder interface the engine uses to embed chunks at ingestion and
// queries at search time, and its implementations.
//
//   - Local runs a model from the local cache (internal/models/hub) in
//     process: tokenizer.json through internal/models/tokenizer, then the
//     pure-Go encoder of internal/models/transformer. It prepends the
//     model's query/passage prefixes (e5's "query: "/"passage: ", bge's
//     query instruction; none for all-MiniLM-L6-v2), truncates each text
//     at the model's max length (counted in Stats().Truncated, never an
//     error), lets the encoder batch by length, and returns L2-normalised
//     vectors when the model folder has a Normalize module. End to end,
//     text in, it matches sentence-transformers (cosine ≥ 0.9999; see
//     TestLocalParity). LocalOptions.Quantization (or "?quantization=int8"
//     after a local spec) runs the encoder's Linear layers in int8.
//   - Local.EmbedTokens (the TokenEmbedder interface) runs the same
//     forward pass and returns each text's token ids, which of them are
//     the text's own (not the prefix, not special tokens), the final
//     hidden states before pooling, and the pooled vector Embed returns
//     (equal to 1e-6): for late-interaction scoring (ColBERT's MaxSim
//     over token cosines) without a second model. EmbedTokensKinds runs a
//     question (a query) and its candidate sentences (passages) in one
//     pass. No token states are kept between calls: a memo of recent
//     questions, shared by every collection on the model, would tell one
//     tenant by its timing what another had just asked.
//   - HTTP talks to an embedding server: OpenAI-compatible
//     (POST /v1/embeddings), Ollama (POST /api/embed) or Hugging Face
//     text-embeddings-inference (POST /embed). It batches (MaxBatch texts
//     per request), bounds every attempt with a timeout, retries network
//     errors, timeouts, 408, 429 and 5xx with jittered exponential backoff
//     or the server's Retry-After, and checks every answer: as many vectors
//     as texts, one dimension throughout (given, or learned from the first
//     response), no NaN or infinite values. Failures name the protocol, the
//     endpoint and the status, with the server's message.
//   - Batcher wraps any Embedder for serving: concurrent small calls
//     (query embeddings) wait up to BatchOptions.Window in a bounded queue
//     and run together, at most MaxBatch texts per inner call, Workers
//     batches at a time; a full queue refuses at once with an
//     *OverloadedError (errors.Is ErrOverloaded, with a RetryAfter hint)
//     that the HTTP server answers with 503 and Retry-After. A lone caller
//     never waits for the window.
//   - Parse / ParseWith build either from the configuration string stored
//     with a collection ("all-MiniLM-L6-v2", "local:/dir",
//     "openai:https://host/v1?model=m", "ollama:http://h:11434?model=m",
//     "tei:http://h:8081"). Credentials come only from ParseOptions: the
//     package reads no environment variables, and a spec without a prefix
//     always means a local model, never a remote service.
//
// Concurrency: Local and HTTP are safe for concurrent use. Local.Close
// waits for the Embed calls in flight, then releases the encoder's worker
// pool; HTTP.Close closes idle connections. After Close, Embed returns
// ErrClosed. Neither starts goroutines of its own (beyond the encoder's
// worker pool and net/http's connections). NewBatcher starts its workers;
// Batcher.Close serves what is queued, then stops them (it does not close
// the inner embedder).
//
// Caveats: Name identifies the model (not its prefixes or max length), so
// two specs naming one model in different ways (a short name and its
// cache folder) share a Name. Remote servers truncate long inputs on their
// side (TEI is asked to; Ollama does by default; OpenAI rejects them with
// a 400), so Stats().Truncated counts only local truncation. An HTTP
// embedder sends one batch at a time. Local.Tokenize exposes the ids a text
// becomes, for inspection and for sizing chunks to MaxTokens.
//
// Example:
//
//	emb, err := embed.Parse("multilingual-e5-small")
//	if err != nil { ... }
//	defer emb.(io.Closer).Close()
//	vecs, err := emb.Embed(ctx, []string{"how do vaccines work?"}, embed.Query)
package embed
