package text

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

// refDict is the word list as it was kept before packing: one string per
// word, sorted and deduplicated. The packed wordDict must answer every
// lookup as it does.
type refDict []string

func refWords(t testing.TB, name string) refDict {
	raw, err := dictFiles.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return refParse(all)
}

func refParse(all []byte) refDict {
	var ws []string
	for line := range strings.Lines(string(all)) {
		w := strings.TrimSpace(line)
		if w == "" || strings.ContainsAny(w, " \t") || !utf8.ValidString(w) {
			continue
		}
		ws = append(ws, w)
	}
	slices.Sort(ws)
	return slices.Compact(ws)
}

func (r refDict) lookup(s string) (word, prefix bool) {
	i, found := slices.BinarySearch(r, s)
	if found {
		i++
	}
	return found, i < len(r) && strings.HasPrefix(r[i], s)
}

func (r refDict) narrow(lo, hi int, p string) (int, int, bool, bool) {
	ws := r[lo:hi]
	a := sort.SearchStrings(ws, p)
	b := a + sort.Search(len(ws)-a, func(k int) bool { return !strings.HasPrefix(ws[a+k], p) })
	word := a < b && ws[a] == p
	prefix := b-a > 1 || b-a == 1 && !word
	return lo + a, lo + b, word, prefix
}

// testDict is what checkDictEqual needs of a dictionary layout.
type testDict struct {
	n      int
	maxLen int
	words  func(yield func(string) bool)
	lookup func(s string) (word, prefix bool)
	// narrow is nil for a layout without it (wordDict).
	narrow func(lo, hi int, p string) (int, int, bool, bool)
}

func flatDict(d *wordDict) testDict {
	return testDict{n: d.len(), maxLen: d.maxLen, lookup: d.lookup, words: func(yield func(string) bool) {
		for i := range d.len() {
			if !yield(d.word(i)) {
				return
			}
		}
	}}
}

func frontCoded(d *frontDict) testDict {
	return testDict{n: d.len(), maxLen: d.maxLen, lookup: d.lookup, narrow: d.narrow, words: d.words}
}

