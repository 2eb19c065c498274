// Package outbound decides which URLs the server may call on behalf of a
// client. Settings that make Quarry open a connection (embedding servers,
// language models, rerankers) come from the operator: a Policy holds the
// URL prefixes the operator allowed (serve --allow-url, QUARRY_ALLOW_URLS,
// and the URLs of the server's own configuration) and refuses every other
// URL a collection or request names.
//
// A prefix matches on parsed parts, not on the string: same scheme, same
// host (case-insensitive) and port, and a path that equals the prefix's
// path or continues it after a '/'. So "http://10.0.0.5:11434" allows
// "http://10.0.0.5:11434/api/chat" but not "http://10.0.0.5:114340",
// "http://10.0.0.5:11434.evil.example" or "http://10.0.0.5:11434@evil".
// URLs with user information are never allowed.
//
// CheckRedirect is an http.Client.CheckRedirect that refuses redirects to
// another scheme, host or port, so an allowed server cannot bounce a
// request (and its Authorization header) elsewhere.
//
// A Policy is immutable and safe for concurrent use.
package outbound
