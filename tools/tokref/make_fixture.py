#!/usr/bin/env python3
"""Build tokenizer parity fixtures with the Hugging Face `tokenizers` package.

For each model it loads <models>/<name>/tokenizer.json (as laid out by
`make models` / internal/models/hub), encodes a fixed, seeded sample of
strings and writes internal/models/tokenizer/testdata/fixture_<name>.jsonl.gz.
Each line: {"text", ["pair"], ["max_len"], "ids", "type_ids", "offsets"}
where offsets are character (code point) offsets as the Python binding
reports them. Padding and the file's own truncation are disabled.

Usage (venv: ${QUARRY_HOME:-~/.cache/quarry}/venv-tok with `tokenizers`):
    python tools/tokref/make_fixture.py [--models DIR] [--datasets DIR] [name ...]
"""
import argparse
import gzip
import json
import os
import random
import sys

import tokenizers
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(REPO, "internal", "models", "tokenizer", "testdata")
LANGS = ["ar", "de", "en", "es", "hi", "ru", "zh"]
DEFAULT_MODELS = ["all-MiniLM-L6-v2", "multilingual-e5-small"]

CODE = [
    "func (t *Tokenizer) Encode(text string) Encoding {\n\treturn t.EncodeWith(text, nil)\n}",
    "def fib(n):\n    return n if n < 2 else fib(n-1) + fib(n-2)\n",
    "SELECT id, name FROM users WHERE email LIKE '%@example.com' ORDER BY id DESC LIMIT 10;",
    "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }",
    "const x = arr.map((v, i) => v * i).filter(Boolean); // => [1, 4, 9]",
    "fn main() { let v: Vec<u8> = (0..=255).collect(); println!(\"{:?}\", &v[..4]); }",
    "<div class=\"card\"><a href=\"https://example.org/a?b=1&c=2#frag\">link</a></div>",
    "{\"key\": [1, 2.5e-3, null, true], \"nested\": {\"a\\u00e9\": \"\\n\"}}",
    "curl -sSL -X POST -H 'Content-Type: application/json' localhost:8080/v1/embed -d @body.json",
    "$ git log --oneline | head -n 3 && echo $?",
    "x += y**2 // 3 % 7; a <<= 1; b >>>= 2; c ^= ~d; e &&= f || g ?? h",
    "    indented\tline\twith\ttabs    and trailing spaces    ",
    "CamelCaseIdentifier snake_case_identifier kebab-case-identifier SCREAMING_CASE",
    "0xDEADBEEF 0b1010 1_000_000 3.14159 6.022e23 -0.0 NaN +Inf",
    "C:\\Users\\name\\Documents\\file (1).txt /usr/local/bin/go ~/.cache/quarry",
    "regex: ^(?P<user>[a-z0-9._%+-]+)@(?P<host>[a-z0-9.-]+\\.[a-z]{2,})$",
    "@decorator\nclass Foo(Bar, metaclass=Meta):\n    __slots__ = ('a',)\n",
    "std::vector<std::pair<int, std::string>> v{{1, \"one\"}};",
    "<?php echo htmlspecialchars($_GET['q'] ?? '', ENT_QUOTES); ?>",
    "λx. x → ∀y ∈ ℕ: y ≥ 0 ∧ ¬(y < 0) ⇒ ⊤",
]

EMOJI = [
    "👍", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇩🇪🇯🇵", "❤️", "🙂 hello 🙃", "I ❤ NY",
    "family: 👩‍👩‍👦 done", "😀😃😄😁😆😅😂🤣", "🥲🫠🫶 new emoji", "⌚⌛⏩", "*️⃣ #️⃣ 1️⃣",
    "🧑🏿‍🚀 astronaut", "text\u200dwith\u200cjoiners", "emoji at end 🎉",
]

COMBINING = [
    "e\u0301 vs \u00e9", "A\u030a\u0301", "n\u0303o\u0308", "Ａ\u0301ＢＣ", "ﬁﬂ ﬃ",
    "①②③ ⅷ ㍿ ㈱", "Ｈｅｌｌｏ　Ｗｏｒｌｄ", "ǅungla Ǆ ǆ", "İstanbul ıi", "ΣΑΣ σας ς",
    "Straße STRASSE ß ẞ", "ḱ̷̛̝̱͓ẹ̷̊ỵ̷̈", "Zalgo: ẗ̸̢̛͇͔́h̴̛͖̳ë̷́͜", "\u0915\u094d\u200d\u0937",
    "क़ क़", "한국어 한국어", "ｶﾀｶﾅ ｶﾞ", "½ ¾ ⅓ x² H₂O", "…—–‘’“”«»", "™ © ® ℃ ℉ Å",
    "Ǎǎ Ǒǒ Ǔǔ", "ﷺ ﷽", "\u1100\u1161\u11a8", "\u00a0nbsp\u00a0", "x\u0300\u0301\u0302\u0303\u0304y",
]

CONTROL = [
    "a\x00b", "tab\tnew\nline\rcr", "\x01\x02\x03 ctl", "bell\x07 esc\x1b[31mred\x1b[0m",
    "del\x7f", "nel\x85 x", "\x0b\x0c vt ff", "zero\u200bwidth", "bom\ufeffmark",
    "rtl\u202eevil\u202c", "\ufffd replacement", "soft\u00adhyphen", "line\u2028sep\u2029para",
    "lrm\u200e rlm\u200f", "private \ue000\uf8ff", "\U000e0041 tag", "\u2060word\u2060joiner",
    "ctl at end\x1f", "\x00", "\t", "\r\n",
]

