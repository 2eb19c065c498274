package eval

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds the answer-level metrics that need no judge model. Their
// formulas, with sources, are in docs/evaluation.md; each is a pure function.

// NormLang selects the answer normalisation.
type NormLang uint8

const (
	// NormSQuAD is the SQuAD v1.1 evaluation script's normalize_answer,
	// exactly: lower case, drop ASCII punctuation (Python's
	// string.punctuation), drop the words a, an, the, collapse whitespace.
	NormSQuAD NormLang = iota
	// NormMultilingual follows MLQA's evaluation script: Unicode punctuation
	// (categories P*) and symbols are dropped, the articles of the answer's
	// language are dropped, and CJK text is tokenised one character per
	// token (MLQA's mixed segmentation), since it is written without spaces.
	NormMultilingual
)

// articles per language for NormMultilingual: MLQA's lists (SQuAD's for
// English). Languages without articles, or whose articles the script keeps
// (hi, ru, zh), remove none. Arabic's definite article is a prefix: MLQA
// removes every "ال" wherever it occurs, and so does this.
var articles = map[string][]string{
	"en": {"a", "an", "the"},
	"es": {"un", "una", "unos", "unas", "el", "la", "los", "las"},
	"de": {"ein", "eine", "einer", "eines", "einem", "einen", "der", "die", "das", "des", "dem", "den"},
	"vi": {"của", "là", "cái", "chiếc", "những"},
}

// Normalizer normalises and tokenises answers for one language.
type Normalizer struct {
	Mode NormLang
	// Lang is an ISO 639-1 code for NormMultilingual's article list; ""
	// removes none. NormSQuAD ignores it (English articles always).
	Lang string
}

// Normalize returns s normalised, tokens joined by single spaces.
func (n Normalizer) Normalize(s string) string { return strings.Join(n.Tokens(s), " ") }

const asciiPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// Tokens returns the normalised tokens of s.
func (n Normalizer) Tokens(s string) []string {
	s = strings.ToLower(s)
	multi := n.Mode == NormMultilingual
	s = strings.Map(func(r rune) rune {
		if (r < 128 && strings.ContainsRune(asciiPunct, r)) || (multi && unicode.IsPunct(r)) {
			return -1
		}
		return r
	}, s)
	words := articles["en"]
	if multi {
		words = articles[n.Lang]
		if n.Lang == "ar" {
			s = strings.ReplaceAll(s, "ال", " ")
		}
	}
	s = removeWords(s, words)
	if !multi {
		return strings.Fields(s)
	}
	var out []string
	for _, f := range strings.Fields(s) {
		start := 0
		for i, r := range f {
			if isCJK(r) {
				if start < i {
					out = append(out, f[start:i])
				}
				out = append(out, string(r))
				start = i + utf8.RuneLen(r)
			}
		}
		if start < len(f) {
			out = append(out, f[start:])
		}
	}
	return out
}

