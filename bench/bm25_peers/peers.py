#!/usr/bin/env python3
"""Compare Quarry's BM25 with Python BM25 peers on a BEIR dataset (SciFact),
in one run on one machine: index build seconds, single-thread QPS at top-100,
nDCG@10 and Recall@100 under BEIR's evaluation protocol (pytrec_eval).

Run through run.sh, which owns the venv and pins every thread pool to 1:

    bench/bm25_peers/run.sh [--write] [--repeat N] [--rank-bm25-budget S]

Environment:
    QUARRY_DATASETS    datasets root (default <repo>/../shared/datasets); the
                       dataset is $QUARRY_DATASETS/beir/scifact
    QUARRY_BIN         quarry binary (default <repo>/bin/quarry)
    QUARRY_SKIP_QUARRY=1  skip the Quarry row (peers only)
"""
import argparse
import datetime
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pytrec_eval

REPO = Path(__file__).resolve().parents[2]
BEGIN, END = "<!-- bm25_peers:begin -->", "<!-- bm25_peers:end -->"
TOP_K = 100

# Settings each peer uses for BEIR. bm25s: the defaults of the bm25s authors'
# BEIR benchmark (xhluca/bm25-benchmarks, benchmark/on_bm25s.py), which
# produce the QPS and nDCG tables in the bm25s README: method "lucene",
# k1=1.5, b=0.75, stopwords "en", PyStemmer "english", text = title + " " +
# text. rank-bm25: BM25Okapi with its documented defaults (k1=1.5, b=0.75,
# epsilon=0.25) on the same tokens.
BM25S_PARAMS = dict(method="lucene", k1=1.5, b=0.75)
RANK_BM25_PARAMS = dict(k1=1.5, b=0.75, epsilon=0.25)


# ---------------------------------------------------------------- dataset


def load_beir(root, split):
    corpus_ids, corpus_texts = [], []
    with open(root / "corpus.jsonl") as f:
        for line in f:
            d = json.loads(line)
            corpus_ids.append(d["_id"])
            corpus_texts.append((d.get("title") or "") + " " + d["text"])
    qrels = {}
    with open(root / "qrels" / f"{split}.tsv") as f:
        next(f)  # header: query-id corpus-id score
        for line in f:
            q, d, s = line.rstrip("\n").split("\t")
            qrels.setdefault(q, {})[d] = int(s)
    queries = {}
    with open(root / "queries.jsonl") as f:
        for line in f:
            d = json.loads(line)
            if d["_id"] in qrels:  # BEIR's GenericDataLoader keeps judged queries only
                queries[d["_id"]] = d["text"]
    missing = set(qrels) - set(queries)
    if missing:
        sys.exit(f"peers: {len(missing)} judged queries have no text, e.g. {sorted(missing)[:3]}")
    qids = sorted(queries)
    return corpus_ids, corpus_texts, qids, [queries[q] for q in qids], qrels


# ---------------------------------------------------------------- metrics


def beir_evaluate(qrels, results):
    """BEIR's EvaluateRetrieval.evaluate: drop doc == query ids, pytrec_eval,
    mean over the evaluated queries. MRR@10 comes from recip_rank (see
    internal/eval's doc). Every judged query is in results here, so BEIR's
    mean and Quarry's (missing queries count 0) agree."""
    results = {q: {d: s for d, s in docs.items() if d != q} for q, docs in results.items()}
    absent = set(qrels) - set(results)
    if absent:
        raise RuntimeError(f"{len(absent)} judged queries missing from the run")
    ev = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100", "map_cut.100", "recip_rank"})
    scores = ev.evaluate(results)
    n = len(scores)

    def mean(key):
        return sum(s[key] for s in scores.values()) / n

    mrr = sum(s["recip_rank"] if s["recip_rank"] >= 0.1 - 1e-12 else 0.0 for s in scores.values()) / n
    return {"ndcg@10": mean("ndcg_cut_10"), "recall@100": mean("recall_100"),
            "mrr@10": mrr, "map@100": mean("map_cut_100"), "queries": n}


def to_results(qids, corpus_ids, doc_idx, doc_scores):
    return {q: {corpus_ids[int(i)]: float(s) for i, s in zip(idx, sc)}
            for q, idx, sc in zip(qids, doc_idx, doc_scores)}


