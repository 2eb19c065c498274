"""Quarry's ANN index (internal/index/vector) against hnswlib and FAISS on the same vectors.

    bench/ann_peers/run.sh [--write] [--sets scifact,xquad,wordnet,synth1m] [--rounds N]

For every set: the vectors (cached under $QUARRY_HOME/ann/<set>/, made once by
annprep or, for synth sets, by this script), exact top-k ground truth (numpy,
cached as gt.ivecs), then for each round one process per system, interleaved
(Quarry, hnswlib, FAISS, then again): build single-threaded with M=16,
efConstruction=200, then search every query one at a time for each ef.
Each process reports its build time (CPU s), peak RSS (VmHWM) and per-ef
recall@k and QPS. With --write, the ann_peers section of docs/benchmarks.md is
replaced and docs/img/ann_<set>.svg drawn. See README.md.

Internal: `peers.py worker SYSTEM --dir DIR ...` is one peer's process.
"""

import argparse
import datetime
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
HOME = Path(os.environ.get("QUARRY_HOME", Path.home() / ".cache" / "quarry"))
ANN = HOME / "ann"
BEGIN, END = "<!-- ann_peers:begin -->", "<!-- ann_peers:end -->"
SUM_BEGIN, SUM_END = "<!-- ann_summary:begin -->", "<!-- ann_summary:end -->"
HEADING = "## Approximate nearest neighbours (HNSW) against hnswlib and FAISS"
EFS = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256]
NPROBES = [1, 2, 4, 8, 16, 32, 64, 128]
CANDIDATES = [10, 20, 50, 100, 200, 400, 800]  # binary: codes rescored per query
M, EFC, K = 16, 200, 10
TARGET = 0.95
QUARRY, HNSWLIB, FAISS = "Quarry HNSW", "hnswlib", "FAISS IndexHNSWFlat"
QUARRY_INT8, QUARRY_IVF, FAISS_IVF = "Quarry HNSW int8", "Quarry IVF-Flat", "FAISS IndexIVFFlat"
QUARRY_BIN = "Quarry binary flat"
QUARRY_SQ8 = "Quarry HNSW sq8"  # float32 index walked over 8-bit codes, ef list re-ranked in float32
FAISS_SQ8 = "FAISS IndexHNSWSQ 8-bit"  # HNSW over 8-bit codes only, no re-rank (approximate scores)
TEXT_SETS = {"scifact": "BEIR SciFact, all-MiniLM-L6-v2", "xquad": "XQuAD 7 languages, multilingual-e5-small",
             "wordnet": "WordNet 3.0 glosses, all-MiniLM-L6-v2"}


def log(*a):
    print("#", *a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- vector files


def read_fvecs(path, ivecs=False):
    """Reads .fvecs/.ivecs in slices of 8,192 rows into one contiguous array (no whole-file transient copy,
    so the peak RSS after loading is the vectors themselves, as in the Go driver)."""
    d = int(np.fromfile(path, dtype=np.int32, count=1)[0])
    size = Path(path).stat().st_size
    if d < 1 or size % (4 * (d + 1)):
        sys.exit(f"peers: {path}: not a vecs file of dimension {d}")
    n = size // (4 * (d + 1))
    out = np.empty((n, d), dtype=np.int32 if ivecs else np.float32)
    with open(path, "rb") as f:
        for s in range(0, n, 8192):
            e = min(n, s + 8192)
            rows = np.fromfile(f, dtype=np.int32, count=(e - s) * (d + 1)).reshape(e - s, d + 1)
            if not (rows[:, 0] == d).all():
                sys.exit(f"peers: {path}: rows of different dimension")
            out[s:e] = rows[:, 1:] if ivecs else rows[:, 1:].view(np.float32)
    return out


def write_vecs(path, a):
    a = np.ascontiguousarray(a)
    n, d = a.shape
    out = np.empty((n, d + 1), dtype=np.int32)
    out[:, 0] = d
    out[:, 1:] = a.view(np.int32)
    tmp = Path(str(path) + ".tmp")
    out.tofile(tmp)
    tmp.replace(path)


def synth_size(name):
    m = re.fullmatch(r"synth(\d+)([km]?)", name)
    if not m:
        return None
    return int(m.group(1)) * {"": 1, "k": 1000, "m": 1000000}[m.group(2)]


def make_synth(d, n, dim=128, clusters=1000, seed=42, nq=1000):
    """Gaussian mixture: `clusters` centres ~ N(0, I), points = centre + 0.5·N(0, I), L2-normalised."""
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim), dtype=np.float32)

    def draw(count, rng):
        out = np.empty((count, dim), dtype=np.float32)
        for s in range(0, count, 100_000):
            e = min(count, s + 100_000)
            c = rng.integers(0, clusters, e - s)
            x = centres[c] + 1.0 * rng.standard_normal((e - s, dim), dtype=np.float32)
            out[s:e] = x / np.linalg.norm(x, axis=1, keepdims=True)
        return out

    write_vecs(d / "base.fvecs", draw(n, np.random.default_rng(seed + 1)))
    write_vecs(d / "query.fvecs", draw(nq, np.random.default_rng(seed + 2)))
    (d / "meta.json").write_text(json.dumps({
        "set": d.name, "model": None, "dim": dim, "base": n, "queries": nq,
        "rule": f"numpy default_rng: {clusters} centres ~ N(0,I) (seed {seed}); point = centre[uniform] + "
                f"1.0*N(0,I), L2-normalised; base seed {seed + 1}, queries seed {seed + 2}"}, indent=2) + "\n")


