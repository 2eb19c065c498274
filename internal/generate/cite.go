package generate

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/text"
)

// Citation is one verified citation of an answer.
type Citation struct {
	Marker int // the n of "[n]"
	Hit    int // index into the hits the prompt was built from
	// Start and End are code-point offsets into the document; the span is
	// exactly Text, the chunk sentence that best supports Statement (or the
	// whole chunk text sent when no sentence shares a word with it).
	Start, End int
	Text       string
	// Statement is the part of the answer the marker ends (or, for a
	// marker that opens a sentence, the sentence it opens).
	Statement string
}

var markerRE = regexp.MustCompile(`\[(\d{1,6}(?:\s*[,;]\s*\d{1,6})*)\]`)

// Markers returns the marker numbers found in answer, in order of
// appearance and with repeats.
func Markers(answer string) []int {
	var out []int
	for _, m := range markerRE.FindAllStringSubmatch(answer, -1) {
		out = append(out, splitNums(m[1])...)
	}
	return out
}

func splitNums(s string) []int {
	var out []int
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		if n, err := strconv.Atoi(p); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// Cite maps every marker of answer (already filtered to valid markers) to
// the chunk it names. blocks are the prompt's blocks (their Text is what
// the model read), hits the retrieval list the prompt was built from.
// Markers naming no block are skipped; repeated (marker, span) pairs are
// reported once.
func Cite(answer string, blocks []Block, hits []base.Hit) []Citation {
	byMarker := make(map[int]Block, len(blocks))
	for _, b := range blocks {
		byMarker[b.Marker] = b
	}
	type key struct{ marker, start, end int }
	seen := map[key]bool{}
	var out []Citation
	locs := markerRE.FindAllStringSubmatchIndex(answer, -1)
	prevEnd := 0
	for i, loc := range locs {
		stmt := statementBefore(answer, prevEnd, loc[0])
		if strings.TrimSpace(stmt) == "" {
			next := len(answer)
			if i+1 < len(locs) {
				next = locs[i+1][0]
			}
			stmt = statementAfter(answer, loc[1], next)
		}
		prevEnd = loc[1]
		for _, n := range splitNums(answer[loc[2]:loc[3]]) {
			b, ok := byMarker[n]
			if !ok || b.Hit < 0 || b.Hit >= len(hits) {
				continue
			}
			h := &hits[b.Hit]
			s, e := bestSentence(b.Text, stmt)
			start := h.RuneStart + utf8.RuneCountInString(b.Text[:s])
			c := Citation{Marker: n, Hit: b.Hit, Start: start, End: start + utf8.RuneCountInString(b.Text[s:e]),
				Text: b.Text[s:e], Statement: strings.TrimSpace(stmt)}
			k := key{n, c.Start, c.End}
			if !seen[k] {
				seen[k] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// statementBefore returns the sentence of answer that ends at end, not
// reaching back before from.
func statementBefore(answer string, from, end int) string {
	s := answer[from:end]
	trimmed := strings.TrimRightFunc(s, unicode.IsSpace)
	// The last sentence end before the marker, ignoring a terminator
	// directly before it ("… 1889. [1]").
	body := strings.TrimRight(trimmed, ".!?")
	if i := strings.LastIndexAny(body, ".!?\n"); i >= 0 {
		return body[i+1:]
	}
	return body
}

// statementAfter returns the sentence of answer that starts at start, not
// reaching past end.
func statementAfter(answer string, start, end int) string {
	s := answer[start:end]
	if i := strings.IndexAny(s, ".!?\n"); i >= 0 {
		return s[:i+1]
	}
	return s
}

// bestSentence returns the byte span of the sentence of chunk that shares
// the most content words with stmt, or the whole (trimmed) chunk when none
// shares any.
func bestSentence(chunk, stmt string) (int, int) {
	want := contentWords(stmt)
	best, bestScore := text.Span{}, 0.0
	for _, sp := range text.Sentences(chunk) {
		have := contentWords(chunk[sp.Start:sp.End])
		shared := 0
		for w := range have {
			if want[w] {
				shared++
			}
		}
		if shared == 0 {
			continue
		}
		// Shared words, lightly normalised by sentence length so that a
		// long sentence does not win on size alone.
		score := float64(shared) / (1 + 0.05*float64(len(have)))
		if score > bestScore {
			best, bestScore = sp, score
		}
	}
	if bestScore == 0 {
		return text.TrimSpan(chunk, 0, len(chunk))
	}
	return best.Start, best.End
}

// contentWords returns the lower-cased words of s of three or more
// characters (and every number), a cheap stand-in for stop-word removal.
func contentWords(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if utf8.RuneCountInString(w) >= 3 || unicode.IsDigit([]rune(w)[0]) {
			out[w] = true
		}
	}
	return out
}
