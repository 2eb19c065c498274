#!/usr/bin/env python3
"""Embedding throughput and query latency of Quarry's pure-Go encoder against
sentence-transformers on PyTorch CPU and ONNX Runtime, side by side in one
run on one machine: all-MiniLM-L6-v2, the first 512 BEIR SciFact abstracts
(title + " " + text), max length 256, every core.

Run through run.sh, which owns the venv, builds the Go driver and unsets
OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for this command only:

    bench/embed_peers/run.sh [--write] [--rounds N] [--queries N]

Protocol (see README.md): each system is warmed up, then the three systems
run interleaved, round after round (sentence-transformers, ONNX Runtime,
Quarry, sentence-transformers, ...), so that the load of this shared machine
falls on all of them alike. A round is one timed pass over the passages
(tokenization included) and --queries timed single-query calls (batch of 1,
tokenization included). The table gives the best pass per system and the
query p50/p99 of the round with the lowest p50.

Environment:
    QUARRY_HOME      cache root (default ~/.cache/quarry): models/, bench/minilm.onnx
    QUARRY_DATASETS  datasets root (default <repo>/../shared/datasets)
    QUARRY_BENCH_BIN the built Go driver (run.sh sets it)
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
HOME = Path(os.environ.get("QUARRY_HOME") or Path.home() / ".cache" / "quarry")
BEGIN, END = "<!-- embed_peers:begin -->", "<!-- embed_peers:end -->"
HEADING = "## Embedding throughput on BEIR SciFact"
MODEL = "all-MiniLM-L6-v2"
ST, ORT, QUARRY = "sentence-transformers (PyTorch CPU)", "ONNX Runtime", "Quarry"
MIN_COSINE = 0.9999
OPSET = 17


def log(*a):
    print("#", *a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- inputs


def load_passages(dataset, n):
    out = []
    with open(dataset / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            out.append((d.get("title") or "") + " " + d["text"])  # BEIR's SentenceBERT wrapper
            if len(out) == n:
                break
    if len(out) < n:
        sys.exit(f"peers: {dataset}/corpus.jsonl has {len(out)} documents, want {n}")
    return out


def pick_query(dataset, tok, want):
    """The first query of queries.jsonl whose encoding has `want` tokens
    (the Go driver picks the same one with its own tokenizer)."""
    with open(dataset / "queries.jsonl", encoding="utf-8") as f:
        for line in f:
            text = json.loads(line)["text"]
            if len(tok.encode(text).ids) == want:
                return text
    sys.exit(f"peers: no {want}-token query in {dataset}/queries.jsonl")


def pct(xs, p):
    return float(np.percentile(np.asarray(xs), p))


def time_queries(fn, query, calls, warm=20):
    for _ in range(warm):
        fn(query)
    lat = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn(query)
        lat.append((time.perf_counter() - t0) * 1e3)
    return pct(lat, 50), pct(lat, 99)


# ---------------------------------------------------------------- peers


class STPeer:
    """sentence-transformers on PyTorch CPU: model.encode, batch 32."""

    def __init__(self, model_dir, max_len, threads, batch):
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self.torch = torch
        self.model = SentenceTransformer(str(model_dir), device="cpu")
        self.model.max_seq_length = max_len
        self.batch = batch
        self.threads = torch.get_num_threads()
        if self.threads != threads:
            sys.exit(f"peers: torch runs {self.threads} threads, asked for {threads}")

    def encode(self, texts):
        with self.torch.inference_mode():
            return self.model.encode(texts, batch_size=self.batch, convert_to_numpy=True, show_progress_bar=False)

    def query(self, q):
        return self.encode([q])


def export_onnx(model_dir, path):
    """torch.onnx.export of the Hugging Face BertModel (TorchScript exporter,
    opset 17, dynamic batch and sequence axes) to `path`, cached by a key of
    the weights' manifest and the versions involved."""
    import torch
    from transformers import AutoModel

    manifest = model_dir / "quarry-model.json"
    src = manifest.read_bytes() if manifest.exists() else (model_dir / "model.safetensors").read_bytes()[:1 << 20]
    key = hashlib.sha256(src + f"{torch.__version__} {metadata.version('transformers')} {OPSET}".encode()).hexdigest()
    stamp = path.with_suffix(".key")
    if path.exists() and stamp.exists() and stamp.read_text() == key:
        return "cached"

    class Wrapper(torch.nn.Module):  # keyword call: BertModel.forward's positional order changed in transformers 5
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state

    model = AutoModel.from_pretrained(str(model_dir)).eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = tuple(torch.ones(2, 16, dtype=torch.long) if n != "token_type_ids" else torch.zeros(2, 16, dtype=torch.long)
                  for n in names)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.onnx")
    import warnings
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Wrapper(model), dummy, str(tmp), input_names=names, output_names=["last_hidden_state"],
                          dynamic_axes={n: {0: "batch", 1: "seq"} for n in names + ["last_hidden_state"]},
                          opset_version=OPSET, dynamo=False)
    tmp.replace(path)
    stamp.write_text(key)
    return "exported"


