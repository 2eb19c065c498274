package text

import (
	"iter"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/clipperhouse/uax29/v2/sentences"
)

// Sentences splits text into sentences and returns their byte spans in
// order. The spans do not overlap and exclude the white space between
// sentences; every other byte of text is in exactly one span.
//
// The base is UAX #29 sentence segmentation, which already keeps decimals
// (3.14), lower-case continuations ("e.g. the") and closing quotes and
// brackets after a terminator ('He said "Stop."') right, and knows the
// terminators of many scripts (。！？ ۔ । ؟). On top of it, a boundary is
// removed when
//   - the sentence so far ends in a known abbreviation ("Dr.", "Fig.",
//     "vs.", "et al.", "z.B."), a single letter of any script ("J.",
//     Arabic "م.", Hindi "ई."; a lower-case one only in "z. B."), a short word in a script whose
//     sentences end with the danda ("डब्ल्यू.": there '.' abbreviates) or
//     a dotted acronym ("U.S.", "e.g.");
//   - the sentence so far ends in a day number the rest continues as a
//     date ("Am 8. Februar 2007 …": ordinals written with a dot);
//   - the sentence so far is only a list marker ("1.", "(a)", "iv.");
//   - the next sentence starts with a lower-case letter;
//   - the boundary is a single line break with no terminator before it (a
//     hard-wrapped line), unless the next line starts a list item.
//
// Thai and Lao mark no sentence end with punctuation: a space between two
// letters of those scripts is where a sentence may end, and it is taken as
// one when the dictionary segmenter finds at least minSpacedWords words on
// each side and the word after the space is not one that continues a
// clause ("และ" and, "ที่" that, ...). Khmer and Myanmar have their own
// full stops (។ ။), which UAX #29 knows.
//
// A blank line always ends a sentence. Known limitation: an abbreviation
// or acronym that really ends a sentence ("... in the U.S. Then ...") does
// not split it.
func Sentences(text string) []Span {
	var out []Span
	for sp := range SentencesSeq(text) {
		out = append(out, sp)
	}
	return out
}

// SentencesSeq yields the spans Sentences returns, one at a time, in
// memory independent of the length of text.
func SentencesSeq(text string) iter.Seq[Span] {
	return func(yield func(Span) bool) {
		it := sentences.FromString(text)
		var cur Span
		have := false
		for it.Next() {
			s, e := TrimSpan(text, it.Start(), it.End())
			if s == e {
				continue
			}
			if have {
				if joinSentences(text, cur, s) {
					cur.End = e
					continue
				}
				if !splitSpaced(text, cur, yield) {
					return
				}
			}
			cur, have = Span{s, e}, true
		}
		if have {
			splitSpaced(text, cur, yield)
		}
	}
}

// joinSentences decides whether the UAX #29 boundary between prev and the
// sentence starting at next is false.
func joinSentences(text string, prev Span, next int) bool {
	gap := text[prev.End:next]
	newlines := strings.Count(gap, "\n")
	if newlines == 0 {
		newlines = strings.Count(gap, "\r") // old Mac line ends
	}
	if newlines >= 2 || strings.ContainsAny(gap, "\u2029\f") {
		return false // paragraph break
	}
	body := text[prev.Start:prev.End]
	rest := text[next:]
	if isListMarker(body) {
		return true
	}
	last, _ := utf8.DecodeLastRuneInString(body)
	if last == '.' && (endsWithAbbreviation(body[:len(body)-1], rest) || ordinalDate(body[:len(body)-1], rest)) {
		return true
	}
	first, _ := utf8.DecodeRuneInString(rest)
	if newlines == 0 {
		return unicode.IsLower(first)
	}
	// A single line break: join hard-wrapped lines, keep list items and
	// lines after a terminator apart.
	if isListItemStart(rest) || strings.HasPrefix(body, "#") {
		return false
	}
	return !endsWithTerminator(body)
}

// endsWithTerminator reports whether s ends with sentence-final
// punctuation, possibly followed by closing quotes or brackets.
func endsWithTerminator(s string) bool {
	for len(s) > 0 {
		r, n := utf8.DecodeLastRuneInString(s)
		switch {
		case unicode.In(r, unicode.Pe, unicode.Pf) || r == '"' || r == '\'' || r == '»':
			s = s[:len(s)-n]
		default:
			return isTerminator(r)
		}
	}
	return false
}

func isTerminator(r rune) bool {
	switch r {
	case '.', '!', '?', ':', ';', '…', '。', '｡', '！', '？', '．', '۔', '।', '॥', '؟', '‼', '⁇', '⁈', '⁉':
		return true
	}
	return false
}