// removeWords replaces each whole-word occurrence of words in s by a space,
// as Python's re.sub(r'\b(w1|w2)\b', ' ', s) does on a str: word characters
// are Unicode letters, numbers and '_'.
func removeWords(s string, words []string) string {
	if len(words) == 0 {
		return s
	}
	var b strings.Builder
	i := 0
	for i < len(s) {
		if i == 0 || !isWordRune(lastRune(s[:i])) {
			if w := matchWord(s[i:], words); w > 0 {
				b.WriteByte(' ')
				i += w
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// matchWord returns the length of the first of words that s starts with as
// a whole word, or 0. Like Python's alternation, the first listed
// alternative that fits wins.
func matchWord(s string, words []string) int {
	for _, w := range words {
		if strings.HasPrefix(s, w) {
			if rest := s[len(w):]; rest == "" || !isWordRune(firstRune(rest)) {
				return len(w)
			}
		}
	}
	return 0
}

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) }

func firstRune(s string) rune { r, _ := utf8.DecodeRuneInString(s); return r }

func lastRune(s string) rune { r, _ := utf8.DecodeLastRuneInString(s); return r }

// isCJK reports characters of scripts written without spaces between
// words: Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar. Each is its own
// token (MLQA does this for Chinese only, over U+4E00–U+9FA5).
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
}

// ExactMatch is SQuAD's exact match: 1 if the normalised prediction equals
// some normalised gold answer, else 0 (0 without gold answers).
func (n Normalizer) ExactMatch(pred string, golds []string) float64 {
	p := n.Normalize(pred)
	for _, g := range golds {
		if n.Normalize(g) == p {
			return 1
		}
	}
	return 0
}

// F1 is SQuAD's token F1, the maximum over gold answers of the harmonic
// mean of token precision and recall, tokens counted with multiplicity
// (0 without gold answers).
func (n Normalizer) F1(pred string, golds []string) float64 {
	pt := n.Tokens(pred)
	best := 0.0
	for _, g := range golds {
		best = max(best, tokenF1(pt, n.Tokens(g)))
	}
	return best
}

func tokenF1(pred, gold []string) float64 {
	if len(pred) == 0 || len(gold) == 0 {
		// SQuAD v1.1 scores this case 0 (v2.0 scores two empties 1).
		return 0
	}
	count := make(map[string]int, len(gold))
	for _, t := range gold {
		count[t]++
	}
	same := 0
	for _, t := range pred {
		if count[t] > 0 {
			count[t]--
			same++
		}
	}
	if same == 0 {
		return 0
	}
	p := float64(same) / float64(len(pred))
	r := float64(same) / float64(len(gold))
	return 2 * p * r / (p + r)
}

// Contains reports whether some gold answer occurs in text as a
// contiguous run of whole tokens of HasAnswerTokens (so "10" is not found
// in "100", but "24" is found in "24-yard"). Gold answers without tokens
// are ignored.
func (n Normalizer) Contains(text string, golds []string) bool {
	tt := HasAnswerTokens(text)
	for _, g := range golds {
		if gt := HasAnswerTokens(g); len(gt) > 0 && containsRun(tt, gt) {
			return true
		}
	}
	return false
}

// HasAnswerTokens tokenises for answer containment as DPR's has_answer
// does (its SimpleTokenizer, uncased): runs of letters, marks and numbers
// are tokens, and every other non-space character is a token of its own;
// all lower-cased. Each character of a script without spaces (see isCJK)
// is its own token too, so Chinese answers match at character boundaries.
func HasAnswerTokens(s string) []string {
	s = strings.ToLower(s)
	var out []string
	start := -1
	for i, r := range s {
		word := unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r)
		if word && !isCJK(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, s[start:i])
			start = -1
		}
		if !unicode.IsSpace(r) && !unicode.IsControl(r) {
			out = append(out, string(r))
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

func containsRun(hay, needle []string) bool {
outer:
	for i := 0; i+len(needle) <= len(hay); i++ {
		for j, t := range needle {
			if hay[i+j] != t {
				continue outer
			}
		}
		return true
	}
	return false
}

// AnswerRecall is 1 if a gold answer occurs in the answer (see Contains).
func (n Normalizer) AnswerRecall(answer string, golds []string) float64 {
	return b2f(n.Contains(answer, golds))
}

// CitationHit scores the cited spans, in citation order: first is 1 if the
// first span contains a gold answer, anyHit if any does.
func (n Normalizer) CitationHit(spans, golds []string) (first, anyHit float64) {
	for i, s := range spans {
		if n.Contains(s, golds) {
			if i == 0 {
				first = 1
			}
			anyHit = 1
		}
	}
	return first, anyHit
}

// CitationPrecision is the share of cited spans that contain a gold answer;
// 0 without citations.
func (n Normalizer) CitationPrecision(spans, golds []string) float64 {
	if len(spans) == 0 {
		return 0
	}
	hit := 0
	for _, s := range spans {
		if n.Contains(s, golds) {
			hit++
		}
	}
	return float64(hit) / float64(len(spans))
}

// HitAtK is 1 if one of the first k retrieved document ids is relevant.
// Repeated ids (several chunks of one document) count at their first rank
// in the document ranking, so k counts distinct documents.
func HitAtK(retrieved []string, relevant map[string]bool, k int) float64 {
	seen := map[string]bool{}
	for _, id := range retrieved {
		if seen[id] {
			continue
		}
		if len(seen) == k {
			break
		}
		seen[id] = true
		if relevant[id] {
			return 1
		}
	}
	return 0
}

// Mean returns the arithmetic mean of xs, 0 if empty.
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Levenshtein returns the edit distance between a and b counted in Unicode
// code points (insertions, deletions and substitutions each cost 1).
func Levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) < len(rb) {
		ra, rb = rb, ra
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := prev[j-1]
			if ra[i-1] != rb[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// StringSimilarity is RAGAS's NonLLMStringSimilarity with its default
// Levenshtein measure: 1 − distance / max(len(a), len(b)) in code points
// (rapidfuzz's normalized_distance); 1 for two empty strings.
func StringSimilarity(a, b string) float64 {
	la, lb := len([]rune(a)), len([]rune(b))
	if la == 0 && lb == 0 {
		return 1
	}
	return 1 - float64(Levenshtein(a, b))/float64(max(la, lb))
}

// ContextThreshold is RAGAS's default similarity threshold for the non-LLM
// context metrics.
const ContextThreshold = 0.5

// AveragePrecision is RAGAS's context-precision arithmetic over relevance
// verdicts in rank order: Σ_k (precision@k · v_k) / (Σ v_k + 1e-10).
func AveragePrecision(verdicts []bool) float64 {
	num, hits := 0.0, 0
	for i, v := range verdicts {
		if v {
			hits++
			num += float64(hits) / float64(i+1)
		}
	}
	return num / (float64(hits) + 1e-10)
}

// ContextPrecision is RAGAS's NonLLMContextPrecisionWithReference: each
// retrieved context, in rank order, is relevant if its best StringSimilarity
// to any reference context is ≥ threshold; the score is AveragePrecision of
// those verdicts. 0 without retrieved or reference contexts.
func ContextPrecision(retrieved, reference []string, threshold float64) float64 {
	if len(retrieved) == 0 || len(reference) == 0 {
		return 0
	}
	v := make([]bool, len(retrieved))
	for i, rc := range retrieved {
		for _, ref := range reference {
			if similarAtLeast(rc, ref, threshold, false) {
				v[i] = true
				break
			}
		}
	}
	return AveragePrecision(v)
}

// similarAtLeast reports StringSimilarity(a, b) ≥ threshold (> with
// strict) without computing the distance when the answer is certain:
// equal strings have similarity 1, and since the distance is at least the
// length difference, the similarity is at most min/max of the lengths.
func similarAtLeast(a, b string, threshold float64, strict bool) bool {
	if a == b {
		return 1 > threshold || (!strict && 1 == threshold)
	}
	la, lb := utf8.RuneCountInString(a), utf8.RuneCountInString(b)
	if la > 0 && lb > 0 {
		bound := float64(min(la, lb)) / float64(max(la, lb))
		if bound < threshold || (strict && bound == threshold) {
			return false
		}
	}
	sim := StringSimilarity(a, b)
	if strict {
		return sim > threshold
	}
	return sim >= threshold
}

// ContextRecall is RAGAS's NonLLMContextRecall: the share of reference
// contexts whose best StringSimilarity to a retrieved context is strictly
// greater than threshold (RAGAS uses > here and ≥ in ContextPrecision).
// 0 without reference contexts; a reference with no retrieved context
// scores 0.
func ContextRecall(retrieved, reference []string, threshold float64) float64 {
	if len(reference) == 0 {
		return 0
	}
	hit := 0
	for _, ref := range reference {
		for _, rc := range retrieved {
			if similarAtLeast(rc, ref, threshold, true) {
				hit++
				break
			}
		}
	}
	return float64(hit) / float64(len(reference))
}
