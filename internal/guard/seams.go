package guard

import (
	"context"
	"strings"

	"github.com/quarry-rag/quarry/internal/embed"
)

// seamRunes is how much of each side of a chunk boundary a seam holds.
const seamRunes = 240

// ScoreSeams catches an instruction split across two consecutive chunks
// of one document ("Ignore all previous" | "instructions and …"): for
// each boundary it joins the end of one chunk and the start of the next,
// and scores the seam when a rule matches it that matches neither side
// alone — the usual case costs only the rules. It returns, per chunk, the
// highest score of its two seams (0 when none was scored); a pipeline
// stores max(chunk score, seam score).
func (d *Detector) ScoreSeams(ctx context.Context, chunks []string) ([]float64, error) {
	out := make([]float64, len(chunks))
	var seams []string
	var at []int
	for i := 0; i+1 < len(chunks); i++ {
		a := tailRunes(Normalize(chunks[i]).Text, seamRunes)
		b := headRunes(Normalize(chunks[i+1]).Text, seamRunes)
		joined := a + " " + b
		if newRuleHit(ruleHits(joined), ruleHits(a), ruleHits(b)) {
			seams = append(seams, joined)
			at = append(at, i)
		}
	}
	if len(seams) == 0 {
		return out, nil
	}
	scores, err := d.ScoreMany(ctx, seams, embed.Passage)
	if err != nil {
		return nil, err
	}
	for k, i := range at {
		out[i] = max(out[i], scores[k])
		out[i+1] = max(out[i+1], scores[k])
	}
	return out, nil
}

// newRuleHit: the joined text matches more patterns of some family than
// both sides together.
func newRuleHit(j, a, b [numRules]int) bool {
	for f := range j {
		if j[f] > a[f]+b[f] {
			return true
		}
	}
	return false
}

func tailRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	t := string(r[len(r)-n:])
	if i := strings.IndexAny(t, " \n"); i >= 0 && i < n/4 {
		t = t[i+1:]
	}
	return t
}

func headRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	h := string(r[:n])
	if i := strings.LastIndexAny(h, " \n"); i > len(h)*3/4 {
		h = h[:i]
	}
	return h
}
