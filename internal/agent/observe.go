package agent

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/generate"
	"github.com/quarry-rag/quarry/internal/tools"
)

// MaxObservationChars bounds the text of one observation.
const MaxObservationChars = 6000

var (
	closeTag    = regexp.MustCompile(`(?i)</?\s*observation`)
	protocolKey = regexp.MustCompile(`(?im)^(\s*)(thought|action input|action|final answer|observation)\s*:`)
)

// fence marks text as data: it is wrapped in an <observation> block whose
// tags cannot be closed or opened from inside, and lines that look like
// protocol keys are prefixed so they cannot pass for the model's own steps.
func fence(tool string, text string) string {
	text = clipRunes(text, MaxObservationChars)
	text = closeTag.ReplaceAllStringFunc(text, func(s string) string { return strings.Replace(s, "observation", "observation_", 1) })
	text = protocolKey.ReplaceAllString(text, "${1}| ${2}:")
	return fmt.Sprintf("<observation tool=%q>\n%s\n</observation>", tool, text)
}

func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// sources numbers the documents tools returned across a run.
type sources struct {
	list  []Source
	byKey map[string]int
}

func (s *sources) add(src tools.Source) int {
	key := src.DocID + "\x00" + src.ChunkID
	if n, ok := s.byKey[key]; ok {
		return n
	}
	if s.byKey == nil {
		s.byKey = map[string]int{}
	}
	n := len(s.list) + 1
	s.list = append(s.list, Source{N: n, Source: src})
	s.byKey[key] = n
	return n
}

// render is what the model reads of a tool result: numbered sources when
// the tool returned documents, its text otherwise.
func (s *sources) render(res tools.Result, withheld []string) (string, []int) {
	if len(res.Sources) == 0 {
		if len(withheld) > 0 { // the text, or every source, was withheld
			return strings.Join(withheld, "\n"), nil
		}
		return res.Text, nil
	}
	var b strings.Builder
	var ns []int
	for _, src := range res.Sources {
		n := s.add(src)
		ns = append(ns, n)
		fmt.Fprintf(&b, "[%d] doc_id=%s", n, src.DocID)
		if src.Title != "" {
			fmt.Fprintf(&b, " title=%q", src.Title)
		}
		fmt.Fprintf(&b, "\n%s\n\n", clipRunes(src.Text, 1200))
	}
	if res.Text != "" && len(res.Sources) > 0 && res.Data != nil && len(withheld) == 0 {
		// ask's answer text is worth keeping beside its sources (not when
		// a source it may have drawn on was withheld).
		if a, ok := res.Data.(map[string]any)["answer"].(string); ok && a != "" {
			fmt.Fprintf(&b, "answer: %s\n", a)
		}
	}
	for _, w := range withheld {
		b.WriteString(w + "\n\n")
	}
	b.WriteString("Cite these as [n].")
	return b.String(), ns
}

var markerRE = regexp.MustCompile(`\[(\d{1,6}(?:\s*[,;]\s*\d{1,6})*)\]`)

// cite verifies answer's [n] markers against the run's sources: valid ones
// become citations, invalid ones are removed from the answer.
func (s *sources) cite(answer string) (string, []Citation, []int) {
	var cites []Citation
	var invalid []int
	seen := map[int]bool{}
	for _, n := range generate.Markers(answer) {
		if seen[n] {
			continue
		}
		seen[n] = true
		if n < 1 || n > len(s.list) {
			invalid = append(invalid, n)
			continue
		}
		src := s.list[n-1]
		cites = append(cites, Citation{Marker: n, DocID: src.DocID, ChunkID: src.ChunkID, Title: src.Title, Text: src.Text})
	}
	if len(invalid) > 0 {
		bad := map[int]bool{}
		for _, n := range invalid {
			bad[n] = true
		}
		answer = markerRE.ReplaceAllStringFunc(answer, func(m string) string {
			var keep []string
			for _, p := range strings.FieldsFunc(m[1:len(m)-1], func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
				var n int
				if _, err := fmt.Sscanf(p, "%d", &n); err == nil && !bad[n] {
					keep = append(keep, p)
				}
			}
			if len(keep) == 0 {
				return ""
			}
			return "[" + strings.Join(keep, ", ") + "]"
		})
		answer = strings.TrimSpace(strings.ReplaceAll(answer, "  ", " "))
	}
	sort.Slice(cites, func(i, j int) bool { return cites[i].Marker < cites[j].Marker })
	sort.Ints(invalid)
	return answer, cites, invalid
}

// Screener scores texts for prompt injection (0–1, one per text) and says
// the threshold at or above which a text is withheld. The engine's guard
// is one; a screener that cannot run its model falls back to rules rather
// than fail the run.
type Screener func(ctx context.Context, texts []string) (scores []float64, threshold float64, err error)

// withheldNotice is what the model reads instead of a withheld text.
func withheldNotice(score float64) string {
	return fmt.Sprintf("[withheld: this text scored %.2f as a prompt injection; it is not shown and cannot be cited]", score)
}

// screen scores a tool result's parts — each source's text, or the text
// when there are no sources — and replaces those at or above the
// threshold: a withheld source is dropped (it gets no number), a withheld
// text becomes the notice. It returns the result to render and how many
// parts were withheld. Without a screener the result is unchanged.
func screen(ctx context.Context, sc Screener, res tools.Result) (tools.Result, []string, error) {
	if sc == nil {
		return res, nil, nil
	}
	var texts []string
	if len(res.Sources) > 0 {
		for _, s := range res.Sources {
			// What render shows of it.
			texts = append(texts, s.Title+"\n"+clipRunes(s.Text, 1200))
		}
	} else if strings.TrimSpace(res.Text) != "" {
		texts = []string{clipRunes(res.Text, MaxObservationChars)}
	} else {
		return res, nil, nil
	}
	scores, th, err := sc(ctx, texts)
	if err != nil {
		return res, nil, err
	}
	if len(scores) != len(texts) {
		return res, nil, fmt.Errorf("agent: screen returned %d scores for %d texts", len(scores), len(texts))
	}
	var notices []string
	if len(res.Sources) == 0 {
		if scores[0] >= th {
			res.Text = withheldNotice(scores[0])
			notices = append(notices, res.Text)
		}
		return res, notices, nil
	}
	kept := make([]tools.Source, 0, len(res.Sources))
	for i, s := range res.Sources {
		if scores[i] >= th {
			notices = append(notices, fmt.Sprintf("doc_id=%s %s", s.DocID, withheldNotice(scores[i])))
			continue
		}
		kept = append(kept, s)
	}
	res.Sources = kept
	return res, notices, nil
}