// checkDictEqual compares d with ref on every word, on every prefix of
// every word (walked with narrow as splitCompound walks them, and with
// lookup as segment does), and on every word with one letter changed.
func checkDictEqual(t *testing.T, d testDict, ref refDict) {
	t.Helper()
	if d.n != len(ref) {
		t.Fatalf("%d words, want %d", d.n, len(ref))
	}
	maxLen := 0
	i := 0
	for got := range d.words {
		if i >= len(ref) || got != ref[i] {
			t.Fatalf("word %d = %q, want the list's", i, got)
		}
		maxLen = max(maxLen, len(got))
		i++
	}
	if i != len(ref) {
		t.Fatalf("%d words decoded, want %d", i, len(ref))
	}
	if d.maxLen != maxLen {
		t.Fatalf("maxLen %d, want %d", d.maxLen, maxLen)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	fails := 0
	step := 1
	if testing.Short() {
		step = 7
	}
	for k := 0; k < len(ref); k += step {
		w := ref[k]
		lo, hi, rlo, rhi := 0, d.n, 0, len(ref)
		for i := range w {
			if i == 0 {
				continue
			}
			p := w[:i]
			var word, prefix, rword, rprefix bool
			if d.narrow != nil {
				lo, hi, word, prefix = d.narrow(lo, hi, p)
				rlo, rhi, rword, rprefix = ref.narrow(rlo, rhi, p)
				if lo != rlo || hi != rhi || word != rword || prefix != rprefix {
					t.Errorf("narrow(%q) = %d %d %v %v, want %d %d %v %v", p, lo, hi, word, prefix, rlo, rhi, rword, rprefix)
					fails++
				}
			}
			word, prefix = d.lookup(p)
			rword, rprefix = ref.lookup(p)
			if word != rword || prefix != rprefix {
				t.Errorf("lookup(%q) = %v %v, want %v %v", p, word, prefix, rword, rprefix)
				fails++
			}
		}
		for _, s := range []string{w, w + "x", mutate(rng, w)} {
			word, prefix := d.lookup(s)
			rword, rprefix := ref.lookup(s)
			if word != rword || prefix != rprefix {
				t.Errorf("lookup(%q) = %v %v, want %v %v", s, word, prefix, rword, rprefix)
				fails++
			}
		}
		if fails > 10 {
			t.Fatal("too many differences")
		}
	}
}

// mutate changes one byte of w to a random letter.
func mutate(rng *rand.Rand, w string) string {
	b := []byte(w)
	b[rng.IntN(len(b))] = byte('a' + rng.IntN(26))
	return string(b)
}

// TestPackedDictEqualsWordList checks every embedded dictionary, in both
// layouts, and the Arabic lexicon built from one, against the list of
// strings they replaced.
func TestPackedDictEqualsWordList(t *testing.T) {
	for _, name := range []string{"data/dict/de-nouns.txt.gz", "data/dict/th.txt.gz", "data/dict/lo.txt.gz", "data/dict/ar.txt.gz"} {
		t.Run(strings.TrimPrefix(name, "data/dict/"), func(t *testing.T) {
			ref := refWords(t, name)
			checkDictEqual(t, frontCoded(loadFrontDict(name)), ref)
			if name != "data/dict/de-nouns.txt.gz" || !testing.Short() {
				checkDictEqual(t, flatDict(loadDict(name)), ref)
			}
		})
	}
	t.Run("arabic lexicon", func(t *testing.T) {
		base := refWords(t, "data/dict/ar.txt.gz")
		var ws []string
		for _, w := range base {
			w = normalizeArabic(w)
			ws = append(ws, w)
			if s := arabicSuffixStem(w); s != w {
				ws = append(ws, s)
			}
		}
		slices.Sort(ws)
		checkDictEqual(t, flatDict(loadArabicLexicon()), slices.Compact(ws))
	})
}

// TestParseDictUnsorted covers a list out of order, with duplicates,
// blanks and lines the loader skips: it is sorted and deduplicated.
func TestParseDictUnsorted(t *testing.T) {
	for _, in := range []string{
		"kuh\nhaus\n\nhaus\nbaum\n",
		"baum\nhaus\nhaus\nkuh",             // sorted with a duplicate
		"  haus \nzwei worte\nbaum\n\xff\n", // trimmed; skipped lines
		"a\nab\nabc\nb\n",
		strings.Repeat("z\ny\n", 40), // several blocks, out of order
		"",
	} {
		checkDictEqual(t, flatDict(parseDict([]byte(in))), refParse([]byte(in)))
		checkDictEqual(t, frontCoded(parseFrontDict([]byte(in))), refParse([]byte(in)))
	}
	if d := parseDict(nil); d.len() != 0 {
		t.Fatalf("empty list: %d words", d.len())
	}
	if w, p := parseFrontDict(nil).lookup("a"); w || p {
		t.Fatal("empty list finds a word")
	}
}

// TestDictFootprint bounds the heap the German noun list holds:
// front-coded (the decompounder's) 1.4 MB, packed flat 4.1 MB; as one
// string per word it was 7.4 MB.
func TestDictFootprint(t *testing.T) {
	var before, mid, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fd := loadFrontDict("data/dict/de-nouns.txt.gz")
	runtime.GC()
	runtime.ReadMemStats(&mid)
	d := loadDict("data/dict/de-nouns.txt.gz")
	runtime.GC()
	runtime.ReadMemStats(&after)
	front := int64(mid.HeapAlloc) - int64(before.HeapAlloc)
	flat := int64(after.HeapAlloc) - int64(mid.HeapAlloc)
	t.Logf("%d words; front-coded %.2f MB, flat %.2f MB", d.len(), float64(front)/1e6, float64(flat)/1e6)
	if front > 1_500_000 || flat > 4_500_000 {
		t.Fatalf("the German list holds %.2f MB front-coded, %.2f MB flat; want under 1.5 and 4.5", float64(front)/1e6, float64(flat)/1e6)
	}
	runtime.KeepAlive(fd)
	runtime.KeepAlive(d)
}

func FuzzParseDict(f *testing.F) {
	f.Add([]byte("kuh\nhaus\nbaum\n"), "ha")
	f.Add([]byte("a\nab\nb\n"), "a")
	f.Fuzz(func(t *testing.T, list []byte, q string) {
		d, fd, ref := parseDict(list), parseFrontDict(list), refParse(list)
		if d.len() != len(ref) || fd.len() != len(ref) {
			t.Fatalf("%d words, want %d", d.len(), len(ref))
		}
		w, p := d.lookup(q)
		rw, rp := ref.lookup(q)
		if w != rw || p != rp {
			t.Fatalf("lookup(%q) = %v %v, want %v %v", q, w, p, rw, rp)
		}
		if w, p := fd.lookup(q); w != rw || p != rp {
			t.Fatalf("front-coded lookup(%q) = %v %v, want %v %v", q, w, p, rw, rp)
		}
		lo, hi, w, p := fd.narrow(0, fd.len(), q)
		rlo, rhi, rw, rp := ref.narrow(0, len(ref), q)
		if lo != rlo || hi != rhi || w != rw || p != rp {
			t.Fatalf("narrow(%q) differs", q)
		}
	})
}
