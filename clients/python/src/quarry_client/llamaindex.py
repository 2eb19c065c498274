"""A LlamaIndex retriever over a Quarry collection (llama-index-core).

    from quarry_client.llamaindex import QuarryRetriever
    retriever = QuarryRetriever(base_url="http://127.0.0.1:8080", collection="docs", k=5)
    nodes = retriever.retrieve("How does granite form?")
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from ._client import AsyncClient, Client
from .types import Hit


def _node(h: Hit) -> NodeWithScore:
    node = TextNode(id_=h["chunk_id"], text=h["text"], metadata={
        "doc_id": h["doc_id"], "title": h["title"], "section": h["section"], "start": h["start"], "end": h["end"]})
    return NodeWithScore(node=node, score=h["score"])


class QuarryRetriever(BaseRetriever):
    """Retrieves chunks of a Quarry collection with its search API."""

    def __init__(self, base_url: str = "http://127.0.0.1:8080", collection: str = "default", k: int = 5,
                 mode: Optional[str] = None, filter: Optional[Dict[str, Any]] = None, tenant: Optional[str] = None,
                 api_key: Optional[str] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._base_url, self._collection, self._api_key = base_url, collection, api_key
        self._args = {"k": k, "mode": mode, "filter": filter, "tenant": tenant}

    def _retrieve(self, query_bundle: QueryBundle) -> List[NodeWithScore]:
        with Client(self._base_url, api_key=self._api_key) as c:
            res = c.search(self._collection, query_bundle.query_str, **self._args)
        return [_node(h) for h in res["results"]]

    async def _aretrieve(self, query_bundle: QueryBundle) -> List[NodeWithScore]:
        async with AsyncClient(self._base_url, api_key=self._api_key) as c:
            res = await c.search(self._collection, query_bundle.query_str, **self._args)
        return [_node(h) for h in res["results"]]
