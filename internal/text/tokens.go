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
// Hangul character counted on its own and Thai and Lao counted in
// dictionary words. This is the unit in which chunk
// sizes are measured. It equals the number of spans TokensSeq yields.
func CountTokens(s string) int {
	n := 0
	var run seaRun
	it := words.FromString(s)
	for it.Next() {
		seg := it.Value()
		if seg[0] >= 0xE0 && run.add(s, seg, it.Start()) {
			continue
		}
		if run.n > 0 {
			run.flush(func(Span) bool { n++; return true })
			if seg[0] >= 0xE0 && run.add(s, seg, it.Start()) {
				continue // a new run right after another
			}
		}
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
	run.flush(func(Span) bool { n++; return true })
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
		var run seaRun
		it := words.FromString(s)
		for it.Next() {
			seg := it.Value()
			off := it.Start()
			if seg[0] >= 0xE0 && run.add(s, seg, off) {
				continue
			}
			if run.n > 0 {
				if !run.flush(yield) {
					return
				}
				if seg[0] >= 0xE0 && run.add(s, seg, off) {
					continue // a new run right after another
				}
			}
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
		run.flush(yield)
	}
}

// seaRun gathers a run of Thai or Lao clusters (UAX #29 segments) so that
// CountTokens and TokensSeq count its words, as the analyzer's segmenter
// finds them, rather than its clusters. Khmer and Myanmar, which have no
// dictionary, keep one token per cluster.
type seaRun struct {
	text       string
	start, end int
	n          int // segments in the run
	sc         seaScript
	bounds     []int
	join       bool
}

// add extends the run with seg at off, flushing nothing; it returns false
// when seg is not Thai or Lao (the caller then flushes the run).
func (r *seaRun) add(text, seg string, off int) bool {
	c, _ := utf8.DecodeRuneInString(seg)
	sc := seaScriptOf(c)
	if sc != seaThai && sc != seaLao || !utf8.ValidString(seg) {
		return false
	}
	if r.n > 0 && (sc != r.sc || off != r.end) {
		return false
	}
	if r.n == 0 {
		r.text, r.start, r.sc = text, off, sc
		r.bounds = append(r.bounds[:0], 0)
	} else if !r.join {
		r.bounds = append(r.bounds, off-r.start)
	}
	last, _ := utf8.DecodeLastRuneInString(seg)
	r.join = joinsNext(last)
	r.end = off + len(seg)
	r.n++
	return true
}

// flush yields the run's tokens: dictionary words, and each cluster of a
// stretch the dictionary does not cover. It returns false when yield
// asked to stop.
func (r *seaRun) flush(yield func(Span) bool) bool {
	if r.n == 0 {
		return true
	}
	r.n = 0
	run := r.text[r.start:r.end]
	bounds := append(r.bounds, len(run))
	k := 0
	for _, p := range dicts[r.sc]().segment(run, bounds, nil) {
		if p.known {
			if !yield(Span{r.start + p.start, r.start + p.end}) {
				return false
			}
			continue
		}
		for bounds[k] < p.start {
			k++
		}
		for ; bounds[k] < p.end; k++ {
			if !yield(Span{r.start + bounds[k], r.start + bounds[k+1]}) {
				return false
			}
		}
	}
	return true
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
