package guard

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// A prefilter is a conjunction of literal sets: every match of a rule
// pattern contains one literal of each set ("ignore", "disregard", … and
// "instruction", "rule", …), so a text missing every literal of some set
// cannot match, and the pattern is not run. Benign text — nearly every
// question and chunk — holds few of them, so the ~55 patterns cost a few
// substring scans instead of ~55 backtracking runs (260 µs → tens of µs
// per question, more than the BM25 search it guards). This is RE2's and
// codesearch's required-literal idea reduced to what the rule patterns
// use; no maintained Go package exposes it for the standard regexp.
//
// A pattern contributes one set per required piece of its top-level
// concatenation (`\bnew\s+(instructions?|task)\s*[:!]` needs "new", one of
// "instruction"/"task", and one of ":"/"!"): with every piece required
// rather than only the most selective one, a benign question that holds
// one common piece ("with", "act") no longer runs the pattern.
//
// Literals are lower-case; the text is matched lower-cased, as the
// patterns are case-insensitive. A pattern whose requirement cannot be
// stated as literals gets no prefilter (nil) and always runs.
type prefilter [][]string

// maxPrefilterSet bounds a set: past it, the scans would cost more than
// the pattern.
const maxPrefilterSet = 64

// newPrefilter derives the prefilter of re (nil: none).
func newPrefilter(re *regexp.Regexp) prefilter {
	t, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return nil
	}
	sets := requiredAll(t.Simplify())
	if len(sets) == 0 {
		return nil
	}
	return sets
}

// requiredAll returns literal sets such that every match of t contains
// one literal of each (none: t can match without any literal).
func requiredAll(t *syntax.Regexp) [][]string {
	switch t.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return requiredAll(t.Sub[0])
	case syntax.OpRepeat:
		if t.Min >= 1 {
			return requiredAll(t.Sub[0])
		}
		return nil
	case syntax.OpConcat:
		// Every match contains a match of each child.
		var out [][]string
		for _, s := range t.Sub {
			out = append(out, requiredAll(s)...)
		}
		return out
	}
	if set, ok := required(t); ok && len(set) > 0 {
		return [][]string{set}
	}
	return nil
}

// required returns literals one of which every match of t contains; ok is
// false when there is no such set (t can match without any literal).
func required(t *syntax.Regexp) (set []string, ok bool) {
	switch t.Op {
	case syntax.OpLiteral:
		if len(t.Rune) == 0 {
			return nil, false
		}
		return []string{strings.ToLower(string(t.Rune))}, true
	case syntax.OpCapture:
		return required(t.Sub[0])
	case syntax.OpPlus:
		return required(t.Sub[0])
	case syntax.OpRepeat:
		if t.Min >= 1 {
			return required(t.Sub[0])
		}
		return nil, false
	case syntax.OpAlternate:
		var out []string
		for _, s := range t.Sub {
			ss, ok := required(s)
			if !ok {
				return nil, false
			}
			out = append(out, ss...)
		}
		if len(out) > maxPrefilterSet {
			return nil, false
		}
		return dedupe(out), true
	case syntax.OpConcat:
		// Every match contains a match of each child, so the most
		// selective child's set (longest shortest literal, then the
		// smaller set) stands for the whole.
		var best []string
		bestScore := -1
		for _, s := range t.Sub {
			ss, ok := required(s)
			if !ok {
				continue
			}
			if sc := score(ss); sc > bestScore {
				best, bestScore = ss, sc
			}
		}
		if best == nil {
			return nil, false
		}
		return best, true
	case syntax.OpCharClass:
		// A small class of single characters, e.g. [eè] in "r[eè]gles".
		var out []string
		for i := 0; i+1 < len(t.Rune); i += 2 {
			if t.Rune[i+1]-t.Rune[i] > 8 {
				return nil, false
			}
			for r := t.Rune[i]; r <= t.Rune[i+1]; r++ {
				out = append(out, strings.ToLower(string(r)))
			}
		}
		if len(out) == 0 || len(out) > 8 {
			return nil, false
		}
		return dedupe(out), true
	}
	return nil, false
}

