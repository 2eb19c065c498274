package embed

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/quarry-rag/quarry/internal/models/hub"
	"github.com/quarry-rag/quarry/internal/models/tokenizer"
	"github.com/quarry-rag/quarry/internal/models/transformer"
)

// Prefixes are the texts prepended to queries and passages before
// tokenization.
type Prefixes struct {
	Query   string
	Passage string
}

// LocalOptions configure NewLocal. The zero value is valid; every zero
// field means its default.
type LocalOptions struct {
	// MaxTokens caps the tokens of one text, special tokens and prefix
	// included; longer texts are truncated (and counted in
	// Stats.Truncated). Default and upper bound: the model's max length
	// (256 for all-MiniLM-L6-v2, 512 for multilingual-e5-small).
	MaxTokens int
	// BatchSize is the most texts run through the model at once.
	// Default: the encoder's (32).
	BatchSize int
	// Prefixes overrides the query/passage prefixes the model folder
	// implies (e5's "query: "/"passage: ", bge's query instruction).
	// Default nil: the model's.
	Prefixes *Prefixes
	// Quantization runs the encoder's Linear layers in float32 (default)
	// or int8 (transformer.Int8: about 2× the passages/s on a CPU with
	// AVX-512 VNNI, cosine ≥ 0.99 to the float32 vectors, so a collection
	// keeps its vectors when it switches; see docs/benchmarks.md, "Issue
	// 19"). Layers that quantize badly stay float32 (logged). The
	// embedder's Name does not change: the vectors are the same model's.
	Quantization transformer.Quantization
}

// calibrationTexts are embedded at load, in float32 and int8, to measure
// each layer's int8 error (transformer.Options.Calibration): ordinary prose
// in a few languages and scripts.
var calibrationTexts = []string{
	"Vaccines train the immune system to recognise a pathogen without causing the disease, so that a later infection is cleared quickly.",
	"The quarterly report shows revenue up 12% year over year, driven by subscriptions in Europe and Asia; margins narrowed slightly.",
	"Der Fluss tritt im Frühjahr regelmäßig über die Ufer, weshalb die Stadt neue Deiche und Rückhaltebecken gebaut hat.",
	"东京是日本的首都，也是世界上人口最多的大都市之一。 Москва — столица России.",
}

// Local embeds with a model from the local model cache (or any model
// folder) through Quarry's pure-Go tokenizer and transformer. It is safe
// for concurrent use; Close releases the encoder's workers.
type Local struct {
	name     string
	dir      string
	tok      *tokenizer.Tokenizer
	enc      *transformer.Encoder
	prefixes Prefixes
	maxLen   int
	stats    counters

	// mu protects closed. Embed holds it for reading while it uses enc,
	// so that Close waits for calls in flight before releasing the
	// encoder.
	mu struct {
		sync.RWMutex
		closed bool
	}
}

var _ Embedder = (*Local)(nil)

// NewLocal loads a model: a short name looked up in the model cache
// (hub.Resolve, no network: fetch with `quarry models pull NAME`) or a
// model folder holding tokenizer.json, config.json and the weights.
func NewLocal(dirOrName string, opts LocalOptions) (*Local, error) {
	if opts.MaxTokens < 0 || opts.BatchSize < 0 {
		return nil, fmt.Errorf("%w: negative MaxTokens or BatchSize", ErrInvalid)
	}
	dir, err := hub.Resolve(dirOrName)
	if err != nil {
		return nil, fmt.Errorf("embed: local model %q: %w", dirOrName, err)
	}
	tok, err := tokenizer.Load(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return nil, fmt.Errorf("embed: local model %q: %w", dirOrName, err)
	}
	if n := tok.NumSpecialTokens(false); opts.MaxTokens > 0 && opts.MaxTokens <= n {
		return nil, fmt.Errorf("%w: MaxTokens %d leaves no room for text next to %d special tokens", ErrInvalid, opts.MaxTokens, n)
	}
	topts := &transformer.Options{MaxLen: opts.MaxTokens, BatchSize: opts.BatchSize, Quantization: opts.Quantization}
	if opts.Quantization == transformer.Int8 {
		for _, t := range calibrationTexts {
			topts.Calibration = append(topts.Calibration, tok.Encode(t).IDs)
		}
	}
	if opts.Prefixes != nil {
		topts.Prompts = &transformer.Prompts{Query: opts.Prefixes.Query, Passage: opts.Prefixes.Passage}
	}
	enc, err := transformer.Load(dir, topts)
	if err != nil {
		return nil, fmt.Errorf("embed: local model %q: %w", dirOrName, err)
	}
	p := enc.Prompts()
	l := &Local{
		name:     "local:" + modelName(dir),
		dir:      dir,
		tok:      tok,
		enc:      enc,
		prefixes: Prefixes{Query: p.Query, Passage: p.Passage},
		maxLen:   enc.MaxLen(),
	}
	return l, nil
}

