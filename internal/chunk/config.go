package chunk

import (
	"context"
	"errors"
	"fmt"
	"math"

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
	// StrategySemantic splits between sentences where the embeddings of
	// consecutive sentence windows are least alike (see Config.Embed,
	// BreakPercentile and Window), then holds the result to Size.
	StrategySemantic = "semantic"
)

// Defaults and limits.
const (
	DefaultSize = 256
	MaxSize     = 1 << 16
	// NoOverlap in Config.Overlap asks for no overlap where the strategy's
	// default would overlap (Overlap 0 means "the default").
	NoOverlap = -1
	// DefaultBreakPercentile is the default Config.BreakPercentile.
	DefaultBreakPercentile = 90
	// DefaultWindow is the default Config.Window.
	DefaultWindow = 1
	// NoWindow in Config.Window embeds each sentence alone (Window 0 means
	// "the default").
	NoWindow = -1
)

// ErrInvalidConfig is wrapped by the errors of Config.Validate and New.
var ErrInvalidConfig = errors.New("chunk: invalid config")

// Config selects and sizes a chunker. Sizes are in word tokens as counted
// by text.CountTokens (a word, or one Han/kana/Hangul character).
type Config struct {
	// Strategy is StrategyRecursive (default), StrategyFixed or
	// StrategySemantic.
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
	// piece still fits in Size). Must be smaller than Size. The semantic
	// strategy uses it only where it splits a segment longer than Size with
	// the recursive strategy; its segments never overlap.
	Overlap int

	// Embed embeds sentences for the semantic strategy: required for
	// StrategySemantic, ignored otherwise. It is called once per document
	// with every sentence of the document's sections of two sentences or
	// more, and must return one vector per text, all of one dimension; the
	// vectors need not be normalised (each is scaled to unit length before
	// use). Wrap a function with EmbedFunc; to use an embed.Embedder, pass
	// its Embed with embed.Passage. Note: a Config holding an EmbedFunc is
	// no longer comparable with == (the comparison panics).
	Embed Embedder
	// BreakPercentile places a semantic boundary at a gap between two
	// sentences whose distance (see Window) is at or above this percentile
	// (linear interpolation, as numpy's default) of the distances at all
	// gaps of the document, and above the smallest of them: 90 (the
	// default, DefaultBreakPercentile) splits at about the 10% of gaps where
	// the similarity drops the most. In (0, 100]; 0 means the default.
	// Semantic strategy only.
	BreakPercentile float64
	// Window is how many more sentences on each side of a gap are compared
	// across it: the distance at the gap after sentence i is the cosine
	// distance between the mean unit embedding of sentences i−Window..i and
	// that of sentences i+1..i+1+Window (cut at section ends). 1 (the
	// default, DefaultWindow) compares two sentences with two, which
	// smooths out short sentences; NoWindow (-1) compares the two sentences
	// at the gap alone. Semantic strategy only.
	Window int
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
	if c.Strategy == StrategySemantic {
		if c.BreakPercentile == 0 {
			c.BreakPercentile = DefaultBreakPercentile
		}
		if c.Window == 0 {
			c.Window = DefaultWindow
		}
	}
}

// Validate reports the first invalid field. Zero fields are valid (they
// mean the default).
func (c Config) Validate() error {
	switch c.Strategy {
	case "", StrategyRecursive, StrategyFixed:
	case StrategySemantic:
		if c.Embed == nil {
			return fmt.Errorf("%w: strategy: %q needs Embed", ErrInvalidConfig, c.Strategy)
		}
		if math.IsNaN(c.BreakPercentile) || c.BreakPercentile < 0 || c.BreakPercentile > 100 {
			return fmt.Errorf("%w: break percentile: must be in (0, 100], got %v", ErrInvalidConfig, c.BreakPercentile)
		}
		if c.Window < NoWindow {
			return fmt.Errorf("%w: window: must be ≥ 0 (or NoWindow), got %d", ErrInvalidConfig, c.Window)
		}
	default:
		return fmt.Errorf("%w: strategy: unknown strategy %q (want %q, %q or %q)", ErrInvalidConfig, c.Strategy, StrategyRecursive, StrategyFixed, StrategySemantic)
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

// ContextChunker is a Chunker whose chunking may block or fail: the
// semantic strategy calls an embedder. Every chunker New returns
// implements it; for the fixed and recursive strategies ChunkContext is
// Chunk, after checking ctx.
type ContextChunker interface {
	// ChunkContext returns what Chunk would, or the error that kept it
	// from chunking doc (a cancelled ctx, a failed embedding).
	ChunkContext(ctx context.Context, doc *base.Document) ([]base.Chunk, error)
}

// New returns the chunker for cfg after applying defaults. The chunkers are
// stateless and safe for concurrent use (the semantic one as far as its
// Embed is), and all implement ContextChunker.
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
	case StrategySemantic:
		window := max(cfg.Window, 0)
		return &semantic{
			recursive:  recursive{size: cfg.Size, overlap: overlap},
			embed:      cfg.Embed,
			percentile: cfg.BreakPercentile,
			window:     window,
		}, nil
	}
	return nil, fmt.Errorf("%w: strategy: %q", ErrInvalidConfig, cfg.Strategy)
}
