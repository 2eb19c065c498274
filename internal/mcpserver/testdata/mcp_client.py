"""Drive Quarry's MCP server with the official Python `mcp` client.

Usage: mcp_client.py stdio CMD [ARG...]   (a server command speaking stdio)
       mcp_client.py http URL TENANT      (streamable HTTP; TENANT goes in X-Test-Tenant)

Lists the tools, calls each one (valid arguments), makes refused calls, reads
the resources, and prints one JSON report on stdout.
"""
import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamablehttp_client

VALID = {
    "list_collections": {},
    "search": {"query": "deletes chunks"},
    "get_document": {"id": "a1"},
    "ask": {"question": "what does deleting remove?"},
    "calculator": {"expression": "6*7"},
    "current_time": {"timezone": "UTC"},
}
INVALID = {
    "k_too_large": ("search", {"query": "x", "k": 500}),
    "missing": ("search", {"k": 3}),
    "extra": ("search", {"query": "x", "limit": 2}),
    "wrong_type": ("search", {"query": 7}),
    "huge": ("calculator", {"expression": "1+" * 5000 + "1"}),
}


def text_of(res):
    return "".join(getattr(c, "text", "") for c in res.content)


async def drive(session):
    report = {}
    await session.initialize()
    tools = await session.list_tools()
    report["tools"] = sorted(t.name for t in tools.tools)
    report["schemas_strict"] = all(
        (t.inputSchema or {}).get("additionalProperties") is False for t in tools.tools
    )
    calls = {}
    for name, args in VALID.items():
        res = await session.call_tool(name, args)
        calls[name] = {"is_error": bool(res.isError), "text": text_of(res)[:2000]}
    report["calls"] = calls
    errors = {}
    for label, (name, args) in INVALID.items():
        res = await session.call_tool(name, args)
        errors[label] = {"is_error": bool(res.isError), "text": text_of(res)[:500]}
    report["errors"] = errors
    try:
        await session.call_tool("web_search", {"query": "x"})
        report["unknown_tool"] = "accepted"
    except Exception as e:  # an MCP protocol error
        report["unknown_tool"] = "error: " + str(e)[:200]
    res = await session.call_tool("search", {"query": "zebra password swordfish"})
    report["secret_search"] = text_of(res)
    resources = await session.list_resources()
    report["resources"] = [str(r.uri) for r in resources.resources]
    templates = await session.list_resource_templates()
    report["templates"] = [t.uriTemplate for t in templates.resourceTemplates]
    try:
        doc = await session.read_resource("quarry://collections/docs/documents/a1")
        report["document"] = doc.contents[0].text
    except Exception as e:  # not found for another tenant
        report["document"] = "error: " + str(e)[:200]
    return report


async def main():
    mode = sys.argv[1]
    if mode == "stdio":
        # The client passes only a minimal environment by default; the
        # server command here needs ours.
        params = StdioServerParameters(command=sys.argv[2], args=sys.argv[3:], env=dict(os.environ))
        async with stdio_client(params) as (r, w):
            async with ClientSession(r, w) as s:
                report = await drive(s)
    else:
        url, tenant = sys.argv[2], sys.argv[3]
        async with streamablehttp_client(url, headers={"X-Test-Tenant": tenant}) as (r, w, _):
            async with ClientSession(r, w) as s:
                report = await drive(s)
    print(json.dumps(report))


asyncio.run(main())
