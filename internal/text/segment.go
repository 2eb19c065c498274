package text

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// seaScript is a South-East Asian script written without spaces between
// words, which the analyzer segments itself: UAX #29 has no word
// boundaries for them and yields one segment per character cluster.
type seaScript uint8

const (
	seaNone seaScript = iota
	seaThai
	seaLao
	seaKhmer
	seaMyanmar
)

// seaScriptOf returns the script of r when r is a letter or a mark of one
// of the unsegmented scripts. Digits and punctuation of those scripts are
// not included: they separate words like any other.
func seaScriptOf(r rune) seaScript {
	var s seaScript
	switch {
	case r < 0x0E00:
		return seaNone
	case r <= 0x0E7F:
		s = seaThai
	case r <= 0x0EFF:
		s = seaLao
	case r >= 0x1000 && r <= 0x109F, r >= 0xA9E0 && r <= 0xA9FF, r >= 0xAA60 && r <= 0xAA7F:
		s = seaMyanmar
	case r >= 0x1780 && r <= 0x17FF, r >= 0x19E0 && r <= 0x19FF:
		s = seaKhmer
	default:
		return seaNone
	}
	if unicode.IsLetter(r) || unicode.IsMark(r) {
		return s
	}
	return seaNone
}

// joinsNext reports whether a cluster ending in r cannot end a word: a
// Thai or Lao vowel written before its consonant, or the Khmer coeng and
// Myanmar virama that stack the next consonant under this one.
func joinsNext(r rune) bool {
	return r >= 0x0E40 && r <= 0x0E44 || r >= 0x0EC0 && r <= 0x0EC4 || r == 0x17D2 || r == 0x1039
}

// killedConsonant reports whether seg is a Myanmar consonant killed by
// asat ("န်"), which closes the syllable before it: UAX #29 makes it a
// segment of its own.
func killedConsonant(sc seaScript, seg string) bool {
	return sc == seaMyanmar && strings.ContainsRune(seg, '\u103A')
}

//go:embed data/dict/*.txt.gz
var dictFiles embed.FS

// wordDict is a sorted word list without duplicates, with exact and
// prefix lookup: the Thai and Lao segmenter's and the Arabic lexicon. The
// words are packed into one string, blob, and word i is
// blob[offs[i]:offs[i+1]]: two allocations, neither holding a pointer per
// word, instead of a string header per word (16 bytes each, and a pointer
// the collector scans on every cycle). The German decompounder's list,
// larger and looked up less often, is front-coded (frontDict).
type wordDict struct {
	blob   string
	offs   []uint32 // len(offs) = words + 1; offs[0] = 0
	maxLen int      // longest word in bytes
}

var dicts = map[seaScript]func() *wordDict{
	seaThai: sync.OnceValue(func() *wordDict { return loadDict("data/dict/th.txt.gz") }),
	seaLao:  sync.OnceValue(func() *wordDict { return loadDict("data/dict/lo.txt.gz") }),
}

// loadDict reads an embedded word list: one word a line; blank lines,
// lines with inner blanks and invalid UTF-8 are skipped, and the words are
// sorted and deduplicated.
func loadDict(name string) *wordDict {
	return parseDict(readWordList(name))
}

// readWordList returns an embedded word list's text.
func readWordList(name string) []byte {
	raw, err := dictFiles.ReadFile(name)
	if err != nil {
		panic("text: embedded word list missing: " + name)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		panic("text: embedded word list corrupt: " + name)
	}
	all, err := io.ReadAll(zr)
	if err != nil {
		panic("text: embedded word list corrupt: " + name)
	}
	return all
}

// parseDict packs a word list, one word a line.
func parseDict(all []byte) *wordDict {
	// The lists are stored sorted: pack them in one pass. Only a list out
	// of order is collected as strings and sorted first.
	var b strings.Builder
	b.Grow(len(all))
	offs := make([]uint32, 1, bytes.Count(all, []byte{'\n'})+2)
	if !sortedWords(all, func(w string) {
		b.WriteString(w)
		offs = append(offs, uint32(b.Len()))
	}) {
		return packWords(dictWords(all))
	}
	blob := b.String()
	if b.Cap()-b.Len() > b.Len()/32 {
		blob = strings.Clone(blob) // blanks and skipped lines left room
	}
	return newWordDict(blob, offs)
}

// listWords calls add with each word of a list in the order given.
func listWords(all []byte, add func(w string) bool) {
	for line := range strings.Lines(string(all)) {
		w := strings.TrimSpace(line)
		if w == "" || strings.ContainsAny(w, " \t") || !utf8.ValidString(w) {
			continue
		}
		if !add(w) {
			return
		}
	}
}

// sortedWords calls add with each word of a list while they increase
// strictly; it reports false, having stopped, at the first that does not.
func sortedWords(all []byte, add func(w string)) bool {
	ok, prev, n := true, "", 0
	listWords(all, func(w string) bool {
		if n > 0 && w <= prev {
			ok = false
			return false
		}
		add(w)
		prev, n = w, n+1
		return true
	})
	return ok
}

// dictWords returns the words of a list in the order given.
func dictWords(all []byte) []string {
	var words []string
	listWords(all, func(w string) bool {
		words = append(words, w)
		return true
	})
	return words
}

// packWords packs words, sorting them and dropping duplicates first; it
// may reorder words.
func packWords(words []string) *wordDict {
	slices.Sort(words)
	words = slices.Compact(words)
	n := 0
	for _, w := range words {
		n += len(w)
	}
	var b strings.Builder
	b.Grow(n)
	offs := make([]uint32, 1, len(words)+1)
	for _, w := range words {
		b.WriteString(w)
		offs = append(offs, uint32(b.Len()))
	}
	return newWordDict(b.String(), offs)
}

