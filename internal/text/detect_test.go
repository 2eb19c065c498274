package text

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestDetectLanguageScripts(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		minConf float64
	}{
		{"", "", 0},
		{"a", "", 0},
		{"12345 !!!", "", 0},
		{"Hi", "", 0},
		{"这是一个关于机器学习的句子。", "zh", 0.9},
		{"これは機械学習についての文です。", "ja", 0.9},
		{"カタカナだけ", "ja", 0.9},
		{"기계 학습에 관한 문장입니다.", "ko", 0.9},
		{"यह मशीन लर्निंग के बारे में एक वाक्य है।", "hi", 0.9},
		{"هذه جملة عن التعلم الآلي في الجامعة.", "ar", 0.9},
		{"این یک جمله درباره یادگیری ماشین است که نوشته شده.", "fa", 0.9},
		{"یہ مشین لرننگ کے بارے میں ایک جملہ ہے۔", "ur", 0.9},
		{"Αυτή είναι μια πρόταση για τη μηχανική μάθηση.", "el", 0.9},
		{"นี่คือประโยคเกี่ยวกับการเรียนรู้ของเครื่อง", "th", 0.9},
		{"ພາສາລາວເປັນພາສາທີ່ສວຍງາມ", "lo", 0.9},
		{"Հայ գիտնականները հրապարակել են նոր արդյունքներ", "hy", 0.9},
		{"زانایانی کوردستان لێکۆڵینەوەیەکی نوێیان بڵاوکردەوە", "ckb", 0.9},
		{"ភាសាខ្មែរជាភាសាផ្លូវការ", "km", 0.9},
		{"नेपाल एक सुन्दर देश हो र यसको राजधानी काठमाडौं हो।", "ne", 0.9},
		{"မြန်မာဘာသာစကား", "my", 0.9},
		{"זהו משפט על למידת מכונה.", "he", 0.9},
		{"Это предложение о машинном обучении и нейронных сетях.", "ru", 0.5},
		{"Це речення про машинне навчання і нейронні мережі, які ми вивчаємо.", "uk", 0.9},
		{"Ова је реченица о машинском учењу и неуронским мрежама.", "sr", 0.9},
		{"Сколько очков пропустила защита команды?", "ru", 0.5},
		{"This is a sentence about machine learning and neural networks.", "en", 0.5},
		// Trigram models alone call this Danish.
		{"Granite forms from slowly cooling magma deep below the surface.", "en", 0.5},
		{"What year did Tesla die?", "en", 0.3},
		{"Сколько мячей перехватил Джош Норман?", "ru", 0.3},
		{"Кой е най-високият връх в България?", "bg", 0.3},
		{"Dies ist ein Satz über maschinelles Lernen und neuronale Netze.", "de", 0.5},
		{"Esta es una frase sobre el aprendizaje automático y las redes neuronales.", "es", 0.5},
		{"Ceci est une phrase sur l'apprentissage automatique et les réseaux de neurones.", "fr", 0.5},
		// Question words decide short questions that trigrams give to a
		// neighbour (Dutch, Portuguese).
		{"Wann wurde das Plastom entdeckt?", "de", 0.1},
		{"Wohin wurde Temüdschins Patron Toghrul verbannt?", "de", 0.1},
		{"¿Cuándo llegó Y. pestis a Inglaterra?", "es", 0.1},
		{"¿Dónde nació Friedrich Ratzel?", "es", 0.1},
		// Hindi questions with words that Lucene's Nepali list also holds.
		{"क्या संयुक्त राष्ट्र के सचिव हार्वर्ड गए?", "hi", 0.5},
		{"सलाहकार फार्मेसी मुख्य रूप से किससे संबंधित है?", "hi", 0.5},
		// Latin names in a sentence of another script do not outvote it.
		{"Кто основал McKinsey & Company?", "ru", 0.1},
		{"Что делала компания Tesla Electric Light & Manufacturing?", "ru", 0.1},
		{"أين يقع Energiprojekt AB؟", "ar", 0.1},
		{"DECnet क्या है", "hi", 0.1},
		// ... but one foreign word in a Latin sentence does not turn it.
		{"Die Stadt Москва ist sehr groß und alt.", "de", 0.1},
		// Chinese with Latin names stays Chinese.
		{"Internet2是一个由来自研究、教育、工业和政府各界的成员领导的非盈利的美国计算机网络联盟。", "zh", 0.5},
	}
	for _, tt := range tests {
		got, conf := DetectLanguage(tt.in)
		if got != tt.want || conf < tt.minConf || conf > 1 || (got == "" && conf != 0) {
			t.Errorf("DetectLanguage(%q) = %q, %.2f; want %q with confidence ≥ %.2f", tt.in, got, conf, tt.want, tt.minConf)
		}
	}
}

