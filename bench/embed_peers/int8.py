#!/usr/bin/env python3
"""Issue 19: passages/s of Quarry's encoder in float32 and int8 against ONNX
Runtime in float32 and with onnxruntime.quantization.quantize_dynamic (int8),
all-MiniLM-L6-v2 on the first N BEIR SciFact abstracts, max length 256,
every core, interleaved round after round. Also reports the cosine of each
int8 system's embeddings to its own float32 embeddings.

Run through int8.sh, which owns the venv ($QUARRY_HOME/venv-ort8: onnx,
onnxruntime, tokenizers, safetensors, numpy — no torch) and builds the Go
driver:

    bench/embed_peers/int8.sh [--write] [--rounds N] [--n N] [--threads N]

The float32 ONNX graph is built here from model.safetensors with onnx.helper
(the Hugging Face BertModel graph: embeddings + LayerNormalization, post-LN
layers of MatMul/Add self-attention with an additive mask, Erf GELU), so no
torch is needed; before timing, its embeddings must match Quarry's float32
embeddings (which TestParity ties to sentence-transformers at cosine ≥
0.9999) with min cosine ≥ 0.9999, or the run stops. quantize_dynamic then
writes the int8 model (QInt8 weights, its defaults otherwise).
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402  (load_passages, ORTPeer, QuarryPeer, cpu_model, nproc, cosines)

REPO = peers.REPO
HOME = peers.HOME
BEGIN, END = "<!-- embed_int8:begin -->", "<!-- embed_int8:end -->"
HEADING = "## Issue 19: int8 encoder"
MODEL = peers.MODEL
QF, QI, OF, OI = "Quarry float32", "Quarry int8", "ONNX Runtime float32", "ONNX Runtime int8 (quantize_dynamic)"
SYSTEMS = (QF, QI, OF, OI)
MIN_COSINE = 0.9999
GRAPH_VERSION = "1"


def log(*a):
    print("#", *a, file=sys.stderr, flush=True)


def build_onnx(model_dir, path):
    """The BertModel graph from model.safetensors and config.json, opset 17."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file

    cfg = json.loads((model_dir / "config.json").read_text())
    H, NH, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    hd, eps = H // NH, float(cfg.get("layer_norm_eps", 1e-12))
    w = load_file(str(model_dir / "model.safetensors"))
    w = {k.removeprefix("bert."): v.astype(np.float32) for k, v in w.items() if v.dtype.kind == "f"}
    inits, nodes = [], []

    def init(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(op, ins, out=None, **kw):
        out = out or f"t{len(nodes)}"
        nodes.append(helper.make_node(op, ins, [out], **kw))
        return out

    def linear(x, name):
        wt = init(name + ".wT", w[name + ".weight"].T)  # [in, out]: MatMul's B
        return node("Add", [node("MatMul", [x, wt]), init(name + ".b", w[name + ".bias"])])

    def layernorm(x, name):
        return node("LayerNormalization", [x, init(name + ".g", w[name + ".weight"]), init(name + ".bb", w[name + ".bias"])],
                    axis=-1, epsilon=eps)

    e = "embeddings."
    words = node("Gather", [init("word", w[e + "word_embeddings.weight"]), "input_ids"])
    seq = node("Slice", [node("Shape", ["input_ids"]), init("one", np.array([1], np.int64)),
                         init("two", np.array([2], np.int64))])
    pos = node("Slice", [init("pos", w[e + "position_embeddings.weight"]), init("zero", np.array([0], np.int64)), seq,
                         init("axis0", np.array([0], np.int64))])
    types = node("Gather", [init("type", w[e + "token_type_embeddings.weight"]), "token_type_ids"])
    x = layernorm(node("Add", [node("Add", [words, pos]), types]), e + "LayerNorm")
    maskf = node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    maskb = node("Mul", [node("Sub", [init("fone", np.array(1, np.float32)), maskf]),
                         init("neg", np.array(-1e4, np.float32))])
    maskb = node("Unsqueeze", [maskb, init("ax12", np.array([1, 2], np.int64))])  # [B,1,1,S]
    heads = init("heads", np.array([0, 0, NH, hd], np.int64))
    merged = init("merged", np.array([0, 0, H], np.int64))
    scale = init("scale", np.array(1 / np.sqrt(hd), np.float32))
    for i in range(L):
        p = f"encoder.layer.{i}."
        q = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.query"), heads])], perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.key"), heads])], perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.value"), heads])], perm=[0, 2, 1, 3])
        s = node("Add", [node("Mul", [node("MatMul", [q, k]), scale]), maskb])
        ctx = node("MatMul", [node("Softmax", [s], axis=-1), v])
        ctx = node("Reshape", [node("Transpose", [ctx], perm=[0, 2, 1, 3]), merged])
        x = layernorm(node("Add", [linear(ctx, p + "attention.output.dense"), x]), p + "attention.output.LayerNorm")
        h = linear(x, p + "intermediate.dense")
        g = node("Mul", [node("Mul", [h, init(f"half{i}", np.array(0.5, np.float32))]),
                         node("Add", [node("Erf", [node("Div", [h, init(f"sqrt2_{i}", np.array(np.sqrt(2), np.float32))])]),
                                      init(f"one{i}", np.array(1, np.float32))])])
        x = layernorm(node("Add", [linear(g, p + "output.dense"), x]), p + "output.LayerNorm")
    nodes[-1].output[0] = "last_hidden_state"
    ints = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
            for n in ("input_ids", "attention_mask", "token_type_ids")]
    out = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", H])
    graph = helper.make_graph(nodes, "minilm", ints, [out], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(m, str(path))


def models(model_dir, f32, i8):
    """Builds (or reuses, by a key over the weights' manifest and versions)
    the float32 graph and its quantize_dynamic int8 form."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    manifest = model_dir / "quarry-model.json"
    src = manifest.read_bytes() if manifest.exists() else (model_dir / "model.safetensors").read_bytes()[:1 << 20]
    key = hashlib.sha256(src + f"{metadata.version('onnx')} {metadata.version('onnxruntime')} {GRAPH_VERSION}".encode()).hexdigest()
    stamp = i8.with_suffix(".key")
    if f32.exists() and i8.exists() and stamp.exists() and stamp.read_text() == key:
        return "cached"
    build_onnx(model_dir, f32)
    quantize_dynamic(str(f32), str(i8), weight_type=QuantType.QInt8)
    stamp.write_text(key)
    return "built"


class QuarryRun(peers.QuarryPeer):
    def __init__(self, binary, dataset, n, max_len, threads, calls, quant):
        super().__init__(binary, dataset, n, max_len, threads, "what is a cell?", calls)
        self.cmd += ["-quantization", quant]


def cpu_flags():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                want = ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx_vnni", "amx_int8"]
                return ", ".join(f for f in want if f in have)
    except OSError:
        pass
    return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="replace the marked section of --doc")
    ap.add_argument("--doc", type=Path, default=REPO / "docs" / "benchmarks.md")
    ap.add_argument("--dataset", type=Path, help="BEIR dataset dir (default $QUARRY_DATASETS/beir/scifact)")
    ap.add_argument("--model-dir", type=Path, default=HOME / "models" / MODEL)
    ap.add_argument("--n", type=int, default=256, help="passages (first N of the corpus)")
    ap.add_argument("--max-len", type=int, default=256)
    ap.add_argument("--batch", type=int, default=32, help="ORT batch size")
    ap.add_argument("--threads", type=int, default=0, help="cores per system (default: nproc)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved timed rounds (best is reported)")
    args = ap.parse_args()
    datasets = Path(os.environ.get("QUARRY_DATASETS") or REPO.parent / "shared" / "datasets")
    dataset = args.dataset or datasets / "beir" / "scifact"
    threads = args.threads or peers.nproc()
    binary = os.environ.get("QUARRY_BENCH_BIN")
    if not binary:
        sys.exit("int8: QUARRY_BENCH_BIN is not set (run through bench/embed_peers/int8.sh)")

    texts = peers.load_passages(dataset, args.n)
    f32, i8 = HOME / "bench" / "minilm.hand.onnx", HOME / "bench" / "minilm.hand.int8.onnx"
    log("onnx:", models(args.model_dir, f32, i8), f32, i8)
    ortf = peers.ORTPeer(f32, args.model_dir, args.max_len, threads, args.batch)
    orti = peers.ORTPeer(i8, args.model_dir, args.max_len, threads, args.batch)
    qf = QuarryRun(binary, dataset, args.n, args.max_len, threads, 200, "float32")
    qi = QuarryRun(binary, dataset, args.n, args.max_len, threads, 200, "int8")

    rounds = {s: [] for s in SYSTEMS}
    emb = {}
    with tempfile.TemporaryDirectory() as tmp:
        # Warm-up, untimed: the ORT sessions' first passes, also the parity check.
        emb[OF], emb[OI] = ortf.encode(texts), orti.encode(texts)
        for r in range(args.rounds):
            for name in SYSTEMS:
                if name in (QF, QI):
                    dump = Path(tmp) / "q.f32" if r == 0 else None
                    rep = (qf if name == QF else qi).round(dump)
                    if dump:
                        emb[name] = np.fromfile(dump, dtype="<f4").reshape(args.n, -1)
                        if name == QI:
                            emb["int8_layers"] = rep["int8_layers"]
                            emb["kernels"] = rep["kernels"]
                    pps = rep["passages_per_s"]
                else:
                    t0 = time.perf_counter()
                    (ortf if name == OF else orti).encode(texts)
                    pps = args.n / (time.perf_counter() - t0)
                rounds[name].append(pps)
                log(f"round {r + 1} {name}: {pps:.1f} passages/s")
            if r == 0:
                par = float(peers.cosines(emb[QF], emb[OF]).min())
                log(f"ORT float32 graph vs Quarry float32: min cosine {par:.6f}")
                if par < MIN_COSINE:
                    sys.exit(f"int8: the ONNX graph differs from Quarry float32 (min cosine {par:.6f}); not reporting")
    qcos = peers.cosines(emb[QF], emb[QI])
    ocos = peers.cosines(emb[OF], emb[OI])
    best = {s: max(v) for s, v in rounds.items()}
    go = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.split()
    today = datetime.date.today().isoformat()
    command = os.environ.get("PEERS_COMMAND") or "bench/embed_peers/int8.sh " + shlex.join(sys.argv[1:])
    lines = ["| system | passages/s | vs Quarry float32 | vs ORT int8 | cosine to its float32 (mean / min) |",
             "|:--|--:|--:|--:|--:|"]
    cos = {QI: qcos, OI: ocos}
    for s in SYSTEMS:
        c = f"{cos[s].mean():.5f} / {cos[s].min():.5f}" if s in cos else "—"
        lines.append(f"| {s} | {best[s]:.1f} | {best[s] / best[QF]:.2f}× | {best[s] / best[OI]:.2f}× | {c} |")
    per_round = "; ".join(f"{s}: " + ", ".join(f"{v:.1f}" for v in rounds[s]) for s in SYSTEMS)
    load = os.getloadavg()
    text = "\n".join([
        BEGIN,
        f"### {MODEL}, {args.n} SciFact abstracts, max length {args.max_len}, {threads} threads",
        "",
        f"Measured {today} on {peers.cpu_model()} (flags: {cpu_flags()}), nproc {peers.nproc()}, "
        f"Linux {platform.release()}, {go[2] if len(go) > 2 else ''}, onnxruntime {metadata.version('onnxruntime')}, "
        f"Quarry kernels `{emb['kernels']}`. Command: `{command}`. "
        f"The machine is shared and was loaded (load average at the end {load[0]:.1f} on {peers.nproc()} cores): "
        "absolute figures are low and noisy; the same-run ratios are what to read.",
        f"The four systems ran interleaved for {args.rounds} rounds after an untimed ORT warm-up pass (each "
        "Quarry round is one process: one untimed pass, one timed pass); passages/s is the best round, timed from "
        "raw text to normalised embeddings (tokenization included).",
        "",
        "\n".join(lines),
        "",
        f"- Quarry int8: `transformer.Options{{Quantization: Int8}}`, {emb['int8_layers']} of 24 Linear layers in "
        "int8 (per-channel weights, per-row activations, AVX-512 VNNI kernel), attention/softmax/LayerNorm/GELU float32.",
        f"- ONNX Runtime: the BertModel graph built from model.safetensors with onnx.helper (int8.py; min cosine to "
        f"Quarry float32 {float(peers.cosines(emb[QF], emb[OF]).min()):.6f}), ORT_ENABLE_ALL, "
        f"intra_op_num_threads={threads}, sequential; int8 = `quantize_dynamic(f32, i8, weight_type=QuantType.QInt8)`. "
        f"HF tokenizers, batches of {args.batch} sorted by token length.",
        f"- Passages/s per round: {per_round}.",
        END,
    ])
    print(text)
    if args.write:
        cur = args.doc.read_text()
        b, e = cur.find(BEGIN), cur.find(END)
        if b >= 0 and e > b:
            new = cur[:b] + text + cur[e + len(END):]
        else:
            new = cur.rstrip("\n") + "\n\n" + HEADING + "\n\n" + text + "\n"
        tmpf = args.doc.with_suffix(".md.tmp")
        tmpf.write_text(new)
        tmpf.replace(args.doc)
        log(f"wrote {args.doc}")


if __name__ == "__main__":
    main()
