package text

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// German compounds.
//
// German writes compounds as one word ("Touristenstrecken", "tourist
// routes"), so a question and the passage that answers it often share a
// head or a modifier but not the compound: "Touristenstrecken" against
// "Touristeneisenbahnen", "Gerichtsverfahren" against "Verfahren". Braschler
// and Ripplinger ("How effective is stemming and decompounding for German
// text retrieval?", Information Retrieval 7, 2004) found decompounding the
// largest single gain for German retrieval, and indexing the compound
// together with its parts better than replacing it.
//
// The decompounder splits a word into a sequence of dictionary words that
// covers it exactly, but for a linking "s" after a part (the Fugen-s of
// "Verhandlungsstrategie", which is no case form of "Verhandlung"), with
// the fewest parts, then the most even split; the parts are stemmed and
// emitted in addition to the stemmed compound, at the same position and
// offsets. Only capitalised words are split: German capitalises nouns, and
// an adjective or verb made of two noun forms ("gemeinsame" = "gemein" +
// "Same") is not a compound of them. The dictionary is
// every inflected form of every noun in German Wiktionary, as compiled by
// the german-nouns package (data/NOTICE): inflected forms include the
// genitive and plural forms that German uses as linking elements
// ("Gerichts-", "Touristen-"), so no separate linking-element rules are
// needed. Parts are at least minCompoundPart letters: shorter nouns ("Ei",
// "Ort", "See") split ordinary words into false parts.

const (
	minCompoundPart = 4
	// maxCompoundWord bounds the quadratic search; longer "words" are
	// identifiers, URLs or noise.
	maxCompoundWord = 64
)

// decompounders maps a language to its compound dictionary.
var decompounders = map[string]func() *frontDict{
	"de": sync.OnceValue(func() *frontDict { return loadFrontDict("data/dict/de-nouns.txt.gz") }),
}

// splitCompound returns the parts of the folded word w, or nil when w is
// not a compound of dictionary words. dst is reused for the result.
func splitCompound(d *frontDict, w string, dst []string) []string {
	n := utf8.RuneCountInString(w)
	if n < 2*minCompoundPart || n > maxCompoundWord {
		return nil
	}
	var offsBuf [maxCompoundWord + 1]int
	offs := offsBuf[:0]
	for i := range w {
		offs = append(offs, i)
	}
	offs = append(offs, len(w))
	type state struct {
		parts, even int // parts so far; sum of squared part lengths
		from, end   int // the last part is [from, end), a linking s may follow
	}
	const inf = 1 << 30
	var bestBuf [maxCompoundWord + 1]state
	best := bestBuf[:n+1]
	for i := 1; i <= n; i++ {
		best[i] = state{parts: inf}
	}
	relax := func(i int, s state) {
		if b := &best[i]; s.parts < b.parts || s.parts == b.parts && s.even < b.even {
			*b = s
		}
	}
	for j := 0; j+minCompoundPart <= n; j++ {
		cur := best[j]
		if cur.parts == inf {
			continue
		}
		lo, hi := 0, d.len()
		for i := j + 1; i <= n; i++ {
			var word, prefix bool
			lo, hi, word, prefix = d.narrow(lo, hi, w[offs[j]:offs[i]])
			if word && i-j >= minCompoundPart && !(j == 0 && i == n) {
				s := state{parts: cur.parts + 1, even: cur.even + (i-j)*(i-j), from: j, end: i}
				relax(i, s)
				if i+1 < n && w[offs[i]] == 's' {
					relax(i+1, s) // the linking s ("Verhandlung-s-strategie")
				}
			}
			if !prefix {
				break
			}
		}
	}
	if best[n].parts == inf {
		return nil
	}
	k := len(dst)
	for i := n; i > 0; i = best[i].from {
		dst = append(dst, w[offs[best[i].from]:offs[best[i].end]])
	}
	for a, b := k, len(dst)-1; a < b; a, b = a+1, b-1 {
		dst[a], dst[b] = dst[b], dst[a]
	}
	return dst
}

// termSep separates the compound's term from its parts' terms in a cached
// word result. No term contains it: control characters end words.
const termSep = "\x00"

// compoundTerms returns the term of the compound w (already computed as
// term) followed by its parts' terms, joined by termSep; term alone when w
// does not split.
func (a *Analyzer) compoundTerms(w, term string) string {
	if !stemmable(w) {
		return term
	}
	var buf [8]string
	parts := splitCompound(a.decompound(), w, buf[:0])
	if len(parts) == 0 {
		return term
	}
	var b strings.Builder
	b.WriteString(term)
	seen := make([]string, 0, len(parts))
	for _, p := range parts {
		t := a.simpleTerm(p)
		if t == "" || t == term || contains(seen, t) {
			continue
		}
		seen = append(seen, t)
		b.WriteString(termSep)
		b.WriteString(t)
	}
	return b.String()
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
