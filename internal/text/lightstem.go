package text

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Light stemmers for languages without a Snowball stemmer in the library
// used, written from their published descriptions.

// hindiSuffixes are the suffixes of Ramanathan and Rao's light stemmer
// for Hindi ("A Lightweight Stemmer for Hindi", 2003; the list Lucene's
// HindiStemmer uses), in their written form. stemHindi matches them after
// the same normalisation as the word, longest first.
var hindiSuffixes = func() []string {
	list := strings.Fields(`
		ाएंगी ाएंगे ाऊंगी ाऊंगा ाइयाँ ाइयों ाइयां
		ाएगी ाएगा ाओगी ाओगे एंगी एंगे एंगा ऊंगी ऊंगा ातीं नाओं नाएं ताओं ताएं ियाँ ियों ियां
		ाकर ाइए ाईं ाया ेगी ेगा ोगी ोगे ाने ाना ाते ाती ाता तीं ाओं ाएं ुओं ुएं ुआं
		कर ाओ िए ाई ाए ने नी ना ते ीं ती ता ाँ ां ों ें
		ो े ू ु ी ि ा`)
	seen := make(map[string]bool)
	var out []string
	for _, s := range list {
		s = normalizeDevanagari(s)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int {
		return utf8.RuneCountInString(b) - utf8.RuneCountInString(a)
	})
	return out
}()

// stemHindi removes the longest listed suffix that leaves a stem of at
// least two characters, as in the published algorithm.
func stemHindi(w string) string {
	n := utf8.RuneCountInString(w)
	for _, s := range hindiSuffixes {
		if strings.HasSuffix(w, s) && n > utf8.RuneCountInString(s)+1 {
			return w[:len(w)-len(s)]
		}
	}
	return w
}

// suffixed reports whether r ends with s (as runes).
func suffixed(r []rune, s string) bool {
	k := utf8.RuneCountInString(s)
	if len(r) < k {
		return false
	}
	i := len(r) - k
	for _, c := range s {
		if r[i] != c {
			return false
		}
		i++
	}
	return true
}

func anySuffix(r []rune, list ...string) bool {
	for _, s := range list {
		if suffixed(r, s) {
			return true
		}
	}
	return false
}

// stemCzech is Dolamic and Savoy's light stemmer for Czech ("Indexing and
// stemming approaches for the Czech language", 2009; Lucene's
// CzechStemmer): case endings, then possessive suffixes, then the
// palatalisation of the stem's last consonant undone.
func stemCzech(w string) string {
	r := []rune(w)
	n := len(r)
	cut := func(k int) { r = r[:len(r)-k] }
	switch {
	case n > 7 && suffixed(r, "atech"):
		cut(5)
	case n > 6 && anySuffix(r, "ětem", "etem", "atům"):
		cut(4)
	case n > 5 && anySuffix(r, "ech", "ich", "ích", "ého", "ěmi", "emi", "ému", "ěte", "ete", "ěti", "eti",
		"ího", "iho", "ími", "ímu", "imu", "ách", "ata", "aty", "ých", "ama", "ami", "ové", "ovi", "ými"):
		cut(3)
	case n > 4 && anySuffix(r, "em", "es", "ém", "ím", "ům", "at", "ám", "os", "us", "ým", "mi", "ou"):
		cut(2)
	case n > 3 && strings.ContainsRune("aeiouůyáéíýě", r[n-1]):
		cut(1)
	}
	if len(r) > 5 && anySuffix(r, "ov", "in", "ův") {
		cut(2)
	}
	n = len(r)
	if n == 0 {
		return w
	}
	switch {
	case suffixed(r, "čt"):
		r[n-2], r[n-1] = 'c', 'k'
		return string(r)
	case suffixed(r, "št"):
		r[n-2], r[n-1] = 's', 'k'
		return string(r)
	}
	switch r[n-1] {
	case 'c', 'č':
		r[n-1] = 'k'
		return string(r)
	case 'z', 'ž':
		r[n-1] = 'h'
		return string(r)
	}
	if n > 1 && r[n-2] == 'e' {
		r[n-2] = r[n-1] // the mobile e: "-ek", "-ec" stems
		r = r[:n-1]
	} else if n > 2 && r[n-2] == 'ů' {
		r[n-2] = 'o'
	}
	return string(r)
}

