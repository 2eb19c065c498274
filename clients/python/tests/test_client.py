import pytest

from quarry_client import AsyncClient, InvalidArgumentError, NotFoundError, QuarryError, UnsupportedMediaTypeError


def test_search_get_list(client, rocks):
    res = client.search(rocks, "how does granite form", k=2)
    assert res["results"][0]["doc_id"] == "granite"
    assert len(res["results"]) <= 2
    doc = client.get_document(rocks, "basalt", chunks=True)
    assert doc["title"] == "Basalt" and doc["chunks"]
    ids = [d["id"] for d in client.iter_documents(rocks, limit=1)]
    assert ids == ["basalt", "granite", "shale"]
    page = client.list_documents(rocks, filter={"field": "kind", "op": "eq", "value": "sedimentary"}, text=True)
    assert [d["id"] for d in page["documents"]] == ["shale"] and page["documents"][0]["text"].startswith("Shale")
    assert rocks in client.list_collections()


def test_ask_and_stream(client, rocks):
    ans = client.ask(rocks, "How does granite form?")
    assert "magma" in ans["answer"] and ans["citations"]
    events = list(client.ask_stream(rocks, "How does granite form?"))
    types = [e.type for e in events]
    assert types[0] == "retrieval" and types[-1] == "done" and "token" in types
    text = "".join(e.text for e in events if e.type == "token")
    assert text == events[-1].data["answer"] == ans["answer"]


def test_errors_carry_the_server_code(client, rocks):
    with pytest.raises(NotFoundError) as e:
        client.search("no-such-collection", "x")
    assert e.value.code == "not_found" and e.value.status == 404
    with pytest.raises(InvalidArgumentError) as e:
        client.search(rocks, "x", k=-1)
    assert e.value.code == "invalid_argument" and e.value.field == "k"
    with pytest.raises(InvalidArgumentError) as e:
        client.update_settings(rocks, chunking={"size": 10})
    assert e.value.field == "chunking"
    with pytest.raises(QuarryError):
        list(client.ask_stream("no-such-collection", "x"))
    with pytest.raises(TypeError):
        client.search(rocks, "x", colour="red")


def test_upload(client, rocks, tmp_path):
    md = tmp_path / "pumice.md"
    md.write_text("# Pumice\n\nPumice floats on water.")
    res = client.upload(rocks, [md, ("minerals.csv", b"name,hardness\nquartz,7\n"), ("x.png", b"\x89PNG")])
    r = {x["file"]: x for x in res["results"]}
    assert r["pumice.md"]["created"] == 1 and r["minerals.csv"]["documents"] == 1
    assert r["x.png"]["error"]["code"] == "unsupported_media_type"
    assert client.search(rocks, "pumice floats")["results"][0]["doc_id"] == "pumice.md"


def test_settings_and_delete(client, rocks):
    col = client.update_settings(rocks, vector={"ef_search": 99})
    assert col["config"]["vector"]["ef_search"] == 99
    client.delete_collection(rocks)
    with pytest.raises(NotFoundError):
        client.get_collection(rocks)
    client.create_collection(rocks)  # for the fixture's delete


@pytest.mark.asyncio
async def test_async_client(url, rocks):
    async with AsyncClient(url) as c:
        res = await c.search(rocks, "sedimentary mud")
        assert res["results"][0]["doc_id"] == "shale"
        ans = await c.ask(rocks, "What is basalt?")
        assert ans["sources"]
        types = [e.type async for e in c.ask_stream(rocks, "What is basalt?")]
        assert types[0] == "retrieval" and types[-1] == "done"
        with pytest.raises(NotFoundError):
            await c.get_document(rocks, "missing")