func TestDetectLanguageShortTextIsUnsure(t *testing.T) {
	// A few Latin letters cannot be trusted: low confidence.
	for _, s := range []string{"Who won?", "Der Hund", "el gato"} {
		if _, conf := DetectLanguage(s); conf >= 0.5 {
			t.Errorf("DetectLanguage(%q) confidence %.2f, want < 0.5", s, conf)
		}
	}
}

func TestDetectLanguageLongInputBounded(t *testing.T) {
	s := strings.Repeat("Machine learning is a field of study in artificial intelligence. ", 200_000) // 13 MB
	if got, _ := DetectLanguage(s); got != "en" {
		t.Fatalf("got %q", got)
	}
}

// TestDetectLanguageXQuAD measures accuracy on the XQuAD paragraphs (must
// be ≥ 0.99 per language) and single-sentence questions (≥ 0.97), and
// reports for the questions the precision of confident (≥ 0.5) answers,
// which is what query-time analyzer selection relies on.
func TestDetectLanguageXQuAD(t *testing.T) {
	for _, lang := range []string{"ar", "de", "en", "es", "hi", "ru", "zh"} {
		t.Run(lang, func(t *testing.T) {
			dir := filepath.Join(datasets(), "xquad", lang)
			docs := readCorpus(t, filepath.Join(dir, "corpus.jsonl"))
			ok := 0
			wrong := map[string]int{}
			for _, d := range docs {
				if got, _ := DetectLanguage(d); got == lang {
					ok++
				} else {
					wrong[got]++
				}
			}
			acc := float64(ok) / float64(len(docs))
			qs := readCorpus(t, filepath.Join(dir, "queries.jsonl"))
			qok, confident, confidentOK := 0, 0, 0
			for _, q := range qs {
				got, conf := DetectLanguage(q)
				if got == lang {
					qok++
				}
				if conf >= 0.5 {
					confident++
					if got == lang {
						confidentOK++
					}
				}
			}
			prec := float64(confidentOK) / float64(max(confident, 1))
			t.Logf("xquad/%s paragraphs: accuracy %.4f (%d/%d), errors %v; questions: accuracy %.3f, confident %.3f, precision when confident %.3f",
				lang, acc, ok, len(docs), wrong, float64(qok)/float64(len(qs)), float64(confident)/float64(len(qs)), prec)
			if acc < 0.99 {
				t.Errorf("paragraph accuracy %.4f < 0.99", acc)
			}
			if qacc := float64(qok) / float64(len(qs)); qacc < 0.97 {
				t.Errorf("question accuracy %.4f < 0.97", qacc)
			}
			if prec < 0.9 {
				t.Errorf("question precision when confident %.3f < 0.9", prec)
			}
		})
	}
}

func BenchmarkDetectLanguage(b *testing.B) {
	s := englishSample[:4096]
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		DetectLanguage(s)
	}
}

// TestDetectLanguageBadInput: text no model was built for gets no
// confident answer (so the neutral chain), and nothing panics.
func TestDetectLanguageBadInput(t *testing.T) {
	for _, s := range []string{
		"👍🏽🎉🔥 ✨✨",
		"\x00\x01\x02\x1b[31m\x7f",
		"mera naam kya hai",          // romanised Hindi
		"qwzx vbnm plkj hgfd",        // no language
		"ab\xff\xfe\xfdcd",           // invalid UTF-8
		strings.Repeat("a", 100_000), // one very long token
		"x" + strings.Repeat("\u0301", 5000),
	} {
		if lang, conf := DetectLanguage(s); conf >= MinConfidence {
			t.Errorf("DetectLanguage(%.30q) = %q, %.2f: confident on text in no language", s, lang, conf)
		}
	}
	// Mixed scripts: the dominant one decides.
	if got := ConfidentLanguage("ภาษาไทยเป็นภาษาราชการของประเทศไทย (Thai)"); got != "th" {
		t.Errorf("Thai with a Latin word: %q", got)
	}
}
