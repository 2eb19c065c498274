"""Sync and async clients for Quarry's HTTP API (httpx)."""
from __future__ import annotations

import json
import os
from typing import (Any, AsyncIterator, BinaryIO, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence,
                    Tuple, Union)
from urllib.parse import quote

import httpx

from .errors import QuarryError, TransportError, error_from_response
from .types import (AskEvent, AskResponse, Collection, CollectionInfo, DocumentPage, SearchResponse, StoredDocument,
                    UploadResponse, UpsertResponse)

#: Every operation the client calls: name → (method, path). The paths are
#: openapi.json's; tests/test_openapi.py checks each against the server's
#: /openapi.json, so the client cannot drift from the API unnoticed.
OPERATIONS: Dict[str, Tuple[str, str]] = {
    "list_collections": ("GET", "/v1/collections"),
    "create_collection": ("PUT", "/v1/collections/{c}"),
    "get_collection": ("GET", "/v1/collections/{c}"),
    "update_settings": ("PATCH", "/v1/collections/{c}"),
    "delete_collection": ("DELETE", "/v1/collections/{c}"),
    "upsert": ("POST", "/v1/collections/{c}/documents"),
    "list_documents": ("GET", "/v1/collections/{c}/documents"),
    "get_document": ("GET", "/v1/collections/{c}/documents/{id}"),
    "delete_document": ("DELETE", "/v1/collections/{c}/documents/{id}"),
    "search": ("POST", "/v1/collections/{c}/search"),
    "ask": ("POST", "/v1/collections/{c}/ask"),
    "upload": ("POST", "/v1/collections/{c}/files"),
    "export": ("GET", "/v1/collections/{c}/export"),
    "embeddings": ("POST", "/v1/embeddings"),
}

#: The request fields each JSON operation may send (keyword arguments);
#: checked against the request schemas of /openapi.json.
REQUEST_FIELDS: Dict[str, Tuple[str, ...]] = {
    "search": ("query", "k", "mode", "language", "tenant", "principals", "filter", "fusion", "alpha", "rrf_k", "mmr",
               "mmr_depth", "ef", "exact", "no_rerank"),
    "ask": ("question", "k", "mode", "max_sentences", "tenant", "principals", "filter", "stream", "temperature", "top_p",
            "top_k", "seed", "max_tokens", "stop", "repeat_penalty", "method", "model", "history", "rewrite",
            "expansions", "no_cache"),
    "embeddings": ("model", "input", "encoding_format", "dimensions", "user", "input_type"),
}

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)

FileArg = Union[str, "os.PathLike[str]", Tuple[str, Union[bytes, BinaryIO]]]


def _path(op: str, c: Optional[str] = None, id: Optional[str] = None) -> Tuple[str, str]:
    method, p = OPERATIONS[op]
    if c is not None:
        p = p.replace("{c}", quote(c, safe=""))
    if id is not None:
        p = p.replace("{id}", quote(id, safe=""))
    return method, p


def _body(op: str, fields: Mapping[str, Any]) -> Dict[str, Any]:
    allowed = REQUEST_FIELDS[op]
    out = {}
    for k, v in fields.items():
        if v is None:
            continue
        if k not in allowed:
            raise TypeError(f"{op}() got an unexpected keyword argument {k!r}")
        out[k] = v
    return out


def _decode(resp: httpx.Response) -> Any:
    try:
        body = resp.json()
    except ValueError:
        body = {"error": {"code": "http_%d" % resp.status_code, "message": resp.text[:500]}}
    if resp.status_code >= 400:
        raise error_from_response(resp.status_code, body)
    return body


def _files(files: Iterable[FileArg]) -> List[Tuple[str, Tuple[str, Any]]]:
    out = []
    for f in files:
        if isinstance(f, tuple):
            name, content = f
            out.append(("files", (name, content)))
        else:
            p = os.fspath(f)
            out.append(("files", (os.path.basename(p), open(p, "rb"))))
    return out