class ORTPeer:
    """ONNX Runtime CPU on the exported graph; HF tokenizers with the model's
    tokenizer.json; batches of 32 sorted by token length, padded to the
    longest; mean pooling + L2 normalisation in numpy."""

    def __init__(self, onnx_path, model_dir, max_len, threads, batch):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
        self.tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tok.no_padding()
        self.tok.enable_truncation(max_length=max_len)
        self.batch = batch
        self.inputs = {i.name for i in self.sess.get_inputs()}

    def _run(self, ids_list):
        B, T = len(ids_list), max(len(x) for x in ids_list)
        ids = np.zeros((B, T), dtype=np.int64)
        mask = np.zeros((B, T), dtype=np.int64)
        for b, x in enumerate(ids_list):
            ids[b, :len(x)] = x
            mask[b, :len(x)] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.sess.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
        m = mask[:, :, None].astype(np.float32)
        emb = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        return emb / np.clip(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12, None)

    def encode(self, texts):
        ids = [e.ids for e in self.tok.encode_batch(texts)]
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        parts = []
        for s in range(0, len(order), self.batch):
            idx = order[s:s + self.batch]
            parts.append((idx, self._run([ids[i] for i in idx])))
        out = np.empty((len(ids), parts[0][1].shape[1]), dtype=np.float32)
        for idx, emb in parts:
            out[idx] = emb
        return out

    def query(self, q):
        return self._run([self.tok.encode(q).ids])


class QuarryPeer:
    """The Go driver bench/embed_peers/quarrybench, one process per round."""

    def __init__(self, binary, dataset, n, max_len, threads, query, calls):
        self.cmd = [str(binary), "-corpus", str(dataset / "corpus.jsonl"), "-n", str(n), "-maxlen", str(max_len),
                    "-runs", "1", "-warmup", "1", "-queries", str(calls), "-query", query]
        self.env = dict(os.environ, GOMAXPROCS=str(threads))
        self.threads = threads

    def round(self, dump=None):
        cmd = self.cmd + (["-dump", str(dump)] if dump else [])
        p = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"peers: {shlex.join(cmd)} failed:\n{p.stderr}")
        return json.loads(p.stdout)


# ---------------------------------------------------------------- report


def cpu_model():
    try:
        m = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        if m:
            return m.group(1).strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def nproc():
    try:
        return int(subprocess.run(["nproc"], capture_output=True, text=True).stdout)
    except (OSError, ValueError):
        return os.cpu_count()


