package text

import (
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Arabic proclitics and light stemming.
//
// Arabic writes the conjunctions و "and" and ف "so", the prepositions ب
// "with", ك "like" and ل "for", and the article ال as one word with the
// word they attach to, in that order: و+ب+ال+كتاب "and with the book". A
// question and the passage that answers it often write the same word
// under different clitics (لأول / أول, باسم / اسم), and stemmers that strip
// these letters by shape alone either miss them (light10 of Larkey,
// Ballesteros and Connell, "Improving Stemming for Arabic Information
// Retrieval", SIGIR 2002, strips only ال, وال, بال, كال, فال, لل and و) or
// strip them from words that merely begin with the letter (Snowball's
// Arabic stemmer: فريق "team" → ريق, كاليفورنيا → يفورنيا).
//
// The Arabic stemmer removes a clitic only when what remains is a word of
// a published lexicon, as dictionary-checked stemmers do (Khoja and
// Garside's stemmer checks its result against a list of roots); where no
// reading is confirmed it falls back on light10. stripArabicProclitics
// and stemArabic together:
//
//  1. The word is normalised first (normalizeArabic, Lucene's
//     ArabicNormalizer: alef forms, alef maksura, teh marbuta, tatweel,
//     harakat).
//  2. The analysis with the fewest parts that the lexicon confirms wins:
//     the word itself (فريق, والد, كتاب stay whole); a proclitic sequence
//     and a word, the shortest sequence first (و+كتاب, not وك+تاب); the
//     word with an ending (arabicEnclitics: pronouns, dual, accusative
//     alef, plural و/وا); a proclitic, a word and an ending (بفريستها).
//     "Confirmed" means the rest, or its light10 suffix stem of at least
//     three letters, is in the lexicon. The proclitic sequences are
//     conjunction و ف, preposition ب ك ل, article ال (ل+ال written لل),
//     each optional; a conjunction or preposition alone must leave three
//     letters, the article two, as light10 requires.
//  3. A word with no confirmed reading is a name or a word the lexicon
//     lacks; light10's prefix rule applies to it (ال وال بال كال فال لل,
//     at least two letters left; و with at least three).
//  4. A confirmed ending is removed (teh restored to teh marbuta before a
//     pronoun or dual ending: زوجته → زوجة, نقطتين → نقطة).
//  5. A final alef of a word longer than four letters is removed, as in
//     Snowball's Arabic stemmer, then light10's suffixes (ها ان ات ون ين
//     يه ه ي, each at most once, in that order, two letters left).
//  6. Snowball's hamza post-normalisation: a final ؤ or ئ → ء, elsewhere
//     ؤ → و and ئ → ي (أسماء, أسمائها).
//
// A stopword behind a proclitic (وهذا, لكل) is dropped like the stopword.
//
// The lexicon is every word of the Ayaspell Arabic dictionary (hunspell-ar,
// GPL/LGPL/MPL tri-licence, data/NOTICE) as listed, without its affix
// rules: nouns and adjectives in the singular, names of places and people,
// every conjugated verb form, and the function words without their
// clitics. It is normalised like input words and also holds each word's
// light10 suffix stem.

// arabicMinStem is the fewest letters a proclitic may leave.
const arabicMinStem = 2

// arabicProclitics are the proclitic sequences, shortest first (the
// reading that removes least is preferred: و+كتاب, not وك+تاب):
// conjunction, preposition, article, in that order, each optional.
var arabicProclitics = func() []string {
	var out []string
	for _, c := range []string{"", "و", "ف"} {
		for _, p := range []string{"", "ب", "ك", "ل"} {
			for _, a := range []string{"", "ال"} {
				s := c + p + a
				if p == "ل" && a == "ال" {
					s = c + "لل" // ل + ال is written لل
				}
				if s != "" {
					out = append(out, s)
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b string) int {
		return utf8.RuneCountInString(a) - utf8.RuneCountInString(b)
	})
	return out
}()

// light10Prefixes and light10Suffixes are light10's affixes in the
// published order. Its suffixes ية and ة are left out: after normalisation
// (teh marbuta → heh) they never occur, and ه and يه cover them.
var (
	light10Prefixes = []string{"ال", "وال", "بال", "كال", "فال", "لل", "و"}
	light10Suffixes = []string{"ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي"}
)

// arabicLexicon is the normalised Ayaspell word list plus the light10
// suffix stem of every word, loaded on the first Arabic word.
var arabicLexicon = sync.OnceValue(loadArabicLexicon)

func loadArabicLexicon() *wordDict {
	d := loadDict("data/dict/ar.txt.gz")
	words := make([]string, 0, 2*d.len())
	for i := range d.len() {
		w := normalizeArabic(d.word(i))
		words = append(words, w)
		if s := arabicSuffixStem(w); s != w {
			words = append(words, s)
		}
	}
	return packWords(words)
}

// arabicEnclitics are the endings removed when what precedes them is a
// lexicon word: the dual (and sound plural) endings ين ان, the object and
// possessive pronouns (هما كما هم هن كم كن نا ها ك ه ي), the verb plural
// وا, the accusative ending ا (of ـاً, its tanween removed by
// normalisation) and the construct plural's و (مديرو). Longest first,
// the dual endings ahead of the pronouns. Before a pronoun or a dual
// ending, teh marbuta is written teh (زوجة, زوجته; نقطة, نقطتين), so a
// remainder ending in ت is also tried with ه.
var arabicEnclitics = []string{"ين", "ان", "هما", "كما", "هم", "هن", "كم", "كن", "نا", "ها", "وا", "ك", "ه", "ي", "ا", "و"}

// arabicTehBefore marks the endings before which teh marbuta is written
// teh: the pronouns and the dual endings.
var arabicTehBefore = map[string]bool{"ين": true, "ان": true, "هما": true, "كما": true, "هم": true, "هن": true,
	"كم": true, "كن": true, "نا": true, "ها": true, "ك": true, "ه": true, "ي": true}

// arabicLexical reports whether w is a lexicon word or its light10
// suffix stem is. A stem of two letters is too ambiguous to count (the
// suffix stem of الان "now" is the article).
func arabicLexical(d *wordDict, w string) bool {
	if ok, _ := d.lookup(w); ok {
		return true
	}
	s := arabicSuffixStem(w)
	if s == w || utf8.RuneCountInString(s) < 3 {
		return false
	}
	ok, _ := d.lookup(s)
	return ok
}

// arabicEnclitic returns w without an enclitic whose removal leaves a
// lexicon word (teh restored to teh marbuta where that is the word), or
// "" when there is none.
func arabicEnclitic(d *wordDict, w string) string {
	n := utf8.RuneCountInString(w)
	for _, e := range arabicEnclitics {
		if !strings.HasSuffix(w, e) || n-utf8.RuneCountInString(e) < 3 {
			continue
		}
		r := w[:len(w)-len(e)]
		if arabicLexical(d, r) {
			return r
		}
		if arabicTehBefore[e] && strings.HasSuffix(r, "ت") {
			if m := r[:len(r)-len("ت")] + "ه"; arabicLexical(d, m) {
				return m
			}
		}
	}
	return ""
}

// stemArabic is the suffix half of the Arabic stemmer: w is normalised
// and its proclitics are already removed (stripArabicProclitics). An
// enclitic is removed when what remains is a lexicon word (and w itself
// is not one), then light10's suffixes, then Snowball's hamza
// post-normalisation (a final ؤ or ئ → ء, elsewhere ؤ → و, ئ → ي), since
// the seat of hamza changes with the ending (أسماء, أسمائها).
func stemArabic(w string) string {
	d := arabicLexicon()
	if !arabicLexical(d, w) {
		if r := arabicEnclitic(d, w); r != "" {
			w = r
		}
	}
	w = arabicSuffixStem(w)
	return arabicHamza(w)
}

// arabicHamza is Snowball's Arabic Normalize_post for the hamza seats
// (the alef forms are already bare alef).
func arabicHamza(w string) string {
	if !strings.ContainsAny(w, "ؤئ") {
		return w
	}
	last := len(w)
	if r, n := utf8.DecodeLastRuneInString(w); r == 'ؤ' || r == 'ئ' {
		last -= n
	}
	return mapRunes(w[:last], func(r rune) rune {
		switch r {
		case 'ؤ':
			return 'و'
		case 'ئ':
			return 'ي'
		}
		return r
	}) + map[bool]string{true: "ء", false: ""}[last < len(w)]
}

// stripArabicProclitics removes the proclitics of the normalised word w
// (steps 2–4 above). The analysis with the fewest parts wins: the word
// itself, then a proclitic and a lexicon word, then the word with an
// enclitic, then a proclitic, a word and an enclitic.
func stripArabicProclitics(w string) string {
	d := arabicLexicon()
	n := utf8.RuneCountInString(w)
	if n <= arabicMinStem || arabicLexical(d, w) {
		return w
	}
	for _, p := range arabicProclitics {
		if r, ok := arabicProclitic(w, n, p); ok && arabicLexical(d, r) {
			return r
		}
	}
	if arabicEnclitic(d, w) != "" {
		return w
	}
	for _, p := range arabicProclitics {
		if r, ok := arabicProclitic(w, n, p); ok && arabicEnclitic(d, r) != "" {
			return r
		}
	}
	for _, p := range light10Prefixes {
		if !strings.HasPrefix(w, p) {
			continue
		}
		k := utf8.RuneCountInString(p)
		if p == "و" && n > 3 || p != "و" && n-k >= 2 {
			return w[len(p):]
		}
	}
	return w
}

// arabicProclitic returns w (of n letters) without the proclitic p, if w
// starts with p and enough is left: two letters after the article, as
// light10 allows, three after a conjunction or preposition alone, as
// light10 allows after و.
func arabicProclitic(w string, n int, p string) (string, bool) {
	if !strings.HasPrefix(w, p) {
		return "", false
	}
	min := 3
	if strings.HasSuffix(p, "ال") || strings.HasSuffix(p, "لل") {
		min = arabicMinStem
	}
	if n-utf8.RuneCountInString(p) < min {
		return "", false
	}
	return w[len(p):], true
}

// arabicSuffixStem removes light10's suffixes from the normalised word w,
// after a final alef of a word of more than four letters, as Snowball's
// Arabic stemmer removes it (Suffix_Noun_Step2a): a name and its nisba
// adjective then meet (فرنسا, فرنسية; كوستاريكا, كوستاريكي).
func arabicSuffixStem(w string) string {
	n := utf8.RuneCountInString(w)
	if n > 4 && strings.HasSuffix(w, "ا") {
		w = w[:len(w)-len("ا")]
		n--
	}
	for _, s := range light10Suffixes {
		k := utf8.RuneCountInString(s)
		if strings.HasSuffix(w, s) && n-k >= 2 {
			w = w[:len(w)-len(s)]
			n -= k
		}
	}
	return w
}
