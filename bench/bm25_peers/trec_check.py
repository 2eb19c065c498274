#!/usr/bin/env python3
"""Write internal/eval/testdata/trec_fixture.json: a seeded random qrels/run
pair and the metrics pytrec_eval (trec_eval) computes on it, under two option
sets. internal/eval's TestTrecFixture checks Evaluate against it to 1e-9.

Run through run.sh (it owns the venv):  bench/bm25_peers/run.sh trec-check

The fixture exercises: score ties (scores are multiples of 0.25), ids whose
byte order differs from numeric order (d9 vs d10), graded and negative
relevance, queries whose judgments are all non-relevant, a query with an
empty qrels entry (not evaluated), a judged query absent from the run, a run
query without judgments, empty runs, runs longer than every cutoff, and
retrieved documents whose id equals the query id (BEIR's identical ids).
"""
import argparse
import json
import random
from importlib import metadata
from pathlib import Path

import pytrec_eval

SEED = 20240611
REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "internal" / "eval" / "testdata" / "trec_fixture.json"

# Option sets, spelled as internal/eval.Options fields.
OPTION_SETS = {
    "beir": {"NDCGCutoff": 10, "RecallCutoff": 100, "MRRCutoff": 10, "MAPCutoff": 100, "IgnoreIdentical": True},
    "small": {"NDCGCutoff": 3, "RecallCutoff": 5, "MRRCutoff": 2, "MAPCutoff": 7, "IgnoreIdentical": False},
}


def make_data(rng):
    """Return (qrels, run) as plain dicts."""
    qids = [str(rng.randint(1, 400)) for _ in range(40)]
    qids = sorted(set(qids))[:30]
    pool = [f"d{i}" for i in range(160)] + qids[:8]  # some docs share a query's id
    qrels, run = {}, {}
    for n, q in enumerate(qids):
        judged = rng.sample(pool, rng.randint(1, 8))
        if n % 7 == 3:
            rels = {d: rng.choice([0, 0, -1]) for d in judged}  # nothing relevant
        else:
            rels = {d: rng.choice([-1, 0, 0, 1, 1, 1, 2, 3]) for d in judged}
        qrels[q] = rels

        size = rng.choice([0, 1, 3, 12, 12, 40, 40, 110, 130])
        docs = set(rng.sample(pool, min(size, len(pool))))
        # Retrieve some judged documents so that hits happen at every depth.
        docs |= {d for d in judged if rng.random() < 0.6}
        if n % 5 == 0:
            docs.add(q)  # the query's own id, at a high score below
        scores = {d: rng.randint(0, 24) / 4 for d in sorted(docs)}  # sorted: independent of hash seed
        if q in scores:
            scores[q] = 6.0
        run[q] = scores

    # Edge cases, on ids that sort apart from the rest.
    qrels["zz-empty-qrels"] = {}
    run["zz-empty-qrels"] = {"d1": 1.0}
    qrels["zz-missing-from-run"] = {"d1": 1, "d2": 2}
    run["zz-unjudged"] = {"d1": 3.0, "d2": 2.0}
    qrels["zz-empty-run"] = {"d3": 1}
    run["zz-empty-run"] = {}
    qrels["zz-only-self"] = {"zz-only-self": 1, "d4": 2}
    run["zz-only-self"] = {"zz-only-self": 9.0, "d5": 1.0}
    return qrels, run


def evaluate(qrels, run, opts):
    """Per-query metrics the way internal/eval defines them, from pytrec_eval."""
    if opts["IgnoreIdentical"]:
        run = {q: {d: s for d, s in docs.items() if d != q} for q, docs in run.items()}
    measures = {
        f"ndcg_cut.{opts['NDCGCutoff']}",
        f"recall.{opts['RecallCutoff']}",
        f"map_cut.{opts['MAPCutoff']}",
        "recip_rank",
    }
    scored = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
    per_query = {}
    for q, judged in qrels.items():
        if not judged:
            assert q not in scored, "pytrec_eval evaluated a query without judgments"
            continue
        if q not in scored:
            assert q not in run
            per_query[q] = {"NDCG": 0.0, "Recall": 0.0, "MRR": 0.0, "MAP": 0.0, "InRun": False}
            continue
        m = scored[q]
        rr = m["recip_rank"]
        # recip_rank has no cutoff: MRR@k is rr when the first relevant rank
        # 1/rr is within k, else 0.
        mrr = rr if rr > 0 and round(1 / rr) <= opts["MRRCutoff"] else 0.0
        per_query[q] = {
            "NDCG": m[f"ndcg_cut_{opts['NDCGCutoff']}"],
            "Recall": m[f"recall_{opts['RecallCutoff']}"],
            "MRR": mrr,
            "MAP": m[f"map_cut_{opts['MAPCutoff']}"],
            "InRun": True,
        }
    keys = ["NDCG", "Recall", "MRR", "MAP"]
    ids = sorted(per_query)
    mean = {k: sum(per_query[q][k] for q in ids) / len(ids) for k in keys}
    # BEIR's convention: mean over the queries pytrec_eval returned.
    in_run = [q for q in ids if per_query[q]["InRun"]]
    beir_mean = {k: sum(per_query[q][k] for q in in_run) / len(in_run) for k in keys}
    return {"options": opts, "per_query": per_query, "mean": mean, "beir_mean": beir_mean}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()

    qrels, run = make_data(random.Random(SEED))
    fixture = {
        "generator": "bench/bm25_peers/trec_check.py",
        "seed": SEED,
        "pytrec_eval": metadata.version("pytrec-eval-terrier"),
        "qrels": qrels,
        "run": run,
        "cases": {name: evaluate(qrels, run, opts) for name, opts in OPTION_SETS.items()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(fixture, f, sort_keys=True, separators=(",", ":"))
        f.write("\n")
    for name, case in fixture["cases"].items():
        print(f"{name}: {len(case['per_query'])} queries, mean {case['mean']}")
    print(f"wrote {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}")


if __name__ == "__main__":
    main()
