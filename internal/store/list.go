package store

import (
	"context"
	"io"

	"github.com/quarry-rag/quarry/internal/base"
)

// MaxListLimit bounds ListQuery.Limit.
const MaxListLimit = 1000

// ListQuery asks for one page of a backend's documents in id order.
type ListQuery struct {
	// After is the cursor: only ids greater than it (bytewise) are listed.
	// "" starts at the first document.
	After string
	// Limit is the page size, 1..MaxListLimit.
	Limit int
	// Scope restricts the listing like a search (tenant, ACL, filter).
	Scope Scope
}

// ListPage is one page of documents. Next is the cursor of the following
// page, "" after the last one.
type ListPage struct {
	Docs []base.Document
	Next string
}

// Lister is implemented by backends that can enumerate their documents
// (both backends do). Documents come whole, text included, in id order;
// a page reflects the committed state at the time it is read (pages read
// while writes happen may miss or repeat nothing that was not changed).
type Lister interface {
	List(ctx context.Context, q ListQuery) (ListPage, error)
}

// Dropper is implemented by backends whose data lives outside the
// collection's directory (Weaviate): Drop deletes all of it. A backend
// without it is dropped by removing its directory.
type Dropper interface {
	Drop(ctx context.Context) error
}

// DocField looks a filter field up on a whole document the way the
// backends do inside a search: the built-in fields language, source,
// doc_id and title, then metadata.
func DocField(d *base.Document) func(field string) (base.Value, bool) {
	return func(field string) (base.Value, bool) {
		switch field {
		case "language":
			return base.String(d.Language), d.Language != ""
		case "source":
			return base.String(d.Source), d.Source != ""
		case "doc_id":
			return base.String(d.ID), true
		case "title":
			return base.String(d.Title), d.Title != ""
		}
		v, ok := d.Metadata[field]
		return v, ok
	}
}

// InScope reports whether a stored document is visible to sc and matches
// its filter.
func InScope(d *base.Document, sc Scope) bool {
	return base.Visible(d.Tenant, d.ACL, sc.Tenant, sc.Principals) && sc.Filter.Match(DocField(d))
}

// Backuper is implemented by backends that can copy themselves while they
// serve (the embedded backend; Weaviate has its own backup modules).
// Backup calls add for each file of a consistent copy, in an order that
// makes the copy openable: derived files (index snapshots) before the
// store they derive from.
type Backuper interface {
	Backup(ctx context.Context, add func(name string, size int64, r io.Reader) error) error
}
