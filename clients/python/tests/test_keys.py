"""Against a server whose data directory holds API keys: a request without
a key is UnauthenticatedError (401), a read key that tries to create a
collection is ForbiddenError (403), and an admin key may."""
import os
import uuid

import pytest

from quarry_client import Client, ForbiddenError, UnauthenticatedError


@pytest.fixture(scope="module")
def keyed():
    u = os.environ.get("QUARRY_KEYED_URL")
    if not u:
        pytest.fail("QUARRY_KEYED_URL is not set: run the tests through scripts/pysdk.sh")
    return u, os.environ["QUARRY_ADMIN_KEY"], os.environ["QUARRY_READ_KEY"]


def test_no_key_is_unauthenticated(keyed):
    url, _, _ = keyed
    with Client(url) as c, pytest.raises(UnauthenticatedError) as e:
        c.list_collections()
    assert e.value.status == 401 and e.value.code == "unauthenticated"


def test_read_key_cannot_create(keyed):
    url, admin, read = keyed
    name = "k-" + uuid.uuid4().hex[:8]
    with Client(url, api_key=read) as c, pytest.raises(ForbiddenError) as e:
        c.create_collection(name)
    assert e.value.status == 403
    with Client(url, api_key=admin) as a:
        a.create_collection(name)
        try:
            a.upsert(name, [{"id": "d", "text": "Granite forms from magma."}])
            with Client(url, api_key=read) as c:
                hits = c.search(name, "granite")["results"]
                assert [h["doc_id"] for h in hits] == ["d"]
        finally:
            a.delete_collection(name)
