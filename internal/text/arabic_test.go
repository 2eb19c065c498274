package text

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestArabicClitics checks the lexicon-checked clitic rules of arabic.go
// through the whole analyzer: a clitic is removed where the rest is a
// word, and a word that merely begins with a clitic's letter keeps it.
func TestArabicClitics(t *testing.T) {
	a := mustAnalyzer(t, AnalyzerConfig{Language: "ar"})
	same := [][]string{
		{"فريق", "والفريق", "للفريق", "فريقاً", "فريقه"}, // ف of فريق is no conjunction
		{"كتاب", "وكتاب", "بالكتاب", "الكتاب", "كتابها"}, // و+كتاب, not وك+تاب
		{"أول", "لأول", "الأول"},                         // ل is a preposition (light10 keeps it)
		{"تحويل", "لتحويل", "والتحويل"},
		{"فريسة", "بفريستها"},          // teh marbuta written teh before a pronoun
		{"غادر", "غادروا"},             // verb plural
		{"مدير", "مديرو", "المدير"},    // construct plural
		{"أسماء", "أسمائها", "بأسماء"}, // hamza seat (Snowball's post-normalisation)
		{"ولد", "وولده"},               // و is a conjunction before ولد …
		{"والد", "والده"},              // … and part of والد
		{"نقطة", "نقطتين", "النقطتان"}, // teh marbuta written teh before the dual
		{"فرنسا", "فرنسية", "وفرنسا"},  // final alef (Snowball) and nisba ي (light10)
	}
	for _, forms := range same {
		want := a.AppendTerms(nil, forms[0])
		if len(want) != 1 {
			t.Fatalf("%q → %q, want one term", forms[0], want)
		}
		for _, f := range forms[1:] {
			if got := a.AppendTerms(nil, f); !slices.Equal(got, want) {
				t.Errorf("%q → %q, %q → %q; want one equal term", forms[0], want, f, got)
			}
		}
	}
	differ := [][2]string{{"فريق", "ريق"}, {"كتاب", "تاب"}, {"والد", "الد"}, {"ولد", "لد"}}
	for _, p := range differ {
		if x, y := a.AppendTerms(nil, p[0]), a.AppendTerms(nil, p[1]); slices.Equal(x, y) {
			t.Errorf("%q and %q both → %q; the first letter is part of the word", p[0], p[1], x)
		}
	}
	// A stopword behind a proclitic is a stopword.
	for _, w := range []string{"وهذا", "فهذه", "ولكن", "بعد", "وبعد"} {
		if got := a.AppendTerms(nil, w); len(got) != 0 {
			t.Errorf("%q → %q, want a stopword", w, got)
		}
	}
}

// TestArabicLexicon checks the embedded lexicon: normalised, with common
// words, and without the clitic forms its function-word lists spell out.
func TestArabicLexicon(t *testing.T) {
	d := arabicLexicon()
	if d.len() < 90_000 {
		t.Fatalf("%d lexicon entries, want the whole Ayaspell list", d.len())
	}
	for _, w := range []string{"فريق", "كتاب", "مدينه", "اول", "استعمل", "فرنس"} {
		if ok, _ := d.lookup(w); !ok {
			t.Errorf("%q missing", w)
		}
	}
	for _, w := range []string{"وبيد", "فبالله", "أول", "مدينة"} {
		if ok, _ := d.lookup(w); ok {
			t.Errorf("%q listed: a clitic form or an unnormalised spelling", w)
		}
	}
}

func FuzzArabicStem(f *testing.F) {
	for _, s := range []string{"والفريق", "بفريستها", "كاليفورنيا", "ال", "و", "وللل", "ؤئ", "تته", "أسمائها", "\xff\xfeال"} {
		f.Add(s)
	}
	arabicLexicon()
	f.Fuzz(func(t *testing.T, w string) {
		if !utf8.ValidString(w) {
			return // the analyzer splits words at invalid UTF-8
		}
		w = normalizeArabic(w)
		r := stripArabicProclitics(w)
		if !strings.HasSuffix(w, r) {
			t.Fatalf("proclitics of %q → %q, not a suffix of the word", w, r)
		}
		s := stemArabic(r)
		if w != "" && s == "" {
			t.Fatalf("%q stemmed to nothing", w)
		}
		if len(s) > len(r) || !utf8.ValidString(s) {
			t.Fatalf("%q → %q → %q", w, r, s)
		}
	})
}
