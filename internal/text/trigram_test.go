package text

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abadojack/whatlanggo"
)

// sameAsWhatlanggo reports whether whatlangDetect agrees with the library
// on s. Where whatlanggo's answer is random (two languages tie for the
// smallest distance, so its confidence is 0 and its language whichever
// its map iteration met first), only the confidence must agree; tie
// reports such a text.
func sameAsWhatlanggo(s string) (same, tie bool, got, want whatlanggo.Info) {
	got.Lang, got.Confidence = whatlangDetect(s)
	want = whatlanggo.DetectWithOptions(s, whatlang.options)
	if got.Confidence == 0 && want.Confidence == 0 && got.Lang != want.Lang && got.Lang >= 0 && want.Lang >= 0 {
		return true, true, got, want
	}
	return got.Lang == want.Lang && got.Confidence == want.Confidence, false, got, want
}

// TestTrigramsMatchWhatlanggo: the allocation-free scorer gives
// whatlanggo's language and exact confidence on the shared corpora
// (XQuAD paragraphs and questions in the Latin and Cyrillic languages,
// SciFact abstracts, WordNet glosses), cut as trigramDetect cuts them and
// shorter, and on seeded random text mixing scripts, cases, digits,
// punctuation and combining marks.
func TestTrigramsMatchWhatlanggo(t *testing.T) {
	t.Run("random", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(15, 6))
		texts := make([]string, 10000)
		for i := range texts {
			texts[i] = randomDetectText(rng)
		}
		checkSameAsWhatlanggo(t, texts)
	})
	for _, lang := range []string{"de", "en", "es", "ru"} {
		t.Run("xquad/"+lang, func(t *testing.T) {
			dir := filepath.Join(datasets(), "xquad", lang)
			checkSameAsWhatlanggo(t, readCorpus(t, filepath.Join(dir, "corpus.jsonl")))
			checkSameAsWhatlanggo(t, readCorpus(t, filepath.Join(dir, "queries.jsonl")))
		})
	}
	t.Run("scifact", func(t *testing.T) {
		docs := readCorpus(t, filepath.Join(datasets(), "beir", "scifact", "corpus.jsonl"))
		checkSameAsWhatlanggo(t, docs[:min(len(docs), 2000)])
	})
	t.Run("wordnet", func(t *testing.T) {
		glosses := readCorpus(t, filepath.Join(datasets(), "ann", "wordnet_glosses.jsonl"))
		checkSameAsWhatlanggo(t, glosses[:min(len(glosses), 3000)])
	})
}

// checkSameAsWhatlanggo compares each text cut as trigramDetect cuts it
// and cut short.
func checkSameAsWhatlanggo(t *testing.T, texts []string) {
	t.Helper()
	n, ties := 0, 0
	for _, s := range texts {
		for _, cut := range []int{trigramMaxBytes, 60} {
			in := prefix(s, cut)
			same, tie, got, want := sameAsWhatlanggo(in)
			n++
			if tie {
				ties++
			}
			if !same {
				t.Fatalf("%q: got %v %v, whatlanggo %v %v", in, got.Lang, got.Confidence, want.Lang, want.Confidence)
			}
		}
	}
	t.Logf("%d texts agree with whatlanggo (%d ties, where its language is random)", n, ties)
}

// randomDetectText draws up to ~400 bytes from an alphabet of Latin
// (with accents and capitals), Cyrillic, digits, punctuation, symbols,
// spaces, combining marks and a few other scripts, mostly as words of one
// script.
func randomDetectText(rng *rand.Rand) string {
	pools := []string{
		"etaoinshrdlucmfwypvbgkjqxz", "ETAOINSHRDLU", "áéíóúñçäöüßøåæœąęłśźżčšžőűğışțș",
		"оеаинтсрвлкмдпуяызьбгчйхжшюцщэфъёіїєґўјљњћђџѓќѕ", "ОЕАИНТСР",
		"0123456789", ".,;:!?¿¡'\"()-«»“”", "$+<=>^`|~©®°±€", " \t\n",
		"\u0301\u0308\u0327", "的一是不了人我在有他", "αβγδε", "אבגדה", "ابتثج", "कखगघ", "\x00\x7f\ufffd",
	}
	var b strings.Builder
	n := rng.IntN(400)
	main := rng.IntN(5)
	for b.Len() < n {
		p := pools[main]
		if rng.IntN(4) == 0 {
			p = pools[rng.IntN(len(pools))]
		}
		rs := []rune(p)
		for range 1 + rng.IntN(8) {
			b.WriteRune(rs[rng.IntN(len(rs))])
		}
		if rng.IntN(3) > 0 {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

func FuzzTrigramsMatchWhatlanggo(f *testing.F) {
	for _, s := range []string{"", " ", "a", "The granite forms from magma.", "Кто основал компанию?",
		"ab\xff\xfecd", "x\u0301\u0301", "1234 !!", "ΑΒΓ abc", "Ⅻ Ⅳ ъ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		s = prefix(s, 2048)
		if same, _, got, want := sameAsWhatlanggo(s); !same {
			t.Fatalf("%q: got %v %v, whatlanggo %v %v", s, got.Lang, got.Confidence, want.Lang, want.Confidence)
		}
	})
}

// TestTrigramDetectAllocatesNothing: no allocation on Latin text once
// the pooled buffers have grown, and one on Cyrillic text (whatlanggo's
// DetectScript returns a new empty RangeTable when no script holds more
// than half the text's bytes, which two-byte letters never do). whatlanggo
// itself: ~48 KB in ~1,200 allocations a call.
func TestTrigramDetectAllocatesNothing(t *testing.T) {
	for _, c := range []struct {
		text  string
		allow float64
	}{
		{prefix(englishSample, trigramMaxBytes), 0},
		{"Москва — столица России, город федерального значения, административный центр Центрального федерального округа.", 1},
	} {
		whatlangDetect(c.text)
		if a := testing.AllocsPerRun(100, func() { whatlangDetect(c.text) }); a > c.allow {
			t.Errorf("%.20q: %.1f allocations a call, want ≤ %.0f", c.text, a, c.allow)
		}
	}
}

// BenchmarkTrigramScorer compares the scorer with whatlanggo on the text
// trigramDetect passes (384 bytes of English).
func BenchmarkTrigramScorer(b *testing.B) {
	s := prefix(englishSample, trigramMaxBytes)
	b.Run("quarry", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			whatlangDetect(s)
		}
	})
	b.Run("whatlanggo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			whatlanggo.DetectWithOptions(s, whatlang.options)
		}
	})
}
