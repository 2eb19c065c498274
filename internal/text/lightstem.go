package text

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Light stemmers for languages without a Snowball stemmer in the library
// used, written from their published descriptions.

// hindiSuffixes are the suffixes of Ramanathan and Rao's light stemmer
// for Hindi ("A Lightweight Stemmer for Hindi", 2003; the list Lucene's
// HindiStemmer uses), in their written form. stemHindi matches them after
// the same normalisation as the word, longest first.
var hindiSuffixes = func() []string {
	list := strings.Fields(`
		ाएंगी ाएंगे ाऊंगी ाऊंगा ाइयाँ ाइयों ाइयां
		ाएगी ाएगा ाओगी ाओगे एंगी एंगे एंगा ऊंगी ऊंगा ातीं नाओं नाएं ताओं ताएं ियाँ ियों ियां
		ाकर ाइए ाईं ाया ेगी ेगा ोगी ोगे ाने ाना ाते ाती ाता तीं ाओं ाएं ुओं ुएं ुआं
		कर ाओ िए ाई ाए ने नी ना ते ीं ती ता ाँ ां ों ें
		ो े ू ु ी ि ा`)
	seen := make(map[string]bool)
	var out []string
	for _, s := range list {
		s = normalizeDevanagari(s)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int {
		return utf8.RuneCountInString(b) - utf8.RuneCountInString(a)
	})
	return out
}()

// stemHindi removes the longest listed suffix that leaves a stem of at
// least two characters, as in the published algorithm.
func stemHindi(w string) string {
	n := utf8.RuneCountInString(w)
	for _, s := range hindiSuffixes {
		if strings.HasSuffix(w, s) && n > utf8.RuneCountInString(s)+1 {
			return w[:len(w)-len(s)]
		}
	}
	return w
}
