#!/usr/bin/env python3
"""BM25 query speed, Quarry against bm25s (numpy and numba backends), in
interleaved rounds on one machine, with CPU-time QPS beside wall QPS.

Run through run.sh, which owns the venv and pins every thread pool to 1:

    bench/bm25_peers/run.sh speed [--rounds 5] [--passes 5]

Each round runs, one after another: Quarry through Collection.Search with
the question guard off (retrieval only) and with the engine default (the
product path: the guard's rules score every question first), both by
bench/bm25_peers/quarryquery with GOMAXPROCS=1 (median of --passes passes
over the 300 judged SciFact test queries, top-100 documents = top-142
chunks as quarry eval retrieval asks, after a warm-up pass); then bm25s' numpy and numba backends, each
one batch retrieve of all queries (query tokenization included, top-100),
--passes times, median. CPU QPS = queries / process CPU seconds (user +
system) of the pass: on a shared machine that is the time the work took on
its core, while wall time also counts other jobs' turns. Reported: per
system the median over rounds, and the median over rounds of the per-round
ratios.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import BM25S_PARAMS, TOP_K, load_beir  # noqa: E402


def cpu_features():
    flags = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                flags = line.split(":", 1)[1].split()
                break
    except OSError:
        return "unknown"
    want = ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni"]
    return ", ".join(f for f in want if f in flags)


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--passes", type=int, default=5)
    ap.add_argument("--dataset", type=Path)
    args = ap.parse_args()

    root = Path(os.environ.get("QUARRY_DATASETS", REPO.parent / "shared" / "datasets"))
    dataset = (args.dataset or root / "beir" / "scifact").resolve()
    home = Path(os.environ.get("QUARRY_HOME", Path.home() / ".cache" / "quarry"))
    exe = home / "bench" / "quarryquery"
    subprocess.run(["go", "build", "-o", str(exe), "./bench/bm25_peers/quarryquery"], cwd=REPO, check=True)
    index_dir = home / "bench" / "quarryquery-scifact"

    import bm25s
    import Stemmer

    corpus_ids, corpus_texts, qids, qtexts, qrels = load_beir(dataset, "test")
    stemmer = Stemmer.Stemmer("english")
    tok = dict(stopwords="en", stemmer=stemmer, show_progress=False)
    models = {}
    for backend in ("numpy", "numba"):
        m = bm25s.BM25(backend=backend, **BM25S_PARAMS)
        m.index(bm25s.tokenize(corpus_texts, **tok), show_progress=False)
        models[backend] = m

    def bm25s_pass(backend):
        m = models[backend]
        n_threads = 1 if backend == "numba" else 0
        t0, c0 = time.perf_counter(), time.process_time()
        qt = bm25s.tokenize(qtexts, return_ids=False, **tok)
        m.retrieve(qt, k=TOP_K, n_threads=n_threads, show_progress=False)
        return len(qtexts) / (time.perf_counter() - t0), len(qtexts) / (time.process_time() - c0)

    for b in models:
        bm25s_pass(b)  # warm-up (numba compiles here)

    def quarry(guard):
        cmd = [str(exe), "--dataset", str(dataset), "--index-dir", str(index_dir), "--passes", str(args.passes)]
        if guard:
            cmd += ["--guard", guard]
        p = subprocess.run(cmd, env=dict(os.environ, GOMAXPROCS="1"), capture_output=True, text=True, check=True)
        r = json.loads(p.stdout)
        return r["qps_median"], r["cpu_qps_median"]

    systems = ["Quarry, guard off", "Quarry, default guard", "bm25s numpy", "bm25s numba"]
    runs = {s: [] for s in systems}
    for rnd in range(args.rounds):
        print(f"# round {rnd + 1}/{args.rounds}", file=sys.stderr)
        runs["Quarry, guard off"].append(quarry("off"))
        runs["Quarry, default guard"].append(quarry(""))
        for b in ("numpy", "numba"):
            w, c = zip(*(bm25s_pass(b) for _ in range(args.passes)))
            runs[f"bm25s {b}"].append((statistics.median(w), statistics.median(c)))

    med = lambda xs: statistics.median(xs)  # noqa: E731
    load = os.getloadavg()
    print(f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {cpu_model()} "
          f"({os.cpu_count()} cores; {cpu_features()}), load average {load[0]:.1f}. "
          f"Command: `bench/bm25_peers/run.sh speed --rounds {args.rounds} --passes {args.passes}`. "
          f"{args.rounds} interleaved rounds; medians.\n")
    print("| system | QPS per CPU-second | wall QPS | CPU QPS vs bm25s numba (per-round median) | CPU QPS vs bm25s numpy |")
    print("|:--|--:|--:|--:|--:|")
    for s in systems:
        w = [x[0] for x in runs[s]]
        c = [x[1] for x in runs[s]]
        rn = med([a[1] / b[1] for a, b in zip(runs[s], runs["bm25s numba"])])
        rp = med([a[1] / b[1] for a, b in zip(runs[s], runs["bm25s numpy"])])
        print(f"| {s} | {med(c):,.0f} | {med(w):,.0f} | {rn:.2f}× | {rp:.2f}× |")
    print()
    print("Per round (wall QPS / CPU QPS): " + "; ".join(
        f"{s}: " + ", ".join(f"{w:,.0f}/{c:,.0f}" for w, c in runs[s]) for s in systems))


if __name__ == "__main__":
    main()
