"""Python client for the Quarry RAG engine.

    from quarry_client import Client
    with Client("http://127.0.0.1:8080") as q:
        q.upload("docs", ["report.pdf", "notes.md"])
        for ev in q.ask_stream("docs", "What changed in Q3?"):
            if ev.type == "token":
                print(ev.text, end="")

Errors are QuarryError subclasses with the server's error code (.code),
HTTP status (.status) and field (.field). Retrievers for LangChain and
LlamaIndex are in quarry_client.langchain and quarry_client.llamaindex.
"""
from ._client import OPERATIONS, REQUEST_FIELDS, AsyncClient, Client
from .errors import (ERROR_CLASSES, ForbiddenError, InternalError, InvalidArgumentError, LLMFailedError,
                     LLMTimeoutError, MethodNotAllowedError, NotFoundError, PromptInjectionError, QuarryError,
                     RateLimitedError, TooLargeError, TransportError, UnauthenticatedError, UnavailableError,
                     UnsupportedMediaTypeError, UpstreamFailedError)
from .types import AskEvent

__all__ = [
    "Client", "AsyncClient", "OPERATIONS", "REQUEST_FIELDS", "AskEvent", "QuarryError", "InvalidArgumentError",
    "NotFoundError", "MethodNotAllowedError", "TooLargeError", "UnsupportedMediaTypeError", "InternalError",
    "LLMFailedError", "LLMTimeoutError", "UnavailableError", "TransportError", "ERROR_CLASSES",
    "UnauthenticatedError", "ForbiddenError", "RateLimitedError", "UpstreamFailedError", "PromptInjectionError",
]
