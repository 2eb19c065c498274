package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// addedToken is an entry of tokenizer.json's added_tokens.
type addedToken struct {
	id                         int32
	content                    string
	special                    bool
	singleWord, lstrip, rstrip bool
	normalized                 bool
}

// addedVocab matches added tokens in text before the model runs. Tokens with
// normalized=false are matched on the raw input, the others on the
// normalized text.
type addedVocab struct {
	tokens        []addedToken
	raw           [256][]int // first byte -> indexes of raw-matched tokens, longest first
	norm          [256][]int
	hasRaw        bool
	hasNormalized bool
}

func (v *addedVocab) build() {
	for i, t := range v.tokens {
		if t.content == "" {
			continue
		}
		tab := &v.raw
		if t.normalized && !t.special {
			tab = &v.norm
			v.hasNormalized = true
		} else {
			v.hasRaw = true
		}
		c := t.content[0]
		tab[c] = append(tab[c], i)
	}
	for _, tab := range []*[256][]int{&v.raw, &v.norm} {
		for c := range tab {
			l := tab[c]
			// insertion sort by content length, longest first (stable)
			for i := 1; i < len(l); i++ {
				for j := i; j > 0 && len(v.tokens[l[j]].content) > len(v.tokens[l[j-1]].content); j-- {
					l[j], l[j-1] = l[j-1], l[j]
				}
			}
		}
	}
}

// segment is a byte range of the input, either plain text (added < 0) or an
// added token.
type segment struct {
	lo, hi int
	added  int
}

// find returns the leftmost-longest matches of tab in s that satisfy the
// tokens' single_word constraint, with lstrip/rstrip applied, as
// [lo, hi, token index] triples.
func (v *addedVocab) find(s string, tab *[256][]int) [][3]int {
	var out [][3]int
	prevEnd := 0
	for i := 0; i < len(s); i++ {
		cands := tab[s[i]]
		if len(cands) == 0 {
			continue
		}
		for _, ti := range cands {
			t := &v.tokens[ti]
			if len(s)-i < len(t.content) || s[i:i+len(t.content)] != t.content {
				continue
			}
			lo, hi := i, i+len(t.content)
			if t.singleWord {
				if lo > 0 {
					r, _ := utf8.DecodeLastRuneInString(s[:lo])
					if isWordChar(r) {
						continue
					}
				}
				if hi < len(s) {
					r, _ := utf8.DecodeRuneInString(s[hi:])
					if isWordChar(r) {
						continue
					}
				}
			}
			if t.lstrip {
				for lo > prevEnd {
					r, sz := utf8.DecodeLastRuneInString(s[:lo])
					if !unicode.IsSpace(r) {
						break
					}
					lo -= sz
				}
			}
			if t.rstrip {
				for hi < len(s) {
					r, sz := utf8.DecodeRuneInString(s[hi:])
					if !unicode.IsSpace(r) {
						break
					}
					hi += sz
				}
			}
			out = append(out, [3]int{lo, hi, ti})
			prevEnd = hi
			i = hi - 1
			break
		}
	}
	return out
}

// split cuts text into plain and raw-added-token segments.
func (v *addedVocab) split(text string, out []segment) []segment {
	if !v.hasRaw {
		return append(out, segment{0, len(text), -1})
	}
	prev := 0
	for _, m := range v.find(text, &v.raw) {
		if m[0] > prev {
			out = append(out, segment{prev, m[0], -1})
		}
		out = append(out, segment{m[0], m[1], m[2]})
		prev = m[1]
	}
	if prev < len(text) || len(out) == 0 {
		out = append(out, segment{prev, len(text), -1})
	}
	return out
}

func (v *addedVocab) matchNormalized(s []byte) [][3]int {
	return v.find(string(s), &v.norm)
}