// endsWithAbbreviation reports whether s (the text before a final '.')
// ends with a word that is an abbreviation, an initial or a dotted
// acronym; rest is the text after the boundary.
func endsWithAbbreviation(s, rest string) bool {
	i := len(s)
	for i > 0 {
		r, n := utf8.DecodeLastRuneInString(s[:i])
		if !unicode.IsLetter(r) && !unicode.IsMark(r) && r != '.' {
			break
		}
		i -= n
	}
	w := s[i:]
	if w == "" || w[0] == '.' {
		return false
	}
	if r, _ := utf8.DecodeRuneInString(w); !unicode.IsLetter(r) {
		return false
	}
	letters := 0
	for _, r := range w {
		if unicode.IsLetter(r) {
			letters++
		}
	}
	if letters == 1 {
		// One letter (with its marks): an initial in a script with
		// capitals ("J. R. R. Tolkien") or without ("م. ثيو", Hindi
		// "टी. स्टाल्सवर्थ"). A lower-case one can be a variable ending a
		// sentence ("of size n. Then"), so it only joins a spaced
		// abbreviation of single letters ("z. B.", "d. h.").
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsLower(r) {
			return true
		}
		r1, n1 := utf8.DecodeRuneInString(rest)
		return unicode.IsLetter(r1) && strings.HasPrefix(rest[n1:], ".")
	}
	if letters <= 4 && !strings.Contains(w, ".") && dandaScript(w) {
		// Scripts whose sentences end with the danda use '.' only to
		// abbreviate: "डब्ल्यू. हेडन" (W. Haydon), "डॉ." (Dr.).
		return true
	}
	if _, ok := abbreviations[strings.ToLower(w)]; ok {
		return true
	}
	// Dotted acronyms: every dot-separated part one or two letters.
	if !strings.Contains(w, ".") {
		return false
	}
	for part := range strings.SplitSeq(w, ".") {
		if n := utf8.RuneCountInString(part); n == 0 || n > 2 {
			return false
		}
	}
	return true
}

// dandaScript reports a word in a script whose sentences end with the
// danda (।): Devanagari, Bengali, Gurmukhi, Oriya.
func dandaScript(w string) bool {
	for _, r := range w {
		if unicode.IsLetter(r) {
			return unicode.In(r, unicode.Devanagari, unicode.Bengali, unicode.Gurmukhi, unicode.Oriya)
		}
	}
	return false
}

// ordinalDate reports a day number before a '.' that the rest continues
// as a date ("Am 8. Februar 2007 gab …", "27. Januar 1967"): body ends in
// one or two digits after a space or at its start, and rest starts with a
// word followed by a year of three or four digits. Languages that write
// ordinals with a dot (German, the Nordic and Slavic languages, Finnish,
// Hungarian, Turkish) write dates so; a sentence that really ends in a
// small number is rarely followed by a word and a year.
func ordinalDate(body, rest string) bool {
	d := len(body)
	for d > 0 && body[d-1] >= '0' && body[d-1] <= '9' {
		d--
	}
	if n := len(body) - d; n == 0 || n > 2 {
		return false
	}
	if d > 0 {
		if r, _ := utf8.DecodeLastRuneInString(body[:d]); !unicode.IsSpace(r) && r != '(' {
			return false
		}
	}
	i := 0
	for i < len(rest) {
		r, n := utf8.DecodeRuneInString(rest[i:])
		if !unicode.IsLetter(r) {
			break
		}
		i += n
	}
	if i == 0 || i >= len(rest) || rest[i] != ' ' {
		return false
	}
	j := i + 1
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	if n := j - i - 1; n < 3 || n > 4 {
		return false
	}
	if j < len(rest) {
		r, _ := utf8.DecodeRuneInString(rest[j:])
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}
	return true
}

// abbreviations are words (lower-cased, without the final dot) after
// which a period almost never ends a sentence. Words that often do end
// one ("etc.", "usw.", "Inc.") are deliberately absent.
var abbreviations = func() map[string]struct{} {
	m := make(map[string]struct{})
	for _, w := range strings.Fields(`
		mr mrs ms mx dr prof rev hon st mt jr sr sen rep gov gen col lt sgt capt cmdr adm pres
		fig figs eq eqs ref refs vol vols nr p pp ch chap sect eds
		al cf viz vs approx ca dept univ corp assoc inst intl natl
		jan feb apr jun jul aug sep sept oct nov dec
		z.b bzw ggf evtl sog abb abs hrsg bd
		sra srta dra sres pág núm aprox
		mme mlle mgr
		т.е т.к г гг им ул стр см напр рис табл`) {
		m[w] = struct{}{}
	}
	return m
}()

// isListMarker reports whether s is only a list marker: "1.", "12)",
// "(a)", "a.", "iv.", "•".
func isListMarker(s string) bool {
	s = strings.TrimPrefix(s, "(")
	if s == "" {
		return false
	}
	last := s[len(s)-1]
	if last != '.' && last != ')' {
		return false
	}
	body := s[:len(s)-1]
	if body == "" || len(body) > 4 {
		return false
	}
	digits := true
	for i := 0; i < len(body); i++ {
		if body[i] < '0' || body[i] > '9' {
			digits = false
			break
		}
	}
	if digits {
		return true
	}
	if len(body) == 1 && (body[0] >= 'a' && body[0] <= 'z' || body[0] >= 'A' && body[0] <= 'Z') {
		return true
	}
	return strings.Trim(strings.ToLower(body), "ivxlc") == ""
}

// isListItemStart reports whether a line starting with s looks like a
// list item or a block that should not be joined to the line before.
func isListItemStart(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	switch r {
	case '-', '*', '+', '•', '‣', '◦', '–', '—', '#', '>', '|':
		return true
	}
	if r >= '0' && r <= '9' {
		i := n
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i < len(s) && (s[i] == '.' || s[i] == ')')
	}
	if r == '(' {
		return strings.IndexByte(s[:min(len(s), 6)], ')') > 0 // "(a)", "(12)", "(iv)"
	}
	return (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') && len(s) > 1 && s[1] == ')' // "a)"
}
