import pytest


def test_langchain_retriever(url, rocks):
    from langchain_core.documents import Document
    from quarry_client.langchain import QuarryRetriever

    r = QuarryRetriever(base_url=url, collection=rocks, k=2)
    docs = r.invoke("how does granite form")
    assert docs and isinstance(docs[0], Document)
    assert docs[0].metadata["doc_id"] == "granite" and "magma" in docs[0].page_content
    assert len(docs) <= 2
    f = QuarryRetriever(base_url=url, collection=rocks, filter={"field": "kind", "op": "eq", "value": "sedimentary"})
    assert [d.metadata["doc_id"] for d in f.invoke("rock")] == ["shale"]


@pytest.mark.asyncio
async def test_langchain_retriever_async(url, rocks):
    from quarry_client.langchain import QuarryRetriever

    docs = await QuarryRetriever(base_url=url, collection=rocks).ainvoke("lava cools quickly")
    assert docs[0].metadata["doc_id"] == "basalt"


def test_llamaindex_retriever(url, rocks):
    from llama_index.core.schema import NodeWithScore
    from quarry_client.llamaindex import QuarryRetriever

    nodes = QuarryRetriever(base_url=url, collection=rocks, k=2).retrieve("how does granite form")
    assert nodes and isinstance(nodes[0], NodeWithScore)
    assert nodes[0].node.metadata["doc_id"] == "granite" and "magma" in nodes[0].node.get_content()
    assert nodes[0].score > 0


@pytest.mark.asyncio
async def test_llamaindex_retriever_async(url, rocks):
    from quarry_client.llamaindex import QuarryRetriever

    nodes = await QuarryRetriever(base_url=url, collection=rocks).aretrieve("compacted mud")
    assert nodes[0].node.metadata["doc_id"] == "shale"
