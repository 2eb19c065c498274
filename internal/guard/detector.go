package guard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/quarry-rag/quarry/internal/embed"
	"github.com/quarry-rag/quarry/internal/kernels"
	"github.com/quarry-rag/quarry/internal/models/transformer"
)

// Options configure New. A nil *Options is valid; every zero field means
// its default.
type Options struct {
	// Head is the classifier head. Default: the head shipped in the
	// binary (DefaultHead), trained by `go run ./internal/guard/cmd/train`.
	Head *Head
	// Threshold overrides the head's decision threshold (0, 1).
	// Default: the head's (0.5).
	Threshold float64
	// WindowRunes is the length of the windows a long text is cut into;
	// each is scored and the text's score is the highest. Default 480
	// runes, about the 128 tokens the head was trained on.
	WindowRunes int
	// MaxBytes bounds one text; longer texts fail with ErrTooLong.
	// Default 4 MiB.
	MaxBytes int
}

// ErrTooLong: a text is longer than Options.MaxBytes.
var ErrTooLong = errors.New("guard: text too long")

// Detector scores texts for prompt injection. It is safe for concurrent
// use; it holds no resources of its own (the embedder belongs to the
// caller).
type Detector struct {
	emb       embed.Embedder
	owned     io.Closer // the embedder, when OpenLocal opened it
	head      *Head
	threshold float64
	window    int
	maxBytes  int
}

// Result is a scored text.
type Result struct {
	// Score is the probability-like injection score in [0, 1].
	Score float64
	// Injection is Score ≥ the detector's threshold.
	Injection bool
	// Tricks are the obfuscations Normalize undid.
	Tricks Obfuscation
}

// New returns a detector that embeds with emb, which must be the encoder
// the head was trained on (its Name and Dim are checked).
func New(emb embed.Embedder, opts *Options) (*Detector, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Head == nil {
		h, err := DefaultHead()
		if err != nil {
			return nil, err
		}
		o.Head = h
	}
	if o.Threshold == 0 {
		o.Threshold = o.Head.Threshold
	}
	if !(o.Threshold > 0 && o.Threshold < 1) {
		return nil, fmt.Errorf("guard: threshold %v outside (0, 1)", o.Threshold)
	}
	if o.WindowRunes == 0 {
		o.WindowRunes = 480
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = 4 << 20
	}
	if o.WindowRunes < 16 || o.MaxBytes < 0 {
		return nil, fmt.Errorf("guard: WindowRunes %d (min 16) or MaxBytes %d invalid", o.WindowRunes, o.MaxBytes)
	}
	if emb == nil {
		return nil, errors.New("guard: nil embedder")
	}
	if emb.Name() != o.Head.Encoder {
		return nil, fmt.Errorf("%w: trained on %s, embedder is %s", ErrHead, o.Head.Encoder, emb.Name())
	}
	if d := emb.Dim(); d != 0 && d != o.Head.Dim {
		return nil, fmt.Errorf("%w: dimension %d, embedder has %d", ErrHead, o.Head.Dim, d)
	}
	return &Detector{emb: emb, head: o.Head, threshold: o.Threshold, window: o.WindowRunes, maxBytes: o.MaxBytes}, nil
}

// OpenLocal opens the head's encoder from the local model cache (no
// network; `make models` fetches it) with the truncation the head was
// trained with, and returns a detector that owns it: Close releases it.
// Use New to share an embedder the pipeline already has.
func OpenLocal(opts *Options) (*Detector, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Head == nil {
		h, err := DefaultHead()
		if err != nil {
			return nil, err
		}
		o.Head = h
	}
	name := strings.TrimPrefix(o.Head.Encoder, "local:")
	if name == o.Head.Encoder {
		return nil, fmt.Errorf("%w: encoder %s is not a local model", ErrHead, o.Head.Encoder)
	}
	// The detector's own encoder runs int8 where the CPU has an int8
	// kernel: a question scores in 4 ms instead of 11 on the 2-core
	// AVX-512 machine, with the same verdicts on all six injection sets
	// (int8 embeddings are at cosine 0.999 to float32).
	q := transformer.Float32
	if kernels.Int8Accelerated() {
		q = transformer.Int8
	}
	emb, err := embed.NewLocal(name, embed.LocalOptions{MaxTokens: o.Head.MaxTokens, Quantization: q})
	if err != nil {
		return nil, fmt.Errorf("guard: %w", err)
	}
	d, err := New(emb, &o)
	if err != nil {
		emb.Close()
		return nil, err
	}
	d.owned = emb
	return d, nil
}

// Close releases the embedder if OpenLocal opened it; otherwise it does
// nothing.
func (d *Detector) Close() error {
	if d.owned != nil {
		return d.owned.Close()
	}
	return nil
}

// Threshold is the score at and above which a text is an injection.
func (d *Detector) Threshold() float64 { return d.threshold }

// Encoder is the Name of the embedder whose vectors ScoreVectors accepts.
func (d *Detector) Encoder() string { return d.head.Encoder }

// Score scores one text (a question, a chat message or a chunk).
func (d *Detector) Score(ctx context.Context, text string) (float64, error) {
	r, err := d.CheckMany(ctx, []string{text}, embed.Query)
	if err != nil {
		return 0, err
	}
	return r[0].Score, nil
}

// ScoreMany scores texts in one batch; kind is how they would be embedded
// for retrieval (embed.Query for questions, embed.Passage for chunks).
func (d *Detector) ScoreMany(ctx context.Context, texts []string, kind embed.Kind) ([]float64, error) {
	r, err := d.CheckMany(ctx, texts, kind)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(r))
	for i := range r {
		out[i] = r[i].Score
	}
	return out, nil
}

