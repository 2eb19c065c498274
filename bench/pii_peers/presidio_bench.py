"""Score Microsoft Presidio's analyzer on the generated PII set.

Offline: no spaCy model can be fetched here (spaCy models are not on PyPI
from their publisher), so the NLP engine uses blank spaCy pipelines
(tokenizer only). Presidio's pattern, checksum and phonenumbers-based
recognizers run as usual; context words (which need lemmas) and NER-based
entities do not. Every text is analysed as en, es and it (ES_NIF/ES_NIE
and IT_FISCAL_CODE are registered for es/it) and the results merged.
Usage: presidio_bench.py SET.jsonl
"""
import json
import sys
import time

import spacy
import tldextract
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import SpacyNlpEngine

KIND = {"EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "CREDIT_CARD": "CARD", "IBAN_CODE": "IBAN",
        "IP_ADDRESS": "IP", "US_SSN": "US_SSN", "UK_NINO": "UK_NINO", "ES_NIF": "ES_DNI", "ES_NIE": "ES_DNI",
        "IT_FISCAL_CODE": "IT_CF"}
SHARED = set(KIND.values())
LANGS = ["en", "es", "it"]


class BlankEngine(SpacyNlpEngine):
    def __init__(self):
        self.models = [{"lang_code": l, "model_name": "blank"} for l in LANGS]
        self.ner_model_configuration = None
        self.nlp = {l: spacy.blank(l) for l in LANGS}

    def load(self):
        pass


def main():
    # offline: the e-mail recognizer's tldextract uses its bundled
    # public-suffix snapshot instead of fetching the list
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())
    engine = BlankEngine()
    try:
        from presidio_analyzer.nlp_engine import NerModelConfiguration
        engine.ner_model_configuration = NerModelConfiguration()
    except Exception:
        pass
    registry = RecognizerRegistry(supported_languages=LANGS)
    registry.load_predefined_recognizers(languages=LANGS, nlp_engine=engine)
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=LANGS)
    counts = {"all": [0, 0, 0], "shared": [0, 0, 0]}
    lat = []
    n = 0
    for line in open(sys.argv[1], encoding="utf-8"):
        ex = json.loads(line)
        text = ex["text"]
        b = text.encode("utf-8")
        gold = set()
        for e in ex["entities"]:
            s = len(b[:e["start"]].decode("utf-8"))
            en = len(b[:e["end"]].decode("utf-8"))
            gold.add((e["kind"], s, en))
        t0 = time.perf_counter()
        got = set()
        for lang in LANGS:
            for r in analyzer.analyze(text=text, language=lang):
                k = KIND.get(r.entity_type)
                if k:
                    got.add((k, r.start, r.end))
        lat.append((time.perf_counter() - t0) * 1000)
        n += 1
        for g in got:
            for name in counts:
                if name == "shared" and g[0] not in SHARED:
                    continue
                counts[name][0 if g in gold else 1] += 1
        for g in gold:
            for name in counts:
                if name == "shared" and g[0] not in SHARED:
                    continue
                if g not in got:
                    counts[name][2] += 1
    lat.sort()
    out = {"system": "presidio-analyzer (blank spaCy, pattern recognizers)", "n": n, "p50_ms": lat[len(lat) // 2]}
    for name, (tp, fp, fn) in counts.items():
        out[name] = {"precision": tp / max(tp + fp, 1), "recall": tp / max(tp + fn, 1), "tp": tp, "fp": fp, "fn": fn}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
