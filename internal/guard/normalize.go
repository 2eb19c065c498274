package guard

import (
	"encoding/base64"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Obfuscation is a set of tricks Normalize undid in a text. Each one is a
// signal of its own: benign text rarely hides characters.
type Obfuscation uint16

const (
	// ZeroWidth: zero-width spaces, joiners, soft hyphens or BOMs inside
	// the text.
	ZeroWidth Obfuscation = 1 << iota
	// Bidi: bidirectional override or isolate controls.
	Bidi
	// TagChars: Unicode tag characters (U+E0000 block), which render as
	// nothing but spell out ASCII ("ASCII smuggling").
	TagChars
	// Homoglyphs: Cyrillic or Greek letters that look Latin inside a word
	// that is otherwise Latin.
	Homoglyphs
	// Base64: a base64 run that decodes to readable text.
	Base64
	// Rot13: the text names rot13 and its rot13 reading was added.
	Rot13
	// Spaced: letters written one by one ("i g n o r e").
	Spaced
	// Compat: NFKC changed the text (full-width or mathematical letters,
	// ligatures); common in benign CJK text, so weak on its own.
	Compat
)

// Normalized is a text as the detector reads it.
type Normalized struct {
	// Text is the cleaned text: NFKC, invisible and bidi controls
	// removed, tag characters decoded, homoglyphs folded, spaced letters
	// joined; decoded base64 and rot13 readings appended on lines of
	// their own.
	Text string
	// Tricks are the obfuscations found.
	Tricks Obfuscation
}

// MaxNormalizeBytes bounds the text Normalize reads; the rest is cut (the
// detector windows long texts before it normalises them).
const MaxNormalizeBytes = 1 << 20

// Normalize undoes the common ways of hiding an instruction from a
// classifier. It never fails: invalid UTF-8 becomes U+FFFD.
func Normalize(s string) Normalized {
	if len(s) > MaxNormalizeBytes {
		s = s[:MaxNormalizeBytes]
	}
	if isASCII(s) {
		// Nothing to remove, decode or fold: ASCII holds no invisible,
		// bidi or tag characters, NFKC leaves it unchanged and homoglyphs
		// are Cyrillic or Greek. Most questions take this path.
		return finishNormalize(s, 0)
	}
	return normalizeUnicode(s)
}

// normalizeUnicode is Normalize's general path, for any text.
func normalizeUnicode(s string) Normalized {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var tricks Obfuscation
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case isZeroWidth(r):
			tricks |= ZeroWidth
		case isBidi(r):
			tricks |= Bidi
		case r >= 0xE0000 && r <= 0xE007F:
			tricks |= TagChars
			if r >= 0xE0020 && r <= 0xE007E {
				b.WriteRune(r - 0xE0000)
			}
		default:
			b.WriteRune(r)
		}
	}
	t := b.String()
	if n := norm.NFKC.String(t); n != t {
		tricks |= Compat
		t = n
	}
	if f, ok := foldHomoglyphs(t); ok {
		tricks |= Homoglyphs
		t = f
	}
	return finishNormalize(t, tricks)
}

