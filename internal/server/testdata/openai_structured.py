"""Drives Quarry's decoding parameters, JSON mode and tool calling through
the official openai package.

usage: openai_structured.py BASE_URL MODEL QUESTION (decoding|tools)
  decoding: against the real local model: temperature 0 with a seed twice
            (the answers must agree), a max_tokens cap, JSON mode with a
            schema.
  tools:    against a scripted model (a fake): a tool call, the follow-up
            with the SDK's own message echoed back and the tool's result,
            and a streamed tool call put together from its deltas.
Prints one JSON object; the Go test (TestOpenAIPythonStructured) asserts.
"""
import json
import sys

import openai

base, model, question, mode = sys.argv[1:5]
client = openai.OpenAI(base_url=base, api_key="unused", max_retries=0, timeout=1200)
user = {"role": "user", "content": question}
fresh = {"no_cache": True}  # Quarry's field: every call reaches the model
out = {}


def usage(r):
    return r.usage.completion_tokens if r.usage else None


if mode == "decoding":
    runs = []
    for _ in range(2):
        r = client.chat.completions.create(model=model, messages=[user], temperature=0, seed=7,
                                           max_tokens=6, extra_body=fresh)
        runs.append({"content": r.choices[0].message.content, "finish_reason": r.choices[0].finish_reason,
                     "completion_tokens": usage(r)})
    out["seeded"] = runs
    # JSON mode with a schema the grammar keeps short (a small model left to
    # json_object may write one long string until max_tokens).
    schema = {"type": "object", "properties": {"igneous": {"type": "boolean"}},
              "required": ["igneous"], "additionalProperties": False}
    q = {"role": "user", "content": question + " Is granite an igneous rock?"}
    try:
        r = client.chat.completions.create(
            model=model, messages=[q], temperature=0, seed=7, max_tokens=48, extra_body=fresh,
            response_format={"type": "json_schema", "json_schema": {"name": "rock", "schema": schema}})
        content = r.choices[0].message.content
        try:
            parsed = json.loads(content)
        except ValueError as e:
            parsed = "NOT JSON: %s" % e
        out["json"] = {"content": content, "parsed": parsed}
    except openai.APIStatusError as e:
        out["json"] = {"error": str(e), "status": e.status_code}

elif mode == "tools":
    tools = [{"type": "function", "function": {
        "name": "lookup", "description": "Look a rock up in the catalogue.",
        "parameters": {"type": "object", "properties": {"rock": {"type": "string"}}, "required": ["rock"]}}}]
    r = client.chat.completions.create(model=model, messages=[user], tools=tools, tool_choice="auto")
    msg = r.choices[0].message
    calls = msg.tool_calls or []
    out["call"] = {"finish_reason": r.choices[0].finish_reason, "content": msg.content,
                   "calls": [{"id": c.id, "name": c.function.name, "arguments": c.function.arguments} for c in calls]}
    # The follow-up as applications write it: the SDK's message object
    # appended as it is, then the tool's result.
    messages = [user, msg] + [{"role": "tool", "tool_call_id": c.id, "content": json.dumps({"hardness": 6})} for c in calls]
    r2 = client.chat.completions.create(model=model, messages=messages, tools=tools)
    out["answer"] = {"finish_reason": r2.choices[0].finish_reason, "content": r2.choices[0].message.content}
    # Streamed: the deltas put together as the OpenAI docs show.
    acc, finish = {}, None
    for chunk in client.chat.completions.create(model=model, messages=[user], tools=tools, stream=True):
        for ch in chunk.choices:
            finish = ch.finish_reason or finish
            for d in ch.delta.tool_calls or []:
                a = acc.setdefault(d.index, {"id": "", "name": "", "arguments": ""})
                a["id"] += d.id or ""
                if d.function:
                    a["name"] += d.function.name or ""
                    a["arguments"] += d.function.arguments or ""
    out["stream"] = {"finish_reason": finish, "calls": [acc[i] for i in sorted(acc)]}
print(json.dumps(out))