WHITESPACE = ["", " ", "  ", "\t", "\n", "\n\n\n", " \t \n ", "\u3000", "\u00a0", "\u2003\u2009",
              "   leading", "trailing   ", "a    b", " a  b  c "]

MIXED = [
    "Hello мир 世界 مرحبا नमस्ते ¡Hola! Grüß Gott",
    "BERT und XLM-R: 语言模型 (language models) — версия 2.0",
    "The price is ¥1,234 or €9.99 or $5 (≈ ₹400).",
    "日本語とEnglishのmixed文章です。Ｑ＆Ａ",
    "العربية English हिन्दी 中文 русский Español Deutsch",
    "[CLS] literal special [SEP] tokens <s> and </s> <mask> <unk> [MASK]",
    "email@example.com http://x.y/z?q=1 #hashtag @mention",
    "Ünïcödé ÀÉÎÕÜ àéîõü çÇ ñÑ øØ åÅ æÆ œŒ",
    "I'm can't won't y'all 'quoted' \"double\"",
    "ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ",
]


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def text_of(rec):
    t = rec.get("text", "")
    if rec.get("title"):
        t = rec["title"] + ". " + t
    return t


def strings(datasets, rng):
    out = []
    for lang in LANGS:
        d = os.path.join(datasets, "xquad", lang)
        corpus = read_jsonl(os.path.join(d, "corpus.jsonl"))
        queries = read_jsonl(os.path.join(d, "queries.jsonl"))
        out += [text_of(r) for r in rng.sample(corpus, 60)]
        out += [r["text"] for r in rng.sample(queries, 60)]
    sf = os.path.join(datasets, "beir", "scifact", "corpus.jsonl")
    sents = []
    for r in read_jsonl(sf)[:2000]:
        sents += [s.strip() for s in r.get("text", "").split(". ") if s.strip()]
    out += rng.sample(sents, 120)
    out += CODE + EMOJI + COMBINING + CONTROL + WHITESPACE + MIXED
    # Very long texts (> 10k characters): concatenated paragraphs per language.
    for lang in LANGS:
        corpus = read_jsonl(os.path.join(datasets, "xquad", lang, "corpus.jsonl"))
        buf = ""
        for r in rng.sample(corpus, 40):
            buf += text_of(r) + "\n\n"
            if len(buf) > 10500:
                break
        out.append(buf)
    out.append("word " * 2500)
    out.append("a" * 12000)
    out.append("🙂" * 3000)
    out.append("supercalifragilisticexpialidocious" * 5)  # > 100 chars, one word
    # Random mixes of the above and random code points.
    pool = CODE + EMOJI + COMBINING + CONTROL + MIXED
    for _ in range(40):
        out.append(" ".join(rng.choice(pool) for _ in range(rng.randint(2, 5))))
    for _ in range(40):
        cps = []
        for _ in range(rng.randint(1, 30)):
            c = rng.choice([rng.randint(0x20, 0x7e), rng.randint(0x80, 0x2fff), rng.randint(0x3000, 0xd7ff),
                            rng.randint(0xe000, 0xffff), rng.randint(0x10000, 0x10ffff), rng.randint(0, 0x1f)])
            cps.append(chr(c))
        out.append("".join(cps))
    return out


def encode(tok, text, pair=None, max_len=0):
    if max_len:
        tok.enable_truncation(max_length=max_len)
    else:
        tok.no_truncation()
    enc = tok.encode(text, pair) if pair is not None else tok.encode(text)
    rec = {"text": text}
    if pair is not None:
        rec["pair"] = pair
    if max_len:
        rec["max_len"] = max_len
    rec["ids"] = enc.ids
    rec["type_ids"] = enc.type_ids
    rec["offsets"] = [list(o) for o in enc.offsets]
    return rec


def main():
    home = os.environ.get("QUARRY_HOME", os.path.expanduser("~/.cache/quarry"))
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=os.path.join(home, "models"))
    ap.add_argument("--datasets", default=os.environ.get(
        "QUARRY_DATASETS", os.path.join(REPO, "..", "shared", "datasets")))
    ap.add_argument("names", nargs="*", default=DEFAULT_MODELS)
    args = ap.parse_args()
    for name in args.names:
        path = os.path.join(args.models, name, "tokenizer.json")
        if not os.path.exists(path):
            print(f"skip {name}: {path} missing (run `make models`)", file=sys.stderr)
            continue
        tok = Tokenizer.from_file(path)
        tok.no_padding()
        rng = random.Random(20240601)
        texts = strings(args.datasets, rng)
        recs = [encode(tok, t) for t in texts]
        # Truncation (single and pair) and pairs (cross-encoder input).
        for t in texts[:400:4]:
            recs.append(encode(tok, t, max_len=rng.choice([1, 2, 3, 8, 16, 64, 128, 512])))
        for i in range(0, 240, 2):
            a, b = texts[i], texts[(i * 7 + 5) % len(texts)]
            recs.append(encode(tok, a, pair=b, max_len=rng.choice([0, 0, 16, 64, 256])))
        os.makedirs(OUT, exist_ok=True)
        out = os.path.join(OUT, f"fixture_{name}.jsonl.gz")
        with gzip.GzipFile(out, "wb", mtime=0) as f:
            header = {"tokenizers_version": tokenizers.__version__, "model": name, "count": len(recs)}
            f.write((json.dumps(header, ensure_ascii=False) + "\n").encode())
            for r in recs:
                f.write((json.dumps(r, ensure_ascii=False) + "\n").encode())
        print(f"{name}: {len(recs)} records -> {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
