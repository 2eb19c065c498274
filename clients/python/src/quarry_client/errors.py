"""Errors raised by the client: one class per server error code."""
from __future__ import annotations

from typing import Any, Dict, Optional, Type


class QuarryError(Exception):
    """An error answered by the server (or a transport failure, code "transport").

    Attributes: status (HTTP status, 0 for transport errors), code (the
    server's error code, e.g. "invalid_argument"), message, field (the
    request field the error is about, or None) and body (the decoded JSON).
    """

    def __init__(self, status: int, code: str, message: str, field: Optional[str] = None,
                 body: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(f"{code}: {field + ': ' if field else ''}{message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.body = body or {}


class InvalidArgumentError(QuarryError):
    """400 invalid_argument."""


class NotFoundError(QuarryError):
    """404 not_found."""


class MethodNotAllowedError(QuarryError):
    """405 method_not_allowed."""


class TooLargeError(QuarryError):
    """413 too_large."""


class UnsupportedMediaTypeError(QuarryError):
    """415 unsupported_media_type."""


class InternalError(QuarryError):
    """500 internal."""


class LLMFailedError(QuarryError):
    """502 llm_failed: the retrieval succeeded; its results are in .sources."""

    @property
    def sources(self) -> list:
        return list(self.body.get("sources") or [])


class LLMTimeoutError(LLMFailedError):
    """504 llm_timeout."""


class UnavailableError(QuarryError):
    """503 unavailable."""


class UnauthenticatedError(QuarryError):
    """401 unauthenticated: no API key, or one the server does not know."""


class ForbiddenError(QuarryError):
    """403 forbidden: the key may not do this (its role or its collections)."""


class RateLimitedError(QuarryError):
    """429 rate_limited: the key's request budget is spent; retry later."""


class UpstreamFailedError(QuarryError):
    """502 upstream_failed: a service the server calls (an embedder, a store) failed."""


class PromptInjectionError(InvalidArgumentError):
    """400 prompt_injection: the guard blocked the question; .score is the detector's."""

    @property
    def score(self) -> Optional[float]:
        err = self.body.get("error") or {}
        s = err.get("score")
        return float(s) if s is not None else None


class TransportError(QuarryError):
    """The server could not be reached or the connection broke."""


#: The server's error codes (openapi.json, components.schemas.Error) and
#: their exception classes. tests/test_openapi.py checks that this covers
#: the codes the server documents.
ERROR_CLASSES: Dict[str, Type[QuarryError]] = {
    "invalid_argument": InvalidArgumentError,
    "not_found": NotFoundError,
    "method_not_allowed": MethodNotAllowedError,
    "too_large": TooLargeError,
    "unsupported_media_type": UnsupportedMediaTypeError,
    "internal": InternalError,
    "llm_failed": LLMFailedError,
    "unavailable": UnavailableError,
    "llm_timeout": LLMTimeoutError,
    "unauthenticated": UnauthenticatedError,
    "forbidden": ForbiddenError,
    "rate_limited": RateLimitedError,
    "upstream_failed": UpstreamFailedError,
    "prompt_injection": PromptInjectionError,
}


def error_from_response(status: int, body: Any) -> QuarryError:
    """Builds the exception for an error response."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return QuarryError(status, "http_" + str(status), str(body)[:500])
    code = str(err.get("code", "http_" + str(status)))
    cls = ERROR_CLASSES.get(code, QuarryError)
    return cls(status, code, str(err.get("message", "")), err.get("field"), body)