def _sse_events(lines: Iterator[str]) -> Iterator[AskEvent]:
    event, data = "", []
    for line in lines:
        if line == "":
            if event or data:
                yield _event(event, "\n".join(data))
            event, data = "", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
    if event or data:
        yield _event(event, "\n".join(data))


def _event(event: str, data: str) -> AskEvent:
    payload = json.loads(data) if data else {}
    if event == "error":
        raise error_from_response(int(payload.get("status", 0) or 0), payload)
    return AskEvent(type=event, data=payload)


class Client:
    """A synchronous client. Errors are QuarryError subclasses carrying the
    server's error code; use as a context manager or call close()."""

    def __init__(self, base_url: str = "http://127.0.0.1:8080", *, api_key: Optional[str] = None,
                 timeout: Union[float, httpx.Timeout] = DEFAULT_TIMEOUT, http: Optional[httpx.Client] = None) -> None:
        headers = {"Authorization": "Bearer " + api_key} if api_key else {}
        self._http = http or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, headers=headers)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _call(self, op: str, c: Optional[str] = None, id: Optional[str] = None, **kw: Any) -> Any:
        method, p = _path(op, c, id)
        try:
            resp = self._http.request(method, p, **kw)
        except httpx.HTTPError as e:
            raise TransportError(0, "transport", str(e)) from e
        return _decode(resp)

    # Collections.
    def list_collections(self) -> List[str]:
        return self._call("list_collections")["collections"]

    def create_collection(self, name: str, config: Optional[Mapping[str, Any]] = None) -> Collection:
        return self._call("create_collection", name, json=dict(config or {}))

    def get_collection(self, name: str) -> CollectionInfo:
        return self._call("get_collection", name)

    def update_settings(self, name: str, **settings: Any) -> Collection:
        return self._call("update_settings", name, json=settings)

    def delete_collection(self, name: str) -> None:
        self._call("delete_collection", name)

    # Documents.
    def upsert(self, collection: str, documents: Sequence[Mapping[str, Any]]) -> UpsertResponse:
        return self._call("upsert", collection, json={"documents": list(documents)})

    def get_document(self, collection: str, id: str, *, chunks: bool = False) -> StoredDocument:
        return self._call("get_document", collection, id, params={"chunks": "true"} if chunks else None)

    def delete_document(self, collection: str, id: str) -> None:
        self._call("delete_document", collection, id)

    def list_documents(self, collection: str, *, after: str = "", limit: int = 100, text: bool = False,
                       filter: Optional[Mapping[str, Any]] = None, tenant: Optional[str] = None) -> DocumentPage:
        params: Dict[str, Any] = {"limit": limit}
        if after:
            params["after"] = after
        if text:
            params["text"] = "true"
        if filter:
            params["filter"] = json.dumps(filter)
        if tenant:
            params["tenant"] = tenant
        return self._call("list_documents", collection, params=params)

    def iter_documents(self, collection: str, **kw: Any) -> Iterator[StoredDocument]:
        """Every document, page by page."""
        after = ""
        while True:
            page = self.list_documents(collection, after=after, **kw)
            yield from page["documents"]
            after = page["next"]
            if not after:
                return

    def upload(self, collection: str, files: Iterable[FileArg], *, tenant: Optional[str] = None,
               acl: Sequence[str] = ()) -> UploadResponse:
        """Uploads files (paths or (name, bytes|file) pairs); per-file results."""
        data: Dict[str, Any] = {}
        if tenant:
            data["tenant"] = tenant
        if acl:
            data["acl"] = list(acl)
        parts = _files(files)
        try:
            return self._call("upload", collection, files=parts, data=data)
        finally:
            for _, (_, fh) in parts:
                if hasattr(fh, "close") and not isinstance(fh, (bytes, bytearray)):
                    fh.close()

    # Retrieval and answers.
    def search(self, collection: str, query: str, **kw: Any) -> SearchResponse:
        return self._call("search", collection, json=_body("search", dict(query=query, **kw)))

    def ask(self, collection: str, question: str, **kw: Any) -> AskResponse:
        return self._call("ask", collection, json=_body("ask", dict(question=question, **kw)))

    def ask_stream(self, collection: str, question: str, **kw: Any) -> Iterator[AskEvent]:
        """Streams an answer: events retrieval, token (data["text"]) …,
        citations, done (the whole AskResponse). A failure after the stream
        began raises the server's error."""
        method, p = _path("ask", collection)
        body = _body("ask", dict(question=question, stream=True, **kw))
        try:
            with self._http.stream(method, p, json=body) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    _decode(resp)
                yield from _sse_events(resp.iter_lines())
        except httpx.HTTPError as e:
            raise TransportError(0, "transport", str(e)) from e

    def embeddings(self, model: str, input: Union[str, Sequence[str]], **kw: Any) -> List[List[float]]:
        body = self._call("embeddings", json=_body("embeddings", dict(model=model, input=input, encoding_format="float", **kw)))
        return [d["embedding"] for d in body["data"]]


