"""Drives Quarry's OpenAI compatibility with the official openai package:
a chat completion carrying the standard fields front-ends send, bad
values, and embeddings (the SDK asks for base64 and decodes it).

usage: openai_compat.py BASE_URL CHAT_MODEL EMBED_MODEL
Prints one JSON object.
"""
import json
import sys

import openai

base, chat_model, embed_model = sys.argv[1:4]
client = openai.OpenAI(base_url=base, api_key="unused", max_retries=0)
out = {}

r = client.chat.completions.create(
    model=chat_model,
    messages=[{"role": "user", "content": "How does granite form?"}],
    frequency_penalty=0.5,
    presence_penalty=-0.5,
    logit_bias={"50256": -100},
    logprobs=True,
    top_logprobs=2,
    metadata={"app": "test"},
    parallel_tool_calls=False,
    store=False,
    user="u1",
    seed=7,
)
out["chat"] = {"content": r.choices[0].message.content, "finish_reason": r.choices[0].finish_reason}


def err(fn):
    try:
        fn()
    except openai.APIStatusError as e:
        body = e.body if isinstance(e.body, dict) else {}
        return {"class": type(e).__name__, "status": e.status_code, "param": body.get("param"), "code": body.get("code")}
    return None


out["bad_penalty"] = err(lambda: client.chat.completions.create(
    model=chat_model, messages=[{"role": "user", "content": "q"}], frequency_penalty=3))
out["bad_format"] = err(lambda: client.chat.completions.create(
    model=chat_model, messages=[{"role": "user", "content": "q"}], response_format={"type": "xml"}))
# JSON mode and tools are enforced, so they need a language model (this
# server has none); a schema and a tool definition are checked first.
out["json_needs_llm"] = err(lambda: client.chat.completions.create(
    model=chat_model, messages=[{"role": "user", "content": "q"}], response_format={"type": "json_object"}))
out["bad_schema"] = err(lambda: client.chat.completions.create(
    model=chat_model, messages=[{"role": "user", "content": "q"}],
    response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "nonsense"}}}))
out["bad_tool"] = err(lambda: client.chat.completions.create(
    model=chat_model, messages=[{"role": "user", "content": "q"}],
    tools=[{"type": "function", "function": {"name": "look up", "parameters": {"type": "object"}}}]))

e = client.embeddings.create(model=embed_model, input=["granite is igneous", "basalt is volcanic"])
out["embeddings"] = {"n": len(e.data), "dim": len(e.data[0].embedding), "first": e.data[0].embedding[:4],
                     "index1": e.data[1].index, "usage": e.usage.prompt_tokens}
f = client.embeddings.create(model=embed_model, input="granite is igneous", encoding_format="float")
out["float_first"] = f.data[0].embedding[:4]
out["bad_model"] = err(lambda: client.embeddings.create(model="/etc/passwd", input="x"))
print(json.dumps(out))