def percentile(sorted_s, p):
    """Nearest rank, as internal/eval.Percentile."""
    if not sorted_s:
        return 0.0
    rank = max(1, min(len(sorted_s), int(np.ceil(p * len(sorted_s) / 100))))
    return sorted_s[rank - 1]


# ---------------------------------------------------------------- peers


def run_bm25s(data, repeat, backend):
    import bm25s
    import Stemmer

    corpus_ids, corpus_texts, qids, qtexts, qrels = data
    stemmer = Stemmer.Stemmer("english")
    n_threads = 1 if backend == "numba" else 0  # numpy: 0 = plain map, no pool
    tok = dict(stopwords="en", stemmer=stemmer, show_progress=False)

    index_s, model = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        corpus_tokens = bm25s.tokenize(corpus_texts, **tok)
        model = bm25s.BM25(backend=backend, **BM25S_PARAMS)
        model.index(corpus_tokens, show_progress=False)
        index_s.append(time.perf_counter() - t0)

    def retrieve(texts):
        qt = bm25s.tokenize(texts, return_ids=False, **tok)
        return model.retrieve(qt, k=TOP_K, n_threads=n_threads, show_progress=False)

    retrieve(qtexts[:2])  # warm-up (numba compiles here)
    batch_s, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = retrieve(qtexts)  # query tokenization included
        batch_s.append(time.perf_counter() - t0)

    lat, loop_s = [], []
    for _ in range(repeat):
        one = []
        t0 = time.perf_counter()
        for text in qtexts:
            t1 = time.perf_counter()
            retrieve([text])
            one.append(time.perf_counter() - t1)
        loop_s.append(time.perf_counter() - t0)
        lat = one if not lat or sum(one) < sum(lat) else lat
    lat.sort()

    metrics = beir_evaluate(qrels, to_results(qids, corpus_ids, out.documents, out.scores))
    return dict(metrics, index_seconds=min(index_s), qps=len(qtexts) / min(batch_s),
                loop_qps=len(qtexts) / min(loop_s),
                p50_ms=percentile(lat, 50) * 1e3, p99_ms=percentile(lat, 99) * 1e3,
                note=f"batch retrieve of all queries, query tokenization included, n_threads={n_threads}")


def run_rank_bm25(data, repeat, budget_s):
    import bm25s
    import rank_bm25
    import Stemmer

    corpus_ids, corpus_texts, qids, qtexts, qrels = data
    stemmer = Stemmer.Stemmer("english")
    tok = dict(stopwords="en", stemmer=stemmer, show_progress=False, return_ids=False)

    index_s, model = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        corpus_tokens = bm25s.tokenize(corpus_texts, **tok)
        model = rank_bm25.BM25Okapi(corpus_tokens, **RANK_BM25_PARAMS)
        index_s.append(time.perf_counter() - t0)

    def query(text):
        scores = model.get_scores(bm25s.tokenize([text], **tok)[0])
        top = np.argpartition(-scores, TOP_K)[:TOP_K]
        top = top[np.argsort(-scores[top], kind="stable")]
        return top, scores[top]

    # One pass (it is slow); stop at the budget and evaluate the subset run.
    lat, results = [], {}
    t0 = time.perf_counter()
    for q, text in zip(qids, qtexts):
        if time.perf_counter() - t0 > budget_s:
            break
        t1 = time.perf_counter()
        idx, sc = query(text)
        lat.append(time.perf_counter() - t1)
        results[q] = {corpus_ids[int(i)]: float(s) for i, s in zip(idx, sc)}
    wall = time.perf_counter() - t0
    subset = {q: qrels[q] for q in results}
    metrics = beir_evaluate(subset, results)
    lat.sort()
    note = "per-query loop, one pass"
    if len(results) < len(qids):
        note += f"; SUBSET: first {len(results)} of {len(qids)} queries (budget {budget_s:.0f} s)"
    return dict(metrics, index_seconds=min(index_s), qps=len(results) / wall, loop_qps=len(results) / wall,
                p50_ms=percentile(lat, 50) * 1e3, p99_ms=percentile(lat, 99) * 1e3, note=note)


