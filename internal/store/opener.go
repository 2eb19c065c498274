package store

import (
	"context"
	"log/slog"

	"github.com/quarry-rag/quarry/internal/index/vector"
)

// Config is what an Opener needs to open one collection's backend. The
// engine fills it from the collection's configuration.
type Config struct {
	// Dir is the collection's folder under the engine's data directory
	// (the embedded backend keeps its files there; a remote one ignores it).
	Dir string
	// BM25 parameters and title boost.
	K1, B, TitleBoost float64
	// Language forces one analyzer language; "" analyses each chunk in its
	// own language.
	Language string
	// Vector is the dense index's configuration.
	Vector VectorSettings
	// Record is the collection's configuration as JSON: a shared backend
	// stores it so that other processes adopt the collection as created.
	Record string
	Logger *slog.Logger
}

// VectorSettings selects and tunes the dense index: the vector package's
// one configuration (kinds, quantizations, defaults and Validate live
// there). Zero values are the index's defaults.
type VectorSettings = vector.Settings

// The vector package's configuration vocabulary, for layers that configure
// a backend's dense index but may not use the index (the root).
type (
	VectorKind         = vector.Kind
	VectorQuantization = vector.Quantization
	VectorFieldError   = vector.FieldError // a field VectorSettings.Validate refuses
)

// Opener opens collections' backends: the value Options.Store passes to
// the engine instead of a backend name and its settings. Implementations:
// embedded.Opener (files under the data directory), weaviate.Opener (a
// Weaviate server shared by several processes).
type Opener interface {
	// Open opens (creating when new) the backend of collection name.
	Open(ctx context.Context, name string, cfg Config) (Backend, error)
}

// ConfigChecker is implemented by openers that cannot honour every
// configuration: Check returns a *base.FieldError naming the setting the
// backend refuses (Weaviate has no IVF index), before anything is created.
type ConfigChecker interface {
	Check(cfg Config) error
}

// Sharer is implemented by openers whose backends are shared with other
// processes: Lookup returns the configuration record of a collection
// another process created (found false when there is none).
type Sharer interface {
	Lookup(ctx context.Context, name string) (record string, found bool, err error)
}

// Optional capabilities of a Backend, found by the engine with a type
// assertion on these named interfaces.

// Flusher writes an index snapshot so that the next open replays nothing.
type Flusher interface {
	Flush(ctx context.Context) error
}

// Verifier checks that the store is whole and the index agrees with it.
type Verifier interface {
	Verify(ctx context.Context) error
}

// ReadyProber is implemented by backends that live in another process:
// Ready reports whether the server answers within ctx.
type ReadyProber interface {
	Ready(ctx context.Context) error
}

// Validator is implemented by openers with settings of their own: the
// engine calls Validate when it opens, and refuses to start on an error.
type Validator interface {
	Validate() error
}
