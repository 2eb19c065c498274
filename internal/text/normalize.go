package text

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Script-aware normalisers. Each takes a case-folded word and returns the
// form that stopword lists and stemmers see; they run inside the cached
// word tail of the chain, so they cost nothing for words seen before. The
// rules are those of the published normalisers Lucene implements, named on
// each function; none were tuned on evaluation data.
var normalizers = map[string]func(string) string{
	"ar":  normalizeArabic,
	"fa":  normalizePersian,
	"ur":  normalizePersian,
	"ckb": normalizeSorani,
	"hi":  normalizeDevanagari,
	"mr":  normalizeDevanagari,
	"ne":  normalizeDevanagari,
	"bn":  normalizeBengali,
	"el":  normalizeGreek,
	"sr":  normalizeSerbian,
}

// mapRunes returns w with every rune replaced by f(r); f returns -1 to
// drop a rune. It returns w itself when nothing changes.
func mapRunes(w string, f func(rune) rune) string {
	for i, r := range w {
		if g := f(r); g != r {
			var b strings.Builder
			b.Grow(len(w))
			b.WriteString(w[:i])
			for _, r := range w[i:] {
				if g := f(r); g >= 0 {
					b.WriteRune(g)
				}
			}
			return b.String()
		}
	}
	return w
}

// arabicRune is Lucene's ArabicNormalizer (after Larkey, Ballesteros and
// Connell, "Improving Stemming for Arabic Information Retrieval", 2002):
// alef with madda or hamza → bare alef, alef maksura → yeh, teh marbuta →
// heh, and tatweel and the short-vowel diacritics (harakat, U+064B–U+0652,
// superscript alef) removed.
func arabicRune(r rune) rune {
	switch {
	case r == 'آ' || r == 'أ' || r == 'إ':
		return 'ا'
	case r == 'ى':
		return 'ي'
	case r == 'ة':
		return 'ه'
	case r == '\u0640', r >= '\u064B' && r <= '\u0652', r == '\u0670':
		return -1
	}
	return r
}

func normalizeArabic(w string) string { return mapRunes(w, arabicRune) }

// normalizePersian is Lucene's Persian chain: the Arabic normaliser, then
// PersianNormalizer (Farsi yeh → Arabic yeh, keheh → kaf, heh with yeh
// above, heh goal and ae → heh), and the zero-width non-joiner that joins
// a prefix or suffix to its word removed (Lucene turns it into a space;
// removing it keeps the word one term with stable offsets).
func normalizePersian(w string) string {
	return mapRunes(w, func(r rune) rune {
		switch r {
		case 'ی':
			return 'ي'
		case 'ک':
			return 'ك'
		case 'ۀ', 'ە', 'ہ':
			return 'ه'
		case '\u200C', '\u200D':
			return -1
		}
		return arabicRune(r)
	})
}

// normalizeSorani follows Lucene's SoraniNormalizer: Arabic yeh and alef
// maksura → Farsi yeh, kaf → keheh, heh doachashmee → heh, heh followed
// by a zero-width non-joiner → ae, and harakat, tatweel and joiners
// removed.
func normalizeSorani(w string) string {
	w = strings.ReplaceAll(w, "ه\u200C", "ە")
	return mapRunes(w, func(r rune) rune {
		switch {
		case r == 'ي' || r == 'ى':
			return 'ی'
		case r == 'ك':
			return 'ک'
		case r == 'ھ':
			return 'ه'
		case r == 'ۀ':
			return 'ە'
		case r == '\u200C', r == '\u200D', r == '\u0640', r >= '\u064B' && r <= '\u0652':
			return -1
		}
		return r
	})
}