// stemBulgarian is Nakov's light stemmer for Bulgarian ("BulStem", 2003,
// in the simplified form of Lucene's BulgarianStemmer): definite
// articles, then plurals (with their consonant alternations), then a
// final vowel, the "-ен" and the mobile "ъ".
func stemBulgarian(w string) string {
	r := []rune(w)
	if len(r) < 4 {
		return w
	}
	cut := func(k int) { r = r[:len(r)-k] }
	if len(r) > 5 && suffixed(r, "ища") {
		return string(r[:len(r)-3])
	}
	// Articles.
	switch {
	case len(r) > 6 && suffixed(r, "ият"):
		cut(3)
	case len(r) > 5 && anySuffix(r, "ът", "то", "те", "та", "ия"):
		cut(2)
	case len(r) > 4 && suffixed(r, "ят"):
		cut(2)
	}
	// Plurals.
	n := len(r)
	switch {
	case n > 6 && suffixed(r, "овци"):
		cut(3) // -овци → -о
	case n > 6 && suffixed(r, "ове"):
		cut(3)
	case n > 6 && suffixed(r, "еве"):
		r[n-3] = 'й'
		cut(2)
	case n > 5 && suffixed(r, "ища"):
		cut(3)
	case n > 5 && suffixed(r, "та"):
		cut(2)
	case n > 5 && suffixed(r, "ци"):
		r[n-2] = 'к'
		cut(1)
	case n > 5 && suffixed(r, "зи"):
		r[n-2] = 'г'
		cut(1)
	case n > 5 && r[n-3] == 'е' && r[n-1] == 'и':
		r[n-3] = 'я'
		cut(1)
	case n > 4 && suffixed(r, "си"):
		r[n-2] = 'х'
		cut(1)
	case n > 4 && suffixed(r, "и"):
		cut(1)
	}
	if len(r) > 3 {
		if suffixed(r, "я") {
			cut(1)
		}
		if anySuffix(r, "а", "о", "е") {
			cut(1)
		}
	}
	if n := len(r); n > 4 && suffixed(r, "ен") {
		r[n-2] = 'н'
		cut(1)
	}
	if n := len(r); n > 5 && r[n-2] == 'ъ' {
		r[n-2] = r[n-1]
		cut(1)
	}
	return string(r)
}

// Flags of stemIndonesian: which prefix was removed.
const (
	idMeng = 1 << iota
	idDi
	idTer
	idKe
	idPeng
	idBer
	idPe
)

// stemIndonesian is the Indonesian stemmer of Tala ("A Study of Stemming
// Effects on Information Retrieval in Bahasa Indonesia", 2003), after
// Asian et al., as in Lucene's IndonesianStemmer: particles (-kah, -lah,
// -pun) and possessive pronouns (-ku, -mu, -nya), then first- and
// second-order derivational prefixes and the suffixes (-kan, -an, -i)
// that may combine with them, each only while the word keeps more than
// two syllables.
func stemIndonesian(w string) string {
	r := []rune(w)
	syll := 0
	for _, c := range r {
		if strings.ContainsRune("aeiou", c) {
			syll++
		}
	}
	isVowel := func(c rune) bool { return strings.ContainsRune("aeiou", c) }
	has := func(p string) bool { return strings.HasPrefix(string(r), p) }
	flags := 0
	if syll > 2 && anySuffix(r, "kah", "lah", "pun") {
		r, syll = r[:len(r)-3], syll-1
	}
	if syll > 2 {
		switch {
		case anySuffix(r, "ku", "mu"):
			r, syll = r[:len(r)-2], syll-1
		case suffixed(r, "nya"):
			r, syll = r[:len(r)-3], syll-1
		}
	}
	firstOrder := func() bool {
		if syll <= 2 {
			return false
		}
		switch {
		case has("meng"):
			r, flags = r[4:], idMeng
		case has("meny") && len(r) > 4 && isVowel(r[4]):
			r[3], r, flags = 's', r[3:], idMeng
		case has("men"), has("mem"):
			r, flags = r[3:], idMeng
		case has("me"):
			r, flags = r[2:], idMeng
		case has("peng"):
			r, flags = r[4:], idPeng
		case has("peny") && len(r) > 4 && isVowel(r[4]):
			r[3], r, flags = 's', r[3:], idPeng
		case has("pen"), has("pem"):
			r, flags = r[3:], idPeng
		case has("di"):
			r, flags = r[2:], idDi
		case has("ter"):
			r, flags = r[3:], idTer
		case has("ke"):
			r, flags = r[2:], idKe
		default:
			return false
		}
		syll--
		return true
	}
	secondOrder := func() bool {
		if syll <= 2 {
			return false
		}
		switch {
		case has("ber"):
			r, flags = r[3:], flags|idBer
		case string(r) == "belajar":
			r, flags = r[3:], flags|idBer
		case has("be") && len(r) > 4 && !isVowel(r[2]) && r[3] == 'e' && r[4] == 'r':
			r, flags = r[2:], flags|idBer
		case has("per"):
			r = r[3:]
		case string(r) == "pelajar":
			r = r[3:]
		case has("pe"):
			r, flags = r[2:], flags|idPe
		default:
			return false
		}
		syll--
		return true
	}
	suffix := func() bool {
		if syll <= 2 {
			return false
		}
		switch {
		case suffixed(r, "kan") && flags&(idKe|idPeng|idPe) == 0:
			r = r[:len(r)-3]
		case suffixed(r, "an") && flags&(idDi|idMeng|idTer) == 0:
			r = r[:len(r)-2]
		case suffixed(r, "i") && !suffixed(r, "si") && flags&(idBer|idKe|idPeng) == 0:
			r = r[:len(r)-1]
		default:
			return false
		}
		syll--
		return true
	}
	if firstOrder() {
		if suffix() {
			secondOrder()
		}
	} else {
		secondOrder()
		suffix()
	}
	if len(r) == 0 {
		return w
	}
	return string(r)
}

