// Package llm owns Quarry's chat-completion clients: one Chat interface and two
// hand-written HTTP implementations, OpenAI-compatible (/v1/chat/completions, SSE
// streaming) and Ollama native (/api/chat, NDJSON streaming).
//
// Both clients share one transport: a per-call timeout, retries with jittered
// exponential backoff for connection errors, 429 and 5xx — only before the first
// response byte, never once a stream has begun — and a small circuit breaker that
// opens after N consecutive failed calls and returns ErrCircuitOpen until its
// cool-down passes. Usage is taken from the server (OpenAI usage, Ollama
// prompt_eval_count/eval_count).
//
// Concurrency: a client is safe for concurrent use; the breaker is the only shared
// mutable state and is guarded by its own mutex. No goroutines are started.
//
// Hand-written rather than an SDK: the surface is two endpoints, and we need exact
// control of retries (never replaying a started stream) and of the wire options.
//
// Caveats: the OpenAI dialect has no top_k or repeat_penalty; they are sent as
// extension fields that llama.cpp-style servers read and others ignore.
package llm
