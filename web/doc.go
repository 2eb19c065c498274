// Package web holds Quarry's browser UI: one HTML page, one script and one
// style sheet, embedded in the binary and served by internal/server at "/"
// and "/static/{name}".
//
// Hand-written on purpose: no framework, no build step and no CDN, so the
// files served are the files in this directory, and the page works offline
// under a Content-Security-Policy that allows only its own origin. The
// script talks to the public JSON API (docs/api.md) and nothing else, and
// renders every server-provided string with textContent, never innerHTML.
package web

import "embed"

// Files holds index.html, app.js and style.css.
//
//go:embed index.html app.js style.css
var Files embed.FS
