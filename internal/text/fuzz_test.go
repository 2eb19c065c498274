package text

import (
	"slices"
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	// Long tokens without spaces: Latin (a German-looking compound), Thai,
	// and a run of one Han character. Kept short enough for the fuzzer to
	// mutate quickly; TestAnalyzeLongUnspacedRuns has megabyte runs.
	strings.Repeat("Donaudampfschifffahrtsgesellschaftskapitän", 3),
	strings.Repeat("ภาษาไทย", 20),
	strings.Repeat("語", 60),
	"",
	"The quick brown fox. Dr. Smith et al. (2019) found 3.14!",
	"東京タワーは日本の電波塔です。한국어 텍스트",
	"हिंदी भाषा में। क़लम",
	"ﬁne Ｈｅｌｌｏ ⑴ ｶﾞｲﾄﾞ ½",
	"l'homme qu'on İstanbul'da",
	"1. one\n2. two\n\n# Title\nwrapped\nline",
	"a\u0301\u0301b \u200d\u200dc",
	"\xff\xfe日\xe6本",
	"He said \"Stop.\" Then... what?",
	"ภาษาไทยเป็นภาษาที่สวยงาม และมีประวัติศาสตร์ยาวนาน ประเทศไทยมีประชากรมาก",
	"ພາສາລາວເປັນພາສາທີ່ສວຍງາມ ປະເທດລາວ",
	"ភាសាខ្មែរជាភាសាផ្លូវការ។ မြန်မာဘာသာစကား။",
	"เเเเัั ไ ไ្្္ กÿข 👍🏽 ไทยEnglish日本",
	"Ελληνικός ΐ کتاب می‌روم Београд क़लम",
	"hradech градовете dimakan menyapu ženy čt š ь",
	"Straßenverkehrssicherheitsgesetz GERICHTSVERFAHREN Ǆungel ÄÖÜ\u0308 Touristen\x00strecken",
	"Verhandlungssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssstrategie",
	"وبالفريقً لكاليفورنيا بفريستها النقطتين أسمائهاـ ولل ووو ؤئء فريقABC١٢٣",
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	analyzers := []*Analyzer{
		mustAnalyzer(f, AnalyzerConfig{}),
		mustAnalyzer(f, AnalyzerConfig{Language: "en"}),
		mustAnalyzer(f, AnalyzerConfig{Language: "fr"}),
		mustAnalyzer(f, AnalyzerConfig{Language: "tr"}),
		mustAnalyzer(f, AnalyzerConfig{Language: "ar"}),
		mustAnalyzer(f, AnalyzerConfig{Language: "th"}),
		mustAnalyzer(f, AnalyzerConfig{Language: "hi"}),
		mustAnalyzer(f, AnalyzerConfig{Language: "fa"}),
		mustAnalyzer(f, AnalyzerConfig{Language: "el"}),
		mustAnalyzer(f, AnalyzerConfig{Language: "cs"}),
		mustAnalyzer(f, AnalyzerConfig{Language: "bg"}),
		mustAnalyzer(f, AnalyzerConfig{Language: "id"}),
		mustAnalyzer(f, AnalyzerConfig{Language: "de"}),
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, a := range analyzers {
			checkTokens(t, s, a.Analyze(s), a.AppendTerms(nil, s))
		}
	})
}

func FuzzSentences(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spans := Sentences(s)
		checkSentences(t, s, spans)
		var seq []Span
		for sp := range SentencesSeq(s) {
			seq = append(seq, sp)
		}
		if !slices.Equal(seq, spans) {
			t.Fatalf("SentencesSeq %v != Sentences %v", seq, spans)
		}
	})
}

func FuzzCountTokens(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, prev := 0, 0
		for sp := range TokensSeq(s) {
			if sp.Start < prev || sp.End <= sp.Start || sp.End > len(s) {
				t.Fatalf("%q: token span %v out of order or bounds (prev end %d)", s, sp, prev)
			}
			prev = sp.End
			n++
		}
		if c := CountTokens(s); c != n {
			t.Fatalf("%q: CountTokens %d, TokensSeq yielded %d", s, c, n)
		}
	})
}

// FuzzSegmentThai checks the dictionary segmenter directly: pieces tile
// the run in order on cluster boundaries, whatever the input.
func FuzzSegmentThai(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range strings.Fields(s) {
			ps := seaPieces(w)
			at := 0
			for _, p := range ps {
				if p.start != at || p.end <= p.start || p.end > len(w) {
					t.Fatalf("%q: pieces %v do not tile the word", w, ps)
				}
				at = p.end
			}
			if at != len(w) {
				t.Fatalf("%q: pieces %v end at %d", w, ps, at)
			}
		}
	})
}

// FuzzDetectLanguage checks that identification never panics and answers
// a known code with a confidence in [0, 1], or "" with 0, on mixed
// scripts, names in Latin letters and control characters alike.
func FuzzDetectLanguage(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	for _, s := range []string{"Кто основал McKinsey & Company?", "DECnet क्या है", "أين يقع Energiprojekt AB؟",
		"Wann wurde das Plastom entdeckt?", "¿Cuándo?", "A\u0301B\u0301 Ωμέγα\x00\x07"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lang, conf := DetectLanguage(s)
		if conf < 0 || conf > 1 || lang == "" && conf != 0 {
			t.Fatalf("%q: %q with confidence %v", s, lang, conf)
		}
		if lang != "" {
			if _, err := NewAnalyzer(AnalyzerConfig{Language: lang}); err != nil && !trigramLanguages[lang] {
				t.Fatalf("%q: unknown language %q", s, lang)
			}
		}
	})
}
