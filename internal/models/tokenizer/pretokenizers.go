package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// piece is a byte range [lo,hi) of a normalized string, the unit that
// pre-tokenizers split and models tokenize.
type piece struct {
	n      *normalized
	lo, hi int
}

// preTokenizer splits pieces further. It appends to out and returns it.
type preTokenizer interface {
	split(in, out []piece, t *transformer) []piece
}

type sequencePreTokenizer []preTokenizer

func (s sequencePreTokenizer) split(in, out []piece, t *transformer) []piece {
	cur := in
	for i, p := range s {
		if i == len(s)-1 {
			return p.split(cur, out, t)
		}
		cur = p.split(cur, nil, t)
	}
	return append(out, cur...)
}

// runeSplitter splits on runes classified by kind: 0 keep, 1 remove
// (whitespace), 2 isolate (punctuation).
type runeSplitter struct {
	kind func(r rune) int
}

func (rs runeSplitter) split(in, out []piece, _ *transformer) []piece {
	for _, p := range in {
		s := p.n.s
		start := p.lo
		for i := p.lo; i < p.hi; {
			r, sz := decodeRune(s[i:])
			switch rs.kind(r) {
			case 1:
				if i > start {
					out = append(out, piece{p.n, start, i})
				}
				start = i + sz
			case 2:
				if i > start {
					out = append(out, piece{p.n, start, i})
				}
				out = append(out, piece{p.n, i, i + sz})
				start = i + sz
			}
			i += sz
		}
		if p.hi > start {
			out = append(out, piece{p.n, start, p.hi})
		}
	}
	return out
}

func bertPreTokenizer() preTokenizer {
	return runeSplitter{kind: func(r rune) int {
		if r < utf8.RuneSelf {
			switch {
			case r == ' ' || (r >= '\t' && r <= '\r'):
				return 1
			case isBertPunct(r):
				return 2
			}
			return 0
		}
		if unicode.IsSpace(r) {
			return 1
		}
		if isBertPunct(r) {
			return 2
		}
		return 0
	}}
}

func whitespaceSplitPreTokenizer() preTokenizer {
	return runeSplitter{kind: func(r rune) int {
		if unicode.IsSpace(r) {
			return 1
		}
		return 0
	}}
}

func punctuationPreTokenizer() preTokenizer {
	return runeSplitter{kind: func(r rune) int {
		if isBertPunct(r) {
			return 2
		}
		return 0
	}}
}

func digitsPreTokenizer(individual bool) preTokenizer {
	if individual {
		return runeSplitter{kind: func(r rune) int {
			if unicode.IsDigit(r) {
				return 2
			}
			return 0
		}}
	}
	return classSplitter{class: func(r rune) int {
		if unicode.IsDigit(r) {
			return 1
		}
		return 0
	}}
}

// whitespacePreTokenizer is the reference's Whitespace: the regex
// \w+|[^\w\s]+, whitespace removed.
func whitespacePreTokenizer() preTokenizer {
	return classSplitter{class: func(r rune) int {
		switch {
		case unicode.IsSpace(r):
			return -1
		case isWordRune(r):
			return 1
		}
		return 2
	}}
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) ||
		unicode.Is(unicode.Pc, r) || unicode.Is(unicode.Nl, r) || r == 0x200C || r == 0x200D
}

// classSplitter groups maximal runs of runes of the same class; class -1 is
// dropped.
type classSplitter struct{ class func(r rune) int }

func (cs classSplitter) split(in, out []piece, _ *transformer) []piece {
	for _, p := range in {
		start, cur := p.lo, -2
		for i := p.lo; i < p.hi; {
			r, sz := decodeRune(p.n.s[i:])
			c := cs.class(r)
			if c != cur {
				if cur != -1 && cur != -2 && i > start {
					out = append(out, piece{p.n, start, i})
				}
				start, cur = i, c
			}
			i += sz
		}
		if cur != -1 && cur != -2 && p.hi > start {
			out = append(out, piece{p.n, start, p.hi})
		}
	}
	return out
}

// Metaspace prepend schemes.
const (
	prependAlways = iota
	prependFirst
	prependNever
)

// metaspacePreTokenizer replaces spaces by the replacement rune, prepends
// one as configured, and splits before each replacement rune.
type metaspacePreTokenizer struct {
	replacement rune
	prepend     int
	splitOn     bool
}

func (m *metaspacePreTokenizer) splitPieces(in, out []piece, t *transformer) []piece {
	rep := string(m.replacement)
	for _, p := range in {
		if p.hi <= p.lo {
			continue
		}
		n := &normalized{
			s:     append([]byte(nil), p.n.s[p.lo:p.hi]...),
			align: append([]span(nil), p.n.align[p.lo:p.hi]...),
		}
		// ' ' -> replacement, alignment of the space.
		hasSpace := false
		for _, c := range n.s {
			if c == ' ' {
				hasSpace = true
				break
			}
		}
		if hasSpace {
			t.edits = t.edits[:0]
			for _, r := range string(n.s) {
				if r == ' ' {
					r = m.replacement
				}
				t.edits = append(t.edits, edit{r, 0})
			}
			t.applyAll(n, 0)
		}
		first, _ := utf8.DecodeRune(n.s)
		switch m.prepend {
		case prependAlways:
			if first != m.replacement {
				prepend(n, t, rep)
			}
		case prependFirst:
			if first != m.replacement && n.align[0][0] == 0 {
				prepend(n, t, rep)
			}
		}
		if !m.splitOn {
			out = append(out, piece{n, 0, len(n.s)})
			continue
		}
		// Split with the delimiter merged with the next piece.
		start := 0
		for i := 0; i < len(n.s); {
			r, sz := utf8.DecodeRune(n.s[i:])
			if r == m.replacement && i > start {
				out = append(out, piece{n, start, i})
				start = i
			}
			i += sz
		}
		if len(n.s) > start {
			out = append(out, piece{n, start, len(n.s)})
		}
	}
	return out
}

func (m *metaspacePreTokenizer) split(in, out []piece, t *transformer) []piece {
	return m.splitPieces(in, out, t)
}
