package tokenizer

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors. Load wraps them with the file and the offending field.
var (
	// ErrUnsupported: the tokenizer.json uses a component (model, normalizer,
	// pre-tokenizer, post-processor) this package does not implement.
	ErrUnsupported = errors.New("tokenizer: unsupported")
	// ErrInvalid: the tokenizer.json is malformed or inconsistent.
	ErrInvalid = errors.New("tokenizer: invalid tokenizer.json")
)

// Tokenizer encodes text into model token ids. It is immutable after Load
// and safe for concurrent use.
type Tokenizer struct {
	normalizer normalizer // nil = identity
	pre        preTokenizer
	model      model
	post       *postProcessor
	added      addedVocab
	modelType  string
	truncation int // max_length from the file's truncation section, 0 if none

	pool sync.Pool // *scratch
}

// Encoding is the result of encoding one text or a pair of texts.
type Encoding struct {
	IDs     []int32
	TypeIDs []int32  // 0 for the first sequence, 1 for the second (as configured)
	Tokens  []string // token strings (for an unknown Unigram span: its text)
	// Offsets are byte offsets [start, end) into the input the token came
	// from (the first or the second text of a pair; see TypeIDs/SequenceIDs);
	// special tokens added by post-processing have {0, 0}.
	Offsets     [][2]int
	SpecialMask []bool // true for tokens added by post-processing
	// SequenceIDs tells which input each token comes from: 0, 1, or -1 for
	// tokens added by post-processing.
	SequenceIDs []int8
}

// Len returns the number of tokens.
func (e *Encoding) Len() int { return len(e.IDs) }

// EncodeOpts are per-call encoding options. A nil *EncodeOpts is valid.
type EncodeOpts struct {
	// MaxLen caps the total number of tokens, special tokens included; the
	// content is truncated (from the end; for pairs the longer sequence
	// first) and the special tokens are kept. 0 means no limit.
	MaxLen int
	// NoSpecialTokens skips post-processing (no [CLS]/[SEP], <s>/</s>).
	NoSpecialTokens bool
}

type scratch struct {
	tr      transformer
	n       normalized
	pieces  []piece
	pieces2 []piece
	toks    []token
	key     []byte
	lattice []latticeNode
	segs    []segment
}

// Load reads and parses a Hugging Face tokenizer.json file.
func Load(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: load: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: load %s: %w", path, err)
	}
	return t, nil
}

// ModelType returns the model type named in the file ("WordPiece", "Unigram").
func (t *Tokenizer) ModelType() string { return t.modelType }

// VocabSize returns the size of the model vocabulary (added tokens that are
// not in the vocabulary are not counted).
func (t *Tokenizer) VocabSize() int { return t.model.vocabSize() }

// TokenID returns the id of a vocabulary entry or added token.
func (t *Tokenizer) TokenID(s string) (int32, bool) {
	for _, a := range t.added.tokens {
		if a.content == s {
			return a.id, true
		}
	}
	return t.model.tokenID(s)
}

// FileMaxLen returns the truncation max_length the file configures, or 0.
// Encode does not apply it; callers pass it in EncodeOpts if they want it.
func (t *Tokenizer) FileMaxLen() int { return t.truncation }

// NumSpecialTokens returns how many tokens post-processing adds for a single
// text (pair false) or a pair.
func (t *Tokenizer) NumSpecialTokens(pair bool) int { return t.post.addedTokens(pair) }

// Encode encodes one text with special tokens and no truncation.
func (t *Tokenizer) Encode(text string) Encoding { return t.EncodeWith(text, nil) }

// EncodePair encodes a pair of texts (for cross-encoders) with special tokens.
func (t *Tokenizer) EncodePair(a, b string) Encoding { return t.EncodePairWith(a, b, nil) }

// EncodeWith encodes one text with options.
func (t *Tokenizer) EncodeWith(text string, opts *EncodeOpts) Encoding {
	return t.encode(text, "", false, opts)
}

// EncodePairWith encodes a pair of texts with options.
func (t *Tokenizer) EncodePairWith(a, b string, opts *EncodeOpts) Encoding {
	return t.encode(a, b, true, opts)
}

func (t *Tokenizer) getScratch() *scratch {
	if sc, ok := t.pool.Get().(*scratch); ok {
		return sc
	}
	return &scratch{}
}

