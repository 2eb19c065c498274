package pii_test

import (
	"fmt"
	"sort"
	"testing"

	"github.com/quarry-rag/quarry/internal/pii"
	"github.com/quarry-rag/quarry/internal/pii/piiset"
)

// TestGeneratedSetPrecisionRecall measures exact-span, exact-kind
// detection on the generated set (valid values in six languages and
// decoys with wrong check digits, dates, prices, versions): precision and
// recall must both reach 0.95.
func TestGeneratedSetPrecisionRecall(t *testing.T) {
	set := piiset.Generate(3000, 1)
	type key struct {
		kind       string
		start, end int
	}
	var tp, fp, fn int
	perKind := map[string]*[3]int{}
	k := func(s string) *[3]int {
		if perKind[s] == nil {
			perKind[s] = &[3]int{}
		}
		return perKind[s]
	}
	shown := 0
	for _, ex := range set {
		gold := map[key]bool{}
		for _, e := range ex.Entities {
			gold[key{e.Kind, e.Start, e.End}] = true
		}
		got := map[key]bool{}
		for _, f := range pii.Scan(ex.Text) {
			got[key{f.Kind.String(), f.Start, f.End}] = true
		}
		for g := range got {
			if gold[g] {
				tp++
				k(g.kind)[0]++
			} else {
				fp++
				k(g.kind)[1]++
				if shown < 15 {
					shown++
					t.Logf("false positive %s %q in %q", g.kind, ex.Text[g.start:g.end], ex.Text)
				}
			}
		}
		for g := range gold {
			if !got[g] {
				fn++
				k(g.kind)[2]++
				if shown < 15 {
					shown++
					t.Logf("missed %s %q in %q", g.kind, ex.Text[g.start:g.end], ex.Text)
				}
			}
		}
	}
	p := float64(tp) / float64(tp+fp)
	r := float64(tp) / float64(tp+fn)
	kinds := make([]string, 0, len(perKind))
	for s := range perKind {
		kinds = append(kinds, s)
	}
	sort.Strings(kinds)
	for _, s := range kinds {
		c := perKind[s]
		t.Logf("%-10s tp %4d fp %3d fn %3d", s, c[0], c[1], c[2])
	}
	t.Logf("%s", fmt.Sprintf("precision %.4f recall %.4f (tp %d fp %d fn %d)", p, r, tp, fp, fn))
	if p < 0.95 || r < 0.95 {
		t.Errorf("precision %.4f, recall %.4f: want both ≥ 0.95", p, r)
	}
}
