"""Times bm25s on BEIR SciFact with the tokenization of scifact_test.go.

Usage: python bm25s_scifact.py [DATASETS_DIR]  (default $QUARRY_DATASETS or
../shared/datasets from the repo root). Needs bm25s (and optionally numba)
in the running interpreter. Both sides index title + body and score with
k1 0.9, b 0.4, Lucene idf; tokens are lowercase runs of ≥ 2 word
characters minus bm25s's English stopwords, as bm25s tokenizes by default.
"""
import json, os, re, sys, time

import bm25s
import numpy as np

STOP = set("a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with".split())
TOKEN = re.compile(r"(?u)\b\w\w+\b")


def tok(s):
    return [t for t in TOKEN.findall(s.lower()) if t not in STOP]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("QUARRY_DATASETS", "../shared/datasets")
    d = os.path.join(root, "beir", "scifact")
    docs = [json.loads(l) for l in open(os.path.join(d, "corpus.jsonl"))]
    queries = [json.loads(l) for l in open(os.path.join(d, "queries.jsonl"))]
    corpus_tokens = [tok(x.get("title", "")) + tok(x["text"]) for x in docs]
    query_tokens = [tok(q["text"]) for q in queries]
    print(f"docs {len(docs)} queries {len(queries)} postings-ish {sum(len(set(t)) for t in corpus_tokens)}")
    best = {}
    for rep in range(3):
        r = bm25s.BM25(k1=0.9, b=0.4, method="lucene")
        t0 = time.perf_counter()
        r.index(corpus_tokens, show_progress=False)
        best["index"] = min(best.get("index", 1e9), time.perf_counter() - t0)
    backends = ["numpy"]
    try:
        import numba  # noqa: F401
        backends.append("numba")
    except ImportError:
        pass
    for be in backends:
        r.backend = be
        for rep in range(12):
            t0 = time.perf_counter()
            res, scores = r.retrieve(query_tokens, k=100, n_threads=0, backend_selection=be, show_progress=False)
            el = time.perf_counter() - t0
            if rep > 0:  # the first run compiles (numba) / warms up
                best[be] = min(best.get(be, 1e9), el)
    print(f"bm25s {bm25s.__version__}: index {best['index']*1e3:.1f} ms")
    for be in backends:
        print(f"retrieve k=100 backend={be}: {best[be]*1e3:.1f} ms total, {best[be]/len(queries)*1e6:.1f} µs/query, {len(queries)/best[be]:.0f} QPS")
    print("query 0 top 5:", [(docs[i]["_id"], round(float(s), 6)) for i, s in zip(res[0][:5], scores[0][:5])])


if __name__ == "__main__":
    main()