// modelName is the name in the folder's hub manifest, else the folder's
// base name.
func modelName(dir string) string {
	if b, err := os.ReadFile(filepath.Join(dir, hub.ManifestName)); err == nil {
		var m struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(b, &m) == nil && m.Name != "" {
			return m.Name
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return filepath.Base(abs)
}

// Embed tokenizes each text with the prefix of kind, truncating at
// MaxTokens, and runs the encoder over all of them (sorted by length into
// batches of similar length). Vectors are L2-normalised when the model
// folder says so (a Normalize module), as sentence-transformers does.
func (l *Local) Embed(ctx context.Context, texts []string, kind Kind) ([][]float32, error) {
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.mu.closed {
		return nil, ErrClosed
	}
	if len(texts) == 0 {
		return [][]float32{}, nil
	}
	ids, truncated, tokens, err := tokenizeAll(ctx, len(texts), func(i int) ([]int32, bool) { return l.tokenize(texts[i], kind) })
	if err != nil {
		return nil, err
	}
	vecs, err := l.enc.Embed(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("embed: %s: %w", l.name, err)
	}
	dim := l.enc.Dim()
	for i, v := range vecs {
		if err := CheckVector(v, dim); err != nil {
			return nil, fmt.Errorf("embed: %s: text %d: %w", l.name, i, err)
		}
	}
	l.stats.calls.Add(1)
	l.stats.texts.Add(int64(len(texts)))
	l.stats.truncated.Add(truncated)
	l.stats.tokens.Add(tokens)
	return vecs, nil
}

// Tokenize returns the token ids Embed feeds to the model for text (prefix
// of kind and special tokens included, truncated at MaxTokens) and whether
// it was truncated. An invalid kind is treated as Passage.
func (l *Local) Tokenize(text string, kind Kind) (ids []int32, truncated bool) {
	return l.tokenize(text, kind)
}

// tokenize encodes with a budget of one token more than maxLen: a text
// that fills it is longer than maxLen, and dropping its last content token
// gives exactly the maxLen encoding (truncation keeps the special tokens
// and cuts content from the end), without tokenizing the text twice.
func (l *Local) tokenize(text string, kind Kind) ([]int32, bool) {
	prefix := l.prefixes.Passage
	if kind == Query {
		prefix = l.prefixes.Query
	}
	enc := l.tok.EncodeWith(prefix+text, &tokenizer.EncodeOpts{MaxLen: l.maxLen + 1})
	if len(enc.IDs) <= l.maxLen {
		return enc.IDs, false
	}
	last := -1
	for i := len(enc.IDs) - 1; i >= 0; i-- {
		if !enc.SpecialMask[i] {
			last = i
			break
		}
	}
	if last < 0 { // only special tokens: cannot happen with maxLen ≥ their count
		return enc.IDs[:l.maxLen], true
	}
	return append(enc.IDs[:last], enc.IDs[last+1:]...), true
}

// Dim is the embedding dimension.
func (l *Local) Dim() int { return l.enc.Dim() }

// Name is "local:" and the model's name (its hub manifest name, else its
// folder's name): the same model has the same Name whether it was opened
// by name or by folder.
func (l *Local) Name() string { return l.name }

// MaxTokens is the length, in tokens with the special tokens, at which
// texts are truncated.
func (l *Local) MaxTokens() int { return l.maxLen }

// Prefixes returns the query and passage prefixes in use.
func (l *Local) Prefixes() Prefixes { return l.prefixes }

// Normalized reports whether vectors are L2-normalised.
func (l *Local) Normalized() bool { return l.enc.Normalized() }

// Dir is the model folder.
func (l *Local) Dir() string { return l.dir }

// Stats returns the cumulative counters (Calls, Texts, Truncated, Tokens).
func (l *Local) Stats() Stats { return l.stats.snapshot() }

// String describes the embedder for logs.
func (l *Local) String() string { return l.name + " (" + l.enc.String() + ")" }

// Close waits for Embed calls in flight, then releases the encoder's
// workers. Later calls to Embed return ErrClosed. Close is idempotent.
func (l *Local) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.closed {
		return nil
	}
	l.mu.closed = true
	return l.enc.Close()
}

// tokenizeAll runs tokenize(i) for i in [0, n), checking ctx every 64
// texts, and returns the ids with the counts Stats keeps: texts cut to
// the model's length and tokens in all.
func tokenizeAll(ctx context.Context, n int, tokenize func(i int) ([]int32, bool)) (ids [][]int32, truncated, tokens int64, err error) {
	ids = make([][]int32, n)
	for i := range n {
		var cut bool
		ids[i], cut = tokenize(i)
		if cut {
			truncated++
		}
		tokens += int64(len(ids[i]))
		if i&63 == 63 {
			if err := ctx.Err(); err != nil {
				return nil, 0, 0, err
			}
		}
	}
	return ids, truncated, tokens, nil
}