def ensure_set(name):
    d = ANN / name
    if not (d / "base.fvecs").exists() or not (d / "query.fvecs").exists():
        if name in TEXT_SETS:
            log(f"embedding {name} with annprep (once; cached in {d})")
            subprocess.run([os.environ.get("QUARRY_ANNPREP", "annprep"), "-set", name], check=True, cwd=REPO)
        elif synth_size(name):
            log(f"generating {name} ({synth_size(name):,} x 128)")
            make_synth(d, synth_size(name))
        else:
            sys.exit(f"peers: unknown set {name!r} (scifact, xquad, wordnet, synth<N>[k|m])")
    gt = d / "gt.ivecs"
    if not gt.exists() or gt.stat().st_mtime < (d / "base.fvecs").stat().st_mtime:
        log(f"exact top-{K} for {name} (numpy brute force, cached in {gt})")
        base, q = read_fvecs(d / "base.fvecs"), read_fvecs(d / "query.fvecs")
        out = np.empty((len(q), K), dtype=np.int32)
        for s in range(0, len(q), 100):
            sc = q[s:s + 100] @ base.T
            top = np.argpartition(-sc, K, axis=1)[:, :K]
            order = np.argsort(-np.take_along_axis(sc, top, axis=1), axis=1, kind="stable")
            out[s:s + 100] = np.take_along_axis(top, order, axis=1)
        write_vecs(gt, out)
    return d


# ---------------------------------------------------------------- workers


