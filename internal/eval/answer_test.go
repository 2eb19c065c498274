package eval

import (
	"math"
	"slices"
	"testing"
)

func TestNormalizerTokens(t *testing.T) {
	cases := []struct {
		n    Normalizer
		in   string
		want []string
	}{
		{Normalizer{Mode: NormSQuAD}, "The Denver Broncos, an NFL team!", []string{"denver", "broncos", "nfl", "team"}},
		{Normalizer{Mode: NormSQuAD}, "“Quoted” théatre", []string{"“quoted”", "théatre"}}, // SQuAD keeps non-ASCII punctuation
		{Normalizer{Mode: NormMultilingual, Lang: "en"}, "“Quoted” the end.", []string{"quoted", "end"}},
		{Normalizer{Mode: NormMultilingual, Lang: "de"}, "Der Vertrag von Versailles", []string{"vertrag", "von", "versailles"}},
		{Normalizer{Mode: NormMultilingual, Lang: "es"}, "La Liga, los equipos", []string{"liga", "equipos"}},
		{Normalizer{Mode: NormMultilingual, Lang: "zh"}, "丹佛野马队（Broncos）赢了", []string{"丹", "佛", "野", "马", "队", "broncos", "赢", "了"}},
		{Normalizer{Mode: NormMultilingual, Lang: "ar"}, "الدوري الوطني", []string{"دوري", "وطني"}},
		{Normalizer{Mode: NormMultilingual, Lang: "ru"}, "Санта-Клара, 1 000", []string{"сантаклара", "1", "000"}},
	}
	for _, c := range cases {
		if got := c.n.Tokens(c.in); !slices.Equal(got, c.want) {
			t.Errorf("%+v Tokens(%q) = %q, want %q", c.n, c.in, got, c.want)
		}
	}
}

func TestAnswerMetrics(t *testing.T) {
	en := Normalizer{Mode: NormMultilingual, Lang: "en"}
	zh := Normalizer{Mode: NormMultilingual, Lang: "zh"}
	if got := en.AnswerRecall("They scored 24–10 in 2016.", []string{"2016"}); got != 1 {
		t.Errorf("recall of a present answer = %v", got)
	}
	if got := en.AnswerRecall("It cost 100 dollars.", []string{"10"}); got != 0 {
		t.Errorf("\"10\" must not be found inside \"100\": got %v", got)
	}
	if got := zh.AnswerRecall("丹佛野马队赢得了第50届超级碗。", []string{"丹佛野马队"}); got != 1 {
		t.Errorf("CJK recall = %v", got)
	}
	if got := en.AnswerRecall("anything", []string{"", "the"}); got != 0 {
		t.Errorf("gold answers that normalise to nothing must not match: %v", got)
	}
	first, anyHit := en.CitationHit([]string{"no answer here", "the answer is Denver."}, []string{"Denver"})
	if first != 0 || anyHit != 1 {
		t.Errorf("CitationHit = %v, %v; want 0, 1", first, anyHit)
	}
	if got := en.CitationPrecision([]string{"Denver", "Boston", "in Denver"}, []string{"denver"}); math.Abs(got-2.0/3) > 1e-12 {
		t.Errorf("CitationPrecision = %v", got)
	}
	if got := en.F1("the Denver Broncos", []string{"Broncos"}); math.Abs(got-2.0/3) > 1e-12 {
		t.Errorf("F1 = %v, want 2/3", got)
	}
	rel := map[string]bool{"p3": true}
	if HitAtK([]string{"p1", "p1", "p2", "p3"}, rel, 2) != 0 || HitAtK([]string{"p1", "p1", "p2", "p3"}, rel, 3) != 1 {
		t.Error("HitAtK must count distinct documents")
	}
}

func TestContextMetrics(t *testing.T) {
	// Average precision: relevant at ranks 1 and 3 → (1/1 + 2/3) / 2.
	if got := AveragePrecision([]bool{true, false, true}); math.Abs(got-(1+2.0/3)/2) > 1e-9 {
		t.Errorf("AveragePrecision = %v", got)
	}
	if got := StringSimilarity("kitten", "sitting"); math.Abs(got-(1-3.0/7)) > 1e-12 {
		t.Errorf("StringSimilarity = %v", got)
	}
	// "abcd" vs "abxy": similarity exactly 0.5: precision counts it (≥),
	// recall does not (>), as in RAGAS.
	if ContextPrecision([]string{"abcd"}, []string{"abxy"}, 0.5) < 0.99 || ContextRecall([]string{"abcd"}, []string{"abxy"}, 0.5) != 0 {
		t.Error("threshold comparisons differ from RAGAS")
	}
	if ContextPrecision(nil, []string{"x"}, 0.5) != 0 || ContextRecall([]string{"x"}, nil, 0.5) != 0 {
		t.Error("empty inputs must score 0")
	}
}

func FuzzNormalizer(f *testing.F) {
	f.Add("The “Denver” Broncos 丹佛 الدوري", "zh")
	f.Add("\xff\xfe the", "ar")
	f.Fuzz(func(t *testing.T, s, lang string) {
		for _, m := range []NormLang{NormSQuAD, NormMultilingual} {
			n := Normalizer{Mode: m, Lang: lang}
			toks := n.Tokens(s)
			// Normalising is idempotent on its own output.
			if again := n.Tokens(n.Normalize(s)); !slices.Equal(again, toks) && m == NormMultilingual && lang != "ar" {
				t.Errorf("not idempotent: %q → %q → %q", s, toks, again)
			}
			if n.F1(s, []string{s}) > 1 || n.ExactMatch(s, []string{s}) != 1 {
				t.Errorf("self-scores wrong for %q", s)
			}
		}
	})
}
