package agent

import (
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
func (s *sources) render(res tools.Result) (string, []int) {
	if len(res.Sources) == 0 {
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
	if res.Text != "" && len(res.Sources) > 0 && res.Data != nil {
		// ask's answer text is worth keeping beside its sources.
		if a, ok := res.Data.(map[string]any)["answer"].(string); ok && a != "" {
			fmt.Fprintf(&b, "answer: %s\n", a)
		}
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