def run_quarry(dataset_dir, split, repeat):
    exe = Path(os.environ.get("QUARRY_BIN", REPO / "bin" / "quarry"))
    if not exe.exists():
        sys.exit(f"peers: {exe} not found; build it or set QUARRY_SKIP_QUARRY=1")
    cmd = [str(exe), "eval", "retrieval", "--dataset", str(dataset_dir), "--split", split, "--mode", "bm25", "--json"]
    env = dict(os.environ, GOMAXPROCS="1")
    runs = []
    for _ in range(repeat):
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"peers: {shlex.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
        runs.append(json.loads(p.stdout))
    want = {"dataset", "split", "mode", "queries", "ndcg@10", "recall@100", "mrr@10", "map@100",
            "index_seconds", "query_p50_ms", "query_p99_ms", "qps"}
    if set(runs[0]) != want:
        sys.exit(f"peers: quarry JSON keys {sorted(runs[0])}, want {sorted(want)}")
    best = max(runs, key=lambda r: r["qps"])
    # Like-for-like index time: tokenize + build in memory (what bm25s
    # times), from the quarrybuild driver. The eval command's index_seconds
    # is the durable ingest (store + fsync + language id + chunking), noted.
    bcmd = ["go", "run", "./bench/bm25_peers/quarrybuild", "--dataset", str(dataset_dir), "--repeat", str(repeat)]
    p = subprocess.run(bcmd, env=env, capture_output=True, text=True, cwd=REPO)
    if p.returncode != 0:
        sys.exit(f"peers: {shlex.join(bcmd)} failed ({p.returncode}):\n{p.stderr}")
    build = json.loads(p.stdout)["build_seconds"]
    ingest = min(r["index_seconds"] for r in runs)
    return {"ndcg@10": runs[0]["ndcg@10"], "recall@100": runs[0]["recall@100"], "mrr@10": runs[0]["mrr@10"],
            "map@100": runs[0]["map@100"], "queries": runs[0]["queries"],
            "index_seconds": build, "qps": best["qps"], "loop_qps": best["qps"],
            "p50_ms": best["query_p50_ms"], "p99_ms": best["query_p99_ms"],
            "note": f"GOMAXPROCS=1, `{shlex.join(['bin/quarry'] + cmd[1:])}`; index s = analysis + BM25 build in "
                    f"memory (`{shlex.join(bcmd)}`); durable ingest into the store (bbolt commits with fsync, "
                    f"language identification, chunking, analysis, index) took {ingest:.3f} s"}


# ---------------------------------------------------------------- output


def machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        m = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = m.group(1).strip() if m else cpu
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}, Python {platform.python_version()}"


