package text

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/abadojack/whatlanggo"
)

// Language identification limits.
const (
	detectMaxBytes       = 16 << 10 // only the first 16 KiB are read,
	detectTrigramBytes   = 1 << 10  // and only the first 1 KiB by the trigram models
	detectMinLetters     = 3        // fewer letters (a CJK character counts 3): no answer
	detectMinTrigram     = 6        // fewer letters in a trigram script: no answer
	detectFullConfidence = 30       // letters at which a trigram guess is fully trusted
)

type scriptBucket uint8

const (
	bucketOther scriptBucket = iota
	bucketLatin
	bucketCyrillic
	bucketArabic
	bucketDevanagari
	bucketHan
	bucketKana
	bucketHangul
	bucketGreek
	bucketThai
	bucketHebrew
	bucketLao
	bucketArmenian
	numBuckets
)

var bucketTables = [numBuckets]*unicode.RangeTable{
	bucketLatin:      unicode.Latin,
	bucketCyrillic:   unicode.Cyrillic,
	bucketArabic:     unicode.Arabic,
	bucketDevanagari: unicode.Devanagari,
	bucketHan:        unicode.Han,
	bucketKana:       nil, // Hiragana or Katakana, see bucketOf
	bucketHangul:     unicode.Hangul,
	bucketGreek:      unicode.Greek,
	bucketThai:       unicode.Thai,
	bucketHebrew:     unicode.Hebrew,
	bucketLao:        unicode.Lao,
	bucketArmenian:   unicode.Armenian,
}

func bucketOf(r rune) scriptBucket {
	if r < 0x250 {
		return bucketLatin // the caller passes letters only
	}
	if unicode.In(r, unicode.Hiragana, unicode.Katakana) {
		return bucketKana
	}
	for b := bucketLatin; b < numBuckets; b++ {
		if t := bucketTables[b]; t != nil && unicode.Is(t, r) {
			return b
		}
	}
	return bucketOther
}

// trigramLanguages are the languages the trigram models may answer: those
// Quarry has an analyzer for, and other widely used languages of the
// scripts the models decide. Languages outside the set are rarely what an
// enterprise indexes and, on a short sentence, mostly wrong guesses
// (English questions come out as Afrikaans, Tagalog or Malagasy); text in
// them would get the language-neutral chain anyway.
var trigramLanguages = func() map[string]bool {
	m := make(map[string]bool)
	for _, c := range strings.Fields(`ar bg bn ca cs da de el en es et eu fa fi fr ga gl he hi hu hy id it ja
		ka ko lt lv mr ne nl no pt ro ru sr sv ta te th tr uk ur zh
		pl sk sl hr be mk vi az kk ms am gu pa kn ml si my km lo`) {
		m[c] = true
	}
	return m
}()

// whatlang maps whatlanggo's languages to ISO 639-1 and restricts
// trigram detection to languages that have a 639-1 code.
var whatlang = func() (m struct {
	iso     map[whatlanggo.Lang]string
	options whatlanggo.Options
}) {
	m.iso = make(map[whatlanggo.Lang]string)
	m.options.Whitelist = make(map[whatlanggo.Lang]bool)
	for l := range whatlanggo.Langs {
		if code := l.Iso6391(); code != "" && trigramLanguages[code] {
			m.iso[l] = code
			m.options.Whitelist[l] = true
		}
	}
	return m
}()

