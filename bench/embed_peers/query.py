#!/usr/bin/env python3
"""Issue 18: latency of embedding one 16-token query (batch of 1,
tokenization included) on ONE thread, Quarry against ONNX Runtime, float32
and int8, all-MiniLM-L6-v2, interleaved in one run.

Run through query.sh, which owns the venv ($QUARRY_HOME/venv-ort8, shared
with int8.sh) and builds a private copy of the Go driver:

    bench/embed_peers/query.sh [--write] [--rounds N] [--calls N] [--no-int8]

Systems:
  - Quarry float32 / int8: `quarrybench -serve` (Quarry's tokenizer, then
    transformer.Encoder.Embed of the one sequence), one long-lived process
    each, GOMAXPROCS=1, so the encoder's kernel pool has no workers.
  - ONNX Runtime float32 / int8 (quantize_dynamic): the graph int8.py builds
    from model.safetensors, ORT_ENABLE_ALL, intra_op_num_threads=1,
    inter_op_num_threads=1, sequential; HF tokenizers; mean pooling and L2
    normalisation in numpy (peers.ORTPeer.query).

Protocol: after --warm untimed calls of each system, --rounds rounds; in a
round every system makes --calls timed calls, back to back, and the order of
the systems rotates from round to round, so a burst of load on this shared
machine falls on all of them. Each call is timed inside its own process
(time.perf_counter / time.Now). Reported: p50 and p99 over all timed calls
of a system, the per-round p50s, and ORT p50 / Quarry p50 (≥ 1.0 means
Quarry is at least as fast). Before timing, Quarry's query embedding must
match ONNX Runtime's (float32: cosine ≥ 0.9999) or the run stops.
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import int8  # noqa: E402  (models, cpu_flags)
import peers  # noqa: E402  (ORTPeer, pick_query, cpu_model, nproc, pct)

REPO = peers.REPO
HOME = peers.HOME
MODEL = peers.MODEL
BEGIN, END = "<!-- embed_query:begin -->", "<!-- embed_query:end -->"
HEADING = "## Issue 18: query encoding at ONNX Runtime's speed (single thread)"
QF, QI, OF, OI = "Quarry float32", "Quarry int8", "ONNX Runtime float32", "ONNX Runtime int8 (quantize_dynamic)"
QB = "Quarry float32, --before driver"
MIN_COSINE = 0.9999


def log(*a):
    print("#", *a, file=sys.stderr, flush=True)


class QuarryServe:
    """A long-lived `quarrybench -serve` process on one thread."""

    def __init__(self, binary, query, quant):
        env = dict(os.environ, GOMAXPROCS="1")
        self.p = subprocess.Popen([binary, "-serve", "-query", query, "-quantization", quant], env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.last = None

    def calls(self, n):
        self.p.stdin.write(f"{n}\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            sys.exit(f"query: quarrybench exited ({self.p.wait()})")
        self.last = json.loads(line)
        return self.last["lat_ms"], self.last["cpu_ms"]

    def close(self):
        self.p.stdin.close()
        self.p.wait()


class ORTQuery:
    def __init__(self, onnx_path, model_dir, query):
        self.peer = peers.ORTPeer(onnx_path, model_dir, 256, 1, 1)
        so = self.peer.sess.get_session_options()
        if so.intra_op_num_threads != 1 or so.inter_op_num_threads != 1:
            sys.exit("query: ONNX Runtime session is not single-threaded")
        self.query = query
        self.last = None

    def calls(self, n):
        # intra_op_num_threads=1: ORT computes on this thread, so its CPU
        # clock measures the call (tokenizer, session run and numpy pooling).
        lat, cpu = [], []
        for _ in range(n):
            c0 = time.thread_time_ns()
            t0 = time.perf_counter()
            self.last = self.peer.query(self.query)
            lat.append((time.perf_counter() - t0) * 1e3)
            cpu.append((time.thread_time_ns() - c0) / 1e6)
        return lat, cpu


def cos(a, b):
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="replace (or append) the marked section of --doc")
    ap.add_argument("--doc", type=Path, default=REPO / "docs" / "benchmarks.md")
    ap.add_argument("--dataset", type=Path, help="BEIR dataset dir (default $QUARRY_DATASETS/beir/scifact)")
    ap.add_argument("--model-dir", type=Path, default=HOME / "models" / MODEL)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=200, help="timed calls per system per round")
    ap.add_argument("--warm", type=int, default=50, help="untimed calls per system before round 1")
    ap.add_argument("--query-tokens", type=int, default=16)
    ap.add_argument("--no-int8", action="store_true", help="float32 systems only")
    ap.add_argument("--before", type=Path, help="another quarrybench binary (e.g. built from an older commit), "
                    "run float32 as one more interleaved system")
    args = ap.parse_args()
    if args.rounds < 1 or args.calls < 50:
        sys.exit("query: --rounds must be ≥ 1 and --calls ≥ 50")
    datasets = Path(os.environ.get("QUARRY_DATASETS") or REPO.parent / "shared" / "datasets")
    dataset = args.dataset or datasets / "beir" / "scifact"
    binary = os.environ.get("QUARRY_BENCH_BIN")
    if not binary:
        sys.exit("query: QUARRY_BENCH_BIN is not set (run through bench/embed_peers/query.sh)")

    f32, i8 = HOME / "bench" / "minilm.hand.onnx", HOME / "bench" / "minilm.hand.int8.onnx"
    log("onnx:", int8.models(args.model_dir, f32, i8), f32, i8)
    systems = {}
    systems[OF] = ORTQuery(f32, args.model_dir, None)
    query = peers.pick_query(dataset, systems[OF].peer.tok, args.query_tokens)
    systems[OF].query = query
    systems[QF] = QuarryServe(binary, query, "float32")
    if not args.no_int8:
        systems[OI] = ORTQuery(i8, args.model_dir, query)
        systems[QI] = QuarryServe(binary, query, "int8")
    if args.before:
        systems[QB] = QuarryServe(str(args.before), query, "float32")
    names = list(systems)
    log(f"query ({args.query_tokens} tokens): {query!r}")

    for name in names:
        systems[name].calls(args.warm)
    if systems[QF].last["tokens"] != args.query_tokens:
        sys.exit(f"query: Quarry encodes the query in {systems[QF].last['tokens']} tokens")
    c = cos(systems[QF].last["embedding"], systems[OF].last)
    log(f"cosine Quarry float32 vs ORT float32: {c:.7f}")
    if c < MIN_COSINE:
        sys.exit(f"query: embeddings differ (cosine {c:.7f} < {MIN_COSINE}); not timing")
    cosines = {QF: c}
    if args.before:
        cosines[QB] = cos(systems[QB].last["embedding"], systems[OF].last)
    if not args.no_int8:
        cosines[QI] = cos(systems[QI].last["embedding"], systems[OF].last)
        cosines[OI] = cos(systems[OI].last, systems[OF].last)

    lat = {n: [] for n in names}
    cpu = {n: [] for n in names}
    per_round = {n: [] for n in names}
    for r in range(args.rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            xs, cs = systems[name].calls(args.calls)
            lat[name].extend(xs)
            cpu[name].extend(cs)
            per_round[name].append(peers.pct(xs, 50))
        log(f"round {r + 1}: " + ", ".join(f"{n} p50 {per_round[n][-1]:.3f} ms" for n in names))
    load = os.getloadavg()
    kern = systems[QF].last["kernels"]
    i8layers = systems[QI].last["int8_layers"] if QI in systems else 0
    for s in systems.values():
        if isinstance(s, QuarryServe):
            s.close()

    p50 = {n: peers.pct(lat[n], 50) for n in names}
    p99 = {n: peers.pct(lat[n], 99) for n in names}
    c50 = {n: peers.pct(cpu[n], 50) for n in names}
    peer_of = {QF: OF, QI: OI, OF: OF, OI: OI, QB: OF}
    rows = ["| system | p50 ms | p99 ms | ORT p50 / p50 (same precision) | per-round p50 ms | CPU p50 ms | "
            "ORT CPU / CPU | cosine to ORT float32 |",
            "|:--|--:|--:|--:|--:|--:|--:|--:|"]
    for n in names:
        ratio = p50[peer_of[n]] / p50[n]
        cs = f"{cosines[n]:.6f}" if n in cosines else "—"
        rows.append(f"| {n} | {p50[n]:.3f} | {p99[n]:.3f} | {ratio:.2f}× | "
                    + ", ".join(f"{x:.2f}" for x in per_round[n])
                    + f" | {c50[n]:.3f} | {c50[peer_of[n]] / c50[n]:.2f}× | {cs} |")
    round_ratio = [o / q for o, q in zip(per_round[OF], per_round[QF])]
    before = ""
    if args.before:
        before = (f"- {QB}: `{args.before.name}` (another build, given with --before); "
                  f"per-round p50 ratio before/now: "
                  + ", ".join(f"{b / q:.2f}" for b, q in zip(per_round[QB], per_round[QF])) + ".")
    go = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.split()
    command = os.environ.get("PEERS_COMMAND") or "bench/embed_peers/query.sh " + shlex.join(sys.argv[1:])
    title = f"### {MODEL}, one {args.query_tokens}-token query, batch 1, one thread"
    text = "\n".join([
        BEGIN,
        title,
        "",
        f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {peers.cpu_model()} "
        f"(flags: {int8.cpu_flags()}), nproc {peers.nproc()}, Linux {platform.release()}, "
        f"{go[2] if len(go) > 2 else ''}, onnxruntime {metadata.version('onnxruntime')}, Quarry kernels `{kern}`. "
        f"Command: `{command}`. Load average at the end {load[0]:.1f} on {peers.nproc()} cores (shared machine: "
        "absolute figures are noisy; the same-run ratios are what to read).",
        f"{args.rounds} interleaved rounds of {args.calls} timed calls per system (order rotating), after "
        f"{args.warm} untimed calls each; p50/p99 over all timed calls (wall clock, per call, inside each "
        "process). CPU p50: the median CPU time of the calling thread per call (CLOCK_THREAD_CPUTIME_ID; "
        "Python time.thread_time_ns), which a loaded machine inflates less than latency. "
        f"Query: \"{query}\".",
        "",
        "\n".join(rows),
        "",
        f"- Quarry: `quarrybench -serve`, GOMAXPROCS=1 (no kernel workers); tokenizer + `Encoder.Embed`"
        + (f"; int8: {i8layers} of 24 Linear layers in int8." if QI in systems else "."),
        "- ONNX Runtime: the BertModel graph int8.py builds from model.safetensors (and its "
        "`quantize_dynamic(..., weight_type=QInt8)` form), ORT_ENABLE_ALL, intra_op_num_threads=1, "
        "inter_op_num_threads=1, sequential; HF tokenizers; mean pooling + L2 normalisation in numpy.",
        f"- float32 ratio ORT/Quarry per round: " + ", ".join(f"{x:.2f}" for x in round_ratio) + ".",
    ] + ([before] if before else []) + [
        END,
    ])
    print(text)
    if args.write:
        cur = args.doc.read_text()
        b, e = cur.find(BEGIN), cur.find(END)
        if b >= 0 and e > b:
            new = cur[:b] + text + cur[e + len(END):]
        else:
            new = cur.rstrip("\n") + "\n\n" + (HEADING + "\n\n" if HEADING not in cur else "") + text + "\n"
        tmpf = args.doc.with_suffix(".md.tmp")
        tmpf.write_text(new)
        tmpf.replace(args.doc)
        log(f"wrote {args.doc}")


if __name__ == "__main__":
    main()
