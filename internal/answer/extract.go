package answer

import (
	"math"
	"sort"
	"strings"
	"unicode"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/text"
)

// Options tune Extract.
type Options struct {
	// MaxSentences is the most sentences returned. Default 3.
	MaxSentences int
	// Language is the analyzer language; "" detects it from the question.
	Language string
}

// Sentence is one extracted sentence: Text == hits[Hit].Text[Start:End].
type Sentence struct {
	Hit        int
	Start, End int // byte offsets into the chunk text
	Text       string
	Score      float64
}

// Result is the extractive answer, best sentence first.
type Result struct {
	Sentences []Sentence
}

type candidate struct {
	Sentence
	terms map[string]int
	pos   int // sentence index within its chunk
}

// Extract selects the sentences of hits that best answer question.
func Extract(question string, hits []base.Hit, opts Options) Result {
	if opts.MaxSentences <= 0 {
		opts.MaxSentences = 3
	}
	lang := opts.Language
	if lang == "" {
		lang, _ = text.DetectLanguage(question)
	}
	an, err := text.NewAnalyzer(text.AnalyzerConfig{Language: lang})
	if err != nil {
		an, _ = text.NewAnalyzer(text.AnalyzerConfig{})
	}
	qterms := map[string]bool{}
	for _, t := range an.AppendTerms(nil, question) {
		qterms[t] = true
	}
	if len(qterms) == 0 {
		return Result{}
	}
	var cands []candidate
	df := map[string]int{}
	for hi, h := range hits {
		for si, sp := range text.Sentences(h.Text) {
			s := h.Text[sp.Start:sp.End]
			if strings.TrimSpace(s) == "" {
				continue
			}
			tf := map[string]int{}
			for _, t := range an.AppendTerms(nil, s) {
				tf[t]++
			}
			for t := range tf {
				if qterms[t] {
					df[t]++
				}
			}
			cands = append(cands, candidate{
				Sentence: Sentence{Hit: hi, Start: sp.Start, End: sp.End, Text: s},
				terms:    tf, pos: si,
			})
		}
	}
	n := float64(len(cands))
	for i := range cands {
		c := &cands[i]
		var score float64
		matched := 0
		for t := range qterms {
			if c.terms[t] > 0 {
				matched++
				score += math.Log(1 + n/float64(df[t]))
			}
		}
		if matched == 0 {
			continue
		}
		length, novel := 0, 0
		for t, k := range c.terms {
			length += k
			if !qterms[t] {
				novel += k
			}
		}
		// A sentence that only restates the question (a heading, a quoted
		// example of it) answers nothing: weigh by what it adds.
		if length > 0 {
			if f := float64(novel) / float64(length); f < 0.5 {
				score *= f * 2
			}
		}
		if novel <= 2 {
			score *= 0.3
		}
		// Code, JSON and command lines read badly as answers, and a
		// question (even one quoted in an example) is not an answer.
		score *= prose(c.Text)
		if strings.ContainsAny(c.Text, "?？؟") {
			score *= 0.2
		}
		// Prefer sentences from better-ranked chunks, and penalise fragments
		// and very long sentences a little.
		score *= 1 / (1 + 0.15*float64(c.Hit))
		if length < 4 {
			score *= 0.5
		} else if length > 60 {
			score *= 60 / float64(length)
		}
		c.Score = score
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].Score > cands[j].Score })
	var out []Sentence
	seen := map[string]bool{}
	for _, c := range cands {
		if c.Score <= 0 || len(out) == opts.MaxSentences {
			break
		}
		key := strings.ToLower(strings.Join(strings.Fields(c.Text), " "))
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, c.Sentence)
	}
	return Result{Sentences: out}
}

// prose returns 1 for ordinary prose and less for text that is mostly
// symbols, digits or code (JSON, shell lines): the share of letters and
// spaces, to the fourth power below 0.85.
func prose(s string) float64 {
	letters, total := 0, 0
	for _, r := range s {
		total++
		if unicode.IsLetter(r) || unicode.IsSpace(r) || r == ',' || r == '.' {
			letters++
		}
	}
	if total == 0 {
		return 0
	}
	f := float64(letters) / float64(total)
	if t := strings.TrimSpace(s); t != "" && strings.ContainsRune("{[<$#`|", rune(t[0])) {
		f *= 0.5 // starts like code, JSON, markup or a shell prompt
	}
	if f >= 0.85 {
		return 1
	}
	return f * f * f * f
}
