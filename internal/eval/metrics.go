package eval

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// Qrels holds graded relevance judgments: query id → document id → relevance.
// Relevance > 0 is relevant; 0 and negative values are judged non-relevant.
type Qrels map[string]map[string]int

// Run holds a system's retrieval scores: query id → document id → score.
// Higher scores rank first; see the package doc for tie-breaking.
type Run map[string]map[string]float64

// Default cutoffs, the ones BEIR reports (nDCG@10, MRR@10, Recall@100,
// MAP@100).
const (
	DefaultNDCGCutoff   = 10
	DefaultMRRCutoff    = 10
	DefaultRecallCutoff = 100
	DefaultMAPCutoff    = 100
)

// Options configures Evaluate. The zero value is valid: default cutoffs and
// identical ids kept. BEIR returns the BEIR protocol's options.
type Options struct {
	// NDCGCutoff is k in nDCG@k. Zero or negative means DefaultNDCGCutoff (10).
	NDCGCutoff int
	// MRRCutoff is k in MRR@k. Zero or negative means DefaultMRRCutoff (10).
	MRRCutoff int
	// RecallCutoff is k in Recall@k. Zero or negative means
	// DefaultRecallCutoff (100).
	RecallCutoff int
	// MAPCutoff is k in MAP@k. Zero or negative means DefaultMAPCutoff (100).
	MAPCutoff int
	// IgnoreIdentical drops a retrieved document whose id equals the query
	// id before ranking (BEIR's ignore_identical_ids). Default false; BEIR
	// sets it.
	IgnoreIdentical bool
}

// BEIR returns the options of BEIR's evaluation protocol: the default cutoffs
// and IgnoreIdentical set.
func BEIR() Options {
	o := Options{IgnoreIdentical: true}
	o.EnsureDefaults()
	return o
}

// EnsureDefaults replaces every non-positive cutoff with its default.
func (o *Options) EnsureDefaults() {
	for _, c := range []struct {
		v   *int
		def int
	}{
		{&o.NDCGCutoff, DefaultNDCGCutoff},
		{&o.MRRCutoff, DefaultMRRCutoff},
		{&o.RecallCutoff, DefaultRecallCutoff},
		{&o.MAPCutoff, DefaultMAPCutoff},
	} {
		if *c.v <= 0 {
			*c.v = c.def
		}
	}
}

// Metrics holds the four metric values, each in [0, 1], at the cutoffs of
// the Options that produced them.
type Metrics struct {
	NDCG   float64
	Recall float64
	MRR    float64
	MAP    float64
}

// QueryResult is one evaluated query.
type QueryResult struct {
	Query string
	Metrics
	// Relevant is the number of judged documents with relevance > 0.
	Relevant int
	// Retrieved is the number of ranked documents, after dropping the
	// identical id and before any cutoff.
	Retrieved int
	// InRun is false when the run has no entry for the query; its metrics
	// are then 0.
	InRun bool
}

// Report is the result of Evaluate.
type Report struct {
	// Options are the options used, with defaults filled in.
	Options Options
	// Queries holds one result per evaluated query, sorted by query id.
	Queries []QueryResult
	// Mean is the arithmetic mean over Queries; all zero when Queries is
	// empty.
	Mean Metrics
	// Missing counts evaluated queries that the run lacks (InRun false).
	Missing int
}

// Evaluate scores run against qrels. Every query with at least one judgment
// is evaluated; see the package doc for how this differs from BEIR's
// averaging. It does not modify its arguments.
func Evaluate(qrels Qrels, run Run, opts Options) Report {
	opts.EnsureDefaults()
	ids := make([]string, 0, len(qrels))
	for q, judged := range qrels {
		if len(judged) > 0 {
			ids = append(ids, q)
		}
	}
	slices.Sort(ids)

	rep := Report{Options: opts, Queries: make([]QueryResult, 0, len(ids))}
	var buf []scoredDoc
	var sum Metrics
	for _, q := range ids {
		docs, inRun := run[q]
		buf = rankInto(buf[:0], q, docs, opts.IgnoreIdentical)
		res := evalQuery(qrels[q], buf, opts)
		res.Query = q
		res.InRun = inRun
		if !inRun {
			rep.Missing++
		}
		rep.Queries = append(rep.Queries, res)
		sum.NDCG += res.NDCG
		sum.Recall += res.Recall
		sum.MRR += res.MRR
		sum.MAP += res.MAP
	}
	if n := float64(len(rep.Queries)); n > 0 {
		rep.Mean = Metrics{
			NDCG:   sum.NDCG / n,
			Recall: sum.Recall / n,
			MRR:    sum.MRR / n,
			MAP:    sum.MAP / n,
		}
	}
	return rep
}

type scoredDoc struct {
	id    string
	score float64
}

// compareRank orders documents as trec_eval does: score descending, then
// document id descending (strcmp). NaN ranks after every number.
func compareRank(a, b scoredDoc) int {
	an, bn := math.IsNaN(a.score), math.IsNaN(b.score)
	switch {
	case an && !bn:
		return 1
	case bn && !an:
		return -1
	case !an && a.score != b.score:
		if a.score > b.score {
			return -1
		}
		return 1
	}
	return strings.Compare(b.id, a.id)
}

// rankInto appends the ranked documents of one query to dst.
func rankInto(dst []scoredDoc, query string, docs map[string]float64, ignoreIdentical bool) []scoredDoc {
	for id, s := range docs {
		if ignoreIdentical && id == query {
			continue
		}
		dst = append(dst, scoredDoc{id, s})
	}
	slices.SortFunc(dst, compareRank)
	return dst
}

// evalQuery computes the metrics of one ranked list against its judgments.
func evalQuery(judged map[string]int, ranked []scoredDoc, o Options) QueryResult {
	res := QueryResult{Retrieved: len(ranked)}
	gains := make([]int, 0, len(judged))
	for _, rel := range judged {
		if rel > 0 {
			gains = append(gains, rel)
		}
	}
	res.Relevant = len(gains)
	if res.Relevant == 0 {
		return res // every metric is 0, as trec_eval reports it
	}

	// Ideal DCG: judged gains in descending order, cut at k.
	slices.SortFunc(gains, func(a, b int) int { return cmp.Compare(b, a) })
	var idcg float64
	for i, g := range gains[:min(len(gains), o.NDCGCutoff)] {
		idcg += float64(g) / math.Log2(float64(i+2))
	}

	maxCut := max(o.NDCGCutoff, o.MRRCutoff, o.RecallCutoff, o.MAPCutoff)
	var dcg, apSum float64
	hits := 0
	for i, d := range ranked[:min(len(ranked), maxCut)] {
		rank := i + 1
		rel := judged[d.id]
		if rel <= 0 {
			continue
		}
		hits++
		if rank <= o.NDCGCutoff {
			dcg += float64(rel) / math.Log2(float64(rank+1))
		}
		if rank <= o.MRRCutoff && res.MRR == 0 {
			res.MRR = 1 / float64(rank)
		}
		if rank <= o.RecallCutoff {
			res.Recall = float64(hits) / float64(res.Relevant)
		}
		if rank <= o.MAPCutoff {
			apSum += float64(hits) / float64(rank)
		}
	}
	res.NDCG = dcg / idcg
	res.MAP = apSum / float64(res.Relevant)
	return res
}
