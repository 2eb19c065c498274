package tokenizer

import "unicode/utf8"

// span is the half-open byte range [0]..[1] of the original input that one
// normalized byte came from.
type span [2]int32

// normalized is a normalized string together with, for each of its bytes,
// the range of the original input it stems from. It mirrors the alignment
// model of Hugging Face's NormalizedString so that offsets agree with the
// reference implementation, quirks included.
type normalized struct {
	s     []byte
	align []span
}

// edit is one character of a transformation result: the rune and its change
// relative to the string being transformed, as in NormalizedString::transform:
//
//	0  the rune replaces the next old rune
//	>0 the rune is inserted (it shares the alignment of the previous old byte)
//	-n the rune replaces the next old rune and the n old runes after it are dropped
type edit struct {
	r      rune
	change int32
}

// reset makes n the identity normalization of s[lo:hi] of the original.
func (n *normalized) reset(s string, lo int) {
	n.s = append(n.s[:0], s...)
	n.align = n.align[:0]
	for i := 0; i < len(s); {
		_, sz := utf8.DecodeRuneInString(s[i:])
		sp := span{int32(lo + i), int32(lo + i + sz)}
		for k := 0; k < sz; k++ {
			n.align = append(n.align, sp)
		}
		i += sz
	}
}

// transformer holds scratch buffers reused across transformations.
type transformer struct {
	edits []edit
	s     []byte
	align []span
}

// apply rewrites n[lo:hi] (normalized byte range) with the edits in t.edits.
// initial is the number of old runes removed at the very beginning.
func (t *transformer) apply(n *normalized, lo, hi int, initial int) {
	old := n.s[lo:hi]
	pos := 0 // read position in old (relative to lo)
	for ; initial > 0 && pos < len(old); initial-- {
		_, sz := utf8.DecodeRune(old[pos:])
		pos += sz
	}
	t.s = t.s[:0]
	t.align = t.align[:0]
	var buf [4]byte
	for _, e := range t.edits {
		idx := lo + pos
		var a span
		if e.change > 0 {
			if idx >= 1 && idx-1 < len(n.align) {
				a = n.align[idx-1]
			}
		} else if idx < len(n.align) {
			a = n.align[idx]
		} else if len(n.align) > 0 {
			a = n.align[len(n.align)-1]
		}
		if e.change <= 0 && pos < len(old) {
			_, sz := utf8.DecodeRune(old[pos:])
			pos += sz
		}
		for k := e.change; k < 0 && pos < len(old); k++ {
			_, sz := utf8.DecodeRune(old[pos:])
			pos += sz
		}
		w := utf8.EncodeRune(buf[:], e.r)
		t.s = append(t.s, buf[:w]...)
		for k := 0; k < w; k++ {
			t.align = append(t.align, a)
		}
	}
	if lo == 0 && hi == len(n.s) {
		n.s, t.s = t.s, n.s
		n.align, t.align = t.align, n.align
		return
	}
	// Splice: rebuild into the scratch buffers then swap.
	ns := make([]byte, 0, len(n.s)-len(old)+len(t.s))
	ns = append(ns, n.s[:lo]...)
	ns = append(ns, t.s...)
	ns = append(ns, n.s[hi:]...)
	na := make([]span, 0, len(ns))
	na = append(na, n.align[:lo]...)
	na = append(na, t.align...)
	na = append(na, n.align[hi:]...)
	n.s, n.align = ns, na
}

// applyAll rewrites the whole of n.
func (t *transformer) applyAll(n *normalized, initial int) { t.apply(n, 0, len(n.s), initial) }

// originalRange maps the normalized byte range [a,b) to the original one,
// like NormalizedString::convert_offsets (first start, last end).
func (n *normalized) originalRange(a, b int) (int, int) {
	if a >= b || a >= len(n.align) {
		if a < len(n.align) {
			return int(n.align[a][0]), int(n.align[a][0])
		}
		if len(n.align) > 0 {
			e := int(n.align[len(n.align)-1][1])
			return e, e
		}
		return 0, 0
	}
	if b > len(n.align) {
		b = len(n.align)
	}
	return int(n.align[a][0]), int(n.align[b-1][1])
}
