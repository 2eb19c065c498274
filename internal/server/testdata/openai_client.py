"""Drives a Quarry server through the official OpenAI Python SDK.

Usage: openai_client.py BASE_URL MODEL QUESTION
Prints one JSON object with what the SDK saw; the Go test
(TestOpenAIPythonSDK) asserts on it.
"""
import json
import sys

import openai

base_url, model, question = sys.argv[1], sys.argv[2], sys.argv[3]
client = openai.OpenAI(base_url=base_url, api_key="sk-anything", max_retries=0, timeout=600)
out = {"sdk_version": openai.__version__}

out["models"] = sorted(m.id for m in client.models.list())
out["retrieved_model"] = client.models.retrieve(model).id

messages = [{"role": "user", "content": question}]
r = client.chat.completions.create(model=model, messages=messages, temperature=0, seed=1, max_tokens=32)
msg = r.choices[0].message
out["nonstream"] = {
    "object": r.object,
    "id": r.id,
    "model": r.model,
    "role": msg.role,
    "content": msg.content,
    "finish_reason": r.choices[0].finish_reason,
    "citations": (msg.model_extra or {}).get("citations"),
    "usage": r.usage.model_dump() if r.usage else None,
    "method": ((r.model_extra or {}).get("quarry") or {}).get("method"),
}

stream = client.chat.completions.create(
    model=model, messages=messages, temperature=0, seed=1, max_tokens=32, top_p=1,
    stop=["\n\n\n"], stream=True, stream_options={"include_usage": True},
)
s = {"chunks": 0, "content": "", "roles": [], "finish_reasons": [], "citations": None, "usage": None, "ids": set()}
for chunk in stream:
    s["chunks"] += 1
    s["ids"].add(chunk.id)
    assert chunk.object == "chat.completion.chunk", chunk.object
    if chunk.choices:
        c = chunk.choices[0]
        if c.delta.role:
            s["roles"].append(c.delta.role)
        if c.delta.content:
            s["content"] += c.delta.content
        if c.finish_reason:
            s["finish_reasons"].append(c.finish_reason)
            s["citations"] = (chunk.model_extra or {}).get("citations")
    if chunk.usage:
        s["usage"] = chunk.usage.model_dump()
s["ids"] = len(s["ids"])
out["stream"] = s

# A conversation: earlier turns are history. Greedy and seeded like the
# calls above: a sampled reply of a small model can be empty.
r = client.chat.completions.create(model=model, temperature=0, seed=1, max_tokens=32, messages=[
    {"role": "system", "content": "Answer from the sources."},
    {"role": "user", "content": "Tell me about rocks."},
    {"role": "assistant", "content": "Which rock?"},
    {"role": "user", "content": question},
])
out["conversation"] = {"content": r.choices[0].message.content}

def error_of(fn):
    try:
        fn()
    except openai.APIStatusError as e:
        return {"class": type(e).__name__, "status": e.status_code, "code": e.code, "param": e.param, "type": e.type, "message": e.message}
    return None

out["unknown_model"] = error_of(lambda: client.chat.completions.create(model="no-such-collection", messages=messages))
out["bad_temperature"] = error_of(lambda: client.chat.completions.create(model=model, messages=messages, temperature=5))
out["no_user_message"] = error_of(lambda: client.chat.completions.create(model=model, messages=[{"role": "system", "content": "hi"}]))

print(json.dumps(out))
