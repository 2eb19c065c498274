"""Typed shapes of the API's JSON (openapi.json's schemas), as TypedDicts."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

if sys.version_info >= (3, 11):
    from typing import NotRequired, TypedDict
else:  # pragma: no cover
    from typing_extensions import NotRequired, TypedDict


class Hit(TypedDict):
    doc_id: str
    chunk_id: str
    score: float
    text: str
    title: str
    section: str
    start: int
    end: int


class SearchResponse(TypedDict):
    results: List[Hit]
    mode: str
    took_ms: float


class Citation(TypedDict, total=False):
    n: int
    doc_id: str
    chunk_id: str
    text: str


class AskResponse(TypedDict):
    answer: str
    citations: List[Citation]
    sources: List[Hit]
    method: str
    took_ms: float
    grounded: bool
    abstained: bool
    timings: Dict[str, float]
    model: NotRequired[str]
    finish_reason: NotRequired[str]


class UpsertResult(TypedDict):
    id: str
    status: str
    version: int
    chunks: int


class UpsertResponse(TypedDict):
    results: List[UpsertResult]


class StoredDocument(TypedDict):
    id: str
    title: str
    text: str
    source: str
    language: str
    tenant: str
    acl: List[str]
    metadata: Dict[str, Any]
    hash: str
    version: int
    created: str
    updated: str
    chunks: NotRequired[List[Dict[str, Any]]]


class DocumentPage(TypedDict):
    documents: List[StoredDocument]
    next: str


class Collection(TypedDict):
    name: str
    config: Dict[str, Any]
    created: bool


class CollectionInfo(TypedDict):
    name: str
    config: Dict[str, Any]
    stats: Dict[str, Any]


class FileResult(TypedDict):
    file: str
    documents: int
    created: int
    updated: int
    unchanged: int
    chunks: int
    error: NotRequired[Dict[str, str]]


class UploadResponse(TypedDict):
    results: List[FileResult]
    error: NotRequired[Dict[str, str]]


@dataclass
class AskEvent:
    """One event of a streamed answer: type is retrieval, token, citations
    or done; data is its JSON (token: {"text": ...}; done: AskResponse)."""
    type: str
    data: Dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> Optional[str]:
        return self.data.get("text") if self.type == "token" else None
