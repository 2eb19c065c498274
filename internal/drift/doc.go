// Package drift notices when the questions a collection receives, or the
// quality of its answers, change: it keeps bounded samples of what the
// query pipeline saw (Window), compares two of them with two-sample tests
// (Compare), and says in plain language whether anything moved (Report).
//
// A Window holds, for one period:
//   - a reservoir sample (Vitter's algorithm R, seeded) of query
//     embeddings, at most MaxEmbeddings of them;
//   - a reservoir sample of top-1 retrieval scores (queries that found
//     something), at most MaxScores;
//   - counts for five rates: retrieval-empty (per query), abstained and
//     grounded (per answer), guard-flagged (per guard check) and thumbs-up
//     (per feedback).
//
// Compare runs, for a baseline and a current Sample:
//   - embeddings: the unbiased squared maximum mean discrepancy (MMD²)
//     with a Gaussian (RBF) kernel whose bandwidth is the median pairwise
//     squared distance of the pooled sample, and a seeded permutation test
//     (Options.Permutations, default 400) for its p-value;
//   - scores: the population stability index (PSI) over the baseline's
//     deciles, with a permutation p-value, so that a small window's noisy
//     PSI does not alarm on its own;
//   - rates: a two-sided two-proportion z-test.
//
// Each statistic gets a Verdict: Stable, Drift, or TooFew when either
// side has fewer samples than the test needs (then it gives no verdict,
// only the counts). The family-wise false-alarm rate is held at
// Options.Alpha (default 0.01) by a Bonferroni correction over the tests
// that ran. Report.Summary is one paragraph a person can act on;
// docs/operations.md says what to do about each alarm.
//
// Monitor keeps one baseline and one rolling current window per collection
// and hands out Recorders for the query pipeline; Gauges exports every
// statistic to Prometheus. Samples are saved and loaded as JSON
// (WriteSample, ReadSample) for `quarry drift report`.
//
// Concurrency: Window, Monitor and Gauges are safe for concurrent use.
// Compare and the statistics functions are pure. Nothing starts a
// goroutine.
//
// Caveats: MMD compares distributions, not topics; it alarms on a new
// language, a new domain or a new query style alike, and says nothing
// about which. Embeddings from different models are not comparable:
// Compare refuses samples of different dimensions, but cannot tell two
// models of one dimension apart — reset the baseline when the embedder
// changes. A window covers whatever period it was open for; a quiet
// collection may take long to fill one.
//
// Example:
//
//	w := drift.NewWindow(drift.WindowOptions{Seed: 1})
//	w.ObserveQuery(vec, top1, false)
//	rep := drift.Compare(baseline, w.Sample(), drift.Options{})
//	fmt.Println(rep.Verdict, rep.Summary)
package drift
