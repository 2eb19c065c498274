package text

import (
	"unicode"
	"unicode/utf8"
)

// isCJK reports whether r belongs to a script written without spaces
// between words that the analyzer turns into character bigrams: Han,
// Hiragana, Katakana (including the prolonged sound mark and the half-width
// sound marks, which are in the Common script) and Hangul.
func isCJK(r rune) bool {
	if r < 0x1100 {
		return false
	}
	switch {
	case r == 0x30FC, r == 0xFF70, r == 0xFF9E, r == 0xFF9F, r >= 0x3099 && r <= 0x309C:
		return true
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// isWordRune reports whether r makes a segment a word: a letter or a number.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIAlnum(byte(r))
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// hasWordRune reports whether s contains a letter or a number.
func hasWordRune(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if isASCIIAlnum(c) {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			return true
		}
		i += n
	}
	return false
}

// isSpace is unicode.IsSpace with an ASCII fast path.
func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || r >= '\t' && r <= '\r'
	}
	return unicode.IsSpace(r)
}

// TrimSpan shrinks [start, end) of s so that it neither starts nor ends
// with white space. It returns start == end when the range is blank.
func TrimSpan(s string, start, end int) (int, int) {
	for start < end {
		c := s[start]
		if c < utf8.RuneSelf {
			if !isSpace(rune(c)) {
				break
			}
			start++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		start += n
	}
	for end > start {
		c := s[end-1]
		if c < utf8.RuneSelf {
			if !isSpace(rune(c)) {
				break
			}
			end--
			continue
		}
		r, n := utf8.DecodeLastRuneInString(s[start:end])
		if !unicode.IsSpace(r) {
			break
		}
		end -= n
	}
	return start, end
}

func isMarkRune(r rune) bool { return r >= utf8.RuneSelf && unicode.IsMark(r) }