// DetectLanguage identifies the language of text and returns its ISO
// 639-1 code with a confidence in [0, 1]. It returns "", 0 when text has
// too few letters to tell.
//
// Scripts used by one language (in the scope of this engine) are decided
// by counting characters (and Cyrillic by the letters only Russian,
// Ukrainian, Belarusian, Serbian or Macedonian use, when decisive): Hangul → "ko"; Han with kana → "ja", without →
// "zh"; Devanagari → "hi" (or "ne" by function words); Greek → "el"; Thai → "th"; Lao → "lo";
// Armenian → "hy"; Hebrew → "he"; Arabic script → "ar", or "ckb", "ur" or
// "fa" when Sorani, Urdu or Persian letter forms are frequent. Latin and Cyrillic text goes to whatlanggo's trigram models
// (restricted to the letters of the dominant script), whose confidence is
// scaled down for texts under 30 letters. For other scripts whatlanggo
// decides. The confidence is further multiplied by the share of letters in
// the dominant script, where a Han, kana or Hangul character counts as
// three letters. Only the first 16 KiB of text are examined, and only the
// first 1 KiB by the trigram models.
func DetectLanguage(text string) (lang string, confidence float64) {
	text = prefix(text, detectMaxBytes)
	var counts [numBuckets]int
	var arabicYehKaf, persianYehKeheh, persianOnly, urduOnly, soraniOnly int
	var cyr [numCyrillicMarks]int
	letters := 0
	// Latin letters of capitalised words (names: "Tesla Electric Light"),
	// and the words of each script.
	latinCap := 0
	var words [numBuckets]int
	inWord, capWord := false, false
	for _, r := range text {
		if !unicode.IsLetter(r) {
			if !unicode.IsMark(r) {
				inWord = false
			}
			continue
		}
		b := bucketOf(r)
		if !inWord {
			inWord = true
			capWord = b == bucketLatin && unicode.IsUpper(r)
			words[b]++
		}
		if capWord && b == bucketLatin {
			latinCap++
		}
		// A Han, kana or Hangul character carries about as much as a short
		// word, so that "Internet2是一个…" with a few Latin names stays
		// Chinese, it weighs as much as three letters of an alphabet.
		w := 1
		if b == bucketHan || b == bucketKana || b == bucketHangul {
			w = 3
		}
		letters += w
		counts[b] += w
		if b == bucketCyrillic {
			cyr[cyrillicMark(r)]++
		}
		if b == bucketArabic {
			switch r {
			case 'ي', 'ك':
				arabicYehKaf++
			case 'ی', 'ک':
				persianYehKeheh++
			case 'پ', 'چ', 'ژ', 'گ':
				persianOnly++
			case 'ٹ', 'ڈ', 'ڑ', 'ں', 'ے', 'ۓ', 'ہ', 'ھ':
				urduOnly++
			case 'ێ', 'ۆ', 'ڵ', 'ڕ', 'ە':
				soraniOnly++
			}
		}
	}
	if letters < detectMinLetters {
		return "", 0
	}
	// A question in Cyrillic, Arabic or Devanagari often names a company,
	// product or person in Latin letters ("Кто основал McKinsey & Company?",
	// "DECnet क्या है"); the sentence's own words carry the language. When
	// another script has at least two words and more letters than the
	// Latin words that are not capitalised, capitalised Latin words are
	// taken for names and not counted for the script.
	if latinCap > 0 {
		for b := bucketCyrillic; b < numBuckets; b++ {
			if words[b] >= 2 && counts[b] > counts[bucketLatin]-latinCap {
				counts[bucketLatin] -= latinCap
				break
			}
		}
	}
	best := bucketOther
	bestN := -1
	for b := bucketOther; b < numBuckets; b++ {
		n := counts[b]
		switch b {
		case bucketHan:
			n += counts[bucketKana]
		case bucketKana:
			continue
		}
		if n > bestN {
			best, bestN = b, n
		}
	}
	share := float64(bestN) / float64(letters)
	switch best {
	case bucketHangul:
		return "ko", share
	case bucketHan:
		han, kana := counts[bucketHan], counts[bucketKana]
		if kana*20 >= han+kana { // kana ≥ 5% of the CJK letters
			return "ja", share
		}
		return "zh", share
	case bucketDevanagari:
		// Hindi unless Nepali function words outnumber Hindi ones.
		if fw, _, _, _ := functionWordVote(text, bucketDevanagari, "hi"); fw == "ne" {
			return "ne", share
		}
		return "hi", share
	case bucketGreek:
		return "el", share
	case bucketThai:
		return "th", share
	case bucketHebrew:
		return "he", share
	case bucketLao:
		return "lo", share
	case bucketArmenian:
		return "hy", share
	case bucketArabic:
		n := counts[bucketArabic]
		switch {
		case soraniOnly*50 >= n:
			return "ckb", share
		case urduOnly*50 >= n && persianYehKeheh > arabicYehKaf:
			return "ur", share
		case persianYehKeheh > arabicYehKaf || persianOnly*50 >= n:
			return "fa", share
		}
		return "ar", share
	case bucketLatin, bucketCyrillic:
		if bestN < detectMinTrigram {
			return "", 0
		}
		lang, conf := "", 0.0
		if best == bucketCyrillic {
			lang, conf = cyrillicByLetters(cyr)
			if lang == "ru?" {
				lang = "ru"
				if fw, _, _, _ := functionWordVote(text, bucketCyrillic, "ru"); fw == "bg" {
					lang = "bg"
				}
			}
		}
		if lang == "" {
			scriptText := onlyScript(prefix(text, 4*detectTrigramBytes), bucketTables[best])
			lang, conf = trigramDetect(scriptText)
			lang, conf = preferFunctionWords(scriptText, best, lang, conf)
		}
		if lang == "" {
			return "", 0
		}
		if bestN < detectFullConfidence {
			conf *= float64(bestN) / detectFullConfidence
		}
		return lang, conf * share
	}
	lang, conf := trigramDetect(text)
	return lang, conf * share
}

// trigramMaxBytes bounds the text given to the trigram model: its cost
// grows with the text while its accuracy stops improving after a few
// hundred letters, and ingestion calls it once per document.
const trigramMaxBytes = 384

