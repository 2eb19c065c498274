// Package base holds Quarry's shared vocabulary: documents, chunks, hits,
// typed metadata values and the typed filter AST. It has no logic beyond
// small methods on these types and imports only the standard library, so
// every other package may import it and it imports none of them.
//
// Offsets in this package are byte offsets into Document.Text unless a name
// says otherwise (RuneStart, RuneEnd). The public API converts them to
// character (Unicode code point) offsets at its boundary.
package base
