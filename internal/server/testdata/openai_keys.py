"""Drives a Quarry server with API keys through the official OpenAI Python SDK.

Usage: openai_keys.py BASE_URL MODEL QUESTION KEY...
For each key, asks QUESTION (extractive, with a claim to tenant "A" and
principal "alice" in extra_body) and prints one JSON object per key: the
answer and sources, or the error class and status the SDK raised. The Go
test (TestOpenAIPythonSDKKeys) asserts on it.
"""
import json
import sys

import openai

base_url, model, question, keys = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
out = []
for key in keys:
    client = openai.OpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=120)
    try:
        r = client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": question}],
            extra_body={"method": "extractive", "tenant": "A", "principals": ["alice"]},
        )
        out.append({"content": r.choices[0].message.content, "sources": (r.model_extra or {}).get("sources")})
    except openai.APIStatusError as e:
        out.append({"class": type(e).__name__, "status": e.status_code})
print(json.dumps(out))
