package eval

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"sort"
	"testing"
)

// trecFixture mirrors testdata/trec_fixture.json, written by
// bench/bm25_peers/trec_check.py from pytrec_eval's output.
type trecFixture struct {
	PytrecEval string `json:"pytrec_eval"`
	Qrels      Qrels  `json:"qrels"`
	Run        Run    `json:"run"`
	Cases      map[string]struct {
		Options  Options `json:"options"`
		PerQuery map[string]struct {
			Metrics
			InRun bool
		} `json:"per_query"`
		Mean     Metrics `json:"mean"`
		BEIRMean Metrics `json:"beir_mean"`
	} `json:"cases"`
}

// TestTrecFixture checks Evaluate against trec_eval (via pytrec_eval) on a
// seeded random qrels/run with many score ties, to 1e-9.
func TestTrecFixture(t *testing.T) {
	raw, err := os.ReadFile("testdata/trec_fixture.json")
	if err != nil {
		t.Fatal(err) // committed; regenerate with bench/bm25_peers/run.sh trec-check
	}
	var fx trecFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Cases) == 0 {
		t.Fatal("fixture has no cases")
	}
	const eps = 1e-9
	close := func(a, b float64) bool { return math.Abs(a-b) <= eps }
	same := func(a, b Metrics) bool {
		return close(a.NDCG, b.NDCG) && close(a.Recall, b.Recall) && close(a.MRR, b.MRR) && close(a.MAP, b.MAP)
	}
	for name, c := range fx.Cases {
		t.Run(name, func(t *testing.T) {
			rep := Evaluate(fx.Qrels, fx.Run, c.Options)
			if rep.Options != c.Options {
				t.Fatalf("effective options %+v, fixture %+v", rep.Options, c.Options)
			}
			var got, want []string
			for _, q := range rep.Queries {
				got = append(got, q.Query)
			}
			for q := range c.PerQuery {
				want = append(want, q)
			}
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Fatalf("evaluated queries %v, pytrec_eval %v", got, want)
			}
			var inRun Metrics
			n := 0
			for _, q := range rep.Queries {
				w := c.PerQuery[q.Query]
				if !same(q.Metrics, w.Metrics) || q.InRun != w.InRun {
					t.Errorf("query %s: got %+v InRun=%v, pytrec_eval %+v InRun=%v", q.Query, q.Metrics, q.InRun, w.Metrics, w.InRun)
				}
				if q.InRun {
					inRun.NDCG += q.NDCG
					inRun.Recall += q.Recall
					inRun.MRR += q.MRR
					inRun.MAP += q.MAP
					n++
				}
			}
			if !same(rep.Mean, c.Mean) {
				t.Errorf("mean %+v, want %+v", rep.Mean, c.Mean)
			}
			// BEIR's mean is over the queries the run has; ours differs
			// exactly by counting the missing ones as 0.
			beir := Metrics{inRun.NDCG / float64(n), inRun.Recall / float64(n), inRun.MRR / float64(n), inRun.MAP / float64(n)}
			if !same(beir, c.BEIRMean) || rep.Missing == 0 {
				t.Errorf("mean over queries in the run %+v, BEIR's %+v (missing %d)", beir, c.BEIRMean, rep.Missing)
			}
		})
	}
}
