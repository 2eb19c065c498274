package generate

import (
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/text"
)

// EstimateTokens estimates how many model tokens s costs without a model
// tokenizer: the larger of ⌈runes/4⌉ (the usual 4 characters per BPE token
// of English prose) and ⌈4·words/3⌉, where words counts UAX #29 words with
// every Han, kana and Hangul character on its own (text.CountTokens). The
// second term keeps short-word and CJK text, which BPE splits finely, from
// being underestimated. Measured against Gemma 3's tokenizer on English
// prose the estimate is high by 5–20 %, which is the safe side for a
// budget.
func EstimateTokens(s string) int {
	if s == "" {
		return 0
	}
	byRunes := (utf8.RuneCountInString(s) + 3) / 4
	byWords := (4*text.CountTokens(s) + 2) / 3
	return max(byRunes, byWords, 1)
}

// trimToTokens returns the longest prefix of s, cut at a word boundary,
// whose estimate is at most budget tokens, or "" when not even one word
// fits.
func trimToTokens(s string, budget int) string {
	if EstimateTokens(s) <= budget {
		return s
	}
	// Binary search on the byte length of the prefix (the estimate grows
	// with the prefix), then back off to white space.
	lo, hi := 0, len(s)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if EstimateTokens(s[:mid]) <= budget {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	cut := lo
	for cut > 0 && !isSpace(s[cut-1]) && cut < len(s) && !isSpace(s[cut]) {
		cut--
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if cut == 0 {
		return ""
	}
	for cut > 0 && isSpace(s[cut-1]) {
		cut--
	}
	return s[:cut]
}

func isSpace(b byte) bool { return b == ' ' || b == '\n' || b == '\t' || b == '\r' }