def versions():
    names = ["bm25s", "rank-bm25", "PyStemmer", "numpy", "scipy", "numba", "pytrec-eval-terrier"]
    out = []
    for n in names:
        try:
            out.append(f"{n} {metadata.version(n)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(out)


def table(rows, ref="bm25s"):
    refrow = rows.get(ref)
    lines = ["| system | nDCG@10 | Recall@100 | index s | QPS | QPS vs bm25s | index time vs bm25s |",
             "|:--|--:|--:|--:|--:|--:|--:|"]
    for name, r in rows.items():
        qr = f"{r['qps'] / refrow['qps']:.2f}×" if refrow else "n/a"
        ir = f"{r['index_seconds'] / refrow['index_seconds']:.2f}×" if refrow else "n/a"
        label = name + (f" (subset {r['queries']} q)" if "SUBSET" in r["note"] else "")
        lines.append(f"| {label} | {r['ndcg@10']:.4f} | {r['recall@100']:.4f} | {r['index_seconds']:.3f} | "
                     f"{r['qps']:,.1f} | {qr} | {ir} |")
    return "\n".join(lines)


def section(rows, args, n_queries, command):
    today = datetime.date.today().isoformat()
    notes = [f"- {name}: MRR@10 {r['mrr@10']:.4f}, MAP@100 {r['map@100']:.4f}; per-query p50 {r['p50_ms']:.3f} ms, "
             f"p99 {r['p99_ms']:.3f} ms; one-query-per-call QPS {r['loop_qps']:,.1f}; {r['note']}."
             for name, r in rows.items()]
    return "\n".join([
        BEGIN,
        f"### BM25 on BEIR SciFact ({args.split}, {n_queries} queries, top-{TOP_K})",
        "",
        f"Measured {today} on {machine()}. Command: `{command}`.",
        "Single thread everywhere: GOMAXPROCS=1 for Quarry; OMP/MKL/OPENBLAS/NUMBA threads = 1 for Python. "
        f"Timings are the best of {args.repeat} runs (rank-bm25 queries: one pass). Index time = tokenize + build. "
        "QPS includes query tokenization. Quality: pytrec_eval under BEIR's protocol (doc id == query id ignored).",
        "",
        table(rows),
        "",
        "Settings: bm25s " + ", ".join(f"{k}={v}" for k, v in BM25S_PARAMS.items())
        + ", stopwords \"en\", PyStemmer english (the bm25s authors' BEIR benchmark defaults); rank-bm25 BM25Okapi "
        + ", ".join(f"{k}={v}" for k, v in RANK_BM25_PARAMS.items()) + " on the same tokens; "
        "documents are title + \" \" + text.",
        "",
        *notes,
        f"- Versions: {versions()}.",
        END,
    ])


def write_section(doc, text):
    if doc.exists():
        cur = doc.read_text()
    else:
        cur = "# Benchmarks\n\nSections between marker comments are written by scripts; edit outside them.\n\n"
    if BEGIN in cur and END in cur and cur.index(BEGIN) < cur.index(END):
        new = cur[:cur.index(BEGIN)] + text + cur[cur.index(END) + len(END):]
    else:
        new = cur.rstrip("\n") + "\n\n" + text + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    tmp = doc.with_suffix(doc.suffix + ".tmp")
    tmp.write_text(new)
    tmp.replace(doc)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", type=Path, help="BEIR dataset dir (default $QUARRY_DATASETS/beir/scifact)")
    ap.add_argument("--split", default="test")
    ap.add_argument("--repeat", type=int, default=3, help="timing repetitions; the best is kept")
    ap.add_argument("--rank-bm25-budget", type=float, default=180, help="seconds of rank-bm25 querying before it stops at a subset")
    ap.add_argument("--no-numba", action="store_true", help="skip the bm25s numba-backend row")
    ap.add_argument("--write", action="store_true", help="replace the marked section of --doc")
    ap.add_argument("--doc", type=Path, default=REPO / "docs" / "benchmarks.md")
    args = ap.parse_args()

    root = Path(os.environ.get("QUARRY_DATASETS", REPO.parent / "shared" / "datasets"))
    dataset = (args.dataset or root / "beir" / "scifact").resolve()
    if not (dataset / "corpus.jsonl").exists():
        sys.exit(f"peers: no BEIR dataset at {dataset}")
    data = load_beir(dataset, args.split)
    n_queries = len(data[2])
    print(f"# {dataset.name}: {len(data[0])} docs, {n_queries} queries", file=sys.stderr)

    rows = {}
    if os.environ.get("QUARRY_SKIP_QUARRY") != "1":
        print("# quarry ...", file=sys.stderr)
        rows["Quarry"] = run_quarry(dataset, args.split, args.repeat)
    print("# bm25s (numpy) ...", file=sys.stderr)
    rows["bm25s"] = run_bm25s(data, args.repeat, "numpy")
    if not args.no_numba:
        print("# bm25s (numba) ...", file=sys.stderr)
        rows["bm25s numba backend"] = run_bm25s(data, args.repeat, "numba")
    print("# rank-bm25 ...", file=sys.stderr)
    rows["rank-bm25"] = run_rank_bm25(data, args.repeat, args.rank_bm25_budget)

    command = os.environ.get("PEERS_COMMAND") or shlex.join(["bench/bm25_peers/run.sh"] + sys.argv[1:])
    if os.environ.get("QUARRY_SKIP_QUARRY") == "1":
        command = "QUARRY_SKIP_QUARRY=1 " + command
    text = section(rows, args, n_queries, command)
    print(text)
    if args.write:
        write_section(args.doc, text)
        print(f"# wrote {args.doc}", file=sys.stderr)


if __name__ == "__main__":
    main()