def maxrss_kb():
    """Peak RSS in KiB: VmHWM (per address space; ru_maxrss would inherit the parent's peak across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def recall(found, gt):
    return float(np.mean([len(set(f.tolist()) & set(g.tolist())) / len(g) for f, g in zip(found, gt)]))


def sweep(search, batch, queries, gt, values, param):
    """One query per call (as a server); batch search of all queries on 1 thread as a second figure."""
    nq = len(queries)
    for i in range(min(200, nq)):  # warm-up
        search(queries[i:i + 1], values[-1])
    pts = []
    for v in values:
        lat, best = np.empty(nq), np.empty(nq)
        found = np.empty((nq, K), dtype=np.int64)
        # Fastest pass by CPU time (>= 2 passes, until 0.3 s spent, <= 20), as the Go driver does.
        cpu, wall, spent, passes = float("inf"), 0.0, 0.0, 0
        while passes < 20 and (passes < 2 or spent < 0.3):
            t0, c0 = time.perf_counter(), time.process_time()
            for i in range(nq):
                t = time.perf_counter()
                found[i] = search(queries[i:i + 1], v)[0]
                lat[i] = time.perf_counter() - t
            c, w = time.process_time() - c0, time.perf_counter() - t0
            spent, passes = spent + w, passes + 1
            if c < cpu:
                cpu, wall = c, w
                best[:] = lat
        lat = best
        t = time.process_time()
        bfound = batch(queries, v)
        bcpu = time.process_time() - t
        lat.sort()
        pts.append({"param": param, "value": v, "recall": recall(found, gt), "qps": nq / cpu, "wall_qps": nq / wall,
                    "p50_us": lat[nq // 2] * 1e6, "p99_us": lat[min(nq - 1, nq * 99 // 100)] * 1e6,
                    "batch_qps": nq / bcpu, "batch_recall": recall(bfound, gt)})
    return pts


def worker(system, d, mode, nlist):
    base, queries = read_fvecs(d / "base.fvecs"), read_fvecs(d / "query.fvecs")
    gt = read_fvecs(d / "gt.ivecs", ivecs=True)[:, :K]
    n, dim = base.shape
    rep = {"system": system, "mode": mode, "n": n, "dim": dim, "queries": len(queries), "k": K,
           "params": {}, "rss_loaded_kb": maxrss_kb()}
    if system == "hnswlib":
        import hnswlib
        p = hnswlib.Index(space="ip", dim=dim)
        p.init_index(max_elements=n, M=M, ef_construction=EFC, random_seed=100)
        p.set_num_threads(1)
        t0, c0 = time.perf_counter(), time.process_time()
        p.add_items(base, np.arange(n), num_threads=1)
        rep["build_s"], rep["build_wall_s"] = time.process_time() - c0, time.perf_counter() - t0
        rep["params"] = {"M": M, "efConstruction": EFC, "space": "ip"}

        def search(q, ef):
            p.set_ef(ef)
            return p.knn_query(q, k=K, num_threads=1)[0]

        rep["points"] = sweep(search, search, queries, gt, EFS, "ef")
    elif system == "faiss":
        import faiss
        faiss.omp_set_num_threads(1)
        if mode in ("hnsw", "hnswsq"):
            if mode == "hnsw":
                idx = faiss.IndexHNSWFlat(dim, M, faiss.METRIC_INNER_PRODUCT)
            else:  # per-dimension 8-bit codes (ranges trained on the base), built and searched on codes
                idx = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, M, faiss.METRIC_INNER_PRODUCT)
            idx.hnsw.efConstruction = EFC
            t0, c0 = time.perf_counter(), time.process_time()
            if mode == "hnswsq":
                idx.train(base)
            idx.add(base)
            rep["build_s"], rep["build_wall_s"] = time.process_time() - c0, time.perf_counter() - t0
            rep["params"] = {"M": M, "efConstruction": EFC}

            def search(q, ef):
                idx.hnsw.efSearch = ef
                return idx.search(q, K)[1]

            rep["points"] = sweep(search, search, queries, gt, EFS, "ef")
        else:  # ivf
            nlist = nlist or int(4 * np.sqrt(n))
            quant = faiss.IndexFlatIP(dim)
            idx = faiss.IndexIVFFlat(quant, dim, nlist, faiss.METRIC_INNER_PRODUCT)
            m = min(n, 40 * nlist)  # the rows quarryann trains on: i*n//m, i < m
            sample = np.ascontiguousarray(base[(np.arange(m, dtype=np.int64) * n) // m])
            t0, c0 = time.perf_counter(), time.process_time()
            idx.train(sample)
            rep["train_s"] = time.process_time() - c0
            idx.add(base)
            rep["build_s"], rep["build_wall_s"] = time.process_time() - c0, time.perf_counter() - t0
            rep["params"] = {"nlist": nlist, "train_rows": m}

            def search(q, nprobe):
                idx.nprobe = nprobe
                return idx.search(q, K)[1]

            rep["points"] = sweep(search, search, queries, gt, [v for v in NPROBES if v <= nlist], "nprobe")
    else:
        sys.exit(f"peers: unknown worker {system}")
    rep["peak_rss_kb"] = maxrss_kb()
    print(json.dumps(rep), flush=True)


# ---------------------------------------------------------------- driver


def run_one(label, cmd, env):
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        msg = (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]
        log(f"{label}: failed: {msg}")
        return None
    rep = json.loads(r.stdout.strip().splitlines()[-1])
    rep["label"] = label
    log(f"{label}: build {rep['build_s']:.1f} CPU s ({rep.get('build_wall_s', 0):.1f} wall), peak RSS {rep['peak_rss_kb'] / 1024:.0f} MiB, "
        f"{time.perf_counter() - t:.0f} s in all")
    return rep


def systems(d, modes, qbin):
    py = [sys.executable, str(Path(__file__).resolve()), "worker"]
    out = []
    if "hnsw" in modes:
        out += [(QUARRY, [qbin, "-dir", str(d), "-mode", "hnsw", "-m", str(M), "-efc", str(EFC), "-k", str(K),
                          "-ef", ",".join(map(str, EFS))]),
                (HNSWLIB, py + ["hnswlib", "--dir", str(d)]),
                (FAISS, py + ["faiss", "--dir", str(d)])]
    if "sq8" in modes:
        out += [(QUARRY_SQ8, [qbin, "-dir", str(d), "-mode", "hnsw-sq8", "-m", str(M), "-efc", str(EFC),
                              "-k", str(K), "-ef", ",".join(map(str, EFS))]),
                (FAISS_SQ8, py + ["faiss", "--dir", str(d), "--mode", "hnswsq"])]
    if "int8" in modes:
        out += [(QUARRY_INT8, [qbin, "-dir", str(d), "-mode", "hnsw-int8", "-m", str(M), "-efc", str(EFC),
                               "-k", str(K), "-ef", ",".join(map(str, EFS))])]
    if "ivf" in modes:
        out += [(QUARRY_IVF, [qbin, "-dir", str(d), "-mode", "ivf", "-k", str(K), "-nprobe", ",".join(map(str, NPROBES))]),
                (FAISS_IVF, py + ["faiss", "--dir", str(d), "--mode", "ivf"])]
    if "binary" in modes:
        out += [(QUARRY_BIN, [qbin, "-dir", str(d), "-mode", "binary", "-k", str(K),
                              "-candidates", ",".join(map(str, CANDIDATES))])]
    return out


def at_target(rep):
    """The first point (smallest effort) whose recall reaches TARGET, else None."""
    for p in rep["points"]:
        if p["recall"] >= TARGET:
            return p
    return None


def ratios(rnd):
    """Quarry / hnswlib in one round: QPS at each one's smallest ef reaching TARGET, and build time."""
    q, h = rnd.get(QUARRY), rnd.get(HNSWLIB)
    if not q or not h:
        return None
    pq, ph = at_target(q), at_target(h)
    out = {"qps": pq["qps"] / ph["qps"] if pq and ph else None, "ef_q": pq and pq["value"],
           "ef_h": ph and ph["value"], "build": q["build_s"] / h["build_s"]}
    if rnd.get(QUARRY_SQ8):
        ps = at_target(rnd[QUARRY_SQ8])
        out["qps_sq8"] = ps["qps"] / ph["qps"] if ps and ph else None
        out["ef_sq8"] = ps and ps["value"]
        out["recall_sq8"] = ps and ps["recall"]
    return out