// normalizeDevanagari implements the Hindi normalisation of Larkey,
// Connell and AbdulJaleel ("Hindi CLIR in Thirty Days", 2003), as Lucene's
// HindiNormalizer does: nukta removed (NFKC has already split the
// precomposed nukta letters), chandrabindu → anusvara, a dead n before a
// consonant → anusvara, candra vowels → their plain forms, long i and u →
// short, and the zero-width joiners removed.
func normalizeDevanagari(w string) string {
	w = mapRunes(w, func(r rune) rune {
		switch r {
		case '\u093C', '\u200C', '\u200D':
			return -1
		case '\u0901':
			return '\u0902'
		case 'ऑ', 'ऒ':
			return 'ओ'
		case 'ऍ', 'ऎ':
			return 'ए'
		case '\u0949', '\u094A':
			return '\u094B'
		case '\u0945', '\u0946':
			return '\u0947'
		case 'ई':
			return 'इ'
		case 'ऊ':
			return 'उ'
		case '\u0940':
			return '\u093F'
		case '\u0942':
			return '\u0941'
		}
		return r
	})
	if strings.Contains(w, "न\u094D") {
		// न् + consonant → ं
		var b strings.Builder
		for i := 0; i < len(w); {
			if strings.HasPrefix(w[i:], "न\u094D") {
				if r, _ := utf8.DecodeRuneInString(w[i+len("न\u094D"):]); r >= 'क' && r <= 'ह' {
					b.WriteRune('\u0902')
					i += len("न\u094D")
					continue
				}
			}
			_, n := utf8.DecodeRuneInString(w[i:])
			b.WriteString(w[i : i+n])
			i += n
		}
		w = b.String()
	}
	return w
}

// normalizeBengali applies to Bengali the subset of the Devanagari rules
// that carry over letter for letter: nukta and joiners removed,
// chandrabindu → anusvara, long i and u → short.
func normalizeBengali(w string) string {
	return mapRunes(w, func(r rune) rune {
		switch r {
		case '\u09BC', '\u200C', '\u200D':
			return -1
		case '\u0981':
			return '\u0982'
		case 'ঈ':
			return 'ই'
		case 'ঊ':
			return 'উ'
		case '\u09C0':
			return '\u09BF'
		case '\u09C2':
			return '\u09C1'
		}
		return r
	})
}

// normalizeGreek does what Lucene's GreekLowerCaseFilter adds to lower
// casing: accents and diaeresis (tonos, dialytika, and the polytonic
// breathings and accents) removed, and final sigma → sigma (case folding
// has already done the latter; it is repeated for words that arrive
// unfolded).
func normalizeGreek(w string) string {
	plain := true
	for _, r := range w {
		if r >= 0x370 && r <= 0x3FF || r >= 0x1F00 && r <= 0x1FFF || unicode.Is(unicode.Mn, r) {
			plain = false
			break
		}
	}
	if plain {
		return w
	}
	d := norm.NFD.String(w)
	d = mapRunes(d, func(r rune) rune {
		switch {
		case unicode.Is(unicode.Mn, r):
			return -1
		case r == 'ς':
			return 'σ'
		}
		return r
	})
	return norm.NFC.String(d)
}

// serbianLatin transliterates Serbian Cyrillic to Latin and folds the
// Latin letters with diacritics the way Lucene's SerbianNormalizer
// ("regular" mode) does, so that text in either alphabet meets the same
// terms and the Latin stopword list.
var serbianLatin = strings.NewReplacer(
	"а", "a", "б", "b", "в", "v", "г", "g", "д", "d", "ђ", "dj", "е", "e", "ж", "z", "з", "z",
	"и", "i", "ј", "j", "к", "k", "л", "l", "љ", "lj", "м", "m", "н", "n", "њ", "nj", "о", "o",
	"п", "p", "р", "r", "с", "s", "т", "t", "ћ", "c", "у", "u", "ф", "f", "х", "h", "ц", "c",
	"ч", "c", "џ", "dz", "ш", "s",
	"ć", "c", "č", "c", "đ", "dj", "š", "s", "ž", "z",
)

func normalizeSerbian(w string) string {
	for _, r := range w {
		if r >= utf8.RuneSelf {
			return serbianLatin.Replace(w)
		}
	}
	return w
}
