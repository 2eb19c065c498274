package text

import (
	"strings"
	"unicode/utf8"
)

// minSpacedWords is the number of words a Thai or Lao sentence needs on
// each side of a space for the space to end it.
const minSpacedWords = 3

// continuationWords are Thai and Lao conjunctions, relative pronouns and
// prepositions that, after a space, continue the clause before it rather
// than start a sentence.
var continuationWords = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(`
		และ หรือ แต่ ซึ่ง ที่ โดย เพราะ เพราะว่า ก็ จึง ว่า ของ กับ ใน เช่น คือ ได้แก่ ด้วย แล้ว ตาม จาก
		ถ้า หาก เมื่อ จน จนถึง เพื่อ แก่ แด่ ต่อ ส่วน รวมถึง รวมทั้ง อีก หรือไม่ ก่อน หลัง ขณะ ขณะที่
		ແລະ ຫຼື ແຕ່ ຊຶ່ງ ທີ່ ໂດຍ ເພາະ ກໍ ຈຶ່ງ ວ່າ ຂອງ ກັບ ໃນ ເຊັ່ນ ຄື ດ້ວຍ ແລ້ວ ຕາມ ຈາກ ຖ້າ ເມື່ອ ເພື່ອ`) {
		m[w] = true
	}
	return m
}()

// splitSpaced yields sp, split at the spaces that end Thai or Lao
// sentences (see Sentences). It returns false when yield asked to stop.
func splitSpaced(text string, sp Span, yield func(Span) bool) bool {
	body := text[sp.Start:sp.End]
	if !hasSpacedScript(body) {
		return yield(sp)
	}
	start := sp.Start
	wordsBefore := 0      // words of the sentence so far, up to the candidate
	lastSpaceEnd := start // where the stretch after the last space begins
	for i := sp.Start; i < sp.End; {
		r, n := utf8.DecodeRuneInString(text[i:sp.End])
		if !isSpace(r) {
			i += n
			continue
		}
		// A run of spaces [i, j).
		j := i
		for j < sp.End {
			r2, n2 := utf8.DecodeRuneInString(text[j:sp.End])
			if !isSpace(r2) {
				break
			}
			j += n2
		}
		wordsBefore += countSEAWords(text[lastSpaceEnd:i])
		lastSpaceEnd = j
		prev, _ := utf8.DecodeLastRuneInString(text[start:i])
		next, _ := utf8.DecodeRuneInString(text[j:sp.End])
		ps, ns := seaScriptOf(prev), seaScriptOf(next)
		if (ps == seaThai || ps == seaLao) && ns == ps && wordsBefore >= minSpacedWords {
			after := nextSEAStretch(text[j:sp.End])
			if !continuationWords[firstSEAWord(after)] && countSEAWords(restUpTo(text[j:sp.End], minSpacedWords)) >= minSpacedWords {
				if !yield(Span{start, i}) {
					return false
				}
				start, wordsBefore = j, 0
			}
		}
		i = j
	}
	return yield(Span{start, sp.End})
}

// hasSpacedScript reports whether s contains a Thai or Lao letter.
func hasSpacedScript(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0xE0 { // Thai and Lao are U+0E00–U+0EFF
			r, _ := utf8.DecodeRuneInString(s[i:])
			if sc := seaScriptOf(r); sc == seaThai || sc == seaLao {
				return true
			}
		}
	}
	return false
}

// nextSEAStretch returns the prefix of s up to the first space.
func nextSEAStretch(s string) string {
	if i := strings.IndexFunc(s, isSpace); i >= 0 {
		return s[:i]
	}
	return s
}

// restUpTo returns the prefix of s holding its first n space-separated
// stretches, enough to count n words after a candidate boundary.
func restUpTo(s string, n int) string {
	end := 0
	for k := 0; k < n && end < len(s); k++ {
		i := strings.IndexFunc(s[end:], isSpace)
		if i < 0 {
			return s
		}
		end += i
		for end < len(s) {
			r, w := utf8.DecodeRuneInString(s[end:])
			if !isSpace(r) {
				break
			}
			end += w
		}
	}
	return s[:end]
}

// countSEAWords counts the words of s: dictionary words and unknown
// stretches of Thai or Lao as the analyzer's segmenter finds them, and
// other whitespace-separated words.
func countSEAWords(s string) int {
	n := 0
	for _, f := range strings.Fields(s) {
		n += len(seaPieces(f))
	}
	return n
}

// firstSEAWord returns the first word the segmenter finds in s.
func firstSEAWord(s string) string {
	p := seaPieces(s)
	if len(p) == 0 {
		return ""
	}
	return s[p[0].start:p[0].end]
}

// seaPieces segments a space-free string: runs of Thai or Lao clusters
// by the dictionary, anything else as one piece.
func seaPieces(s string) []piece {
	r, _ := utf8.DecodeRuneInString(s)
	sc := seaScriptOf(r)
	load := dicts[sc]
	if load == nil || !utf8.ValidString(s) {
		if s == "" {
			return nil
		}
		return []piece{{0, len(s), false}}
	}
	// Cluster boundaries: before every rune that is not a mark, except
	// after a vowel written before its consonant.
	bounds := []int{0}
	join := false
	for i, r := range s {
		if i > 0 && !join && seaScriptOf(r) != seaNone && !isMarkRune(r) {
			bounds = append(bounds, i)
		}
		join = joinsNext(r)
	}
	bounds = append(bounds, len(s))
	return load().segment(s, bounds, nil)
}