# ---------------------------------------------------------------- report


def machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        m = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = m.group(1).strip() if m else cpu
    except OSError:
        pass
    go = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.split()
    return (f"{cpu}, nproc {os.cpu_count()}, Linux {platform.release()}, Python {platform.python_version()}"
            + (f", {go[2]}" if len(go) > 2 else ""))


def versions():
    out = []
    for n in ["hnswlib", "faiss-cpu", "numpy", "matplotlib"]:
        try:
            out.append(f"{n} {metadata.version(n)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(out)


def best(reps):
    """Per system: the round's report with per-effort QPS replaced by the best over rounds."""
    out = {}
    for label in reps[0]:
        rs = [r[label] for r in reps if label in r]
        b = json.loads(json.dumps(rs[0]))
        for i, p in enumerate(b["points"]):
            p["qps"] = max(r["points"][i]["qps"] for r in rs)
            if "batch_qps" in p:
                p["batch_qps"] = max(r["points"][i]["batch_qps"] for r in rs)
        b["build_s"] = min(r["build_s"] for r in rs)
        b["peak_rss_kb"] = max(r["peak_rss_kb"] for r in rs)
        out[label] = b
    return out


def fmt_stamp(stamp):
    return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]} UTC"


def fmt_ratio(x):
    return "n/a" if x is None else f"{x:.2f}×"


