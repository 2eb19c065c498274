package tools

import (
	"context"

	"github.com/quarry-rag/quarry"
)

// Catalog is what the retrieval tools need from the engine.
type Catalog interface {
	// Collection returns an existing collection (an error wrapping
	// quarry.ErrNotFound otherwise).
	Collection(ctx context.Context, name string) (*quarry.Collection, error)
	// Collections lists the collection names, sorted.
	Collections(ctx context.Context) []string
	// EnsureCollection returns the collection, creating it with defaults.
	EnsureCollection(ctx context.Context, name string) (*quarry.Collection, error)
}

// EngineCatalog adapts a *quarry.Engine to Catalog. It is the one place this
// package calls the engine's collection methods.
type EngineCatalog struct{ Engine *quarry.Engine }

// Collection implements Catalog.
func (c EngineCatalog) Collection(ctx context.Context, name string) (*quarry.Collection, error) {
	return c.Engine.Collection(ctx, name)
}

// Collections implements Catalog.
func (c EngineCatalog) Collections(context.Context) []string { return c.Engine.Collections() }

// EnsureCollection implements Catalog.
func (c EngineCatalog) EnsureCollection(ctx context.Context, name string) (*quarry.Collection, error) {
	return c.Engine.EnsureCollection(ctx, name)
}
