package text

import (
	"cmp"
	"slices"
	"sync"
	"unicode"

	"github.com/abadojack/whatlanggo"
)

//go:generate go run gen_trigrams.go

// The trigram scorer. whatlanggo's DetectWithOptions builds two maps of
// trigram strings, a []rune copy of the text and three []rune a trigram on
// every call (about 48 KB of garbage and 1,200 allocations on 384 bytes of
// text, 0.35 ms), and it is called for every document and every chunk
// ingested: on a 100 MB upload it was 58% of everything the server
// allocated, garbage that raised the collector's peak heap target. The
// library keeps its profiles unexported and has no way to reuse its
// buffers, so this file scores text against the same profiles
// (trigram_profiles.go, generated from the library's source by
// gen_trigrams.go) with the same arithmetic, without allocating: a
// trigram is three runes packed in a uint64, the text's trigrams are
// counted by sorting them in a pooled slice, and each distinct trigram
// looks up, in an index built once, the profile positions it occurs at.
// The answer is whatlanggo's, language and confidence, except where
// whatlanggo's is random: when two languages' distances tie for the best,
// whatlanggo picks the one its map iteration met first (with confidence
// 0); here the one first in its source order wins. TestTrigramsMatchWhatlanggo
// compares the two on the shared corpora and on random text.

// whatlanggo's constants (constants.go): the distance of a profile
// trigram missing from the text, and the total of a text that has none.
const (
	wlMaxTrigramDistance = 300
	wlMaxTotalDistance   = 90000
)

// trigramProfile is one language's profile in whatlanggo.
type trigramProfile struct {
	script   scriptBucket // bucketLatin or bucketCyrillic
	lang     whatlanggo.Lang
	trigrams []string
}

// trigramScript holds the profiles of one script that detection may
// answer (whatlang.options.Whitelist), in whatlanggo's source order, and
// an index from a packed trigram to the profile positions it occurs at:
// flat sorted arrays (~70 KB for Latin) rather than a map of slices
// (~260 KB), since the index stays in the heap for the process's life.
type trigramScript struct {
	langs []whatlanggo.Lang
	// size[l] is the distance of a text with none of langs[l]'s trigrams.
	size []int
	// keys are the distinct packed trigrams of the profiles, sorted; the
	// positions of keys[i] are postings[start[i]:start[i+1]].
	keys     []uint64
	start    []uint32
	postings []trigramPosting
}

type trigramPosting struct {
	lang uint16 // index into langs
	pos  uint16 // position in the profile
}

// lookup returns the profile positions of trigram k.
func (ts *trigramScript) lookup(k uint64) []trigramPosting {
	i, ok := slices.BinarySearch(ts.keys, k)
	if !ok {
		return nil
	}
	return ts.postings[ts.start[i]:ts.start[i+1]]
}

var trigramScripts = sync.OnceValue(func() (s [numBuckets]*trigramScript) {
	type entry struct {
		key uint64
		p   trigramPosting
	}
	var entries [numBuckets][]entry
	for _, p := range whatlangProfiles {
		if !whatlang.options.Whitelist[p.lang] {
			continue
		}
		ts := s[p.script]
		if ts == nil {
			ts = &trigramScript{}
			s[p.script] = ts
		}
		l := uint16(len(ts.langs))
		ts.langs = append(ts.langs, p.lang)
		ts.size = append(ts.size, wlMaxTrigramDistance*len(p.trigrams))
		for i, t := range p.trigrams {
			// A profile entry that is not three runes never matches a
			// text trigram: it stays at the missing distance.
			if k, ok := packTrigram(t); ok {
				entries[p.script] = append(entries[p.script], entry{k, trigramPosting{l, uint16(i)}})
			}
		}
	}
	for b, ts := range s {
		if ts == nil {
			continue
		}
		es := entries[b]
		slices.SortStableFunc(es, func(x, y entry) int { return cmp.Compare(x.key, y.key) })
		ts.postings = make([]trigramPosting, len(es))
		for i, e := range es {
			if i == 0 || e.key != es[i-1].key {
				ts.keys = append(ts.keys, e.key)
				ts.start = append(ts.start, uint32(i))
			}
			ts.postings[i] = e.p
		}
		ts.start = append(ts.start, uint32(len(es)))
		ts.keys = slices.Clip(ts.keys)
		ts.start = slices.Clip(ts.start)
	}
	return s
})

// packTrigram packs a string of exactly three runes.
func packTrigram(t string) (uint64, bool) {
	var r [3]rune
	n := 0
	for _, c := range t {
		if n == 3 {
			return 0, false
		}
		r[n] = c
		n++
	}
	if n != 3 {
		return 0, false
	}
	return trigramKey(r[0], r[1], r[2]), true
}