def versions():
    names = ["torch", "sentence-transformers", "transformers", "tokenizers", "onnxruntime", "onnx", "numpy"]
    out = []
    for n in names:
        try:
            out.append(f"{n} {metadata.version(n)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(out)


def blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl absent"
    parts = []
    for p in threadpool_info():
        arch = p.get("architecture")
        parts.append(f"{p.get('internal_api')} {p.get('version')} ({p.get('user_api')}, {p.get('num_threads')} threads"
                     + (f", {arch} kernels" if arch else "") + f", {Path(p.get('filepath', '')).name})")
    return "; ".join(parts)


def table(best):
    st, ort = best[ST]["pps"], best[ORT]["pps"]
    lines = ["| system | passages/s | vs sentence-transformers | vs ONNX Runtime | query p50 ms | query p99 ms |",
             "|:--|--:|--:|--:|--:|--:|"]
    for name in (QUARRY, ST, ORT):
        r = best[name]
        lines.append(f"| {name} | {r['pps']:.1f} | {r['pps'] / st:.2f}× | {r['pps'] / ort:.2f}× | "
                     f"{r['p50']:.2f} | {r['p99']:.2f} |")
    return "\n".join(lines)


def best_of(rounds):
    """Highest passages/s over the rounds; latency from the round with the lowest p50."""
    fast = max(rounds, key=lambda r: r["pps"])
    lat = min(rounds, key=lambda r: r["p50"])
    return {"pps": fast["pps"], "p50": lat["p50"], "p99": lat["p99"]}


def section(best, rounds, info, command):
    today = datetime.date.today().isoformat()
    q = best[QUARRY]
    goal_t = "met" if q["pps"] >= best[ST]["pps"] and q["pps"] >= 0.5 * best[ORT]["pps"] else "not met"
    goal_l = "met" if q["p50"] < 15 else "not met"
    per_round = "; ".join(f"{name}: " + ", ".join(f"{r['pps']:.1f}" for r in rounds[name]) for name in (QUARRY, ST, ORT))
    return "\n".join([
        BEGIN,
        f"### {MODEL}, {info['n']} SciFact abstracts, max length {info['max_len']}, {info['threads']} threads",
        "",
        f"Measured {today} on {info['cpu']}, nproc {info['nproc']}, Linux {platform.release()}, "
        f"Python {platform.python_version()}, {info['go']}. Command: `{command}`.",
        f"Every system runs on all {info['threads']} cores (torch.set_num_threads({info['threads']}), "
        f"ONNX Runtime intra_op_num_threads={info['threads']}, GOMAXPROCS={info['threads']}). "
        f"The three systems ran interleaved for {info['rounds']} rounds after a warm-up; passages/s is the best "
        f"round, a pass timed from raw text to normalised embeddings (tokenization included). Query latency: one "
        f"{info['qtokens']}-token query embedded alone (batch of 1, tokenization included), {info['calls']} calls "
        "per round; p50/p99 of the round with the lowest p50.",
        "",
        table(best),
        "",
        f"Goals (Quarry ≥ 1.0× sentence-transformers and ≥ 0.5× ONNX Runtime: **{goal_t}**; "
        f"query p50 < 15 ms: **{goal_l}**).",
        "",
        f"- Passages: the first {info['n']} documents of corpus.jsonl, title + \" \" + text; {info['tokens']:,} tokens "
        f"after truncation (HF tokenizers; Quarry's tokenizer: {info['quarry_tokens']:,}). "
        f"Query: \"{info['query']}\".",
        f"- sentence-transformers: `SentenceTransformer(...).encode(batch_size={info['batch']})` on CPU, "
        f"max_seq_length {info['max_len']}, under torch.inference_mode; torch reports {info['torch_threads']} threads.",
        f"- ONNX Runtime: the same weights exported with torch.onnx.export (TorchScript exporter, opset {OPSET}, "
        f"dynamic batch/sequence axes) to `$QUARRY_HOME/bench/minilm.onnx`; ORT_ENABLE_ALL, sequential execution; "
        f"HF tokenizers; batches of {info['batch']} sorted by token length; mean pooling and L2 normalisation in numpy. "
        f"Embeddings checked against sentence-transformers before timing: min cosine {info['ort_cos']:.6f}.",
        f"- Quarry: `bench/embed_peers/quarrybench` (Quarry's tokenizer on GOMAXPROCS goroutines, then "
        f"transformer.Encoder.Embed with its default batching: length-sorted, ≤ {info['q_batch']} sequences and "
        f"≤ {info['q_batch_tokens']} padded tokens per batch); min cosine to sentence-transformers "
        f"{info['quarry_cos']:.6f}.",
        f"- Passages/s per round: {per_round}.",
        f"- Versions: {versions()}. Thread pools in the Python process (threadpoolctl): {info['blas']}.",
        END,
    ])


def write_section(doc, text):
    cur = doc.read_text() if doc.exists() else "# Benchmarks\n"
    b, e = cur.find(BEGIN), cur.find(END)
    if b >= 0 and e > b:
        new = cur[:b] + text + cur[e + len(END):]
    else:
        new = cur.rstrip("\n") + "\n\n" + HEADING + "\n\n" + text + "\n"
    tmp = doc.with_suffix(doc.suffix + ".tmp")
    tmp.write_text(new)
    tmp.replace(doc)


def cosines(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="replace the marked section of --doc")
    ap.add_argument("--doc", type=Path, default=REPO / "docs" / "benchmarks.md")
    ap.add_argument("--dataset", type=Path, help="BEIR dataset dir (default $QUARRY_DATASETS/beir/scifact)")
    ap.add_argument("--model-dir", type=Path, default=HOME / "models" / MODEL)
    ap.add_argument("--n", type=int, default=512, help="passages (first N of the corpus)")
    ap.add_argument("--max-len", type=int, default=256)
    ap.add_argument("--batch", type=int, default=32, help="sentence-transformers / ORT batch size")
    ap.add_argument("--threads", type=int, default=0, help="cores per system (default: nproc)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved timed rounds (best is reported)")
    ap.add_argument("--queries", type=int, default=200, help="timed single-query calls per round")
    ap.add_argument("--query-tokens", type=int, default=16)
    args = ap.parse_args()
    if args.queries < 200 or args.rounds < 1:
        sys.exit("peers: --queries must be ≥ 200 and --rounds ≥ 1")

    datasets = Path(os.environ.get("QUARRY_DATASETS") or REPO.parent / "shared" / "datasets")
    dataset = args.dataset or datasets / "beir" / "scifact"
    threads = args.threads or nproc()
    binary = os.environ.get("QUARRY_BENCH_BIN")
    if not binary:
        sys.exit("peers: QUARRY_BENCH_BIN is not set (run through bench/embed_peers/run.sh)")
    if not (args.model_dir / "tokenizer.json").exists():
        sys.exit(f"peers: {args.model_dir} has no model (go run ./internal/models/hub/internal/pullcmd {MODEL})")

    texts = load_passages(dataset, args.n)
    log(f"{len(texts)} passages, {threads} threads")

    st = STPeer(args.model_dir, args.max_len, threads, args.batch)
    onnx_path = HOME / "bench" / "minilm.onnx"
    log("onnx:", export_onnx(args.model_dir, onnx_path), onnx_path)
    ort = ORTPeer(onnx_path, args.model_dir, args.max_len, threads, args.batch)
    query = pick_query(dataset, ort.tok, args.query_tokens)
    hf_tokens = sum(len(e.ids) for e in ort.tok.encode_batch(texts))

    # Warm-up and parity (untimed): full passes of both Python peers.
    ref = st.encode(texts)
    ort_cos = float(cosines(ref, ort.encode(texts)).min())
    log(f"ORT vs sentence-transformers: min cosine {ort_cos:.6f}")
    if ort_cos < MIN_COSINE:
        sys.exit(f"peers: ONNX Runtime embeddings differ from sentence-transformers (min cosine {ort_cos:.6f} "
                 f"< {MIN_COSINE}); not timing")
    qcos = float(cosines(st.query(query), ort.query(query))[0])
    if qcos < MIN_COSINE:
        sys.exit(f"peers: ORT query embedding differs (cosine {qcos:.6f})")

    quarry = QuarryPeer(binary, dataset, args.n, args.max_len, threads, query, args.queries)
    peers = {
        ST: lambda: st.encode(texts),
        ORT: lambda: ort.encode(texts),
    }
    rounds = {ST: [], ORT: [], QUARRY: []}
    qinfo = None
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "quarry.f32"
        for r in range(args.rounds):
            for name in (ST, ORT, QUARRY):
                if name == QUARRY:
                    rep = quarry.round(dump if r == 0 else None)
                    if r == 0:
                        qinfo = rep
                        vecs = np.fromfile(dump, dtype="<f4").reshape(args.n, -1)
                        qinfo["cos"] = float(cosines(ref, vecs).min())
                        if rep["query_tokens"] != args.query_tokens:
                            sys.exit(f"peers: Quarry encodes the query in {rep['query_tokens']} tokens, "
                                     f"want {args.query_tokens}")
                    res = {"pps": rep["passages_per_s"], "p50": rep["query_p50_ms"], "p99": rep["query_p99_ms"]}
                else:
                    t0 = time.perf_counter()
                    peers[name]()
                    sec = time.perf_counter() - t0
                    p50, p99 = time_queries((st if name == ST else ort).query, query, args.queries)
                    res = {"pps": args.n / sec, "p50": p50, "p99": p99}
                rounds[name].append(res)
                log(f"round {r + 1} {name}: {res['pps']:.1f} passages/s, query p50 {res['p50']:.2f} ms, "
                    f"p99 {res['p99']:.2f} ms")
    if qinfo["cos"] < MIN_COSINE:
        log(f"WARNING: Quarry embeddings differ from sentence-transformers: min cosine {qinfo['cos']:.6f}")

    best = {name: best_of(rs) for name, rs in rounds.items()}
    go = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.split()
    info = dict(n=args.n, max_len=args.max_len, threads=threads, rounds=args.rounds, qtokens=args.query_tokens,
                calls=args.queries, cpu=cpu_model(), nproc=nproc(), go=go[2] if len(go) > 2 else qinfo["go_version"],
                tokens=hf_tokens, quarry_tokens=qinfo["tokens"], query=query, batch=args.batch,
                torch_threads=st.threads, ort_cos=ort_cos, quarry_cos=qinfo["cos"], q_batch=qinfo["batch_size"],
                q_batch_tokens=qinfo["max_batch_tokens"], blas=blas_info())
    command = os.environ.get("PEERS_COMMAND") or "bench/embed_peers/run.sh " + shlex.join(sys.argv[1:])
    text = section(best, rounds, info, command)
    print(text)
    if args.write:
        write_section(args.doc, text)
        log(f"wrote {args.doc}")


if __name__ == "__main__":
    main()
