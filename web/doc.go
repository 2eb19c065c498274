// Package web holds Quarry's browser UI: one HTML page, one script and one
// style sheet, embedded in the binary and served by internal/server at "/"
// and "/static/{name}".
//
// The page has six views, chosen by the URL fragment: #/chat (a
// conversation kept in session storage, answers streamed over fetch, each
// [n] a link to citation n's span; card n is citation n), #/doc (a whole
// document with the cited span highlighted, chunk boundaries on demand),
// #/debug (BM25, dense, fused and reranked lists of one query side by side,
// with score meanings, rank movement and a curl line), #/collections
// (stats, create, delete, upload with per-file progress), #/metrics
// (/metrics sampled every 5 s into an hour of inline SVG charts) and #/eval
// (start a server-side RAG evaluation, POST /v1/evals, follow its
// progress, then the metric table with histograms, every question's
// answer, context and scores, and a comparison with an earlier run; it
// says plainly when the server has evaluation off or the key is not admin).
// An API key entered in Settings is kept in session storage and sent as
// "Authorization: Bearer".
//
// Hand-written on purpose: no framework, no build step and no CDN, so the
// files served are the files in this directory, and the page works offline
// under a Content-Security-Policy that allows only its own origin. The
// script talks to the public JSON API (docs/api.md) and nothing else, and
// renders every server-provided string with textContent or as attribute
// values, never innerHTML. internal/server's TestWebUIInRealBrowser drives
// every view in Chromium with Playwright (testdata/ui_browser.py).
package web

import "embed"

// Files holds index.html, app.js and style.css.
//
//go:embed index.html app.js style.css
var Files embed.FS
