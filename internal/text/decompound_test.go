package text

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplitCompound(t *testing.T) {
	d := decompounders["de"]()
	for _, c := range []struct {
		word string
		want []string
	}{
		{"touristenstrecken", []string{"touristen", "strecken"}},
		{"gerichtsverfahren", []string{"gericht", "verfahren"}},
		{"verhandlungsstrategie", []string{"verhandlung", "strategie"}}, // linking s
		{"paketkennzeichnung", []string{"paket", "kennzeichnung"}},
		{"haus", nil},                     // too short to split
		{"verteidigung", nil},             // no split into nouns
		{"strecken", nil},                 // a word is not its own compound
		{"xyzqwertzuiop", nil},            // unknown
		{strings.Repeat("haus", 40), nil}, // longer than maxCompoundWord
	} {
		if got := splitCompound(d, c.word, nil); !slices.Equal(got, c.want) {
			t.Errorf("splitCompound(%q) = %q, want %q", c.word, got, c.want)
		}
	}
}

func TestAnalyzeGermanCompounds(t *testing.T) {
	a := mustAnalyzer(t, AnalyzerConfig{Language: "de"})
	// A question and a passage that share only the parts of their
	// compounds now share terms.
	q := a.Analyze("Welche Touristenstrecken gibt es?")
	p := a.AppendTerms(nil, "Die Touristeneisenbahnen fahren auf zwei Strecken.")
	var qterms []string
	for _, tok := range q {
		qterms = append(qterms, tok.Term)
	}
	if !slices.Contains(qterms, "touristenstreck") || !slices.Contains(qterms, "streck") {
		t.Fatalf("query terms %q lack the compound or its head", qterms)
	}
	if !slices.Contains(p, "streck") || !slices.Contains(p, "tourist") {
		t.Fatalf("passage terms %q lack the parts", p)
	}
	// The parts share the compound's position and offsets.
	var at []Token
	for _, tok := range q {
		if tok.Pos == q[1].Pos {
			at = append(at, tok)
		}
	}
	if len(at) != 3 || at[1].Start != at[0].Start || at[2].End != at[0].End {
		t.Fatalf("compound tokens %+v do not share position and offsets", at)
	}
	// Lower-case words (adjectives, verbs) are not split: "gemeinsame"
	// is not "gemein" + "Same".
	if got := a.AppendTerms(nil, "die gemeinsame Strategie"); slices.Contains(got, "sam") {
		t.Errorf("lower-case word split: %q", got)
	}
	off := mustAnalyzer(t, AnalyzerConfig{Language: "de", NoDecompound: true})
	if got := off.AppendTerms(nil, "Touristenstrecken"); len(got) != 1 {
		t.Errorf("NoDecompound: %q", got)
	}
}

// FuzzSplitCompound checks that the parts of any word are in order,
// non-overlapping, within the word and at least minCompoundPart letters.
func FuzzSplitCompound(f *testing.F) {
	for _, s := range []string{"touristenstrecken", "verhandlungsstrategies", "ßßßß", "\xff\xfeabc", "sssssssss", "straßenverkehrssicherheit"} {
		f.Add(s)
	}
	d := decompounders["de"]()
	f.Fuzz(func(t *testing.T, w string) {
		parts := splitCompound(d, w, nil)
		rest := w
		for _, p := range parts {
			i := strings.Index(rest, p)
			if i < 0 || utf8.RuneCountInString(p) < minCompoundPart {
				t.Fatalf("%q: parts %q not in order or too short", w, parts)
			}
			rest = rest[i+len(p):]
		}
	})
}
