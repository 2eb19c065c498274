// Package eval scores ranked retrieval runs against relevance judgments the
// way trec_eval does, under the BEIR protocol, and summarises query latency.
// It owns the metric definitions behind `quarry eval retrieval` and the JSON
// report that command prints; it does not load datasets (internal/ingest
// does) and imports only the standard library.
//
// # Metrics
//
// Each metric follows the trec_eval measure that BEIR requests from
// pytrec_eval. Relevant means a judged relevance > 0 (trec_eval's default
// relevance_level of 1); unjudged documents have relevance 0.
//
//   - nDCG@k (ndcg_cut.k): gain = relevance as judged (not 2^rel-1), 0 for
//     rel <= 0; discount log2(rank+1); the ideal ranking is every judged
//     document with rel > 0 in descending relevance, cut at k. 0 when the
//     ideal DCG is 0.
//   - Recall@k (recall.k): relevant documents in the top k divided by all
//     relevant judged documents. 0 when the query has none.
//   - MRR@k: 1/rank of the first relevant document if its rank is <= k,
//     else 0. trec_eval's recip_rank has no cutoff; this equals recip_rank
//     whenever recip_rank >= 1/k and 0 otherwise, which is how the
//     cross-check derives it.
//   - MAP@k (map_cut.k): the sum of precision@r over every rank r <= k that
//     holds a relevant document, divided by the number of relevant judged
//     documents (not by the number retrieved).
//
// # Ranking and ties
//
// A run holds scores, not ranks. Documents are ranked as trec_eval ranks
// them: by score descending, ties by document id in descending byte order
// (strcmp), so "d9" ranks above "d10" at equal score. This was checked
// against pytrec_eval (see testdata/trec_fixture.json, produced by
// bench/bm25_peers/trec_check.py). NaN scores, which trec_eval orders
// arbitrarily, rank after every number here.
//
// # BEIR protocol and which queries count
//
// With Options.IgnoreIdentical (set by BEIR), a retrieved document whose id
// equals the query id is dropped before ranking, as BEIR's
// EvaluateRetrieval.evaluate(ignore_identical_ids=True) does; the judgment,
// if any, stays and still counts as relevant.
//
// Evaluate scores every query that has at least one judgment in the qrels
// (any relevance, including 0); a query with an empty or absent qrels entry
// is not evaluated, and run entries for such queries are ignored. A judged
// query absent from the run scores 0 on every metric and counts in the mean
// (Report.Missing says how many). The means are therefore over all judged
// queries.
//
// BEIR differs here: pytrec_eval evaluates only queries present in both the
// qrels and the run, and BEIR divides by the number of queries pytrec_eval
// returned, so a query missing from the run is silently left out of its
// nDCG, MAP and Recall means (raising them). BEIR's own MRR (custom_metrics.mrr)
// divides by len(qrels) instead, and breaks ties by dict insertion order
// rather than by docno. `quarry eval retrieval` runs every test query, so on
// its runs both conventions give the same means.
//
// # Latency
//
// Percentile uses the nearest-rank method (the smallest sample with at least
// p% of samples at or below it), so it always returns an observed value;
// QPS is queries divided by wall-clock seconds.
//
// # Concurrency
//
// Everything here is a pure function of its arguments: Evaluate reads the
// Qrels and Run maps and never writes them (BEIR's evaluate pops entries from
// the caller's results; this does not), so concurrent calls on shared inputs
// are safe as long as nobody mutates them meanwhile.
package eval