func (t *Tokenizer) encode(a, b string, pair bool, opts *EncodeOpts) Encoding {
	var o EncodeOpts
	if opts != nil {
		o = *opts
	}
	sc := t.getScratch()
	defer t.pool.Put(sc)

	pa := t.encodeOne(a, sc)
	var pb part
	if pair {
		pb = t.encodeOne(b, sc)
	}
	special := !o.NoSpecialTokens
	if o.MaxLen > 0 {
		// Like the reference: the special tokens come out of the budget; a
		// budget smaller than the special tokens disables truncation; for
		// pairs the shorter sequence keeps up to half (the first one on a
		// tie) and the longer one gets the rest.
		budget := o.MaxLen
		if special {
			budget -= t.post.addedTokens(pair)
		}
		if budget >= 0 {
			na, nb := len(pa.ids), len(pb.ids)
			if na+nb > budget {
				if !pair {
					na = budget
				} else if na > nb {
					nb = min(nb, budget/2)
					na = budget - nb
				} else {
					na = min(na, budget/2)
					nb = budget - na
				}
			}
			pa.truncate(na)
			pb.truncate(nb)
		}
	}
	var enc Encoding
	n := len(pa.ids) + len(pb.ids)
	if special {
		n += t.post.addedTokens(pair)
	}
	enc.IDs = make([]int32, 0, n)
	enc.Tokens = make([]string, 0, n)
	enc.Offsets = make([][2]int, 0, n)
	enc.TypeIDs = make([]int32, 0, n)
	enc.SpecialMask = make([]bool, 0, n)
	var pbp *part
	if pair {
		pbp = &pb
	}
	post := t.post
	if !special {
		post = nil
	}
	post.apply(&pa, pbp, pair, &enc)
	// Sequence ids: recompute from the layout.
	enc.SequenceIDs = make([]int8, len(enc.IDs))
	seen := 0
	for i := range enc.IDs {
		switch {
		case enc.SpecialMask[i]:
			enc.SequenceIDs[i] = -1
		case seen < len(pa.ids):
			enc.SequenceIDs[i] = 0
			seen++
		default:
			enc.SequenceIDs[i] = 1
		}
	}
	return enc
}

func (p *part) truncate(n int) {
	if n < len(p.ids) {
		p.ids, p.tokens, p.offsets = p.ids[:n], p.tokens[:n], p.offsets[:n]
	}
}

// encodeOne runs added-token splitting, normalization, pre-tokenization and
// the model over one text. The returned slices are freshly allocated.
func (t *Tokenizer) encodeOne(text string, sc *scratch) part {
	var p part
	sc.segs = t.added.split(text, sc.segs[:0])
	for _, sg := range sc.segs {
		if sg.added >= 0 {
			at := &t.added.tokens[sg.added]
			p.ids = append(p.ids, at.id)
			p.tokens = append(p.tokens, text[sg.lo:sg.hi]) // with any l/rstripped space, as the reference
			p.offsets = append(p.offsets, [2]int{sg.lo, sg.hi})
			continue
		}
		n := &sc.n
		resetNormalized(n, text[sg.lo:sg.hi], sg.lo)
		if t.normalizer != nil {
			t.normalizer.normalize(n, &sc.tr)
		}
		// Added tokens matched after normalization split the normalized
		// string; their pieces bypass pre-tokenization and the model.
		sc.pieces = sc.pieces[:0]
		type hit struct{ lo, hi, idx int }
		var hits []hit
		if t.added.hasNormalized {
			for _, m := range t.added.matchNormalized(n.s) {
				hits = append(hits, hit{m[0], m[1], m[2]})
			}
		}
		prev := 0
		flush := func(lo, hi int) {
			if hi <= lo {
				return
			}
			sc.pieces = append(sc.pieces[:0], piece{n, lo, hi})
			pieces := sc.pieces
			if t.pre != nil {
				pieces = t.pre.split(sc.pieces, sc.pieces2[:0], &sc.tr)
				sc.pieces2 = pieces
			}
			for _, pc := range pieces {
				sc.toks = t.model.tokenize(pc.n.s[pc.lo:pc.hi], sc.toks[:0], sc)
				for _, tk := range sc.toks {
					s, e := pc.n.originalRange(pc.lo+tk.a, pc.lo+tk.b)
					p.ids = append(p.ids, tk.id)
					p.tokens = append(p.tokens, tk.value)
					p.offsets = append(p.offsets, [2]int{s, e})
				}
			}
		}
		for _, h := range hits {
			flush(prev, h.lo)
			at := &t.added.tokens[h.idx]
			s, e := n.originalRange(h.lo, h.hi)
			p.ids = append(p.ids, at.id)
			p.tokens = append(p.tokens, at.content)
			p.offsets = append(p.offsets, [2]int{s, e})
			prev = h.hi
		}
		flush(prev, len(n.s))
	}
	return p
}

// resetNormalized loads s (found at byte lo of the input) into n; each
// invalid UTF-8 byte becomes U+FFFD aligned to that byte.
func resetNormalized(n *normalized, s string, lo int) {
	if utf8.ValidString(s) {
		n.reset(s, lo)
		return
	}
	n.s = n.s[:0]
	n.align = n.align[:0]
	for i := 0; i < len(s); {
		r, sz := utf8.DecodeRuneInString(s[i:])
		sp := span{int32(lo + i), int32(lo + i + sz)}
		if r == utf8.RuneError && sz == 1 {
			n.s = append(n.s, "\uFFFD"...)
			n.align = append(n.align, sp, sp, sp)
		} else {
			n.s = append(n.s, s[i:i+sz]...)
			for k := 0; k < sz; k++ {
				n.align = append(n.align, sp)
			}
		}
		i += sz
	}
}

// isWordChar is used by single_word added tokens.
func isWordChar(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}