// finishNormalize joins spaced letters and appends decoded readings.
func finishNormalize(t string, tricks Obfuscation) Normalized {
	if j, ok := joinSpaced(t); ok {
		tricks |= Spaced
		t = j
	}
	var extra []string
	if dec := decodeBase64Runs(t); len(dec) > 0 {
		tricks |= Base64
		extra = append(extra, dec...)
	}
	if mentionsRot13(t) {
		tricks |= Rot13
		extra = append(extra, rot13(t))
	}
	if len(extra) > 0 {
		t = t + "\n" + strings.Join(extra, "\n")
	}
	return Normalized{Text: t, Tricks: tricks}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isZeroWidth(r rune) bool {
	switch r {
	case 0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E,
		0x200B, 0x200C, 0x200D, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064,
		0x3164, 0xFEFF, 0xFFA0:
		return true
	}
	return r >= 0xFE00 && r <= 0xFE0F // variation selectors
}

func isBidi(r rune) bool {
	return r == 0x200E || r == 0x200F || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// homoglyphs maps Cyrillic and Greek letters to the Latin letters they
// look like.
var homoglyphs = map[rune]rune{
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c',
	'т': 't', 'у': 'y', 'х': 'x', 'ѕ': 's', 'і': 'i', 'ї': 'i', 'ј': 'j', 'ԁ': 'd', 'ɡ': 'g', 'ԛ': 'q', 'ԝ': 'w',
	'А': 'A', 'В': 'B', 'Е': 'E', 'К': 'K', 'М': 'M', 'Н': 'H', 'О': 'O', 'Р': 'P', 'С': 'C', 'Т': 'T',
	'У': 'Y', 'Х': 'X', 'Ѕ': 'S', 'І': 'I', 'Ј': 'J', 'Ԁ': 'D', 'Ԛ': 'Q', 'Ԝ': 'W',
	// Greek
	'α': 'a', 'ε': 'e', 'ι': 'i', 'κ': 'k', 'ο': 'o', 'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x', 'ν': 'v',
	'Α': 'A', 'Β': 'B', 'Ε': 'E', 'Ζ': 'Z', 'Η': 'H', 'Ι': 'I', 'Κ': 'K', 'Μ': 'M', 'Ν': 'N', 'Ο': 'O',
	'Ρ': 'P', 'Τ': 'T', 'Υ': 'Y', 'Χ': 'X',
}

// foldHomoglyphs folds look-alike letters in words that mix Latin with
// Cyrillic or Greek; words wholly in one script are left alone, so Russian
// and Greek text keep their letters.
func foldHomoglyphs(s string) (string, bool) {
	changed := false
	var b strings.Builder
	start := -1
	flush := func(end int) {
		w := s[start:end]
		latin, other := false, false
		for _, r := range w {
			if r < utf8.RuneSelf && unicode.IsLetter(r) {
				latin = true
			} else if _, ok := homoglyphs[r]; ok {
				other = true
			} else if unicode.IsLetter(r) && !unicode.Is(unicode.Latin, r) {
				latin = false // a real foreign word: leave it
				other = false
				break
			}
		}
		if latin && other {
			changed = true
			for _, r := range w {
				if l, ok := homoglyphs[r]; ok {
					r = l
				}
				b.WriteRune(r)
			}
			return
		}
		b.WriteString(w)
	}
	for i, r := range s {
		if unicode.IsLetter(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			flush(i)
			start = -1
		}
		b.WriteRune(r)
	}
	if start >= 0 {
		flush(len(s))
	}
	if !changed {
		return s, false
	}
	return b.String(), true
}

// joinSpaced joins runs of at least five single letters separated by one
// space, dot, dash or underscore ("i g n o r e" → "ignore").
func joinSpaced(s string) (string, bool) {
	if isASCII(s) && !hasSpacedRunASCII(s) {
		return s, false
	}
	rs := []rune(s)
	var out []rune
	changed := false
	i := 0
	for i < len(rs) {
		// a run: letter sep letter sep letter ...
		if unicode.IsLetter(rs[i]) && (i == 0 || !unicode.IsLetter(rs[i-1])) {
			j := i
			n := 1
			for j+2 < len(rs) && isSpacer(rs[j+1]) && unicode.IsLetter(rs[j+2]) && (j+3 >= len(rs) || !unicode.IsLetter(rs[j+3])) {
				j += 2
				n++
			}
			if n >= 5 {
				for k := i; k <= j; k += 2 {
					out = append(out, rs[k])
				}
				changed = true
				i = j + 1
				continue
			}
		}
		out = append(out, rs[i])
		i++
	}
	if !changed {
		return s, false
	}
	return string(out), true
}

// hasSpacedRunASCII reports whether ASCII s holds a run joinSpaced would
// join: the same scan on bytes, without converting to runes.
func hasSpacedRunASCII(s string) bool {
	letter := func(i int) bool { c := s[i] | 0x20; return c >= 'a' && c <= 'z' }
	for i := 0; i < len(s); i++ {
		if !letter(i) || (i > 0 && letter(i-1)) {
			continue
		}
		j, n := i, 1
		for j+2 < len(s) && isSpacer(rune(s[j+1])) && letter(j+2) && (j+3 >= len(s) || !letter(j+3)) {
			j += 2
			n++
		}
		if n >= 5 {
			return true
		}
	}
	return false
}

func isSpacer(r rune) bool { return r == ' ' || r == '.' || r == '-' || r == '_' || r == '*' }

// decodeBase64Runs returns the readable decodings of base64 runs of at
// least 16 characters (at most 8 of them).
func decodeBase64Runs(s string) []string {
	var out []string
	i := 0
	for i < len(s) && len(out) < 8 {
		if !isB64(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isB64(s[j]) {
			j++
		}
		run := s[i:j]
		i = j
		if len(run) < 16 || !mixedB64(run) {
			continue
		}
		run = strings.TrimRight(run, "=")
		if len(run)%4 == 1 {
			run = run[:len(run)-1]
		}
		var dec []byte
		var err error
		if strings.ContainsAny(run, "-_") {
			dec, err = base64.RawURLEncoding.DecodeString(run)
		} else {
			dec, err = base64.RawStdEncoding.DecodeString(run)
		}
		if err != nil || len(dec) < 8 || !readable(dec) {
			continue
		}
		out = append(out, string(dec))
	}
	return out
}

func isB64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' || c == '-' || c == '_'
}

// mixedB64 rejects runs that are plain words or numbers: base64 of text
// mixes upper, lower case and usually digits.
func mixedB64(s string) bool {
	var up, lo, dig bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			up = true
		case c >= 'a' && c <= 'z':
			lo = true
		case c >= '0' && c <= '9':
			dig = true
		}
	}
	return up && lo && (dig || len(s) >= 24)
}

