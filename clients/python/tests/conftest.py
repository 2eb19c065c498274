"""The tests run against a real `quarry serve` whose URL is in QUARRY_URL
(scripts/pysdk.sh starts one on a fresh data directory)."""
import os
import uuid

import pytest

from quarry_client import Client

ROCKS = [
    {"id": "granite", "title": "Granite", "text": "Granite forms from slowly cooling magma deep underground. It is rich in quartz and feldspar.",
     "metadata": {"kind": "igneous", "year": 2021}},
    {"id": "basalt", "title": "Basalt", "text": "Basalt forms when lava cools quickly at the surface. It is dark and fine grained.",
     "metadata": {"kind": "igneous", "year": 2023}},
    {"id": "shale", "title": "Shale", "text": "Shale is a sedimentary rock made of compacted mud and clay.",
     "metadata": {"kind": "sedimentary", "year": 2020}},
]


@pytest.fixture(scope="session")
def url():
    u = os.environ.get("QUARRY_URL")
    if not u:
        pytest.fail("QUARRY_URL is not set: run the tests through scripts/pysdk.sh")
    return u


@pytest.fixture()
def client(url):
    with Client(url) as c:
        yield c


@pytest.fixture()
def rocks(client):
    """A fresh collection holding ROCKS; deleted afterwards."""
    name = "rocks-" + uuid.uuid4().hex[:8]
    client.create_collection(name)
    client.upsert(name, ROCKS)
    yield name
    client.delete_collection(name)
