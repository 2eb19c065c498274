package server

// How a request's key narrows what it reads and writes, and the limits of
// the fields the engine does not bound itself.

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/auth"
)

// Limits of request fields.
const (
	maxTenantBytes    = auth.MaxTenantBytes
	maxPrincipals     = auth.MaxPrincipals
	maxPrincipalBytes = auth.MaxPrincipalBytes
	maxRRFK           = 10_000
	maxModelBytes     = 256
	// minChunkSize is the smallest chunk a client may configure: a size
	// of 1 turns 1 MB of text into 200,000 chunks.
	minChunkSize = 32
)

// checkScope bounds a scope's tenant and principals.
func checkScope(sc *scopeIn) error {
	if len(sc.Tenant) > maxTenantBytes {
		return invalid("tenant", "is %d bytes; the limit is %d", len(sc.Tenant), maxTenantBytes)
	}
	if len(sc.Principals) > maxPrincipals {
		return invalid("principals", "has %d entries; the limit is %d", len(sc.Principals), maxPrincipals)
	}
	for i, p := range sc.Principals {
		if len(p) > maxPrincipalBytes {
			return invalid(fmt.Sprintf("principals[%d]", i), "is %d bytes; the limit is %d", len(p), maxPrincipalBytes)
		}
	}
	return nil
}

// readScope bounds a read request's scope and makes it the key's.
func readScope(r *http.Request, sc *scopeIn) error {
	if err := checkScope(sc); err != nil {
		return err
	}
	return applyScope(r, sc)
}

// checkSearch bounds the fields of a search the engine takes as they are.
func (in *searchRequest) check() error {
	if in.RRFK < 0 || in.RRFK > maxRRFK {
		return invalid("rrf_k", "must be between 1 and %d (0 = the default, 60), got %v", maxRRFK, in.RRFK)
	}
	if in.RRFK > 0 && in.RRFK < 1 {
		return invalid("rrf_k", "must be at least 1, got %v", in.RRFK)
	}
	return nil
}

// writeOptions returns the engine's write options for a request's key:
// nil (unscoped) for an open server or an admin key.
func writeOptions(r *http.Request) *quarry.WriteOptions {
	k := keyOf(r)
	if k == nil || k.Role == auth.RoleAdmin {
		return nil
	}
	return &quarry.WriteOptions{Scope: &quarry.WriteScope{Tenant: k.Tenant, Principals: k.Principals}}
}

// scopeDocuments gives the documents of a scoped write the key's tenant. A
// document naming another tenant is refused.
func scopeDocuments(r *http.Request, docs []quarry.Document) error {
	k := keyOf(r)
	if k == nil || k.Role == auth.RoleAdmin {
		return nil
	}
	for i := range docs {
		if docs[i].Tenant != "" && docs[i].Tenant != k.Tenant {
			return &apiError{Code: codeForbidden, Field: fmt.Sprintf("documents[%d].tenant", i), Message: "the key writes for its own tenant; only an admin key may name another"}
		}
		docs[i].Tenant = k.Tenant
	}
	return nil
}

// mayCreate refuses the creation of a collection to non-admin keys and
// past MaxCollections.
func (s *Server) mayCreate(r *http.Request, name string) error {
	if _, err := s.eng.Collection(r.Context(), name); err == nil {
		return nil
	} else if !errors.Is(err, quarry.ErrNotFound) {
		return err
	}
	if k := keyOf(r); k != nil && k.Role != auth.RoleAdmin {
		return &apiError{Code: codeForbidden, Message: fmt.Sprintf("collection %q does not exist and only an admin key may create one", name)}
	}
	if n := len(s.eng.Collections()); n >= s.opts.MaxCollections {
		return &apiError{Code: codeForbidden, Message: fmt.Sprintf("the server holds %d collections, its limit (MaxCollections)", n)}
	}
	return nil
}

// scopedKey reports whether the request's key is limited to one tenant.
func scopedKey(r *http.Request) bool {
	k := keyOf(r)
	return k != nil && k.Role != auth.RoleAdmin
}