class AsyncClient:
    """The asynchronous client: the same methods as Client, awaited."""

    def __init__(self, base_url: str = "http://127.0.0.1:8080", *, api_key: Optional[str] = None,
                 timeout: Union[float, httpx.Timeout] = DEFAULT_TIMEOUT,
                 http: Optional[httpx.AsyncClient] = None) -> None:
        headers = {"Authorization": "Bearer " + api_key} if api_key else {}
        self._http = http or httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout, headers=headers)

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, op: str, c: Optional[str] = None, id: Optional[str] = None, **kw: Any) -> Any:
        method, p = _path(op, c, id)
        try:
            resp = await self._http.request(method, p, **kw)
        except httpx.HTTPError as e:
            raise TransportError(0, "transport", str(e)) from e
        return _decode(resp)

    async def list_collections(self) -> List[str]:
        return (await self._call("list_collections"))["collections"]

    async def create_collection(self, name: str, config: Optional[Mapping[str, Any]] = None) -> Collection:
        return await self._call("create_collection", name, json=dict(config or {}))

    async def get_collection(self, name: str) -> CollectionInfo:
        return await self._call("get_collection", name)

    async def delete_collection(self, name: str) -> None:
        await self._call("delete_collection", name)

    async def upsert(self, collection: str, documents: Sequence[Mapping[str, Any]]) -> UpsertResponse:
        return await self._call("upsert", collection, json={"documents": list(documents)})

    async def get_document(self, collection: str, id: str) -> StoredDocument:
        return await self._call("get_document", collection, id)

    async def search(self, collection: str, query: str, **kw: Any) -> SearchResponse:
        return await self._call("search", collection, json=_body("search", dict(query=query, **kw)))

    async def ask(self, collection: str, question: str, **kw: Any) -> AskResponse:
        return await self._call("ask", collection, json=_body("ask", dict(question=question, **kw)))

    async def ask_stream(self, collection: str, question: str, **kw: Any) -> AsyncIterator[AskEvent]:
        method, p = _path("ask", collection)
        body = _body("ask", dict(question=question, stream=True, **kw))
        try:
            async with self._http.stream(method, p, json=body) as resp:
                if resp.status_code >= 400:
                    await resp.aread()
                    _decode(resp)
                buf: List[str] = []
                async for line in resp.aiter_lines():
                    if line == "":
                        for ev in _sse_events(iter(buf + [""])):
                            yield ev
                        buf = []
                    else:
                        buf.append(line)
                for ev in _sse_events(iter(buf)):
                    yield ev
        except httpx.HTTPError as e:
            raise TransportError(0, "transport", str(e)) from e


__all__ = ["Client", "AsyncClient", "OPERATIONS", "REQUEST_FIELDS", "QuarryError"]
