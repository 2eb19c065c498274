"""Scores the samples Go wrote with the reference implementations.

Reads a JSON list of samples on stdin and prints one JSON object per sample:
RAGAS 0.4's non-LLM metrics (NonLLMStringSimilarity, NonLLMContextPrecisionWithReference,
NonLLMContextRecall, all with their defaults), and exact match / F1 from the
official SQuAD v1.1 evaluation script (evaluate-v1.1.py), restated below
because it is not a package.
"""
import asyncio
import collections
import json
import re
import string
import sys

import ragas
from ragas.dataset_schema import SingleTurnSample
from ragas.metrics import NonLLMContextPrecisionWithReference, NonLLMContextRecall, NonLLMStringSimilarity


# --- SQuAD v1.1 evaluate-v1.1.py ---
def normalize_answer(s):
    def remove_articles(text):
        return re.sub(r'\b(a|an|the)\b', ' ', text)

    def white_space_fix(text):
        return ' '.join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def f1_score(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = collections.Counter(prediction_tokens) & collections.Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def exact_match_score(prediction, ground_truth):
    return normalize_answer(prediction) == normalize_answer(ground_truth)


def metric_max_over_ground_truths(metric_fn, prediction, ground_truths):
    return max(metric_fn(prediction, gt) for gt in ground_truths)
# --- end SQuAD ---


async def main():
    samples = json.load(sys.stdin)
    sim = NonLLMStringSimilarity()
    cp = NonLLMContextPrecisionWithReference()
    cr = NonLLMContextRecall()
    out = []
    for s in samples:
        ts = SingleTurnSample(retrieved_contexts=s["retrieved"], reference_contexts=s["reference"])
        pair = SingleTurnSample(reference=s["retrieved"][0], response=s["reference"][0])
        out.append({
            "similarity": await sim.single_turn_ascore(pair),
            "context_precision": await cp.single_turn_ascore(ts),
            "context_recall": await cr.single_turn_ascore(ts),
            "exact_match": float(metric_max_over_ground_truths(exact_match_score, s["prediction"], s["golds"])),
            "f1": float(metric_max_over_ground_truths(f1_score, s["prediction"], s["golds"])),
        })
    json.dump({"ragas_version": ragas.__version__, "scores": out}, sys.stdout)


asyncio.run(main())
