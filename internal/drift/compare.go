package drift

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Verdict is the outcome of one test, or of a whole report.
type Verdict uint8

const (
	// TooFew: a side has fewer samples than the test needs; no verdict.
	TooFew Verdict = iota
	// Stable: no evidence of a change at the chosen false-alarm rate.
	Stable
	// Drift: the current window differs from the baseline.
	Drift
)

func (v Verdict) String() string {
	switch v {
	case TooFew:
		return "too_few_samples"
	case Stable:
		return "stable"
	case Drift:
		return "drift"
	}
	return fmt.Sprintf("Verdict(%d)", uint8(v))
}

// MarshalText writes the verdict's name.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// Stat names a monitored statistic; it is the "stat" label of the gauges.
type Stat string

// The monitored statistics.
const (
	StatEmbeddings Stat = "query_embeddings" // MMD² of query embeddings
	StatScores     Stat = "top1_scores"      // PSI of top-1 scores
	StatEmpty      Stat = "empty_rate"       // retrieval-empty rate
	StatAbstained  Stat = "abstention_rate"  // answers that abstained
	StatGrounded   Stat = "grounded_rate"    // answers citing a source
	StatFlagged    Stat = "guard_flag_rate"  // guard checks that flagged
	StatUp         Stat = "feedback_up_rate" // thumbs-up share of feedback
)

// Stats lists every statistic in report order.
var Stats = []Stat{StatEmbeddings, StatScores, StatEmpty, StatAbstained, StatGrounded, StatFlagged, StatUp}

// Options tune Compare. The zero value is valid.
type Options struct {
	// Alpha is the family-wise false-alarm rate: each of the k tests that
	// ran alarms at p < Alpha/k. Default 0.01.
	Alpha float64
	// Permutations for the MMD and PSI p-values. Default 400.
	Permutations int
	// MinEmbeddings per side for the MMD test. Default 30.
	MinEmbeddings int
	// MinScores per side for the PSI test. Default 50.
	MinScores int
	// MinRate is the smallest denominator per side for a rate test.
	// Default 30.
	MinRate int64
	// PSIAlarm is the PSI at or above which a significant score shift is
	// called drift. Default 0.1 (the conventional "moderate shift").
	PSIAlarm float64
	// Seed seeds the permutations.
	Seed uint64
}

func (o *Options) ensureDefaults() {
	if o.Alpha <= 0 || o.Alpha >= 1 {
		o.Alpha = 0.01
	}
	if o.Permutations <= 0 {
		o.Permutations = 400
	}
	if o.MinEmbeddings < 2 {
		o.MinEmbeddings = 30
	}
	if o.MinScores < 2 {
		o.MinScores = 50
	}
	if o.MinRate <= 0 {
		o.MinRate = 30
	}
	if o.PSIAlarm <= 0 {
		o.PSIAlarm = 0.1
	}
}

// Result is one statistic's comparison.
type Result struct {
	Stat      Stat    `json:"stat"`
	Verdict   Verdict `json:"verdict"`
	Baseline  int64   `json:"baseline_n"` // samples on the baseline side
	Current   int64   `json:"current_n"`  // samples on the current side
	Statistic float64 `json:"statistic"`  // MMD², PSI, or current − baseline rate
	PValue    float64 `json:"p_value"`    // 1 when the test did not run
	Threshold float64 `json:"threshold"`  // the p-value below which it alarms
	// BaselineRate and CurrentRate are set for rate statistics.
	BaselineRate float64 `json:"baseline_rate,omitempty"`
	CurrentRate  float64 `json:"current_rate,omitempty"`
	Message      string  `json:"message"`
}

// Report is the comparison of a current window with a baseline.
type Report struct {
	Verdict Verdict  `json:"verdict"`
	Summary string   `json:"summary"`
	Results []Result `json:"results"`
}

// String is the report as indented JSON.
func (r *Report) String() string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}

