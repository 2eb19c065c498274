package text

import (
	"slices"
	"strings"
	"testing"
)

func sentenceTexts(s string) []string {
	var out []string
	for _, sp := range Sentences(s) {
		out = append(out, s[sp.Start:sp.End])
	}
	return out
}

func TestSentences(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"blank", " \n\t ", nil},
		{"no terminator", "no terminator here", []string{"no terminator here"}},
		{"simple", "One. Two! Three? Four", []string{"One.", "Two!", "Three?", "Four"}},
		{"surrounding space trimmed", "  One.   Two.  ", []string{"One.", "Two."}},
		{"title abbreviation", "Dr. Smith went home. He slept.", []string{"Dr. Smith went home.", "He slept."}},
		{"e.g. and i.e.", "Use fruit, e.g. apples, i.e. food. Next.", []string{"Use fruit, e.g. apples, i.e. food.", "Next."}},
		{"dotted acronym", "The U.S. Army grew. It did.", []string{"The U.S. Army grew.", "It did."}},
		{"et al.", "Smith et al. Showed it. Then more.", []string{"Smith et al. Showed it.", "Then more."}},
		{"et al. with year", "Smith et al. (2019) found it. Yes.", []string{"Smith et al. (2019) found it.", "Yes."}},
		{"Fig.", "See Fig. 3 and Fig. Four. Done.", []string{"See Fig. 3 and Fig. Four.", "Done."}},
		{"vs.", "It was Ali vs. Frazier. Great.", []string{"It was Ali vs. Frazier.", "Great."}},
		{"initials", "J. R. R. Tolkien wrote it. True.", []string{"J. R. R. Tolkien wrote it.", "True."}},
		{"decimals", "Pi is 3.14 or so. Right.", []string{"Pi is 3.14 or so.", "Right."}},
		{"p.m. before lower case", "At 3 p.m. today we met. Ok.", []string{"At 3 p.m. today we met.", "Ok."}},
		{"ellipsis then capital", "Wait... What? No.", []string{"Wait...", "What?", "No."}},
		{"ellipsis then lower case", "Wait... what now?", []string{"Wait... what now?"}},
		{"closing quote after terminator", `He said "Stop." Then he left.`, []string{`He said "Stop."`, "Then he left."}},
		{"curly quotes", "She said “Go!” He went.", []string{"She said “Go!”", "He went."}},
		{"bracket after terminator", "It ended (finally.) New start.", []string{"It ended (finally.)", "New start."}},
		{"question inside, lower case after", `He asked "why?" and left.`, []string{`He asked "why?" and left.`}},
		{"numbered list", "1. First item\n2. Second item\n3. Third", []string{"1. First item", "2. Second item", "3. Third"}},
		{"lettered list", "a) alpha\nb) beta", []string{"a) alpha", "b) beta"}},
		{"bullets", "Intro:\n- one\n- two", []string{"Intro:", "- one", "- two"}},
		{"hard wrap joined", "This line is hard\nwrapped here. Next.", []string{"This line is hard\nwrapped here.", "Next."}},
		{"newline after terminator", "Line one.\nLine two.", []string{"Line one.", "Line two."}},
		{"blank line separates", "Title\n\nBody text.", []string{"Title", "Body text."}},
		{"heading line", "# Heading\nBody text.", []string{"# Heading", "Body text."}},
		{"windows line ends", "One.\r\nTwo.\r\n\r\nThree", []string{"One.", "Two.", "Three"}},
		{"chinese", "这是中文。第二句！第三句？好", []string{"这是中文。", "第二句！", "第三句？", "好"}},
		{"japanese", "これは日本語です。次の文！", []string{"これは日本語です。", "次の文！"}},
		{"full-width ! and ?", "Full-width！Next？Yes", []string{"Full-width！", "Next？", "Yes"}},
		{"hindi danda", "यह हिंदी है। दूसरा वाक्य।", []string{"यह हिंदी है।", "दूसरा वाक्य।"}},
		{"arabic and urdu marks", "هذا نص عربي؟ نعم۔ جملة أخرى.", []string{"هذا نص عربي؟", "نعم۔", "جملة أخرى."}},
		{"german abbreviations", "Das ist z.B. ein Test. Herr Dr. Müller kam.", []string{"Das ist z.B. ein Test.", "Herr Dr. Müller kam."}},
		{"russian initials and т.е.", "Как сказал А. С. Пушкин, это т.е. пример. Второе.", []string{"Как сказал А. С. Пушкин, это т.е. пример.", "Второе."}},
		{"spanish", "¿Dónde está la Sra. García? Está aquí.", []string{"¿Dónde está la Sra. García?", "Está aquí."}},
		{"french", "M. Dupont est arrivé. Il pleut.", []string{"M. Dupont est arrivé.", "Il pleut."}},
		{"lower-case variable ends a sentence", "Take a set of size n. Then sort it.", []string{"Take a set of size n.", "Then sort it."}},
		{"z. B. with a space", "Firmen (z. B. Architektur) bauen. Gut.", []string{"Firmen (z. B. Architektur) bauen.", "Gut."}},
		{"german date ordinal", "Am 8. Februar 2007 gab BSkyB es bekannt. Dann kam mehr.", []string{"Am 8. Februar 2007 gab BSkyB es bekannt.", "Dann kam mehr."}},
		{"date ordinal at the start", "27. Januar 1967: der Test begann. Danach nichts.", []string{"27. Januar 1967: der Test begann.", "Danach nichts."}},
		{"small number ends a sentence", "The team scored 24. Then it rained in 2007.", []string{"The team scored 24.", "Then it rained in 2007."}},
		{"year ends a sentence", "It opened in 1999. March 2001 saw more.", []string{"It opened in 1999.", "March 2001 saw more."}},
		{"number without a year after", "Er wurde 8. Danach kam er.", []string{"Er wurde 8.", "Danach kam er."}},
		{"arabic initial", "أسسها جيمس أو. ماكينزي ومؤسس م. ثيو كيرني. جملة أخرى.", []string{"أسسها جيمس أو.", "ماكينزي ومؤسس م. ثيو كيرني.", "جملة أخرى."}},
		{"hindi initials", "निक्सन ने विलियम ई. साइमन और डब्ल्यू. हेडन को चुना। दूसरा वाक्य।", []string{"निक्सन ने विलियम ई. साइमन और डब्ल्यू. हेडन को चुना।", "दूसरा वाक्य।"}},
		{"hindi long word before a dot ends", "यह एक लंबावाक्यांश. दूसरा वाक्य।", []string{"यह एक लंबावाक्यांश.", "दूसरा वाक्य।"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sentenceTexts(tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Sentences(%q)\n got  %q\n want %q", tt.in, got, tt.want)
			}
			checkSentences(t, tt.in, Sentences(tt.in))
		})
	}
}

