// Package server is Quarry's HTTP API: JSON routes over one quarry.Engine,
// Prometheus route metrics, a hand-written OpenAPI 3.1 document and the web
// UI (package web), on net/http's ServeMux patterns.
//
//	srv := server.New(eng, server.Options{Logger: logger, Registry: reg})
//	err := srv.ListenAndServe(ctx, "127.0.0.1:8080") // returns after a graceful shutdown when ctx ends
//
// What it owns:
//   - The wire format. Request and response types (wire.go) are the
//     server's own, not the engine's structs, so the JSON stays stable when
//     the engine changes. openapi.json describes them and a test checks
//     that the routes and the responses agree with it. docs/api.md is the
//     prose version.
//   - Decoding (decode.go): bodies must be application/json, one JSON
//     object with nothing after it, within a size limit; unknown fields are
//     rejected; every error names its field as a JSON path
//     (documents[3].metadata.year) and malformed JSON its line and column.
//   - Errors (errors.go): every error response is
//     {"error":{"code","message","field"}}; engine errors are mapped to
//     statuses in one function, toAPIError.
//   - Streaming (sse.go): "stream": true on ask answers with Server-Sent
//     Events (retrieval, token*, citations, done; or error once the stream
//     began), flushed per event, with heartbeat comments while idle; a
//     client that disconnects cancels the request's context, which stops
//     generation. The status goes out with the first event, so anything
//     that fails before it is an ordinary JSON error.
//   - OpenAI compatibility (openai.go): /v1/chat/completions and
//     /v1/models in OpenAI's shapes (errors included), with collections as
//     models, so OpenAI's SDKs work unchanged.
//   - Feedback (feedback.go): POST /v1/feedback appends a rating of an
//     answer (with question, answer, sources, citations) to
//     Options.FeedbackDir/feedback.jsonl, one fsynced line per record under
//     a mutex, bounded per field and per file; GET /v1/feedback streams the
//     valid lines back as JSON Lines without the lock (a line torn by a
//     crash, or still being written, is skipped).
//   - Evaluation jobs (evals.go): with Options.Evals, admins run
//     internal/ragbench's Evaluate (what `quarry eval rag` runs) on a
//     dataset named relative to EvalOptions.DatasetRoot (no paths, no '..',
//     no symbolic links out), one job at a time on one goroutine that
//     stop waits for; each job is a JSON file in EvalOptions.Dir written
//     atomically, so results survive a restart.
//   - The boundary (guard.go, scope.go, listener.go): ServeHTTP checks the
//     Host, the API key (internal/auth) and its role, the key's rate, the
//     query parameters and the concurrency limit for every request before
//     the mux runs, so a route added later is closed by default (read for
//     GET, admin otherwise) and openRoutes is the explicit list of routes
//     that need no key. A read or write key's tenant and principals replace
//     the request's; scoped writes and deletes go through the engine's
//     scoped calls. Bodies are read as they arrive and take a request slot
//     only once complete, so slow senders hold a connection (capped by
//     Options.MaxConns) but never a slot; net/http's own plain-text 400 and
//     431 are rewritten as JSON errors on the connection.
//
// Concurrency: a Server is safe for concurrent use; each request runs on its
// own goroutine (net/http's). A streamed response starts one heartbeat
// goroutine, which it stops and waits for before the handler returns. ListenAndServe owns the one goroutine it
// starts (http.Server.Serve) and waits for it before returning. Request
// contexts are not cancelled by the ListenAndServe context: cancelling it
// starts a graceful shutdown that lets in-flight requests finish, within
// Options.ShutdownTimeout.
//
// Caveats: JSON keys are matched case-insensitively (encoding/json), and a
// key given twice keeps its last value. A write that fails validation may
// still have created its collection (the engine creates it before it
// validates documents).
package server