// Compare tests every statistic of cur against base. Samples of different
// embedding dimensions give the embedding test a TooFew verdict with a
// message saying why.
func Compare(base, cur *Sample, opts Options) *Report {
	opts.ensureDefaults()
	rep := &Report{}
	var ran []int
	add := func(r Result, run bool) {
		if run {
			ran = append(ran, len(rep.Results))
		}
		rep.Results = append(rep.Results, r)
	}

	// Embeddings.
	{
		r := Result{Stat: StatEmbeddings, Baseline: int64(len(base.Embeddings)), Current: int64(len(cur.Embeddings)), PValue: 1}
		switch {
		case base.Dim != 0 && cur.Dim != 0 && base.Dim != cur.Dim:
			r.Message = fmt.Sprintf("query embeddings have %d dimensions in the baseline and %d now: the embedding model changed, so they cannot be compared; save a new baseline", base.Dim, cur.Dim)
			add(r, false)
		case r.Baseline < int64(opts.MinEmbeddings) || r.Current < int64(opts.MinEmbeddings):
			r.Message = tooFew("query embeddings", r.Baseline, r.Current, int64(opts.MinEmbeddings))
			add(r, false)
		default:
			m := MMDTest(base.Embeddings, cur.Embeddings, opts.Permutations, opts.Seed)
			r.Statistic, r.PValue = m.MMD2, m.PValue
			add(r, true)
		}
	}
	// Scores.
	{
		r := Result{Stat: StatScores, Baseline: int64(len(base.Scores)), Current: int64(len(cur.Scores)), PValue: 1}
		if r.Baseline < int64(opts.MinScores) || r.Current < int64(opts.MinScores) {
			r.Message = tooFew("top-1 scores", r.Baseline, r.Current, int64(opts.MinScores))
			add(r, false)
		} else {
			p := PSI(base.Scores, cur.Scores, 10, opts.Permutations, opts.Seed+1)
			r.Statistic, r.PValue = p.PSI, p.PValue
			add(r, true)
		}
	}
	// Rates.
	for _, rt := range []struct {
		stat   Stat
		what   string
		k1, n1 int64
		k2, n2 int64
	}{
		{StatEmpty, "searches that retrieved nothing", base.Counts.Empty, base.Counts.Queries, cur.Counts.Empty, cur.Counts.Queries},
		{StatAbstained, "answers that abstained", base.Counts.Abstained, base.Counts.Answers, cur.Counts.Abstained, cur.Counts.Answers},
		{StatGrounded, "answers citing a source", base.Counts.Grounded, base.Counts.Answers, cur.Counts.Grounded, cur.Counts.Answers},
		{StatFlagged, "inputs the guard flagged", base.Counts.Flagged, base.Counts.Guarded, cur.Counts.Flagged, cur.Counts.Guarded},
		{StatUp, "thumbs-up ratings", base.Counts.Up, base.Counts.Feedback, cur.Counts.Up, cur.Counts.Feedback},
	} {
		r := Result{Stat: rt.stat, Baseline: rt.n1, Current: rt.n2, PValue: 1}
		if rt.n1 < opts.MinRate || rt.n2 < opts.MinRate {
			r.Message = tooFew(rt.what, rt.n1, rt.n2, opts.MinRate)
			add(r, false)
			continue
		}
		p := TwoProportions(rt.k1, rt.n1, rt.k2, rt.n2)
		r.Statistic, r.PValue = p.Current-p.Baseline, p.PValue
		r.BaselineRate, r.CurrentRate = p.Baseline, p.Current
		if (rt.k1 == 0 && rt.k2 == 0) || (rt.k1 == rt.n1 && rt.k2 == rt.n2) {
			// No variation on either side: the test cannot alarm, so it
			// does not count towards the Bonferroni correction.
			r.Verdict = Stable
			r.Message = rate0(rt.what, p.Baseline, rt.n1, rt.n2)
			add(r, false)
			continue
		}
		add(r, true)
	}

	// Verdicts, Bonferroni over the tests that ran.
	if len(ran) == 0 && !anyStable(rep.Results) {
		rep.Verdict = TooFew
		rep.Summary = "No verdict: too few samples in the baseline or the current window for any test. Wait for more traffic or lengthen the window."
		return rep
	}
	th := opts.Alpha / float64(max(len(ran), 1))
	rep.Verdict = Stable
	var moved, skipped []string
	for _, i := range ran {
		r := &rep.Results[i]
		r.Threshold = th
		r.Verdict = Stable
		if r.PValue < th && (r.Stat != StatScores || r.Statistic >= opts.PSIAlarm) {
			r.Verdict = Drift
			rep.Verdict = Drift
			moved = append(moved, string(r.Stat))
		}
		r.Message = message(r, opts)
	}
	for _, r := range rep.Results {
		if r.Verdict == TooFew {
			skipped = append(skipped, string(r.Stat))
		}
	}
	if rep.Verdict == Drift {
		rep.Summary = fmt.Sprintf("Drift: %s changed compared with the baseline (family-wise false-alarm rate %.3g). See each result's message and docs/operations.md.", strings.Join(moved, ", "), opts.Alpha)
	} else {
		rep.Summary = fmt.Sprintf("Stable: no statistic changed significantly (%d tests at a family-wise false-alarm rate of %.3g).", len(ran), opts.Alpha)
	}
	if len(skipped) > 0 {
		rep.Summary += " Not tested, too few samples: " + strings.Join(skipped, ", ") + "."
	}
	return rep
}