// trigramKey packs three runes (21 bits each) so that keys order as
// whatlanggo's trigram strings do: for valid runes, the byte order of
// UTF-8 strings is the order of their code points.
func trigramKey(r1, r2, r3 rune) uint64 {
	return uint64(r1)<<42 | uint64(r2)<<21 | uint64(r3)
}

// trigramScratch is one call's working memory, pooled.
type trigramScratch struct {
	keys     []uint64       // every trigram of the text, then sorted
	distinct []trigramCount // distinct trigrams, then ranked
	dist     []int          // per language of the script
}

type trigramCount struct {
	key uint64
	n   int
}

var trigramPool = sync.Pool{New: func() any { return new(trigramScratch) }}

// whatlangDetect returns what whatlanggo.DetectWithOptions(text,
// whatlang.options) returns, language and confidence, allocating nothing
// for Latin and Cyrillic text.
func whatlangDetect(text string) (whatlanggo.Lang, float64) {
	var ts *trigramScript
	switch whatlanggo.DetectScript(text) {
	case unicode.Latin:
		ts = trigramScripts()[bucketLatin]
	case unicode.Cyrillic:
		ts = trigramScripts()[bucketCyrillic]
	default:
		info := whatlanggo.DetectWithOptions(text, whatlang.options)
		return info.Lang, info.Confidence
	}
	switch len(ts.langs) {
	case 0:
		return -1, 0
	case 1:
		return ts.langs[0], 1
	}
	s := trigramPool.Get().(*trigramScratch)
	defer trigramPool.Put(s)

	// whatlanggo's count: each rune lower-cased, symbols, spaces,
	// punctuation and digits as a space, one space appended, and every
	// trigram (with a space before the text) kept unless its middle is a
	// space next to another.
	s.keys = s.keys[:0]
	r1, r2 := ' ', rune(-1)
	emit := func(r3 rune) {
		if !(r2 == ' ' && (r1 == ' ' || r3 == ' ')) {
			s.keys = append(s.keys, trigramKey(r1, r2, r3))
		}
		r1, r2 = r2, r3
	}
	for _, r := range text {
		if isStopChar(r) {
			r = ' '
		}
		r = unicode.ToLower(r)
		if r2 < 0 {
			r2 = r
			continue
		}
		emit(r)
	}
	if r2 >= 0 { // an empty text has no trigram
		emit(' ')
	}
	slices.Sort(s.keys)
	s.distinct = s.distinct[:0]
	for i, k := range s.keys {
		if i > 0 && k == s.keys[i-1] {
			s.distinct[len(s.distinct)-1].n++
			continue
		}
		s.distinct = append(s.distinct, trigramCount{k, 1})
	}
	// Rank 0 is the most frequent trigram, ties broken by the larger
	// string (whatlanggo sorts ascending and numbers from the end).
	slices.SortFunc(s.distinct, func(a, b trigramCount) int {
		if a.n != b.n {
			return b.n - a.n
		}
		if a.key > b.key {
			return -1
		}
		return 1 // keys are distinct
	})

	s.dist = append(s.dist[:0], ts.size...)
	for rank, t := range s.distinct {
		for _, p := range ts.lookup(t.key) {
			d := rank - int(p.pos)
			if d < 0 {
				d = -d
			}
			s.dist[p.lang] -= wlMaxTrigramDistance - d
		}
	}

	// whatlanggo's calculateConfidence on the two smallest distances.
	best, second := -1, -1
	for l, d := range s.dist {
		switch {
		case best < 0 || d < s.dist[best]:
			best, second = l, best
		case second < 0 || d < s.dist[second]:
			second = l
		}
	}
	score1 := wlMaxTotalDistance - s.dist[best]
	score2 := wlMaxTotalDistance - s.dist[second]
	switch {
	case score1 == 0:
		return -1, 0
	case score2 == 0:
		// whatlanggo writes float64((score1) / 500.0): an integer
		// division.
		return ts.langs[best], min(float64(score1/500), 1)
	}
	rate := float64(score1-score2) / float64(score2)
	confidentRate := float64(12.0/float64(len(s.distinct))) + 0.05
	if rate > confidentRate {
		return ts.langs[best], 1
	}
	return ts.langs[best], rate / confidentRate
}

// isStopChar is whatlanggo's: space, punctuation, symbols and digits
// separate trigram words.
func isStopChar(r rune) bool {
	return unicode.IsSymbol(r) || unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsDigit(r)
}