// stemGerman is the German chain of Lucene's GermanAnalyzer after stopword
// removal: GermanNormalizationFilter, then Savoy's light stemmer
// (GermanLightStemmer; J. Savoy, "Light stemming approaches for the French,
// Portuguese, German and Hungarian languages", SAC 2006). It replaced
// Snowball for German once compounds were split: with decompounding it
// measured 0.9511 against Snowball's 0.9492 on XQuAD de (0.9448 against
// 0.9451 without), see docs/benchmarks.md. Decompounding looks words up
// before this runs, in their spelling with umlauts.
func stemGerman(w string) string {
	s := []rune(w)
	s = normalizeGermanRunes(s)
	for i, c := range s {
		switch c {
		case 'ä', 'à', 'á', 'â':
			s[i] = 'a'
		case 'ö', 'ò', 'ó', 'ô':
			s[i] = 'o'
		case 'ï', 'ì', 'í', 'î':
			s[i] = 'i'
		case 'ü', 'ù', 'ú', 'û':
			s[i] = 'u'
		}
	}
	n := len(s)
	switch { // step 1: inflectional endings
	case n > 5 && s[n-3] == 'e' && s[n-2] == 'r' && s[n-1] == 'n':
		n -= 3
	case n > 4 && s[n-2] == 'e' && (s[n-1] == 'm' || s[n-1] == 'n' || s[n-1] == 'r' || s[n-1] == 's'):
		n -= 2
	case n > 3 && s[n-1] == 'e':
		n--
	case n > 3 && s[n-1] == 's' && germanSTEnding(s[n-2]):
		n--
	}
	switch { // step 2: comparative and superlative
	case n > 5 && s[n-3] == 'e' && s[n-2] == 's' && s[n-1] == 't':
		n -= 3
	case n > 4 && s[n-2] == 'e' && (s[n-1] == 'r' || s[n-1] == 'n'):
		n -= 2
	case n > 4 && s[n-2] == 's' && s[n-1] == 't' && germanSTEnding(s[n-3]):
		n -= 2
	}
	return string(s[:n])
}

// germanSTEnding reports whether c may precede an "s" or "st" ending that
// the light stemmer removes.
func germanSTEnding(c rune) bool {
	switch c {
	case 'b', 'd', 'f', 'g', 'h', 'k', 'l', 'm', 'n', 't':
		return true
	}
	return false
}

// normalizeGermanRunes is Lucene's GermanNormalizationFilter on a
// case-folded word (ß is already "ss"): umlauts to their base vowel, and
// the "e" of the transliterations ae, oe and ue removed — but not the e of
// "eue", "aue" or "que", where the u follows a vowel or q.
func normalizeGermanRunes(s []rune) []rune {
	const (
		consonant = iota // or start of word
		vowel
		umlaut // a, o, or u after a consonant: an e here is a transliteration
	)
	out := s[:0]
	state := consonant
	for _, r := range s {
		switch r {
		case 'a', 'o':
			state = umlaut
		case 'u':
			if state == consonant {
				state = umlaut
			} else {
				state = vowel
			}
		case 'e':
			if state == umlaut {
				state = vowel
				continue
			}
			state = vowel
		case 'i', 'q', 'y', 'ä', 'ö', 'ü':
			state = vowel
		default:
			state = consonant
		}
		out = append(out, r)
	}
	return out
}
