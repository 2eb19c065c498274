package chunk

import (
	"errors"
	"fmt"

	"github.com/quarry-rag/quarry/internal/base"
)

// Strategies.
const (
	// StrategyRecursive packs whole paragraphs, else whole sentences, else
	// runs of words into chunks of up to Size tokens.
	StrategyRecursive = "recursive"
	// StrategyFixed cuts windows of exactly Size tokens (the last may be
	// shorter) that overlap by Overlap tokens.
	StrategyFixed = "fixed"
)

// Defaults and limits.
const (
	DefaultSize = 256
	MaxSize     = 1 << 16
	// NoOverlap in Config.Overlap asks for no overlap where the strategy's
	// default would overlap (Overlap 0 means "the default").
	NoOverlap = -1
)

// ErrInvalidConfig is wrapped by the errors of Config.Validate and New.
var ErrInvalidConfig = errors.New("chunk: invalid config")

// Config selects and sizes a chunker. Sizes are in word tokens as counted
// by text.CountTokens (a word, or one Han/kana/Hangul character).
type Config struct {
	// Strategy is StrategyRecursive (default) or StrategyFixed. The switch
	// is open for more strategies (semantic chunking).
	Strategy string
	// Size is the largest number of tokens in a chunk. Default DefaultSize
	// (256); at most MaxSize.
	Size int
	// Overlap is the number of tokens consecutive chunks share. 0 selects
	// the strategy's default: Size/8 for fixed windows (32 at the default
	// size), none for recursive chunks. NoOverlap (-1) forces none. The
	// recursive strategy overlaps by whole sentences: it repeats the longest
	// run of trailing sentences of the previous chunk that has at most
	// Overlap tokens (never the whole chunk, and only as far as the next
	// piece still fits in Size). Must be smaller than Size.
	Overlap int
}

// EnsureDefaults fills zero fields with their defaults. It is idempotent.
func (c *Config) EnsureDefaults() {
	if c.Strategy == "" {
		c.Strategy = StrategyRecursive
	}
	if c.Size == 0 {
		c.Size = DefaultSize
	}
	if c.Overlap == 0 && c.Strategy == StrategyFixed {
		c.Overlap = max(c.Size/8, 0)
	}
}

// Validate reports the first invalid field. Zero fields are valid (they
// mean the default).
func (c Config) Validate() error {
	switch c.Strategy {
	case "", StrategyRecursive, StrategyFixed:
	default:
		return fmt.Errorf("%w: strategy: unknown strategy %q (want %q or %q)", ErrInvalidConfig, c.Strategy, StrategyRecursive, StrategyFixed)
	}
	if c.Size < 0 || c.Size > MaxSize {
		return fmt.Errorf("%w: size: must be between 1 and %d, got %d", ErrInvalidConfig, MaxSize, c.Size)
	}
	if c.Overlap < NoOverlap {
		return fmt.Errorf("%w: overlap: must be ≥ 0 (or NoOverlap), got %d", ErrInvalidConfig, c.Overlap)
	}
	d := c
	d.EnsureDefaults()
	if d.Overlap >= d.Size {
		return fmt.Errorf("%w: overlap: must be smaller than size (%d), got %d", ErrInvalidConfig, d.Size, d.Overlap)
	}
	return nil
}

// Chunker splits documents into chunks.
type Chunker interface {
	// Chunk returns doc's chunks in text order. Chunks never cross a
	// section boundary; a document whose text is empty or white space
	// yields none.
	Chunk(doc *base.Document) []base.Chunk
}

// New returns the chunker for cfg after applying defaults. The chunkers are
// stateless and safe for concurrent use.
func New(cfg Config) (Chunker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.EnsureDefaults()
	overlap := max(cfg.Overlap, 0)
	switch cfg.Strategy {
	case StrategyRecursive:
		return &recursive{size: cfg.Size, overlap: overlap}, nil
	case StrategyFixed:
		return &fixed{size: cfg.Size, overlap: overlap}, nil
	}
	return nil, fmt.Errorf("%w: strategy: %q", ErrInvalidConfig, cfg.Strategy)
}
