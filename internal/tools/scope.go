package tools

import (
	"context"
	"fmt"
)

// Role is what a caller's key may do.
type Role int

// Roles, weakest first.
const (
	RoleRead  Role = iota // search, read, ask
	RoleWrite             // also ingest and delete in the caller's tenant
	RoleAdmin             // also everything else the server allows
)

func (r Role) String() string {
	switch r {
	case RoleRead:
		return "read"
	case RoleWrite:
		return "write"
	case RoleAdmin:
		return "admin"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// ParseRole maps "read", "write" and "admin" to a Role.
func ParseRole(s string) (Role, error) {
	switch s {
	case "read":
		return RoleRead, nil
	case "write":
		return RoleWrite, nil
	case "admin":
		return RoleAdmin, nil
	}
	return 0, fmt.Errorf("tools: unknown role %q (want read, write or admin)", s)
}

// CanWrite reports whether the role may use the write tools.
func (r Role) CanWrite() bool { return r >= RoleWrite }

// Scope is who a tool call runs for. The server fills it from the request's
// API key; every tool reads and writes only what this scope may.
type Scope struct {
	Tenant     string
	Principals []string
	Role       Role
}

type scopeKey struct{}

// WithScope returns ctx carrying sc: the auth middleware calls it once per
// request, and the agent and MCP handlers read it with ScopeFrom.
func WithScope(ctx context.Context, sc Scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, sc)
}

// ScopeFrom returns the scope WithScope stored in ctx.
func ScopeFrom(ctx context.Context) (Scope, bool) {
	sc, ok := ctx.Value(scopeKey{}).(Scope)
	return sc, ok
}