def set_section(name, meta, reps, img, stamp=None, updated=None):
    b = best(reps)
    any_rep = next(iter(b.values()))
    n, dim, nq = any_rep["n"], any_rep["dim"], any_rep["queries"]
    what = TEXT_SETS.get(name, f"synthetic Gaussian mixture ({meta.get('rule', '')})")
    lines = [f"### {name}: {n:,} × {dim}, {nq:,} queries ({what})", ""]
    rule = f"Vectors: {meta['rule']}. " if meta.get("rule") and name in TEXT_SETS else ""
    when = f"Run finished {fmt_stamp(stamp)}." if stamp else ""
    if updated:
        u = updated
        when += (f" {', '.join(u['measured'])} re-measured then (`--update`); {', '.join(u['kept'])} "
                 f"from the run of {fmt_stamp(u['kept_stamp'])}.")
    if rule or when:
        lines += [rule + when, ""]
    lines += [f"![recall@{K} vs QPS, {name}](img/ann_{name}.svg)", ""] if img else []
    labels = [l for l in (QUARRY, HNSWLIB, FAISS, QUARRY_INT8) if l in b]
    head = "| ef | " + " | ".join(f"{l} recall | {l} QPS" for l in labels) + " |"
    lines += [head, "|--:|" + "--:|--:|" * len(labels)]
    for i, ef in enumerate(EFS):
        cells = []
        for l in labels:
            p = b[l]["points"][i]
            cells.append(f"{p['recall']:.3f} | {p['qps']:,.0f}")
        lines.append(f"| {ef} | " + " | ".join(cells) + " |")
    lines += ["", "| system | build s | peak RSS MiB | RSS growth MiB | smallest ef with recall ≥ 0.95 | QPS there | p50 µs there | batch QPS there (1 thread) |",
              "|:--|--:|--:|--:|--:|--:|--:|--:|"]
    for l, r in b.items():
        p = at_target(r)
        grow = (r["peak_rss_kb"] - r["rss_loaded_kb"]) / 1024
        cells = [f"{r['build_s']:.2f}", f"{r['peak_rss_kb'] / 1024:,.0f}", f"{grow:,.0f}"]
        if p:
            cells += [f"{p['param']} {p['value']}", f"{p['qps']:,.0f}", f"{p['p50_us']:.0f}",
                      f"{p['batch_qps']:,.0f}" if "batch_qps" in p else "–"]
        else:
            top = r["points"][-1]
            cells += [f"not reached (max {top['recall']:.3f})", "–", "–", "–"]
        lines.append(f"| {l} | " + " | ".join(cells) + " |")
    per = [ratios(r) for r in reps]
    per = [p for p in per if p]
    if per:
        lines += ["", "Quarry / hnswlib in the same round: QPS at recall ≥ 0.95 "
                  + ", ".join(fmt_ratio(p["qps"]) for p in per) + "; build time "
                  + ", ".join(fmt_ratio(p["build"]) for p in per) + "."]
    for l in (QUARRY_IVF, FAISS_IVF):
        if l in b:
            r = b[l]
            pts = "; ".join(f"nprobe {p['value']}: {p['recall']:.3f} @ {p['qps']:,.0f} QPS" for p in r["points"])
            lines += ["", f"{l} (nlist {r['params'].get('nlist')}, build {r['build_s']:.2f} s incl. training, "
                      f"peak RSS {r['peak_rss_kb'] / 1024:,.0f} MiB): {pts}."]
    if QUARRY_BIN in b:
        r = b[QUARRY_BIN]
        pts = "; ".join(f"{p['value']}: {p['recall']:.3f} @ {p['qps']:,.0f} QPS" for p in r["points"])
        lines += ["", f"{QUARRY_BIN} (sign codes, {r['index_bytes'] / r['n']:.0f} B/vector in the index, "
                  f"float32 rescoring of the best candidates; candidates: recall @ QPS): {pts}."]
    return lines, per