// readable: valid UTF-8, at least 85% letters, digits, spaces and
// punctuation, and at least one space.
func readable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	good, n, space := 0, 0, false
	for _, r := range string(b) {
		n++
		if r == ' ' {
			space = true
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || unicode.IsPunct(r) {
			good++
		}
	}
	return space && good*100 >= n*85
}

func mentionsRot13(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "rot13") || strings.Contains(l, "rot-13") || strings.Contains(l, "rot 13") || strings.Contains(l, "caesar")
}

func rot13(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return 'a' + (r-'a'+13)%26
		case r >= 'A' && r <= 'Z':
			return 'A' + (r-'A'+13)%26
		}
		return r
	}, s)
}

// distinctSentences drops every sentence (or line) of text that repeats an
// earlier one, compared case-folded and with space collapsed, keeping the
// first occurrences in order. The encoder reads a benign sentence repeated
// ten times as something unlike prose — "Sediment settles in layers over
// time." scores 0.000 once and 0.66 ten times — while an instruction
// repeated is still there once; so the detector scores what a text says,
// not how often. Texts without repeats come back unchanged (the same
// string), so their stored embeddings still stand for them.
func distinctSentences(text string) string {
	var (
		seen    map[string]bool
		b       strings.Builder
		dropped bool
		start   int
	)
	flush := func(end int) {
		s := text[start:end]
		start = end
		key := strings.ToLower(strings.Join(strings.Fields(s), " "))
		if key == "" { // white space between sentences stays
			b.WriteString(s)
			return
		}
		if seen == nil {
			seen = map[string]bool{}
		}
		if seen[key] {
			dropped = true
			return
		}
		seen[key] = true
		b.WriteString(s)
	}
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '\n':
			flush(i + 1)
		case (c == '.' || c == '!' || c == '?') && (i+1 == len(text) || text[i+1] == ' ' || text[i+1] == '\n'):
			// The sentence keeps its end mark and the spaces after it.
			j := i + 1
			for j < len(text) && text[j] == ' ' {
				j++
			}
			flush(j)
			i = j - 1
		}
	}
	if start < len(text) {
		flush(len(text))
	}
	if !dropped {
		return text
	}
	return strings.TrimSpace(b.String())
}
