package quarry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/quarry-rag/quarry/internal/store/weaviate"
)

// Backends (Options.Backend).
const (
	BackendEmbedded = "embedded"
	BackendWeaviate = "weaviate"
)

func (o *Options) validateBackend() error {
	switch o.Backend {
	case "", BackendEmbedded:
		return nil
	case BackendWeaviate:
		if o.WeaviateURL == "" {
			return invalidf("weaviate_url", "is required with the weaviate backend (--weaviate-url or QUARRY_WEAVIATE_URL)")
		}
		switch o.WeaviateConsistency {
		case "", weaviate.One, weaviate.Quorum, weaviate.All:
		default:
			return invalidf("weaviate_consistency", "must be ONE, QUORUM or ALL, got %q", o.WeaviateConsistency)
		}
		return nil
	}
	return invalidf("backend", "unknown backend %q (want embedded or weaviate)", o.Backend)
}

func (e *Engine) weaviateConfig(cfg CollectionConfig) weaviate.Config {
	return weaviate.Config{
		URL: e.opts.WeaviateURL, APIKey: e.opts.WeaviateAPIKey, Consistency: e.opts.WeaviateConsistency,
		Replication: e.opts.WeaviateReplication,
		K1:          cfg.BM25.K1, B: cfg.BM25.B, TitleBoost: cfg.BM25.TitleBoost, Language: cfg.Language,
		Flat: cfg.Vector.Index == "flat", Quantization: cfg.Vector.Quantization,
		Logger: e.opts.Logger,
	}
}

// checkWeaviate refuses vector settings that Weaviate's own index would not
// honour, rather than ignoring them: it has no IVF, and its HNSW is created
// with Quarry's fixed parameters (maxConnections 32, efConstruction 128,
// dynamic ef), so only the defaults of m, ef_construction and ef_search are
// accepted. Quantization maps to Weaviate's quantizers (int8 → sq on hnsw,
// binary → bq on flat).
func (v VectorConfig) checkWeaviate() error {
	if v.Index == "ivf" {
		return invalidf("vector.index", "ivf is not available on the weaviate backend (use hnsw or flat)")
	}
	for _, f := range []struct {
		name     string
		val, def int
	}{{"vector.m", v.M, 16}, {"vector.ef_construction", v.EfConstruction, 200}, {"vector.ef_search", v.EfSearch, 64}} {
		if f.val != 0 && f.val != f.def {
			return invalidf(f.name, "is fixed by the weaviate backend's HNSW; leave it unset (got %d)", f.val)
		}
	}
	return nil
}

// openWeaviate opens a collection's Weaviate backend and records the
// collection's configuration there, for other Quarry processes.
func (e *Engine) openWeaviate(ctx context.Context, name string, cfg CollectionConfig) (*weaviate.Backend, error) {
	b, err := weaviate.Open(ctx, name, e.weaviateConfig(cfg))
	if err != nil {
		return nil, err
	}
	stored, err := b.StoredConfig(ctx)
	if err == nil && stored == "" {
		raw, _ := json.Marshal(cfg)
		err = b.SetStoredConfig(ctx, string(raw))
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// adoptSharedLocked opens a collection that exists in the shared backend
// but not in this process's data directory (another Quarry process created
// it). It returns nil, nil when there is none. e.mu must be held.
func (e *Engine) adoptSharedLocked(name string) (*Collection, error) {
	if e.opts.Backend != BackendWeaviate || validateCollectionName(name) != nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	raw, found, err := weaviate.StoredConfigOf(ctx, e.weaviateConfig(CollectionConfig{}), name)
	if err != nil || !found {
		return nil, err
	}
	var cfg CollectionConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		return nil, fmt.Errorf("%w: collection %q: configuration stored in Weaviate: %v", ErrCorrupt, name, err)
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
	e.mu.cols[name] = c
	return c, nil
}
