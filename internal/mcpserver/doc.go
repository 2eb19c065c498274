// Package mcpserver exposes Quarry's tools and content over the Model
// Context Protocol with the official Go SDK
// (github.com/modelcontextprotocol/go-sdk): the tools of internal/tools, the
// collection list as a resource, and documents as a resource template
// (quarry://collections/{collection}/documents/{id}).
//
// Every server is bound to one tools.Scope: stdio servers take it from the
// command line, and the HTTP handler builds a stateless server per request
// from the scope the auth middleware put in the request's context, so a key
// scoped to one tenant never reads another's documents. Arguments are
// validated by tools.Set before a tool runs; refused calls and tool failures
// are MCP tool errors (isError: true) with the message the model needs.
// Unknown tool names and malformed JSON-RPC are protocol errors, answered by
// the SDK.
//
// Concurrency: the handler is safe for concurrent use; each request gets its
// own server.
package mcpserver