// CheckMany scores texts in one batch and reports what it found.
func (d *Detector) CheckMany(ctx context.Context, texts []string, kind embed.Kind) ([]Result, error) {
	return d.check(ctx, texts, nil, kind)
}

// ScoreVectors scores texts whose embeddings the caller already has —
// the vectors computed for dense indexing (kind embed.Passage) or for
// retrieval (embed.Query) by the same encoder the head was trained on —
// so that scoring chunks at ingest costs no second pass of the encoder.
// A text whose normalisation changes nothing is scored from its vector
// and the rules over the whole text; a text with hidden characters,
// homoglyphs or encoded parts is embedded again, window by window, from
// its cleaned form.
func (d *Detector) ScoreVectors(ctx context.Context, texts []string, vecs [][]float32, kind embed.Kind) ([]Result, error) {
	if len(vecs) != len(texts) {
		return nil, fmt.Errorf("guard: %d vectors for %d texts", len(vecs), len(texts))
	}
	for i, v := range vecs {
		if len(v) != d.head.Dim {
			return nil, fmt.Errorf("%w: vector %d has dimension %d, want %d", ErrHead, i, len(v), d.head.Dim)
		}
	}
	return d.check(ctx, texts, vecs, kind)
}

// piece is one window of one text to score.
type piece struct {
	text  int
	clean string
	feat  [numFeatures]float32
	vec   []float32
}

func (d *Detector) check(ctx context.Context, texts []string, vecs [][]float32, kind embed.Kind) ([]Result, error) {
	out := make([]Result, len(texts))
	var pieces []piece
	for i, t := range texts {
		if len(t) > d.maxBytes {
			return nil, fmt.Errorf("%w: text %d has %d bytes (limit %d)", ErrTooLong, i, len(t), d.maxBytes)
		}
		n := Normalize(t)
		n.Text = distinctSentences(n.Text)
		out[i].Tricks = n.Tricks
		wins := windows(n.Text, d.window)
		// Sentences that a rule matches are also scored alone, so that an
		// instruction hidden in a benign text is not diluted by it (also
		// in one window: a paragraph of prose around one instruction).
		for _, s := range ruleSentences(n.Text, 8) {
			if s != n.Text {
				pieces = append(pieces, piece{text: i, clean: s, feat: features(Normalized{Text: s, Tricks: n.Tricks})})
			}
		}
		if vecs != nil && sameText(n.Text, t) {
			pieces = append(pieces, piece{text: i, clean: n.Text, feat: features(n), vec: vecs[i]})
			continue
		}
		for _, w := range wins {
			pieces = append(pieces, piece{text: i, clean: w, feat: features(Normalized{Text: w, Tricks: n.Tricks})})
		}

	}
	var todo []string
	var idx []int
	for k, p := range pieces {
		if p.vec == nil {
			todo = append(todo, p.clean)
			idx = append(idx, k)
		}
	}
	if len(todo) > 0 {
		vs, err := d.emb.Embed(ctx, todo, kind)
		if err != nil {
			return nil, fmt.Errorf("guard: embed: %w", err)
		}
		if len(vs) != len(todo) {
			return nil, fmt.Errorf("guard: embedder returned %d vectors for %d texts", len(vs), len(todo))
		}
		for j, k := range idx {
			if len(vs[j]) != d.head.Dim {
				return nil, fmt.Errorf("%w: embedder returned dimension %d, want %d", ErrHead, len(vs[j]), d.head.Dim)
			}
			pieces[k].vec = vs[j]
		}
	}
	buf := make([]float32, 0, d.head.Dim+numFeatures)
	for _, p := range pieces {
		buf = d.head.input(p.vec, p.feat, buf)
		s := sigmoid(d.head.logit(buf))
		if s > out[p.text].Score {
			out[p.text].Score = s
		}
	}
	for i := range out {
		out[i].Injection = out[i].Score >= d.threshold
	}
	return out, nil
}

// sameText reports whether normalisation left the text alone (but for
// surrounding space), so its existing embedding stands for the cleaned
// text.
func sameText(clean, raw string) bool { return clean == strings.TrimSpace(raw) || clean == raw }

// windows cuts text into pieces of at most n runes, at a space where
// there is one in the last fifth, overlapping by an eighth so that a
// sentence cut at one edge is whole in the next window. A text of at most
// n runes (the usual question or chunk) is one window; an empty text is
// one empty window.
func windows(text string, n int) []string {
	rs := []rune(text)
	if len(rs) <= n {
		return []string{text}
	}
	var out []string
	overlap := n / 8
	for start := 0; start < len(rs); {
		end := min(start+n, len(rs))
		if end < len(rs) {
			for k := end; k > end-n/5; k-- {
				if unicode.IsSpace(rs[k]) {
					end = k
					break
				}
			}
		}
		out = append(out, string(rs[start:end]))
		if end == len(rs) {
			break
		}
		start = max(end-overlap, start+1)
	}
	return out
}

// ruleSentences returns, for a text of several sentences, up to limit sentences (of at least three
// words, at most a window long) that a rule family matches.
func ruleSentences(text string, limit int) []string {
	var out []string
	all := sentenceEnd.Split(text, -1)
	n := 0
	for _, s := range all {
		if strings.TrimSpace(s) != "" {
			n++
		}
	}
	if n < 2 {
		return nil // one sentence: the text itself
	}
	for _, s := range all {
		s = strings.TrimSpace(s)
		if len(strings.Fields(s)) < 3 || len(s) > 2000 {
			continue
		}
		h := ruleHits(s)
		for _, n := range h {
			if n > 0 {
				out = append(out, s)
				break
			}
		}
		if len(out) == limit {
			break
		}
	}
	return out
}
