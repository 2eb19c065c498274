// Package tools owns the tools an agent (or an MCP client) may call: typed Go
// functions whose JSON Schemas are generated from their parameter structs with
// github.com/invopop/jsonschema, and a Set that validates every call against
// its schema (github.com/santhosh-tekuri/jsonschema/v6) before the function
// runs.
//
// A call that names no tool, carries malformed JSON, misses a required
// parameter, adds one the schema does not know, or holds an out-of-range
// value never reaches the tool: Set.Call returns a *CallError whose message is
// written for the model ("no tool named X; available: …", "parameter k: must
// be ≤ 50"), so the caller can hand it back as an observation and count it
// against a retry budget.
//
// Every call runs with an explicit Scope (tenant, principals, role). The
// retrieval tools pass the tenant and principals to the engine, so a tool sees
// exactly the documents the caller's key may read; the write tools
// (ingest_text, delete_document) need RoleWrite and write only into the
// caller's tenant.
//
// Concurrency: a Set is immutable after NewSet and safe for concurrent use.
//
// Example:
//
//	set := tools.Default(tools.EngineCatalog{Engine: eng}, &tools.Options{Collection: "docs"})
//	res, err := set.Call(ctx, tools.Scope{Tenant: "acme", Role: tools.RoleRead}, "search", []byte(`{"query":"deletes"}`))
package tools
