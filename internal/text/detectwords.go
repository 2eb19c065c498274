package text

import (
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Function-word evidence for language identification. Character trigram
// models are unreliable on a short sentence ("Granite forms from slowly
// cooling magma" has more Danish-looking trigrams than English ones), while
// the closed-class words of a language (articles, prepositions,
// pronouns, auxiliaries) identify it from a few words, a classic method
// for short texts (e.g. Grefenstette, "Comparing two language
// identification schemes", 1995). The word lists are the Snowball stop
// lists (BSD; data/detect, as shipped by Lucene) where Snowball has one,
// else the analyzer's stopword list of the language.

// detectWordLangs are the languages with function-word evidence, by
// script bucket. At most 64.
var detectWordLangs = map[scriptBucket][]string{
	bucketLatin: {"ca", "cs", "da", "de", "en", "es", "et", "eu", "fi", "fr", "ga", "gl", "hu", "id", "it",
		"lt", "lv", "nl", "no", "pt", "ro", "sv", "tr"},
	bucketCyrillic:   {"bg", "ru"},
	bucketDevanagari: {"hi", "ne"},
}

// functionWords maps a lower-cased word to the set (bit i = language i
// of detectWordLangs[bucket]) of languages it is a function word of.
type functionWords map[string]uint64

var detectWords = sync.OnceValue(func() map[scriptBucket]functionWords {
	out := make(map[scriptBucket]functionWords)
	for b, langs := range detectWordLangs {
		m := make(functionWords)
		for i, lang := range langs {
			list, ok := detectList(lang)
			if !ok {
				panic("text: no function words for " + lang)
			}
			for _, w := range strings.Fields(list + " " + interrogatives[lang]) {
				// Single letters ("a", "e", "y") are shared by too many
				// languages, and by abbreviations, to count.
				if utf8.RuneCountInString(w) < 2 {
					continue
				}
				m[strings.ToLower(w)] |= 1 << i
			}
		}
		out[b] = m
	}
	return out
})

// interrogatives adds the question words (interrogative pronouns and
// adverbs, a closed class listed in any grammar of the language) that the
// Snowball stop lists lack. Questions are what a RAG engine identifies
// most often and the shortest texts it sees; without them "Wann wurde das
// Plastom entdeckt?" has only "das" and "wurde" to vote, and Dutch
// trigrams win, and "¿Cuándo llegó Y. pestis a Inglaterra?" only "a".
// Accented Spanish forms (cómo, dónde) are Spanish alone; the lists are
// for the languages whose questions were confused with each other (Hindi
// with Nepali, whose Lucene list holds common Hindi words such as रूप,
// मुख्य, नौ).
var interrogatives = map[string]string{
	"de": `wann wer wen wem wessen warum wieso weshalb woher wohin womit wozu worum
		worauf wodurch worin welcher welches welchen welchem`,
	"en": `whose`,
	"es": `cómo cuándo dónde quién quiénes cuál cuáles cuánto cuánta cuántos cuántas`,
	"fr": `quand comment où pourquoi quoi quelle quels quelles`,
	"hi": `क्या कौन कौनसा किस किसका किसकी किसके किसने किसको किससे किसे कब क्यों कैसे
		कितना कितने कितनी`,
	"it": `quando cosa quali quanto quanti`,
	"ne": `कसरी कहिले किन कति कुन`,
	"nl": `wanneer waar waarom welke`,
	"pt": `onde porquê quanto quantos quais`,
}

func detectList(lang string) (string, bool) {
	raw, err := stopwordFiles.ReadFile("data/detect/" + lang + ".txt")
	if err == nil {
		return parseStopList(string(raw)), true
	}
	return stopwords(lang)
}

// functionWordVote counts, per language of bucket b, the distinct words
// of text that are function words of it, and returns the language with
// the most and its lead over the runner-up. It returns "" when no word
// counts. Only the first maxWords words are read. Distinct words, and
// capitalised words only at the start of a sentence, so that names
// ("Los Angeles" six times in an English paragraph) do not vote.
func functionWordVote(text string, b scriptBucket, trigram string) (lang string, hits, lead int, counts map[string]int) {
	const maxWords = 200
	langs := detectWordLangs[b]
	if langs == nil {
		return "", 0, 0, nil
	}
	m := detectWords()[b]
	var n [64]int
	var seenBuf [32]string
	seen := seenBuf[:0] // distinct function words met so far; few
	words := 0
	start := -1
	sentenceStart := true // the next word starts a sentence
	var buf []byte
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := text[start:end]
		start = -1
		words++
		first, _ := utf8.DecodeRuneInString(w)
		atStart := sentenceStart
		sentenceStart = false
		if unicode.IsUpper(first) && !atStart {
			return
		}
		buf = buf[:0]
		for _, r := range w {
			buf = utf8.AppendRune(buf, unicode.ToLower(r))
		}
		set := m[string(buf)]
		if set == 0 || slices.Contains(seen, string(buf)) {
			return
		}
		seen = append(seen, string(buf))
		for i := range langs {
			if set&(1<<i) != 0 {
				n[i]++
			}
		}
	}
	for i, r := range text {
		if unicode.IsLetter(r) || (unicode.IsMark(r) || r == '\'') && start >= 0 {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		if words >= maxWords {
			break
		}
		switch r {
		case '.', '!', '?', '¿', '¡', ':', ';', '"', '«', '“', '(', '\n':
			sentenceStart = true
		}
	}
	if words < maxWords {
		flush(len(text))
	}
	best, second := -1, 0
	for i := range langs {
		switch {
		case best < 0 || n[i] > n[best] || n[i] == n[best] && langs[i] == trigram:
			if best >= 0 {
				second = max(second, n[best])
			}
			best = i
		default:
			second = max(second, n[i])
		}
	}
	if n[best] == 0 {
		return "", 0, 0, nil
	}
	counts = make(map[string]int)
	for i, l := range langs {
		if n[i] > 0 {
			counts[l] = n[i]
		}
	}
	return langs[best], n[best], n[best] - second, counts
}