func rate0(what string, rate float64, b, c int64) string {
	return fmt.Sprintf("%s: %.0f%% of %d in the baseline and of %d now, no change", what, 100*rate, b, c)
}

func tooFew(what string, b, c, min int64) string {
	return fmt.Sprintf("no verdict on %s: %d in the baseline and %d now, the test needs at least %d on each side", what, b, c, min)
}

func message(r *Result, opts Options) string {
	sig := fmt.Sprintf("p = %.3g, alarm below %.3g", r.PValue, r.Threshold)
	rate := func(what string) string {
		return fmt.Sprintf("%s: %.1f%% of %d in the baseline, %.1f%% of %d now (%s)", what, 100*r.BaselineRate, r.Baseline, 100*r.CurrentRate, r.Current, sig)
	}
	drift := r.Verdict == Drift
	switch r.Stat {
	case StatEmbeddings:
		if drift {
			return fmt.Sprintf("the queries are different from the baseline's (MMD² = %.4g, %s): new topics, a new language or a new kind of user", r.Statistic, sig)
		}
		return fmt.Sprintf("the queries look like the baseline's (MMD² = %.4g, %s)", r.Statistic, sig)
	case StatScores:
		if drift {
			return fmt.Sprintf("top-1 retrieval scores shifted (PSI = %.3g, %s): queries match the collection better or worse than before", r.Statistic, sig)
		}
		return fmt.Sprintf("top-1 retrieval scores are as before (PSI = %.3g, alarm at ≥ %.3g with %s)", r.Statistic, opts.PSIAlarm, sig)
	case StatEmpty:
		if drift {
			return "the share of searches that retrieved nothing changed — " + rate("empty")
		}
		return rate("searches that retrieved nothing unchanged")
	case StatAbstained:
		if drift {
			return "the share of answers that abstained changed — " + rate("abstained")
		}
		return rate("abstentions unchanged")
	case StatGrounded:
		if drift {
			return "the share of answers citing a retrieved source changed — " + rate("grounded")
		}
		return rate("grounded answers unchanged")
	case StatFlagged:
		if drift {
			return "the guard flags a different share of inputs — " + rate("flagged")
		}
		return rate("guard flags unchanged")
	case StatUp:
		if drift {
			return "user satisfaction changed — " + rate("thumbs up")
		}
		return rate("feedback unchanged")
	}
	return ""
}

func anyStable(rs []Result) bool {
	for _, r := range rs {
		if r.Verdict == Stable {
			return true
		}
	}
	return false
}
