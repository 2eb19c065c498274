package guard

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/quarry-rag/quarry/internal/pii"
)

// IssueKind is what an output rail found in an answer.
type IssueKind uint8

const (
	// UnsupportedEmail: an e-mail address no source (nor the question)
	// contains.
	UnsupportedEmail IssueKind = iota + 1
	// UnsupportedURL: a URL no source contains.
	UnsupportedURL
	// UnsupportedNumber: a number (10 or more, or with decimals) no source
	// contains, compared without thousands separators.
	UnsupportedNumber
	// RepeatsInstruction: the answer repeats an instruction of a flagged
	// text (a chunk or question the detector flagged).
	RepeatsInstruction
)

func (k IssueKind) String() string {
	switch k {
	case UnsupportedEmail:
		return "unsupported_email"
	case UnsupportedURL:
		return "unsupported_url"
	case UnsupportedNumber:
		return "unsupported_number"
	case RepeatsInstruction:
		return "repeats_instruction"
	}
	return fmt.Sprintf("IssueKind(%d)", uint8(k))
}

// Issue is one finding of the output rails.
type Issue struct {
	Kind  IssueKind
	Value string // the e-mail, URL or number; for RepeatsInstruction the repeated words
}

// AnswerVerdict is the output rails' judgement of an answer.
type AnswerVerdict struct {
	// Issues lists what was found, in answer order.
	Issues []Issue
	// Flagged: at least one unsupported e-mail, URL or number — show the
	// answer, marked.
	Flagged bool
	// Withheld: the answer repeats a flagged instruction — do not show
	// it; Reason says why.
	Withheld bool
	Reason   string
}

// AnswerInput is what CheckAnswer compares an answer with.
type AnswerInput struct {
	Answer string
	// Sources are the texts the model saw: chunk texts and titles, and
	// the question.
	Sources []string
	// Flagged are texts the detector flagged in this request (chunks,
	// even those kept out of the prompt, and the question).
	Flagged []string
}

var (
	urlRe    = regexp.MustCompile(`(?i)\b(?:https?://|www\.)[^\s<>"'()\[\]{}]+`)
	numberRe = regexp.MustCompile(`\d+(?:[.,' \x{00A0}]\d{3})*(?:[.,]\d+)?`)
	citeRe   = regexp.MustCompile(`\[\d{1,3}\]`)
)

// CheckAnswer runs the output rails. It is pure and cheap (regular
// expressions and set lookups over the answer and sources).
func CheckAnswer(in AnswerInput) AnswerVerdict {
	var v AnswerVerdict
	src := strings.ToLower(strings.Join(in.Sources, "\n"))
	answer := citeRe.ReplaceAllString(in.Answer, " ")

	for _, f := range pii.Scan(answer) {
		if f.Kind == pii.Email && !strings.Contains(src, strings.ToLower(f.Value)) {
			v.Issues = append(v.Issues, Issue{UnsupportedEmail, f.Value})
		}
	}
	for _, u := range urlRe.FindAllString(answer, -1) {
		u = strings.TrimRight(u, ".,;:!?")
		if !strings.Contains(src, strings.ToLower(u)) {
			v.Issues = append(v.Issues, Issue{UnsupportedURL, u})
		}
	}
	srcNums := map[string]bool{}
	for _, n := range numberRe.FindAllString(src, -1) {
		srcNums[numKey(n)] = true
		// "1,000.5" may also be read as its parts
		for _, p := range strings.FieldsFunc(n, func(r rune) bool { return !unicode.IsDigit(r) }) {
			srcNums[p] = true
		}
	}
	for _, n := range numberRe.FindAllString(answer, -1) {
		n = strings.TrimSpace(n)
		k := numKey(n)
		if len(k) < 2 || srcNums[k] {
			continue
		}
		v.Issues = append(v.Issues, Issue{UnsupportedNumber, n})
	}
	v.Flagged = len(v.Issues) > 0
	if words := repeatedInstruction(in.Answer, in.Flagged); words != "" {
		v.Issues = append(v.Issues, Issue{RepeatsInstruction, words})
		v.Withheld = true
		v.Reason = fmt.Sprintf("the answer repeats an instruction found in text flagged as prompt injection (%q)", words)
	}
	return v
}

// numKey is a number's digits and decimal part without thousands
// separators: "1,000" and "1000" and "1.000" compare equal.
func numKey(n string) string {
	var b strings.Builder
	for _, r := range n {
		if unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// instructionGram is the length, in words, of the shortest run of words an
// answer must share with an instruction to count as repeating it.
const instructionGram = 6

// repeatedInstruction returns the first run of instructionGram words that
// the answer shares with an instruction sentence of a flagged text (a
// sentence that a rule matches; all of the text when none does), or a
// whole short instruction the answer contains.
func repeatedInstruction(answer string, flagged []string) string {
	if len(flagged) == 0 || answer == "" {
		return ""
	}
	aw := words(Normalize(answer).Text)
	grams := map[string]bool{}
	for i := 0; i+instructionGram <= len(aw); i++ {
		grams[strings.Join(aw[i:i+instructionGram], " ")] = true
	}
	joined := " " + strings.Join(aw, " ") + " "
	for _, f := range flagged {
		for _, s := range instructionSentences(Normalize(f).Text) {
			sw := words(s)
			if len(sw) < instructionGram {
				if len(sw) >= 3 && strings.Contains(joined, " "+strings.Join(sw, " ")+" ") {
					return strings.Join(sw, " ")
				}
				continue
			}
			for i := 0; i+instructionGram <= len(sw); i++ {
				g := strings.Join(sw[i:i+instructionGram], " ")
				if grams[g] {
					return g
				}
			}
		}
	}
	return ""
}

var sentenceEnd = regexp.MustCompile(`[.!?。！？\n]+\s*`)

func instructionSentences(text string) []string {
	all := sentenceEnd.Split(text, -1)
	var hit []string
	for _, s := range all {
		h := ruleHits(s)
		for _, n := range h {
			if n > 0 {
				hit = append(hit, s)
				break
			}
		}
	}
	if len(hit) == 0 {
		return all
	}
	return hit
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}
