"""A LangChain retriever over a Quarry collection (langchain-core).

    from quarry_client.langchain import QuarryRetriever
    retriever = QuarryRetriever(base_url="http://127.0.0.1:8080", collection="docs", k=5)
    docs = retriever.invoke("How does granite form?")
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from ._client import AsyncClient, Client
from .types import Hit


def _document(h: Hit) -> Document:
    return Document(page_content=h["text"], id=h["chunk_id"], metadata={
        "doc_id": h["doc_id"], "chunk_id": h["chunk_id"], "score": h["score"], "title": h["title"],
        "section": h["section"], "start": h["start"], "end": h["end"]})


class QuarryRetriever(BaseRetriever):
    """Retrieves chunks of a Quarry collection with its search API."""

    base_url: str = "http://127.0.0.1:8080"
    collection: str = "default"
    k: int = 5
    mode: Optional[str] = None
    filter: Optional[Dict[str, Any]] = None
    tenant: Optional[str] = None
    api_key: Optional[str] = None

    def _search_args(self) -> Dict[str, Any]:
        return {"k": self.k, "mode": self.mode, "filter": self.filter, "tenant": self.tenant}

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> List[Document]:
        with Client(self.base_url, api_key=self.api_key) as c:
            res = c.search(self.collection, query, **self._search_args())
        return [_document(h) for h in res["results"]]

    async def _aget_relevant_documents(self, query: str, *,
                                       run_manager: AsyncCallbackManagerForRetrieverRun) -> List[Document]:
        async with AsyncClient(self.base_url, api_key=self.api_key) as c:
            res = await c.search(self.collection, query, **self._search_args())
        return [_document(h) for h in res["results"]]