// score ranks a set by its shortest literal's length in runes (longer is
// rarer), minus a little per member.
func score(set []string) int {
	short := 1 << 30
	for _, s := range set {
		short = min(short, utf8.RuneCountInString(s))
	}
	return 16*short - len(set)
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	out := ss[:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// admits reports whether lower (a lower-cased text) may match: it holds
// a literal of every set, or there is no prefilter.
func (p prefilter) admits(lower string) bool {
sets:
	for _, set := range p {
		for _, s := range set {
			if strings.Contains(lower, s) {
				continue sets
			}
		}
		return false
	}
	return true
}

// literalScan finds, in one pass over a text, which prefilter literals it
// holds, so that all ~55 prefilters cost one scan instead of a substring
// search per literal (hundreds of them). Literals are bucketed by their
// first two bytes (one-byte literals by their byte); at each position of
// the text a bit test says whether any literal starts with the next two
// bytes, and only then are that bucket's literals compared.
type literalScan struct {
	lits    []string
	first   [256]bool            // one-byte literals by byte
	single  [256][]int           // their ids
	pair    [1 << 16 / 64]uint64 // bit k: some literal starts with the bytes k>>8, k&255
	bucket  [1 << 16]uint16      // 1 + the index in buckets of the literals starting with two bytes; 0: none
	buckets [][]int              // literal ids by their first two bytes
	// head[k] and mask[k] are literal k's first (up to) 8 bytes as a
	// little-endian word and the mask of those bytes: where 8 bytes of
	// text remain, one load and compare decides the literal's head.
	head, mask []uint64
	// ids[f][i][j] are the literal ids of set j of prefilters[f][i]; nil:
	// no prefilter.
	ids [numRules][][][]int
}

// maxLiterals bounds the literals a literalScan holds (present is a fixed
// bit set).
const maxLiterals = 1024

// literalSet says which literals of a literalScan a text holds.
type literalSet [maxLiterals / 64]uint64

func (s *literalSet) has(id int) bool { return s[id>>6]&(1<<(id&63)) != 0 }

func newLiteralScan(pfs *[numRules][]prefilter) *literalScan {
	ls := &literalScan{buckets: [][]int{nil}}
	id := map[string]int{}
	for f := range pfs {
		ls.ids[f] = make([][][]int, len(pfs[f]))
		for i, pf := range pfs[f] {
			for _, set := range pf {
				ls.ids[f][i] = append(ls.ids[f][i], ls.add(id, set))
			}
		}
	}
	return ls
}

// add gives the literals of set ids (new ones are added) and returns them.
func (ls *literalScan) add(id map[string]int, set []string) []int {
	ids := make([]int, 0, len(set))
	for _, s := range set {
		k, ok := id[s]
		if !ok {
			k = len(ls.lits)
			if k == maxLiterals {
				panic("guard: more than maxLiterals prefilter literals")
			}
			id[s] = k
			ls.lits = append(ls.lits, s)
			n := min(len(s), 8)
			ls.head = append(ls.head, le64(s[:n]+"\x00\x00\x00\x00\x00\x00\x00\x00"))
			ls.mask = append(ls.mask, ^uint64(0)>>(64-8*n))
			if len(s) == 1 {
				ls.first[s[0]] = true
				ls.single[s[0]] = append(ls.single[s[0]], k)
			} else {
				key := uint16(s[0])<<8 | uint16(s[1])
				ls.pair[key>>6] |= 1 << (key & 63)
				if ls.bucket[key] == 0 {
					ls.bucket[key] = uint16(len(ls.buckets))
					ls.buckets = append(ls.buckets, nil)
				}
				ls.buckets[ls.bucket[key]] = append(ls.buckets[ls.bucket[key]], k)
			}
		}
		ids = append(ids, k)
	}
	return ids
}

// scan returns the literals lower holds.
func (ls *literalScan) scan(lower string) *literalSet {
	var set literalSet
	for i := 0; i < len(lower); i++ {
		c := lower[i]
		if ls.first[c] {
			for _, k := range ls.single[c] {
				set[k>>6] |= 1 << (k & 63)
			}
		}
		if i+1 == len(lower) {
			break
		}
		key := uint16(c)<<8 | uint16(lower[i+1])
		if ls.pair[key>>6]&(1<<(key&63)) == 0 {
			continue
		}
		if i+8 > len(lower) {
			for _, k := range ls.buckets[ls.bucket[key]] {
				if strings.HasPrefix(lower[i:], ls.lits[k]) {
					set[k>>6] |= 1 << (k & 63)
				}
			}
			continue
		}
		w := le64(lower[i:])
		for _, k := range ls.buckets[ls.bucket[key]] {
			if w&ls.mask[k] == ls.head[k] && (len(ls.lits[k]) <= 8 || strings.HasPrefix(lower[i+8:], ls.lits[k][8:])) {
				set[k>>6] |= 1 << (k & 63)
			}
		}
	}
	return &set
}

// le64 is the first 8 bytes of s (len(s) ≥ 8) as a little-endian word.
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// admits is prefilters[f][i].admits(lower) for the text set was scanned
// from.
func (ls *literalScan) admits(set *literalSet, f, i int) bool {
sets:
	for _, ids := range ls.ids[f][i] {
		for _, k := range ids {
			if set.has(k) {
				continue sets
			}
		}
		return false
	}
	return true
}
