#!/usr/bin/env python3
"""Extract SentencePiece's built-in nmt_nfkc precompiled charsmap.

internal/models/hub/nmt_nfkc.charsmap.gz was made with sentencepiece==0.1.99
(whose table starts with the same bytes, "ALQCAACEAAAAAACA" in base64, as the
charsmap in XLM-R's tokenizer.json; newer sentencepiece releases ship a
regenerated table):

    python3 -m venv /tmp/spm && /tmp/spm/bin/pip install sentencepiece==0.1.99
    /tmp/spm/bin/python tools/tokref/extract_charsmap.py | gzip -9 -n > internal/models/hub/nmt_nfkc.charsmap.gz

It trains a throwaway 40-piece model with normalization_rule_name=nmt_nfkc
and copies normalizer_spec.precompiled_charsmap out of the model proto
(decoded by hand, so no protobuf package is needed).
"""
import io
import os
import sys
import tempfile

import sentencepiece as spm


def varint(b, i):
    r = s = 0
    while True:
        x = b[i]
        i += 1
        r |= (x & 0x7F) << s
        s += 7
        if x < 0x80:
            return r, i


def fields(b):
    i = 0
    while i < len(b):
        k, i = varint(b, i)
        f, t = k >> 3, k & 7
        if t == 0:
            v, i = varint(b, i)
        elif t == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif t == 5:
            v, i = b[i:i + 4], i + 4
        elif t == 1:
            v, i = b[i:i + 8], i + 8
        else:
            raise ValueError("wire type %d" % t)
        yield f, v


def main():
    with tempfile.TemporaryDirectory() as d:
        corpus = os.path.join(d, "c.txt")
        with open(corpus, "w") as f:
            f.write("\n".join("hello world this is a tiny corpus %d abc def ghi" % i for i in range(200)))
        m = io.BytesIO()
        spm.SentencePieceTrainer.train(input=corpus, model_writer=m, vocab_size=40, model_type="unigram",
                                       normalization_rule_name="nmt_nfkc", minloglevel=2)
    for f, v in fields(m.getvalue()):
        if f == 3:  # normalizer_spec
            for f2, v2 in fields(v):
                if f2 == 2:  # precompiled_charsmap
                    sys.stdout.buffer.write(v2)
                    return
    sys.exit("no charsmap found")


if __name__ == "__main__":
    main()
