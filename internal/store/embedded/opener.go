package embedded

import (
	"context"

	"github.com/quarry-rag/quarry/internal/index/bm25"
	"github.com/quarry-rag/quarry/internal/store"
)

// Opener opens collections as embedded stores in their folders under the
// engine's data directory (store.Opener). The zero value is ready to use.
type Opener struct{}

var _ store.Opener = Opener{}

// Open opens (creating) the store in cfg.Dir.
func (Opener) Open(ctx context.Context, _ string, cfg store.Config) (store.Backend, error) {
	b, err := Open(ctx, cfg.Dir, Config{
		BM25:     bm25.Params{K1: cfg.K1, B: cfg.B, TitleBoost: cfg.TitleBoost},
		Language: cfg.Language,
		Logger:   cfg.Logger,
		Vector:   cfg.Vector,
	})
	if err != nil {
		return nil, err // not a nil *Backend in a non-nil interface
	}
	return b, nil
}
