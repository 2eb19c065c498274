package text

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func mustAnalyzer(t testing.TB, cfg AnalyzerConfig) *Analyzer {
	t.Helper()
	a, err := NewAnalyzer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAnalyzerTerms(t *testing.T) {
	tests := []struct {
		name string
		cfg  AnalyzerConfig
		in   string
		want []string
	}{
		{"english stem and stop", AnalyzerConfig{Language: "en"},
			"The quick brown foxes were running into the houses",
			[]string{"quick", "brown", "fox", "run", "hous"}},
		{"english possessive and curly apostrophe", AnalyzerConfig{Language: "en"},
			"John's dog doesn’t bark", []string{"john", "dog", "doesn't", "bark"}},
		{"english keep stopwords", AnalyzerConfig{Language: "en", KeepStopwords: true},
			"the cat", []string{"the", "cat"}},
		{"english no stem", AnalyzerConfig{Language: "en", NoStem: true},
			"The running foxes", []string{"running", "foxes"}},
		{"neutral chain", AnalyzerConfig{},
			"The Running FOXES", []string{"the", "running", "foxes"}},
		{"numbers and inner punctuation", AnalyzerConfig{Language: "en"},
			"pi is 3.14, U.S.A. and e-mail", []string{"pi", "3.14", "u.s.a", "e", "mail"}},
		{"punctuation only", AnalyzerConfig{Language: "en"}, "... --- !!! ?", nil},
		{"empty", AnalyzerConfig{Language: "en"}, "", nil},
		{"NFKC ligature and full width", AnalyzerConfig{},
			"ﬁne Ｈｅｌｌｏ ① ⑴", []string{"fine", "hello", "1", "1"}},
		{"case folding", AnalyzerConfig{}, "STRASSE Straße ΣΊΣΥΦΟΣ", []string{"strasse", "strasse", "σίσυφοσ"}},
		{"german", AnalyzerConfig{Language: "de"}, "Die Häuser und das Haus", []string{"haus", "haus"}},
		{"french elision", AnalyzerConfig{Language: "fr"},
			"L'homme qu'on aime jusqu'à demain", []string{"homm", "aim", "demain"}},
		{"italian elision", AnalyzerConfig{Language: "it"}, "dell'anno", []string{"anno"}},
		{"turkish lower-casing and apostrophe", AnalyzerConfig{Language: "tr"},
			"İstanbul'da IŞIK ve kitaplar", []string{"istanbul", "ışık", "kitap"}},
		{"romanian comma below", AnalyzerConfig{Language: "ro"}, "cărțile cărţile", []string{"cărţ", "cărţ"}},
		{"russian", AnalyzerConfig{Language: "ru"}, "Собаки и собака", []string{"собак", "собак"}},
		{"arabic", AnalyzerConfig{Language: "ar"}, "الكتب في المكتبة", []string{"كتب", "مكتب"}},
		{"region subtag and case", AnalyzerConfig{Language: "PT-br"}, "os gatos", []string{"gat"}},
		{"norwegian bokmål alias", AnalyzerConfig{Language: "nb"}, "bilene", []string{"bil"}},
		{"chinese bigrams", AnalyzerConfig{Language: "zh"}, "我爱北京", []string{"我爱", "爱北", "北京"}},
		{"lone CJK unigram", AnalyzerConfig{}, "大 and 小", []string{"大", "and", "小"}},
		{"CJK punctuation breaks runs", AnalyzerConfig{}, "東京、大阪。", []string{"東京", "大阪"}},
		{"japanese kana and han", AnalyzerConfig{Language: "ja"}, "タワーです", []string{"タワ", "ワー", "ーで", "です"}},
		{"half-width katakana", AnalyzerConfig{}, "ｶﾞｲﾄﾞ", []string{"ガイ", "イド"}},
		{"korean", AnalyzerConfig{Language: "ko"}, "한국어 텍스트", []string{"한국", "국어", "텍스", "스트"}},
		{"mixed latin and CJK in one segment", AnalyzerConfig{}, "iPhone발표", []string{"iphone", "발표"}},
		{"hindi keeps marks and drops stopwords", AnalyzerConfig{Language: "hi", NoStem: true},
			"हिंदी भाषा में लिखा", []string{"हिंदि", "भाषा", "लिखा"}},
		{"hindi light stemmer conflates inflections", AnalyzerConfig{Language: "hi"},
			"लड़का लड़के लड़कों", []string{"लडक", "लडक", "लडक"}},
		{"hindi nukta and chandrabindu", AnalyzerConfig{Language: "hi", NoStem: true},
			"क़लम कलम हँसी हंसी", []string{"कलम", "कलम", "हंसि", "हंसि"}},
		{"greek accents and final sigma", AnalyzerConfig{Language: "el"},
			"Ελληνικός ΕΛΛΗΝΙΚΟΣ ελληνικοσ ΐ", []string{"ελληνικοσ", "ελληνικοσ", "ελληνικοσ", "ι"}},
		{"turkish dotted and dotless i", AnalyzerConfig{Language: "tr", NoStem: true},
			"İSTANBUL IRMAK ılık", []string{"istanbul", "ırmak", "ılık"}},
		{"german sharp s", AnalyzerConfig{Language: "de", NoStem: true, KeepStopwords: true}, "Straße STRASSE", []string{"strasse", "strasse"}},
		{"arabic letter variants unstemmed", AnalyzerConfig{Language: "ar", NoStem: true, KeepStopwords: true},
			"أحمد إسلام آمن مكتبة مستشفى كتـــاب كِتَابٌ", []string{"احمد", "اسلام", "امن", "مكتبه", "مستشفي", "كتاب", "كتاب"}},
		{"persian yeh, keheh and zwnj", AnalyzerConfig{Language: "fa", KeepStopwords: true},
			"کتاب كتاب ایران ايران می‌روم", []string{"كتاب", "كتاب", "ايران", "ايران", "ميروم"}},
		{"serbian cyrillic meets latin", AnalyzerConfig{Language: "sr", KeepStopwords: true},
			"Београд Beograd ђак đak", []string{"beograd", "beograd", "djak", "djak"}},
		{"invalid UTF-8 separates", AnalyzerConfig{}, "ab\xffcd é\xfeé", []string{"ab", "cd", "é", "é"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustAnalyzer(t, tt.cfg)
			got := a.AppendTerms(nil, tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("AppendTerms(%q) = %q, want %q", tt.in, got, tt.want)
			}
			// Twice: the second run is served from the cache.
			if again := a.AppendTerms(nil, tt.in); !slices.Equal(again, got) {
				t.Errorf("second AppendTerms = %q, first %q", again, got)
			}
			var fromTokens []string
			for _, tok := range a.Analyze(tt.in) {
				fromTokens = append(fromTokens, tok.Term)
			}
			if !slices.Equal(fromTokens, got) {
				t.Errorf("Analyze terms = %q, AppendTerms = %q", fromTokens, got)
			}
		})
	}
}

func TestAnalyzeOffsetsAndPositions(t *testing.T) {
	tests := []struct {
		lang string
		in   string
		want []string // "term source pos"
	}{
		{"en", "The cat and the dog", []string{"cat cat 1", "dog dog 4"}},
		{"en", "  (Running!) ", []string{"run Running 0"}},
		{"", "ﬁne Ｈｅｌｌｏ", []string{"fine ﬁne 0", "hello Ｈｅｌｌｏ 1"}},
		{"", "日本語 x", []string{"日本 日本 0", "本語 本語 1", "x x 3"}},
		{"", "a 大 b", []string{"a a 0", "大 大 1", "b b 2"}},
		{"hi", "हिंदी और क़लम", []string{"हिंद हिंदी 0", "कलम क़लम 2"}},
		{"fr", "l’arbre", []string{"arbre l’arbre 0"}},
	}
	for _, tt := range tests {
		a := mustAnalyzer(t, AnalyzerConfig{Language: tt.lang})
		var got []string
		for _, tok := range a.Analyze(tt.in) {
			got = append(got, fmt.Sprintf("%s %s %d", tok.Term, tt.in[tok.Start:tok.End], tok.Pos))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Analyze(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNewAnalyzerLanguages(t *testing.T) {
	for _, lang := range []string{"", "en", "de", "es", "fr", "it", "pt", "nl", "ru", "ar", "hi", "sv", "da",
		"no", "fi", "hu", "ro", "tr", "ga", "ta", "zh", "ja", "ko", "EN", "en-GB", "nb", "nn",
		"bg", "bn", "ca", "ckb", "cs", "el", "et", "eu", "fa", "gl", "hy", "id", "lt", "lv", "ne", "sr", "te",
		"th", "lo", "km", "my", "ur", "mr", "pt-BR"} {
		if _, err := NewAnalyzer(AnalyzerConfig{Language: lang}); err != nil {
			t.Errorf("NewAnalyzer(%q): %v", lang, err)
		}
	}
	for _, lang := range []string{"xx", "english", "qq", "../ar", "data/stopwords/ar"} {
		_, err := NewAnalyzer(AnalyzerConfig{Language: lang})
		if !errors.Is(err, ErrUnsupportedLanguage) {
			t.Errorf("NewAnalyzer(%q) error = %v, want ErrUnsupportedLanguage", lang, err)
		}
	}
}

// TestStopwordListsApply checks that every listed stopword is removed by
// its own analyzer, i.e. that the lists survive normalisation, folding and
// elision the same way input text does.
func TestStopwordListsApply(t *testing.T) {
	lists := make(map[string]string)
	for lang, list := range stopwordLists {
		lists[lang] = list
	}
	files, err := stopwordFiles.ReadDir("data/stopwords")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		lang := strings.TrimSuffix(f.Name(), ".txt")
		if _, ok := lists[lang]; ok {
			t.Errorf("%s has both a list in stopwords.go and a file; the file is never used", lang)
		}
		lists[lang], _ = stopwords(lang)
	}
	for lang, list := range lists {
		a := mustAnalyzer(t, AnalyzerConfig{Language: lang})
		keep := mustAnalyzer(t, AnalyzerConfig{Language: lang, KeepStopwords: true, NoStem: true})
		if len(a.stop) < 30 {
			t.Errorf("%s: only %d stopwords", lang, len(a.stop))
		}
		for _, w := range strings.Fields(list) {
			if segmentedLanguages[lang] && len(keep.AppendTerms(nil, w)) > 1 {
				continue // split by the segmenter: left out on purpose
			}
			if got := a.AppendTerms(nil, w); len(got) != 0 {
				t.Errorf("%s: stopword %q analysed to %q", lang, w, got)
			}
			upper := strings.ToUpper(w)
			if lang == "tr" {
				continue // Turkish upper-casing of i differs from ToUpper
			}
			if got := a.AppendTerms(nil, upper); len(got) != 0 {
				t.Errorf("%s: stopword %q analysed to %q", lang, upper, got)
			}
		}
	}
	en := mustAnalyzer(t, AnalyzerConfig{Language: "en"})
	for _, w := range []string{"all", "between", "only"} {
		if _, stop := en.stop[w]; stop {
			t.Errorf("English: %q must stay searchable (long lists that drop it hurt scientific retrieval)", w)
		}
	}
	for _, w := range []string{"how", "does", "what", "the"} {
		if _, stop := en.stop[w]; !stop {
			t.Errorf("English: %q should be a stopword", w)
		}
	}
}

// TestStemmersConflate checks that every Snowball language is wired to its
// own stemmer: inflected forms conflate.
func TestStemmersConflate(t *testing.T) {
	tests := map[string][2]string{
		"en": {"connections", "connected"},
		"es": {"canciones", "canción"},
		"fr": {"chevaux", "cheval"},
		"it": {"gatti", "gatto"},
		"pt": {"gatos", "gato"},
		"nl": {"boeken", "boek"},
		"ru": {"собаки", "собака"},
		"sv": {"bilar", "bil"},
		"da": {"bilerne", "bil"},
		"no": {"bilene", "bil"},
		"fi": {"taloissa", "talo"},
		"hu": {"házak", "ház"},
		"ro": {"cărțile", "cărţile"},
		"tr": {"kitapların", "kitap"},
		"ga": {"bhfear", "fear"},
		"ta": {"வீடுகள்", "வீடு"},
	}
	if len(tests) != len(stemmers) {
		t.Fatalf("%d stemmer cases for %d stemmers", len(tests), len(stemmers))
	}
	for lang, pair := range tests {
		a := mustAnalyzer(t, AnalyzerConfig{Language: lang, KeepStopwords: true})
		x, y := a.AppendTerms(nil, pair[0]), a.AppendTerms(nil, pair[1])
		if len(x) != 1 || !slices.Equal(x, y) {
			t.Errorf("%s: %q → %q, %q → %q; want one equal term", lang, pair[0], x, pair[1], y)
		}
		plain := mustAnalyzer(t, AnalyzerConfig{Language: lang, NoStem: true, KeepStopwords: true})
		if p := plain.AppendTerms(nil, pair[0]); slices.Equal(p, x) {
			t.Errorf("%s: stemming changed nothing for %q", lang, pair[0])
		}
	}
}

// TestAnalyzeInvariants runs every language's analyzer over the XQuAD
// paragraphs and checks offsets, order, UTF-8 and Analyze/AppendTerms
// agreement.
func TestAnalyzeInvariants(t *testing.T) {
	langs := []string{"ar", "de", "en", "es", "hi", "ru", "zh"}
	for _, lang := range langs {
		docs := readCorpus(t, filepath.Join(datasets(), "xquad", lang, "corpus.jsonl"))
		a := mustAnalyzer(t, AnalyzerConfig{Language: lang})
		for _, d := range docs[:40] {
			checkTokens(t, d, a.Analyze(d), a.AppendTerms(nil, d))
		}
	}
}

func checkTokens(t testing.TB, in string, toks []Token, terms []string) {
	t.Helper()
	if len(toks) != len(terms) {
		t.Fatalf("%q: Analyze gave %d tokens, AppendTerms %d terms", in, len(toks), len(terms))
	}
	prevStart, prevPos := 0, 0
	for i, tok := range toks {
		if tok.Term != terms[i] {
			t.Fatalf("%q: token %d term %q, AppendTerms %q", in, i, tok.Term, terms[i])
		}
		if tok.Term == "" || !utf8.ValidString(tok.Term) {
			t.Fatalf("%q: token %d has empty or invalid term %q", in, i, tok.Term)
		}
		if tok.Start < 0 || tok.End > len(in) || tok.Start >= tok.End {
			t.Fatalf("%q: token %d span [%d,%d) out of bounds", in, i, tok.Start, tok.End)
		}
		if tok.Start < prevStart || tok.Pos < prevPos {
			t.Fatalf("%q: token %d (%q at %d pos %d) before previous (at %d pos %d)", in, i, tok.Term, tok.Start, tok.Pos, prevStart, prevPos)
		}
		prevStart, prevPos = tok.Start, tok.Pos
	}
}

// TestAnalyzerConcurrent shares one analyzer between goroutines; run with
// -race it checks the cache.
func TestAnalyzerConcurrent(t *testing.T) {
	a := mustAnalyzer(t, AnalyzerConfig{Language: "en"})
	want := a.AppendTerms(nil, englishSample)
	fresh := mustAnalyzer(t, AnalyzerConfig{Language: "en"})
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				got := fresh.AppendTerms(nil, englishSample)
				if !slices.Equal(got, want) {
					errs <- fmt.Sprintf("goroutine %d run %d: terms differ", g, i)
					return
				}
				fresh.AppendTerms(nil, fmt.Sprintf("unique%dword%d", g, i))
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestTermCacheBounded(t *testing.T) {
	a := mustAnalyzer(t, AnalyzerConfig{Language: "en"})
	var b strings.Builder
	for i := range cacheCap + 1000 {
		fmt.Fprintf(&b, "zq%x ", i) // a prefix no stopword starts with
	}
	terms := a.AppendTerms(nil, b.String())
	if len(terms) != cacheCap+1000 {
		t.Fatalf("got %d terms", len(terms))
	}
	a.cache.mu.Lock()
	n := len(a.cache.mu.dirty)
	a.cache.mu.Unlock()
	if m := a.cache.read.Load(); m != nil && len(*m) > n {
		n = len(*m)
	}
	if n > cacheCap {
		t.Errorf("cache holds %d entries, cap %d", n, cacheCap)
	}
	// Still correct after the reset.
	if got := a.AppendTerms(nil, "Running w0"); !slices.Equal(got, []string{"run", "w0"}) {
		t.Errorf("after reset: %q", got)
	}
}

// goldenInputs are analysed into testdata/analyze.golden.
var goldenInputs = []struct{ lang, text string }{
	{"en", "Dr. Smith's 2 experiments (Fig. 3) didn’t replicate the U.S. results; re-running them took 3.5 hours."},
	{"de", "Die Universität München veröffentlichte 2019 über 1.000 Studien zur Straßenverkehrssicherheit."},
	{"es", "Los investigadores españoles publicaron nuevos resultados sobre las vacunas contra la gripe."},
	{"fr", "L'équipe d'aujourd'hui a présenté les résultats qu'elle attendait depuis longtemps."},
	{"ru", "Учёные из Москвы опубликовали новые данные о климатических изменениях в Арктике."},
	{"ar", "نشر الباحثون في الجامعة نتائج جديدة حول تغير المناخ في المنطقة العربية."},
	{"hi", "भारतीय वैज्ञानिकों ने जलवायु परिवर्तन पर नए शोध के परिणाम प्रकाशित किए।"},
	{"zh", "北京大学的研究人员发表了关于气候变化的新成果，引起了广泛关注。"},
	{"ja", "東京大学の研究チームは、新しいロボットを開発しました。"},
	{"ko", "서울대학교 연구팀이 새로운 인공지능 모델을 발표했다."},
	{"", "Ｆｕｌｌ-width ＡＢＣ, ligatures ﬁ ﬂ, ① ⑵, Ⅻ, and café vs cafe\u0301."},
	{"bg", "Българските учени публикуваха нови резултати за климата."},
	{"bn", "বাংলাদেশের বিজ্ঞানীরা জলবায়ু পরিবর্তন নিয়ে নতুন গবেষণা প্রকাশ করেছেন।"},
	{"ca", "Els investigadors catalans van publicar nous resultats sobre el canvi climàtic."},
	{"ckb", "زانایانی کوردستان لێکۆڵینەوەیەکی نوێیان بڵاوکردەوە."},
	{"cs", "Čeští vědci zveřejnili nové výsledky o změně klimatu."},
	{"el", "Οι Έλληνες επιστήμονες δημοσίευσαν νέα αποτελέσματα για την κλιματική αλλαγή."},
	{"et", "Eesti teadlased avaldasid uued tulemused kliimamuutuste kohta."},
	{"eu", "Euskal ikertzaileek klima-aldaketari buruzko emaitza berriak argitaratu zituzten."},
	{"fa", "پژوهشگران ایرانی نتایج تازه‌ای دربارهٔ تغییرات اقلیمی منتشر کردند."},
	{"ga", "D'fhoilsigh na heolaithe Éireannacha torthaí nua ar athrú aeráide."},
	{"gl", "Os investigadores galegos publicaron novos resultados sobre o cambio climático."},
	{"hy", "Հայ գիտնականները հրապարակել են նոր արդյունքներ կլիմայի փոփոխության մասին։"},
	{"id", "Para peneliti Indonesia menerbitkan hasil baru tentang perubahan iklim."},
	{"lt", "Lietuvos mokslininkai paskelbė naujus klimato kaitos rezultatus."},
	{"lv", "Latvijas zinātnieki publicēja jaunus rezultātus par klimata pārmaiņām."},
	{"ne", "नेपाली वैज्ञानिकहरूले जलवायु परिवर्तनबारे नयाँ नतिजा प्रकाशित गरे।"},
	{"sr", "Српски научници објавили су нове резултате о климатским променама."},
	{"ta", "தமிழ் விஞ்ஞானிகள் காலநிலை மாற்றம் குறித்து புதிய முடிவுகளை வெளியிட்டனர்."},
	{"te", "తెలుగు శాస్త్రవేత్తలు వాతావరణ మార్పుపై కొత్త ఫలితాలను ప్రచురించారు."},
	{"tr", "İstanbul'daki bilim insanları iklim değişikliği hakkında yeni sonuçlar yayımladı."},
	{"th", "นักวิจัยไทยเผยแพร่ผลการศึกษาใหม่เกี่ยวกับการเปลี่ยนแปลงสภาพภูมิอากาศ"},
	{"lo", "ນັກວິທະຍາສາດລາວໄດ້ເຜີຍແຜ່ຜົນການຄົ້ນຄວ້າໃໝ່"},
	{"km", "អ្នកស្រាវជ្រាវខ្មែរបានចេញផ្សាយលទ្ធផលថ្មី"},
	{"my", "မြန်မာသိပ္ပံပညာရှင်များသည် ရလဒ်အသစ်များကို ထုတ်ပြန်ခဲ့သည်။"},
	{"", "Mixed: English, Ελληνικά, русский, ไทย, 日本語, emoji 👍🏽, zero\u200bwidth and a ctrl\x07char."},
}

func TestAnalyzeGolden(t *testing.T) {
	var b strings.Builder
	for _, in := range goldenInputs {
		a := mustAnalyzer(t, AnalyzerConfig{Language: in.lang})
		fmt.Fprintf(&b, "== %q %s\n", in.lang, in.text)
		for _, tok := range a.Analyze(in.text) {
			fmt.Fprintf(&b, "%d\t%d:%d\t%s\t%s\n", tok.Pos, tok.Start, tok.End, tok.Term, in.text[tok.Start:tok.End])
		}
	}
	compareGolden(t, filepath.Join("testdata", "analyze.golden"), b.String())
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\ngot:  %s\nwant: %s\n(run with -update if the change is intended)", path, i+1, g, w)
			}
		}
	}
}

// TestAnalyzeLongUnspacedRuns feeds runs without spaces far longer than
// any word: Thai (dictionary segmentation), Khmer (cluster bigrams), a
// Latin "word" of 1 MB and emoji. Output must stay proportional and
// offsets valid; the test would time out if segmentation were quadratic.
func TestAnalyzeLongUnspacedRuns(t *testing.T) {
	inputs := map[string]string{
		"thai":  strings.Repeat("ภาษาไทยเป็นภาษาที่สวยงามมาก", 20_000),
		"khmer": strings.Repeat("ភាសាខ្មែរ", 20_000),
		"latin": strings.Repeat("a", 1<<20),
		"emoji": strings.Repeat("👍🏽\u200d", 50_000),
		"ctrl":  strings.Repeat("\x00\x07\x1b[0m", 50_000),
	}
	a := mustAnalyzer(t, AnalyzerConfig{Language: "th"})
	for name, s := range inputs {
		toks := a.Analyze(s)
		checkTokens(t, s, toks, a.AppendTerms(nil, s))
		if len(toks) > len(s) {
			t.Errorf("%s: %d tokens for %d bytes", name, len(toks), len(s))
		}
	}
}

// TestLightStemmersConflate checks each published light stemmer on forms
// its paper's rules conflate, through the whole analyzer.
func TestLightStemmersConflate(t *testing.T) {
	tests := map[string][]string{
		"hi": {"लड़का", "लड़के", "लड़कों"},
		"cs": {"hradech", "hrad", "hradem"},
		"bg": {"градовете", "градове", "град"},
		"id": {"makanan", "makan", "dimakan"},
		// Savoy's German stemmer after GermanNormalizationFilter: the
		// transliteration "ae" is the umlaut.
		"de": {"Häuser", "Haus", "Hauses", "Haeuser"},
		// Proclitics, a pronoun after teh marbuta (written teh), the
		// accusative ending: arabic.go.
		"ar": {"زوجة", "زوجته", "وزوجته", "الزوجة", "بزوجته", "زوجةً"},
	}
	if len(tests) != len(lightStemmers) {
		t.Fatalf("%d cases for %d light stemmers", len(tests), len(lightStemmers))
	}
	for lang, forms := range tests {
		a := mustAnalyzer(t, AnalyzerConfig{Language: lang, KeepStopwords: true})
		want := a.AppendTerms(nil, forms[0])
		if len(want) != 1 {
			t.Fatalf("%s: %q → %q", lang, forms[0], want)
		}
		for _, f := range forms[1:] {
			if got := a.AppendTerms(nil, f); !slices.Equal(got, want) {
				t.Errorf("%s: %q → %q, %q → %q; want one equal term", lang, forms[0], want, f, got)
			}
		}
	}
	// Stems never vanish, whatever the word.
	for lang, stem := range lightStemmers {
		for _, w := range []string{"a", "ab", "e", "že", "ия", "meng", "di", "се", "ка"} {
			if stem(w) == "" {
				t.Errorf("%s: %q stemmed to nothing", lang, w)
			}
		}
	}
}