// checkSentences asserts the span contract: in bounds, ordered, disjoint,
// trimmed, and covering every non-space byte.
func checkSentences(t testing.TB, in string, spans []Span) {
	t.Helper()
	prev := 0
	for i, sp := range spans {
		if sp.Start < prev || sp.End <= sp.Start || sp.End > len(in) {
			t.Fatalf("%q: span %d %v out of order or bounds (prev end %d)", in, i, sp, prev)
		}
		if gap := in[prev:sp.Start]; strings.TrimSpace(gap) != "" && !onlySpaceOrInvalid(gap) {
			t.Fatalf("%q: non-space text %q between sentences", in, gap)
		}
		s, e := TrimSpan(in, sp.Start, sp.End)
		if s != sp.Start || e != sp.End {
			t.Fatalf("%q: span %d %q not trimmed", in, i, in[sp.Start:sp.End])
		}
		prev = sp.End
	}
	if rest := in[prev:]; strings.TrimSpace(rest) != "" && !onlySpaceOrInvalid(rest) {
		t.Fatalf("%q: trailing non-space text %q not in a sentence", in, rest)
	}
}

// onlySpaceOrInvalid reports whether s holds only white space by the
// package's definition (strings.TrimSpace treats invalid UTF-8 as text).
func onlySpaceOrInvalid(s string) bool {
	a, b := TrimSpan(s, 0, len(s))
	return a == b
}

func TestSentencesSeqStops(t *testing.T) {
	n := 0
	for range SentencesSeq("One. Two. Three.") {
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Fatalf("iterated %d times", n)
	}
}

func TestSentencesLongInputLinear(t *testing.T) {
	// One 4 MB "sentence" without terminators and 100k short ones: both
	// must finish quickly (no rescans).
	long := strings.Repeat("word ", 800_000)
	if got := len(Sentences(long)); got != 1 {
		t.Fatalf("got %d sentences, want 1", got)
	}
	many := strings.Repeat("A short one. ", 100_000)
	if got := len(Sentences(many)); got != 100_000 {
		t.Fatalf("got %d sentences, want 100000", got)
	}
}

func BenchmarkSentences(b *testing.B) {
	b.SetBytes(int64(len(englishSample)))
	for b.Loop() {
		for range SentencesSeq(englishSample) {
		}
	}
}

func TestSentencesThaiAndLao(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{
			"ประเทศไทยมีประชากรประมาณเจ็ดสิบล้านคน กรุงเทพมหานครเป็นเมืองหลวงของประเทศ และเป็นศูนย์กลางทางเศรษฐกิจ ภาษาไทยเป็นภาษาราชการ",
			[]string{"ประเทศไทยมีประชากรประมาณเจ็ดสิบล้านคน", "กรุงเทพมหานครเป็นเมืองหลวงของประเทศ และเป็นศูนย์กลางทางเศรษฐกิจ", "ภาษาไทยเป็นภาษาราชการ"},
		},
		// Too few words on one side: no split.
		{"สวัสดี ครับ", []string{"สวัสดี ครับ"}},
		// A space before a number is not a candidate.
		{"ประเทศไทยมีประชากรประมาณ 70 ล้านคน", []string{"ประเทศไทยมีประชากรประมาณ 70 ล้านคน"}},
		{
			"ປະເທດລາວມີພົນລະເມືອງຫຼາຍລ້ານຄົນ ນະຄອນຫຼວງວຽງຈັນເປັນນະຄອນຫຼວງຂອງປະເທດ",
			[]string{"ປະເທດລາວມີພົນລະເມືອງຫຼາຍລ້ານຄົນ", "ນະຄອນຫຼວງວຽງຈັນເປັນນະຄອນຫຼວງຂອງປະເທດ"},
		},
		// Latin sentences around Thai keep the usual rules.
		{"Hello world. ภาษาไทยเป็นภาษาราชการของประเทศไทย", []string{"Hello world.", "ภาษาไทยเป็นภาษาราชการของประเทศไทย"}},
	}
	for _, tt := range tests {
		var got []string
		for _, sp := range Sentences(tt.in) {
			got = append(got, tt.in[sp.Start:sp.End])
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Sentences(%q):\n got  %q\n want %q", tt.in, got, tt.want)
		}
	}
}
