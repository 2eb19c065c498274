"""The client cannot drift from the API: every operation it calls, every
request field it may send and every error code must be in the server's
/openapi.json."""
import httpx

from quarry_client import ERROR_CLASSES, OPERATIONS, REQUEST_FIELDS

SCHEMAS = {"search": "SearchRequest", "ask": "AskRequest", "embeddings": "EmbeddingsRequest"}


def spec(url):
    return httpx.get(url + "/openapi.json").json()


def test_operations_exist(url):
    paths = spec(url)["paths"]
    for name, (method, path) in OPERATIONS.items():
        assert path in paths, f"{name}: {path} is not in openapi.json"
        assert method.lower() in paths[path], f"{name}: {method} {path} is not in openapi.json"


def test_request_fields_exist(url):
    schemas = spec(url)["components"]["schemas"]
    for op, fields in REQUEST_FIELDS.items():
        props = schemas[SCHEMAS[op]]["properties"]
        missing = [f for f in fields if f not in props]
        assert not missing, f"{op}: fields {missing} are not in {SCHEMAS[op]}"
        # and the client offers every field the server accepts
        extra = [p for p in props if p not in fields]
        assert not extra, f"{op}: the server accepts {extra}, which the client does not know"


def test_error_codes_match(url):
    codes = spec(url)["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
    assert set(codes) == set(ERROR_CLASSES)