func newWordDict(blob string, offs []uint32) *wordDict {
	if len(blob) > math.MaxUint32 {
		panic("text: word list over 4 GiB")
	}
	d := &wordDict{blob: blob, offs: slices.Clip(offs)}
	for i := range d.len() {
		d.maxLen = max(d.maxLen, int(offs[i+1]-offs[i]))
	}
	return d
}

// len returns the number of words.
func (d *wordDict) len() int { return len(d.offs) - 1 }

// word returns word i, 0 <= i < d.len().
func (d *wordDict) word(i int) string { return d.blob[d.offs[i]:d.offs[i+1]] }

// search returns the index of the first word in [lo, hi) that is >= s,
// or hi.
func (d *wordDict) search(lo, hi int, s string) int {
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if d.word(m) < s {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// lookup reports whether s is a word and whether it is a proper prefix of
// one.
func (d *wordDict) lookup(s string) (word, prefix bool) {
	n := d.len()
	i := d.search(0, n, s)
	if i < n && d.word(i) == s {
		word = true
		i++
	}
	return word, i < n && strings.HasPrefix(d.word(i), s)
}

// piece is one word found by segment: [start, end) of the run; known is
// false for a stretch of clusters the dictionary does not cover.
type piece struct {
	start, end int
	known      bool
}

// segment splits run, whose cluster boundaries are bounds (bounds[0] = 0,
// the last = len(run)), by maximal matching: among all splits into
// dictionary words and single unknown clusters it picks the one with the
// fewest unknown clusters, then the fewest words. A word starts and ends
// on cluster boundaries. Consecutive unknown clusters come back as one
// unknown piece.
func (d *wordDict) segment(run string, bounds []int, dst []piece) []piece {
	m := len(bounds) - 1
	type state struct {
		unk, tok int32
		from     int32
		known    bool
	}
	const inf = 1 << 30
	best := make([]state, m+1)
	for i := 1; i <= m; i++ {
		best[i] = state{unk: inf, tok: inf}
	}
	relax := func(j int, unk, tok int32, from int, known bool) {
		b := &best[j]
		if unk < b.unk || unk == b.unk && tok < b.tok {
			*b = state{unk: unk, tok: tok, from: int32(from), known: known}
		}
	}
	for i := 0; i < m; i++ {
		cur := best[i]
		relax(i+1, cur.unk+1, cur.tok+1, i, false)
		for j := i + 1; j <= m && bounds[j]-bounds[i] <= d.maxLen; j++ {
			word, prefix := d.lookup(run[bounds[i]:bounds[j]])
			if word {
				relax(j, cur.unk, cur.tok+1, i, true)
			}
			if !prefix {
				break
			}
		}
	}
	// Walk back, then reverse.
	n0 := len(dst)
	for j := m; j > 0; {
		s := best[j]
		i := int(s.from)
		if !s.known && len(dst) > n0 && !dst[len(dst)-1].known && dst[len(dst)-1].start == bounds[j] {
			dst[len(dst)-1].start = bounds[i]
		} else {
			dst = append(dst, piece{start: bounds[i], end: bounds[j], known: s.known})
		}
		j = i
	}
	slices.Reverse(dst[n0:])
	return dst
}

// addSEA extends the run of an unsegmented script with the UAX #29
// segment seg at offset off. It returns false, consuming nothing, when
// seg does not belong to such a run.
func (st *analysis) addSEA(seg string, off int) bool {
	r, _ := utf8.DecodeRuneInString(seg)
	sc := seaScriptOf(r)
	if sc == seaNone || !utf8.ValidString(seg) {
		return false
	}
	if st.seaLen > 0 && (sc != st.sea || off != st.seaEnd) {
		st.flushSEA()
	}
	if st.seaLen == 0 {
		st.sea, st.seaStart = sc, off
		st.seaBounds = append(st.seaBounds[:0], 0)
	} else if !st.seaJoin && !killedConsonant(sc, seg) {
		st.seaBounds = append(st.seaBounds, off-st.seaStart)
	}
	last, _ := utf8.DecodeLastRuneInString(seg)
	st.seaJoin = joinsNext(last)
	st.seaEnd = off + len(seg)
	st.seaLen++
	return true
}

// flushSEA segments and emits the run in progress: dictionary words go
// through the word tail of the chain (stopwords, cache); stretches the
// dictionary does not cover, and whole runs of scripts without one
// (Khmer, Myanmar), become overlapping bigrams of character clusters,
// like CJK.
func (st *analysis) flushSEA() {
	if st.seaLen == 0 {
		return
	}
	st.seaLen = 0
	run := st.text[st.seaStart:st.seaEnd]
	bounds := append(st.seaBounds, len(run))
	st.seaBounds = bounds[:0]
	var pieces []piece
	if load := dicts[st.sea]; load != nil {
		pieces = load().segment(run, bounds, st.pieces[:0])
	} else {
		pieces = append(st.pieces[:0], piece{0, len(run), false})
	}
	st.pieces = pieces[:0]
	k := 0 // index into bounds
	for _, p := range pieces {
		if p.known {
			st.emitWord([]byte(run[p.start:p.end]), st.seaStart+p.start, st.seaStart+p.end)
			continue
		}
		for bounds[k] < p.start {
			k++
		}
		first := k
		for bounds[k] < p.end {
			k++
		}
		if k-first == 1 {
			st.emit(run[p.start:p.end], st.seaStart+p.start, st.seaStart+p.end, st.pos)
			st.pos++
			continue
		}
		for c := first; c+1 < k; c++ {
			st.emit(run[bounds[c]:bounds[c+2]], st.seaStart+bounds[c], st.seaStart+bounds[c+2], st.pos)
			st.pos++
		}
		st.pos++ // the last cluster has a position of its own
	}
}
