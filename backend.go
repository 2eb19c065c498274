package quarry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/quarry-rag/quarry/internal/store"
	"github.com/quarry-rag/quarry/internal/store/embedded"
	"github.com/quarry-rag/quarry/internal/store/weaviate"
)

// StoreOpener opens the storage backend of each collection (Options.Store):
// a value, made by EmbeddedStore or WeaviateStore, instead of a backend
// name and its settings.
type StoreOpener = store.Opener

// EmbeddedStore keeps each collection in files under the engine's data
// directory: the default.
func EmbeddedStore() StoreOpener { return embedded.Opener{} }

// WeaviateOptions configure WeaviateStore.
type WeaviateOptions struct {
	// URL is Weaviate's REST endpoint (or a comma-separated list of a
	// cluster's nodes). Required.
	URL string
	// APIKey is sent as a bearer token. Default "": none.
	APIKey string
	// Consistency is ONE, QUORUM (the default) or ALL.
	Consistency string
	// Replication is the replication factor of new classes. Default 1.
	Replication int
	// Logger receives the backend's logs. Default: the engine's.
	Logger *slog.Logger
}

// WeaviateStore keeps collections in a Weaviate server, shared by any
// number of Quarry processes: a collection one process creates, the
// others find (Engine.Collection adopts it).
func WeaviateStore(o WeaviateOptions) StoreOpener {
	return &weaviate.Opener{URL: o.URL, APIKey: o.APIKey, Consistency: o.Consistency, Replication: o.Replication, Logger: o.Logger}
}

// Backends (Options.Backend, the older form of Options.Store).
const (
	BackendEmbedded = "embedded"
	BackendWeaviate = "weaviate"
)

// storeOf returns the opener the older Backend and Weaviate* fields name,
// after checking them; Options.Store, when set, wins.
func (o *Options) storeOf() (StoreOpener, error) {
	switch o.Backend {
	case "", BackendEmbedded:
		return EmbeddedStore(), nil
	case BackendWeaviate:
		return WeaviateStore(WeaviateOptions{URL: o.WeaviateURL, APIKey: o.WeaviateAPIKey, Consistency: o.WeaviateConsistency,
			Replication: o.WeaviateReplication, Logger: o.Logger}), nil
	}
	return nil, invalidf("backend", "unknown backend %q (want embedded or weaviate)", o.Backend)
}

// sharedLookupTimeout bounds the lookup of a collection in a shared
// backend when the caller's context has no deadline.
const sharedLookupTimeout = 30 * time.Second

// adoptShared opens a collection that exists in the shared backend but
// not in this process's data directory (another Quarry process created
// it). It returns nil, nil when there is none, or the store is not shared.
// It runs outside the engine's lock (see Engine.acquire).
func (e *Engine) adoptShared(ctx context.Context, name string) (*Collection, error) {
	sh, ok := e.opts.Store.(store.Sharer)
	if !ok || validateCollectionName(name) != nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, sharedLookupTimeout)
	defer cancel()
	raw, found, err := sh.Lookup(ctx, name)
	if err != nil || !found {
		return nil, err
	}
	var cfg CollectionConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		return nil, fmt.Errorf("%w: collection %q: configuration stored in the shared backend: %v", ErrCorrupt, name, err)
	}
	cfg.EnsureDefaults()
	dir := e.collectionDir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := writeCollectionConfig(dir, cfg); err != nil {
		return nil, err
	}
	c, err := openCollection(ctx, e, name, cfg)
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	return c, nil
}