def summary(allper):
    lines = ["| set | Quarry QPS / hnswlib QPS at recall ≥ 0.95 (per round) | ef Quarry / hnswlib | "
             "Quarry build / hnswlib build (per round) | QPS target ≥ 0.8× | build target ≤ 1.5× |",
             "|:--|--:|--:|--:|:--|:--|"]
    for name, per in allper.items():
        if not per:
            continue
        q = [p["qps"] for p in per if p["qps"] is not None]
        bld = [p["build"] for p in per]
        qm = sorted(q)[len(q) // 2] if q else None
        bm = sorted(bld)[len(bld) // 2]
        lines.append(f"| {name} | {', '.join(fmt_ratio(x) for x in q) or 'n/a'} | {per[0]['ef_q']} / {per[0]['ef_h']} | "
                     f"{', '.join(fmt_ratio(x) for x in bld)} | "
                     f"{'met' if qm and qm >= 0.8 else 'not met'} | {'met' if bm <= 1.5 else 'not met'} |")
    return lines


def section(results, args, command):
    allper, body = {}, []
    for name, res in results.items():
        lines, per = set_section(name, res["meta"], res["rounds"], args.write, res.get("stamp"), res.get("updated"))
        allper[name] = per
        body += lines + [""]
    today = datetime.date.today().isoformat()
    return "\n".join([
        BEGIN,
        f"### HNSW on embedded text and synthetic vectors, k={K}",
        "",
        f"Measured {today} on {machine()}. Command: `{command}`.",
        f"Every system builds and searches on one thread (GOMAXPROCS=1 for Quarry; hnswlib num_threads=1; "
        f"faiss.omp_set_num_threads(1); OMP/MKL/OPENBLAS threads = 1), each in its own process, with M={M}, "
        f"efConstruction={EFC}, inner product on L2-normalised float32 vectors (the same files for all). "
        f"Systems ran interleaved, {args.rounds} round(s) per set ({args.big_rounds} for sets of 50,000 vectors or more); tables show the best QPS and build time over "
        "rounds, ratios are per round. QPS: queries searched one per call, as a server does, divided by the "
        "process's CPU time (user + system) of the fastest of ≥ 2 passes; build s is CPU time too. The machine "
        "(2 cores) is shared with other jobs (load averages of 1 to 12 during these runs), so wall-clock time "
        "partly measures whose turn it was; CPU time of a single-threaded process is the time the work took on "
        "its core (wall figures are in the raw results). Sets listed after --reuse were measured by an earlier "
        "run of the same script (its time is given per set). The Python peers pay a few µs of Python call overhead per query; their "
        "batch QPS on one thread is shown for scale. Recall@10 against exact top-10 by numpy brute force. Peak "
        "RSS = VmHWM of the process, which includes its own copy of the base vectors (and, for the peers, the "
        "interpreter and numpy); RSS growth = peak minus the high-water mark after loading.",
        "",
        *summary(allper),
        "",
        *body,
        f"- Versions: {versions()}. Details: bench/ann_peers/README.md, docs/vector-indexes.md.",
        END,
    ])


def summary_section(results, command):
    """The measured operating points for docs/vector-indexes.md: every system, every set."""
    lines = [SUM_BEGIN,
             f"Measured {datetime.date.today().isoformat()} with `{command}` (one thread, k={K}; best of the "
             "rounds; the machine is shared, so compare within a row group). Operating point = the smallest "
             f"effort (ef, nprobe, or candidates rescored) reaching recall@{K} ≥ {TARGET}. Index MiB: Quarry's own accounting "
             "(`Stats().Bytes`: vectors or codes, links, id maps); RSS growth = peak RSS minus the RSS after "
             "loading the vectors.", ""]
    for name, res in results.items():
        b = best(res["rounds"])
        r0 = next(iter(b.values()))
        lines += [f"**{name}** ({r0['n']:,} × {r0['dim']}, {r0['queries']:,} queries)", "",
                  "| system | effort at recall ≥ 0.95 | recall | QPS | recall at the lowest effort (QPS) | build s | index MiB | RSS growth MiB | peak RSS MiB |",
                  "|:--|--:|--:|--:|--:|--:|--:|--:|--:|"]
        for label, r in b.items():
            p = at_target(r)
            lo = r["points"][0]
            ib = f"{r['index_bytes'] / 2**20:,.1f}" if r.get("index_bytes") else "–"
            cells = ([f"{p['param']} {p['value']}", f"{p['recall']:.3f}", f"{p['qps']:,.0f}"] if p
                     else [f"not reached (max {r['points'][-1]['recall']:.3f})", "–", "–"])
            cells += [f"{lo['recall']:.3f} ({lo['qps']:,.0f})", f"{r['build_s']:.2f}", ib,
                      f"{(r['peak_rss_kb'] - r['rss_loaded_kb']) / 1024:,.0f}", f"{r['peak_rss_kb'] / 1024:,.0f}"]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    lines.append(SUM_END)
    return "\n".join(lines)


def write_section(doc, text, begin=BEGIN, end=END, heading=HEADING):
    cur = doc.read_text() if doc.exists() else "# Benchmarks\n"
    b, e = cur.find(begin), cur.find(end)
    if b >= 0 and e > b:
        new = cur[:b] + text + cur[e + len(end):]
    else:
        new = cur.rstrip("\n") + "\n\n" + heading + "\n\n" + text + "\n"
    tmp = doc.with_suffix(doc.suffix + ".tmp")
    tmp.write_text(new)
    tmp.replace(doc)


def plot(name, reps, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams["svg.fonttype"] = "none"
    plt.rcParams["svg.hashsalt"] = "ann_peers"
    b = best(reps)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    styles = {QUARRY: "o-", HNSWLIB: "s--", FAISS: "^:", QUARRY_INT8: "D-", QUARRY_IVF: "v-", FAISS_IVF: "x:", QUARRY_BIN: "P-"}
    for label, r in b.items():
        xs = [p["recall"] for p in r["points"]]
        ys = [p["qps"] for p in r["points"]]
        ax.plot(xs, ys, styles.get(label, "o-"), label=label, markersize=4, linewidth=1.2)
    r0 = next(iter(b.values()))
    ax.set_yscale("log")
    ax.set_xlabel(f"recall@{K}")
    ax.set_ylabel("queries per CPU-second (1 thread, one query per call)")
    ax.set_title(f"{name}: {r0['n']:,} × {r0['dim']}, M={M}, efConstruction={EFC}")
    ax.axvline(TARGET, color="grey", linewidth=0.6)
    ax.grid(True, which="both", linewidth=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="svg", metadata={"Date": None})
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="replace the ann_peers section of --doc and draw docs/img/ann_<set>.svg")
    ap.add_argument("--doc", type=Path, default=REPO / "docs" / "benchmarks.md")
    ap.add_argument("--sets", default="scifact,xquad,wordnet,synth1m")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds per set")
    ap.add_argument("--big-rounds", type=int, default=1, help="rounds for sets of 50,000 vectors or more")
    ap.add_argument("--reuse", default="", help="sets whose latest results file in $QUARRY_HOME/ann is reused "
                    "instead of measured again (to redraw docs, or to finish a run that was cut short)")
    ap.add_argument("--update", action="store_true", help="measure only --modes and replace those systems in the "
                    "set's latest results (the other systems keep their figures and date, which the doc states)")
    ap.add_argument("--modes", default="hnsw,int8,ivf,binary", help="hnsw (Quarry, hnswlib, FAISS), sq8, int8, ivf, binary; "
                    "int8/ivf are skipped when the vector package lacks them")
    args = ap.parse_args()
    qbin = os.environ.get("QUARRY_ANN_BIN", str(HOME / "bench" / "quarryann"))
    modes = set(args.modes.split(","))
    env_q = dict(os.environ, GOMAXPROCS="1")
    results = {}
    unsupported = set()
    reuse = set(filter(None, args.reuse.split(",")))
    command = os.environ.get("PEERS_COMMAND", "bench/ann_peers/run.sh")
    for name in args.sets.split(","):
        if name in reuse:
            files = sorted(ANN.glob(f"results-*-{name}.json"))
            if not files:
                sys.exit(f"peers: --reuse {name}: no {ANN}/results-*-{name}.json")
            results[name] = json.loads(files[-1].read_text())
            results[name].setdefault("stamp", files[-1].name.split("-")[1])
            log(f"{name}: reusing {files[-1]}")
        else:
            prev = sorted(ANN.glob(f"results-*-{name}.json")) if args.update else []
            results[name] = run_set(name, args, modes, qbin, env_q, unsupported)
            if prev:
                results[name] = merge_update(json.loads(prev[-1].read_text()), prev[-1].name.split("-")[1], results[name])
                (ANN / f"results-{results[name]['stamp']}-{name}.json").write_text(json.dumps(results[name]))
        if args.write:
            # After every set, so that an interrupted run leaves the sets it finished.
            plot(name, results[name]["rounds"], REPO / "docs" / "img" / f"ann_{name}.svg")
            write_all(results, args, command)
    print(section(results, args, command))


def run_set(name, args, modes, qbin, env_q, unsupported):
    d = ensure_set(name)
    meta = json.loads((d / "meta.json").read_text()) if (d / "meta.json").exists() else {}
    rounds = []
    n_base = (d / "base.fvecs").stat().st_size // (4 + 4 * int(np.fromfile(d / "base.fvecs", dtype=np.int32, count=1)[0]))
    for i in range(args.rounds if n_base < 50_000 else args.big_rounds):
        rnd = {}
        for label, cmd in systems(d, modes, qbin):
            if label in unsupported:
                continue
            log(f"{name} round {i + 1}: {label}")
            rep = run_one(label, cmd, env_q)
            if rep is None:
                if label in (QUARRY_INT8, QUARRY_IVF, QUARRY_BIN, QUARRY_SQ8, FAISS_SQ8):
                    unsupported.add(label)
                continue
            rnd[label] = rep
        rounds.append(rnd)
        r = ratios(rnd)
        if r:
            log(f"{name} round {i + 1}: Quarry/hnswlib QPS@0.95 {fmt_ratio(r['qps'])} "
                f"(ef {r['ef_q']}/{r['ef_h']}), build {fmt_ratio(r['build'])}")
            if "qps_sq8" in r:
                log(f"{name} round {i + 1}: Quarry sq8/hnswlib QPS@0.95 {fmt_ratio(r['qps_sq8'])} "
                    f"(ef {r['ef_sq8']}, recall {r['recall_sq8']})")
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S")
    res = {"meta": meta, "rounds": rounds, "stamp": stamp}
    (ANN / f"results-{stamp}-{name}.json").write_text(json.dumps(res))
    return res


def merge_update(old, old_stamp, new):
    """new's systems replace old's, round by round; the rest of old is kept and dated."""
    rounds = []
    for i in range(max(len(old["rounds"]), len(new["rounds"]))):
        rnd = dict(old["rounds"][i]) if i < len(old["rounds"]) else {}
        if i < len(new["rounds"]):
            rnd.update(new["rounds"][i])
        rounds.append(rnd)
    measured = sorted({l for r in new["rounds"] for l in r})
    kept = sorted({l for r in rounds for l in r} - set(measured))
    return {"meta": old.get("meta") or new["meta"], "rounds": rounds, "stamp": new["stamp"],
            "updated": {"measured": measured, "kept": kept, "kept_stamp": old.get("stamp", old_stamp)}}


def write_all(results, args, command):
    write_section(args.doc, section(results, args, command))
    vi = REPO / "docs" / "vector-indexes.md"
    write_section(vi, summary_section(results, command), SUM_BEGIN, SUM_END, "## Measured")
    log(f"wrote {args.doc} and {vi} ({', '.join(results)})")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        ap = argparse.ArgumentParser()
        ap.add_argument("system")
        ap.add_argument("--dir", type=Path, required=True)
        ap.add_argument("--mode", default="hnsw")
        ap.add_argument("--nlist", type=int, default=0)
        a = ap.parse_args(sys.argv[2:])
        worker(a.system, a.dir, a.mode, a.nlist)
    else:
        main()
