package tokenizer

import (
	"regexp"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites a normalized string in place.
type normalizer interface {
	normalize(n *normalized, t *transformer)
}

type sequenceNormalizer []normalizer

func (s sequenceNormalizer) normalize(n *normalized, t *transformer) {
	for _, x := range s {
		x.normalize(n, t)
	}
}

// bertNormalizer is BertNormalizer: text cleaning, CJK padding, accent
// stripping and lower-casing.
type bertNormalizer struct {
	cleanText, chineseChars, stripAccents, lowercase bool
}

func (b *bertNormalizer) normalize(n *normalized, t *transformer) {
	if b.cleanText {
		filterRunes(n, t, func(r rune) bool { return !(r == 0 || r == 0xFFFD || isControl(r)) })
		mapRunes(n, t, func(r rune) rune {
			if isBertWhitespace(r) {
				return ' '
			}
			return r
		})
	}
	if b.chineseChars && hasChinese(n.s) {
		t.edits = t.edits[:0]
		found := false
		for _, r := range string(n.s) {
			if isChineseChar(r) {
				found = true
				t.edits = append(t.edits, edit{' ', 0}, edit{r, 1}, edit{' ', 1})
			} else {
				t.edits = append(t.edits, edit{r, 0})
			}
		}
		if found {
			t.applyAll(n, 0)
		}
	}
	if b.stripAccents {
		decompose(n, t, norm.NFD)
		filterRunes(n, t, keepNonMn)
	}
	if b.lowercase {
		lowercase(n, t)
	}
}

func hasChinese(s []byte) bool {
	for i := 0; i < len(s); {
		if s[i] < 0xE3 { // every CJK range starts at U+3400 (0xE3 0x90 0x80)
			i++
			continue
		}
		r, sz := utf8.DecodeRune(s[i:])
		if isChineseChar(r) {
			return true
		}
		i += sz
	}
	return false
}

// isControl mirrors the reference: Unicode "Other" categories except the
// three whitespace controls.
func isControl(r rune) bool {
	if r < 0x80 {
		return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7F
	}
	switch r {
	case '\t', '\n', '\r':
		return false
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs)
}

func isBertWhitespace(r rune) bool {
	if r < 0x80 {
		return r == ' ' || (r >= '\t' && r <= '\r')
	}
	return r == '\t' || r == '\n' || r == '\r' || unicode.IsSpace(r)
}

func isChineseChar(r rune) bool {
	switch {
	case r >= 0x4E00 && r <= 0x9FFF,
		r >= 0x3400 && r <= 0x4DBF,
		r >= 0x20000 && r <= 0x2A6DF,
		r >= 0x2A700 && r <= 0x2B73F,
		r >= 0x2B740 && r <= 0x2B81F,
		r >= 0x2B920 && r <= 0x2CEAF,
		r >= 0xF900 && r <= 0xFAFF,
		r >= 0x2F800 && r <= 0x2FA1F:
		return true
	}
	return false
}

// isBertPunct is ASCII punctuation or any Unicode punctuation (P*).
func isBertPunct(r rune) bool {
	if r < 0x80 {
		return (r >= '!' && r <= '/') || (r >= ':' && r <= '@') || (r >= '[' && r <= '`') || (r >= '{' && r <= '~')
	}
	return unicode.IsPunct(r)
}

// filterRunes keeps the runes for which keep is true (NormalizedString::filter).
func filterRunes(n *normalized, t *transformer, keep func(rune) bool) {
	// Fast check: nothing to remove.
	drop := false
	for i := 0; i < len(n.s); {
		r, sz := decodeRune(n.s[i:])
		if !keep(r) {
			drop = true
			break
		}
		i += sz
	}
	if !drop {
		return
	}
	t.edits = t.edits[:0]
	removed := 0
	// Walk backwards, like the reference, so a kept rune carries the count
	// of removed runes that follow it.
	for i := len(n.s); i > 0; {
		r, sz := utf8.DecodeLastRune(n.s[:i])
		i -= sz
		if keep(r) {
			t.edits = append(t.edits, edit{r, int32(-removed)})
			removed = 0
		} else {
			removed++
		}
	}
	for i, j := 0, len(t.edits)-1; i < j; i, j = i+1, j-1 {
		t.edits[i], t.edits[j] = t.edits[j], t.edits[i]
	}
	t.applyAll(n, removed)
}

// mapRunes replaces each rune by f(rune).
func mapRunes(n *normalized, t *transformer, f func(rune) rune) {
	changed := false
	for i := 0; i < len(n.s); {
		r, sz := decodeRune(n.s[i:])
		if f(r) != r {
			changed = true
			break
		}
		i += sz
	}
	if !changed {
		return
	}
	t.edits = t.edits[:0]
	for _, r := range string(n.s) {
		t.edits = append(t.edits, edit{f(r), 0})
	}
	t.applyAll(n, 0)
}

func decodeRune(b []byte) (rune, int) {
	if b[0] < utf8.RuneSelf {
		return rune(b[0]), 1
	}
	return utf8.DecodeRune(b)
}

// lowercase applies the Unicode lowercase mapping rune by rune (U+0130 is
// the one rune whose unconditional mapping has two runes).
func lowercase(n *normalized, t *transformer) {
	changed := false
	for i := 0; i < len(n.s); {
		if c := n.s[i]; c < utf8.RuneSelf {
			if c >= 'A' && c <= 'Z' {
				changed = true
				break
			}
			i++
			continue
		}
		r, sz := utf8.DecodeRune(n.s[i:])
		if r == 0x130 || unicode.ToLower(r) != r {
			changed = true
			break
		}
		i += sz
	}
	if !changed {
		return
	}
	t.edits = t.edits[:0]
	for _, r := range string(n.s) {
		if r < utf8.RuneSelf {
			if r >= 'A' && r <= 'Z' {
				r += 'a' - 'A'
			}
			t.edits = append(t.edits, edit{r, 0})
			continue
		}
		if r == 0x130 {
			t.edits = append(t.edits, edit{'i', 0}, edit{0x307, 1})
			continue
		}
		t.edits = append(t.edits, edit{unicode.ToLower(r), 0})
	}
	t.applyAll(n, 0)
}

// decompose applies a Unicode normalization form segment by segment (a
// segment ends before each rune that starts a normalization boundary): within
// a segment, result runes up to the old rune count replace old runes, extra
// ones are inserted, and a shorter result drops the surplus old runes.
func decompose(n *normalized, t *transformer, form norm.Form) {
	if form.IsNormal(n.s) {
		return
	}
	if form == norm.NFD || form == norm.NFKD {
		decomposeRunes(n, t, form)
		return
	}
	t.edits = t.edits[:0]
	var out []byte
	for start := 0; start < len(n.s); {
		_, sz := utf8.DecodeRune(n.s[start:])
		end := start + sz
		for end < len(n.s) {
			if form.Properties(n.s[end:]).BoundaryBefore() {
				break
			}
			_, sz := utf8.DecodeRune(n.s[end:])
			end += sz
		}
		seg := n.s[start:end]
		oldCount := utf8.RuneCount(seg)
		out = form.Append(out[:0], seg...)
		newCount := utf8.RuneCount(out)
		k := 0
		for rest := out; len(rest) > 0; k++ {
			r, sz := utf8.DecodeRune(rest)
			rest = rest[sz:]
			c := int32(0)
			switch {
			case k >= oldCount:
				c = 1
			case k == newCount-1 && newCount < oldCount:
				c = int32(newCount - oldCount)
			}
			t.edits = append(t.edits, edit{r, c})
		}
		start = end
	}
	t.applyAll(n, 0)
}

// decomposeRunes applies NFD or NFKD rune by rune (the first rune of a
// decomposition replaces the source rune, the others are inserted), then
// puts each run of non-starters in canonical order, moving the edits along.
func decomposeRunes(n *normalized, t *transformer, form norm.Form) {
	t.edits = t.edits[:0]
	var buf [4]byte
	var out []byte
	for i := 0; i < len(n.s); {
		r, sz := utf8.DecodeRune(n.s[i:])
		i += sz
		w := utf8.EncodeRune(buf[:], r)
		out = form.Append(out[:0], buf[:w]...)
		for k, rest := 0, out; len(rest) > 0; k++ {
			d, dsz := utf8.DecodeRune(rest)
			rest = rest[dsz:]
			c := int32(0)
			if k > 0 {
				c = 1
			}
			t.edits = append(t.edits, edit{d, c})
		}
	}
	ccc := func(r rune) uint8 {
		w := utf8.EncodeRune(buf[:], r)
		return form.Properties(buf[:w]).CCC()
	}
	for i := 0; i < len(t.edits); {
		if ccc(t.edits[i].r) == 0 {
			i++
			continue
		}
		j := i
		for j < len(t.edits) && ccc(t.edits[j].r) != 0 {
			j++
		}
		run := t.edits[i:j]
		// insertion sort, stable by combining class
		for a := 1; a < len(run); a++ {
			for b := a; b > 0 && ccc(run[b].r) < ccc(run[b-1].r); b-- {
				run[b], run[b-1] = run[b-1], run[b]
			}
		}
		i = j
	}
	t.applyAll(n, 0)
}

func keepNonMn(r rune) bool { return r < 0x300 || !unicode.Is(unicode.Mn, r) }

type formNormalizer struct{ form norm.Form }

func (f formNormalizer) normalize(n *normalized, t *transformer) { decompose(n, t, f.form) }

type lowercaseNormalizer struct{}

func (lowercaseNormalizer) normalize(n *normalized, t *transformer) { lowercase(n, t) }

type stripAccentsNormalizer struct{}

func (stripAccentsNormalizer) normalize(n *normalized, t *transformer) {
	filterRunes(n, t, func(r rune) bool { return !unicode.Is(unicode.Mn, r) })
}

// stripNormalizer removes leading and/or trailing whitespace.
type stripNormalizer struct{ left, right bool }

func (s stripNormalizer) normalize(n *normalized, t *transformer) {
	str := string(n.s)
	lo, hi := 0, len(str)
	if s.left {
		for lo < hi {
			r, sz := utf8.DecodeRuneInString(str[lo:])
			if !unicode.IsSpace(r) {
				break
			}
			lo += sz
		}
	}
	if s.right {
		for hi > lo {
			r, sz := utf8.DecodeLastRuneInString(str[:hi])
			if !unicode.IsSpace(r) {
				break
			}
			hi -= sz
		}
	}
	if lo == 0 && hi == len(str) {
		return
	}
	leading := utf8.RuneCountInString(str[:lo])
	trailing := utf8.RuneCountInString(str[hi:])
	t.edits = t.edits[:0]
	for _, r := range str[lo:hi] {
		t.edits = append(t.edits, edit{r, 0})
	}
	if trailing > 0 && len(t.edits) > 0 {
		t.edits[len(t.edits)-1].change = int32(-trailing)
	}
	t.applyAll(n, leading)
}

// prependNormalizer prepends a string to non-empty input.
type prependNormalizer struct{ s string }

func (p prependNormalizer) normalize(n *normalized, t *transformer) {
	if len(n.s) == 0 {
		return
	}
	prepend(n, t, p.s)
}

// prepend inserts s before the first rune of n (NormalizedString::prepend).
func prepend(n *normalized, t *transformer, s string) {
	if len(n.s) == 0 {
		return
	}
	first, sz := utf8.DecodeRune(n.s)
	t.edits = t.edits[:0]
	for i, r := range []rune(s) {
		c := int32(1)
		if i == 0 {
			c = 0
		}
		t.edits = append(t.edits, edit{r, c})
	}
	t.edits = append(t.edits, edit{first, 1})
	t.apply(n, 0, sz, 0)
}

// replaceNormalizer replaces every match of a literal or regular expression.
type replaceNormalizer struct {
	literal string
	re      *regexp.Regexp
	content string
}

func (p *replaceNormalizer) normalize(n *normalized, t *transformer) {
	var locs [][]int
	if p.re != nil {
		locs = p.re.FindAllIndex(n.s, -1)
	} else {
		locs = findLiteral(n.s, p.literal)
	}
	replaceMatches(n, t, locs, p.content)
}

func findLiteral(s []byte, lit string) [][]int {
	if lit == "" {
		return nil
	}
	var out [][]int
	for i := 0; i+len(lit) <= len(s); {
		if string(s[i:i+len(lit)]) == lit {
			out = append(out, []int{i, i + len(lit)})
			i += len(lit)
			continue
		}
		i++
	}
	return out
}

// replaceMatches rewrites each match [a,b) with content (NormalizedString::replace).
func replaceMatches(n *normalized, t *transformer, locs [][]int, content string) {
	if len(locs) == 0 {
		return
	}
	// Build the whole result in one pass: unmatched runes are kept (0), the
	// content of a match is inserted after dropping the matched runes.
	t.edits = t.edits[:0]
	prev := 0
	// Runes of a match are "removed" by folding them into the previous kept
	// rune's change, or into the initial offset when the match starts at 0.
	// That is not how the reference computes it, but the alignment of each
	// inserted rune is the same: the last byte of the match.
	out := normalized{s: make([]byte, 0, len(n.s)), align: make([]span, 0, len(n.s))}
	var buf [4]byte
	for _, l := range locs {
		a, b := l[0], l[1]
		out.s = append(out.s, n.s[prev:a]...)
		out.align = append(out.align, n.align[prev:a]...)
		var al span
		if b > a {
			al = n.align[b-1]
		} else if a > 0 {
			al = n.align[a-1]
		}
		for _, r := range content {
			w := utf8.EncodeRune(buf[:], r)
			out.s = append(out.s, buf[:w]...)
			for k := 0; k < w; k++ {
				out.align = append(out.align, al)
			}
		}
		prev = b
	}
	out.s = append(out.s, n.s[prev:]...)
	out.align = append(out.align, n.align[prev:]...)
	n.s, n.align = out.s, out.align
}