// Letters that tell the Cyrillic alphabets apart.
const (
	cyrCommon      = iota
	cyrRussian     // ы э: Russian (and Belarusian)
	cyrUkrainian   // ї є ґ
	cyrBelarusian  // ў
	cyrI           // і: Ukrainian or Belarusian
	cyrSerbian     // ј љ њ ћ ђ џ (also Macedonian)
	cyrMacedonian  // ѓ ќ ѕ
	cyrBulgarianHS // ъ: frequent in Bulgarian, rare in Russian
	numCyrillicMarks
)

func cyrillicMark(r rune) int {
	switch unicode.ToLower(r) {
	case 'ы', 'э':
		return cyrRussian
	case 'ї', 'є', 'ґ':
		return cyrUkrainian
	case 'ў':
		return cyrBelarusian
	case 'і':
		return cyrI
	case 'ј', 'љ', 'њ', 'ћ', 'ђ', 'џ':
		return cyrSerbian
	case 'ѓ', 'ќ', 'ѕ':
		return cyrMacedonian
	case 'ъ':
		return cyrBulgarianHS
	}
	return cyrCommon
}

// cyrillicByLetters decides between the Cyrillic languages from letters
// only one of them uses, where that is unambiguous, and returns "" to
// leave the decision to the trigram models. Trigram models alone confuse
// Russian with Bulgarian and Serbian on short texts.
func cyrillicByLetters(c [numCyrillicMarks]int) (string, float64) {
	others := c[cyrUkrainian] + c[cyrBelarusian] + c[cyrI] + c[cyrSerbian] + c[cyrMacedonian]
	switch {
	case c[cyrRussian] > 0 && others == 0 && c[cyrBulgarianHS] <= c[cyrRussian]:
		return "ru", 1
	case c[cyrBelarusian] > 0 && c[cyrUkrainian] == 0 && c[cyrSerbian] == 0:
		return "be", 1
	case c[cyrUkrainian] > 0 && c[cyrRussian] == 0 && c[cyrBelarusian] == 0:
		return "uk", 1
	case c[cyrMacedonian] > 0 && c[cyrRussian] == 0:
		return "mk", 1
	case c[cyrSerbian] > 0 && c[cyrRussian] == 0:
		return "sr", 1
	case others == 0 && c[cyrBulgarianHS] == 0:
		// None of the letters that mark the other alphabets: Russian or
		// (rarely, without ъ) Bulgarian. Trigram models guess Ukrainian,
		// Serbian or Macedonian for such short Russian texts; the function
		// words decide between the two possible languages.
		return "ru?", 0.75
	}
	return "", 0
}

func trigramDetect(text string) (string, float64) {
	// The models converge long before 1 KiB; more text only costs time.
	text = prefix(text, detectTrigramBytes)
	if len(text) > trigramMaxBytes {
		n := trigramMaxBytes
		for n > 0 && !utf8.RuneStart(text[n]) {
			n--
		}
		text = text[:n]
	}
	l, conf := whatlangDetect(text)
	code, ok := whatlang.iso[l]
	if !ok {
		return "", 0
	}
	return code, conf
}

// prefix returns the longest prefix of s of at most n bytes that does not
// end inside a UTF-8 sequence.
func prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// onlyScript returns text with the letters of other scripts replaced by
// spaces, so that the trigram models see one script.
func onlyScript(text string, script *unicode.RangeTable) string {
	other := func(r rune) bool { return unicode.IsLetter(r) && !unicode.Is(script, r) }
	i := strings.IndexFunc(text, other)
	if i < 0 {
		return text // nothing to replace: no copy
	}
	var b strings.Builder
	b.Grow(len(text))
	b.WriteString(text[:i])
	for _, r := range text[i:] {
		if other(r) {
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}

// preferFunctionWords overrides the trigram model's guess when the
// function words of another language outnumber those of the guess: on a
// sentence or two, a few function words are stronger evidence than the
// character trigrams. When the trigram guess is a language without a word
// list, three function words of another are needed to overrule it.
func preferFunctionWords(text string, b scriptBucket, lang string, conf float64) (string, float64) {
	fw, hits, lead, counts := functionWordVote(text, b, lang)
	if fw != "" && fw == lang {
		// Both kinds of evidence agree.
		if hits >= 2 {
			return lang, max(conf, 0.75)
		}
		return lang, max(conf, 0.6)
	}
	if fw == "" || fw == lang || hits <= counts[lang] {
		return lang, conf
	}
	inVote := false
	for _, l := range detectWordLangs[b] {
		inVote = inVote || l == lang
	}
	if !inVote && lang != "" && hits < 3 {
		return lang, conf
	}
	return fw, 0.5 + 0.5*float64(lead)/float64(hits)
}

// MinConfidence is the confidence from which DetectLanguage's answer is
// used to pick an analyzer; below it, text gets the language-neutral
// chain.
const MinConfidence = 0.5

// ConfidentLanguage returns DetectLanguage's answer for s when its
// confidence is at least MinConfidence, else "" (language-neutral).
func ConfidentLanguage(s string) string {
	if lang, conf := DetectLanguage(s); conf >= MinConfidence {
		return lang
	}
	return ""
}
