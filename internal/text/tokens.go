package text

import (
	"iter"
	"unicode"
	"unicode/utf8"

	"github.com/clipperhouse/uax29/v2/words"
)

// Span is a byte range [Start, End) of a string.
type Span struct {
	Start, End int
}

// CountTokens returns the number of word tokens in s: UAX #29 word
// segments that contain a letter or a digit, with every Han, kana and
// Hangul character counted on its own. This is the unit in which chunk
// sizes are measured. It equals the number of spans TokensSeq yields.
func CountTokens(s string) int {
	n := 0
	it := words.FromString(s)
	for it.Next() {
		seg := it.Value()
		if isASCII(seg) {
			for i := 0; i < len(seg); i++ {
				if isASCIIAlnum(seg[i]) {
					n++
					break
				}
			}
			continue
		}
		n += countSegment(seg)
	}
	return n
}

// countSegment counts the tokens of one non-ASCII word segment: one per
// CJK character and one per maximal run of other characters that contains
// a letter or a number.
func countSegment(seg string) int {
	n := 0
	inRun, runHasWord := false, false
	for _, r := range seg {
		switch {
		case isCJK(r):
			if runHasWord {
				n++
			}
			inRun, runHasWord = false, false
			n++
		case unicode.IsMark(r) && !inRun:
			// A mark after a CJK character belongs to it.
		default:
			inRun = true
			if !runHasWord && isWordRune(r) {
				runHasWord = true
			}
		}
	}
	if runHasWord {
		n++
	}
	return n
}

// TokensSeq yields the byte spans of the tokens CountTokens counts, in
// order. A span covers the whole word segment (or, for CJK, one character
// and any marks after it), so punctuation inside a word such as "don't"
// or "3.14" is part of its span.
func TokensSeq(s string) iter.Seq[Span] {
	return func(yield func(Span) bool) {
		it := words.FromString(s)
		for it.Next() {
			seg := it.Value()
			off := it.Start()
			if isASCII(seg) {
				for i := 0; i < len(seg); i++ {
					if isASCIIAlnum(seg[i]) {
						if !yield(Span{off, off + len(seg)}) {
							return
						}
						break
					}
				}
				continue
			}
			if !yieldSegment(seg, off, yield) {
				return
			}
		}
	}
}

// yieldSegment is countSegment yielding spans; it returns false when yield
// asked to stop.
func yieldSegment(seg string, off int, yield func(Span) bool) bool {
	runStart, runHasWord := -1, false
	cjkStart := -1 // start of the pending CJK character, -1 if none
	flushCJK := func(end int) bool {
		if cjkStart < 0 {
			return true
		}
		s := cjkStart
		cjkStart = -1
		return yield(Span{off + s, off + end})
	}
	for i := 0; i < len(seg); {
		r, n := utf8.DecodeRuneInString(seg[i:])
		switch {
		case isCJK(r):
			if runStart >= 0 {
				if runHasWord && !yield(Span{off + runStart, off + i}) {
					return false
				}
				runStart, runHasWord = -1, false
			}
			if !flushCJK(i) {
				return false
			}
			cjkStart = i
		case unicode.IsMark(r) && runStart < 0:
			// Attached to the preceding CJK character, if any.
		default:
			if !flushCJK(i) {
				return false
			}
			if runStart < 0 {
				runStart = i
			}
			if !runHasWord && isWordRune(r) {
				runHasWord = true
			}
		}
		i += n
	}
	if !flushCJK(len(seg)) {
		return false
	}
	if runStart >= 0 && runHasWord {
		return yield(Span{off + runStart, off + len(seg)})
	}
	return true
}
