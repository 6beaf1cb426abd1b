"""Request bodies as the service takes them: JSON in UTF-8 only (RFC 8259 §8.1), read within a time bound.

Python's `json.loads` guesses UTF-16 and UTF-32 from the first bytes and skips a UTF-8 byte order mark, so without
this a body in another encoding would be taken; and a client that sends a byte every few seconds would hold a
connection and a task for as long as it likes. Both are answered here, while the body is read, in one place."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from email.message import Message as MimeHeader
from functools import lru_cache

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope

from app.domain.errors import FieldError

_BYTE_ORDER_MARKS = (
    (b"\x00\x00\xfe\xff", "UTF-32BE"),
    (b"\xff\xfe\x00\x00", "UTF-32LE"),
    (b"\xfe\xff", "UTF-16BE"),
    (b"\xff\xfe", "UTF-16LE"),
    (b"\xef\xbb\xbf", "UTF-8 with a byte order mark"),
)


class BodyRefused(HTTPException):
    """Raised from `receive` while the body is read; an HTTPException so that FastAPI's body parsing re-raises it
    and the problem handler renders its `code` and `errors`."""

    def __init__(
        self, status: int, code: str, detail: str, *, errors: Sequence[FieldError] = (), close: bool = False
    ) -> None:
        super().__init__(status, detail, headers={"Connection": "close"} if close else None)
        self.code = code
        self.errors = list(errors)


# Parsing a Content-Type with the email package costs tens of microseconds; callers send a handful of distinct
# values, so each is parsed once (the cache is bounded, whatever a client sends).
@lru_cache(maxsize=256)
def _media_type(content_type: str) -> tuple[bool, object]:
    """Whether FastAPI parses a body of this type as JSON (application/json and any `+json` type), and the charset
    parameter as the email package reads it (None, a string, or a tuple for an RFC 2231 value)."""
    header = MimeHeader()
    header["content-type"] = content_type
    subtype = header.get_content_subtype()
    is_json = header.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))
    return is_json, header.get_param("charset")


def _is_json(content_type: str | None) -> bool:
    """Bodies FastAPI parses as JSON: no Content-Type at all, application/json and any `+json` type."""
    return content_type is None or _media_type(content_type)[0]


def _has_body(headers: Headers) -> bool:
    return headers.get("content-length", "0") not in ("", "0") or "transfer-encoding" in headers


def charset_refusal(scope: Scope) -> BodyRefused | None:
    """A JSON body declared in a charset other than UTF-8 is refused (415) before a byte of it is read."""
    headers = Headers(scope=scope)
    content_type = headers.get("content-type")
    if content_type is None or not _has_body(headers):
        return None
    is_json, charset = _media_type(content_type)
    if not is_json or charset is None or (isinstance(charset, str) and charset.strip().lower() in ("utf-8", "utf8")):
        return None
    return BodyRefused(
        415,
        "unsupported_charset",
        f"JSON bodies are UTF-8 (RFC 8259); Content-Type names charset {charset!r}",
        errors=[FieldError("Content-Type", "omit charset or send charset=utf-8", location="header")],
    )


def _encoding_of(head: bytes) -> str | None:
    """The encoding the first bytes betray, if not plain UTF-8: a byte order mark, or NUL bytes (JSON text in UTF-8
    has none, while UTF-16 and UTF-32 put one beside every ASCII character)."""
    for mark, name in _BYTE_ORDER_MARKS:
        if head.startswith(mark):
            return name
    if b"\x00" in head:
        return "UTF-16 or UTF-32"
    return None


def guarded(receive: Receive, scope: Scope, *, timeout_seconds: float) -> Receive:
    """`receive` with the body bound to arrive within `timeout_seconds` of the request (408) and, for JSON, to be
    UTF-8 without a byte order mark (415). Once the body is complete, waiting (for a disconnect) is not bounded."""
    deadline = asyncio.get_running_loop().time() + timeout_seconds
    sniff = _is_json(Headers(scope=scope).get("content-type"))
    head = b""
    complete = False

    async def guarded_receive() -> Message:
        nonlocal head, complete
        if complete:
            return await receive()
        try:
            async with asyncio.timeout_at(deadline):  # unlike wait_for, no task per message
                message = await receive()
        except TimeoutError:
            raise BodyRefused(
                408,
                "request_timeout",
                f"The request body did not arrive within {timeout_seconds:g} s; send it whole and promptly",
                close=True,
            ) from None
        if message["type"] != "http.request":
            complete = True
            return message
        complete = not message.get("more_body", False)
        if sniff and len(head) < 4:
            head += message.get("body", b"")[: 4 - len(head)]
            encoding = _encoding_of(head) if len(head) >= 4 or complete else None
            if encoding is not None:
                raise BodyRefused(
                    415,
                    "unsupported_encoding",
                    f"JSON bodies are UTF-8 without a byte order mark (RFC 8259); this one is {encoding}",
                    errors=[FieldError("", f"send the JSON text encoded as UTF-8, not {encoding}")],
                )
        return message

    return guarded_receive
