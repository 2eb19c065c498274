package weaviate

import (
	"context"
	"log/slog"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/index/vector"
	"github.com/quarry-rag/quarry/internal/store"
)

// Opener opens collections in one Weaviate server (store.Opener), shared
// with any number of Quarry processes: it also finds collections another
// process created (store.Sharer) and refuses vector settings Weaviate's
// index would not honour (store.ConfigChecker).
type Opener struct {
	// URL, APIKey, Consistency (ONE, QUORUM — the default — or ALL) and
	// Replication (default 1) are Config's.
	URL, APIKey string
	Consistency string
	Replication int
	Logger      *slog.Logger
}

var (
	_ store.Opener        = (*Opener)(nil)
	_ store.Sharer        = (*Opener)(nil)
	_ store.ConfigChecker = (*Opener)(nil)
	_ store.Validator     = (*Opener)(nil)
)

func (o *Opener) config(cfg *store.Config) Config {
	logger := cfg.Logger
	if logger == nil {
		logger = o.Logger
	}
	return Config{URL: o.URL, APIKey: o.APIKey, Consistency: o.Consistency, Replication: o.Replication,
		K1: cfg.K1, B: cfg.B, TitleBoost: cfg.TitleBoost, Language: cfg.Language,
		Flat: cfg.Vector.Index == vector.IndexFlat, Quantization: string(cfg.Vector.Quantization), Logger: logger}
}

// Check refuses vector settings that Weaviate's own index would not honour,
// rather than ignoring them: it has no IVF, and its HNSW is created with
// Quarry's fixed parameters (maxConnections 32, efConstruction 128,
// dynamic ef), so only the defaults of m, ef_construction and ef_search are
// accepted. Quantization maps to Weaviate's quantizers (int8 → sq on hnsw,
// binary → bq on flat).
func (o *Opener) Check(cfg store.Config) error {
	v := cfg.Vector
	if v.Index == vector.IndexIVF {
		return base.Invalidf("vector.index", "ivf is not available on the weaviate backend (use hnsw or flat)")
	}
	for _, f := range []struct {
		name     string
		val, def int
	}{{"vector.m", v.M, vector.DefaultM}, {"vector.ef_construction", v.EfConstruction, vector.DefaultEfConstruction},
		{"vector.ef_search", v.EfSearch, vector.DefaultEfSearch}} {
		if f.val != 0 && f.val != f.def {
			return base.Invalidf(f.name, "is fixed by the weaviate backend's HNSW; leave it unset (got %d)", f.val)
		}
	}
	return nil
}

// Open opens a collection's classes and records cfg.Record with it, for
// other Quarry processes, when none is recorded yet.
func (o *Opener) Open(ctx context.Context, name string, cfg store.Config) (store.Backend, error) {
	b, err := Open(ctx, name, o.config(&cfg))
	if err != nil {
		return nil, err
	}
	stored, err := b.StoredConfig(ctx)
	if err == nil && stored == "" && cfg.Record != "" {
		err = b.SetStoredConfig(ctx, cfg.Record)
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Lookup reads the configuration record of a collection another process
// created, without creating anything.
func (o *Opener) Lookup(ctx context.Context, name string) (string, bool, error) {
	return StoredConfigOf(ctx, o.config(&store.Config{}), name)
}

// Validate reports the first invalid setting, as a *base.FieldError
// named after the server's JSON fields.
func (o *Opener) Validate() error {
	if o.URL == "" {
		return base.Invalidf("weaviate_url", "is required with the weaviate backend (--weaviate-url or QUARRY_WEAVIATE_URL)")
	}
	switch o.Consistency {
	case "", One, Quorum, All:
	default:
		return base.Invalidf("weaviate_consistency", "must be ONE, QUORUM or ALL, got %q", o.Consistency)
	}
	return nil
}
