"""Upload bodies as `POST /v1/attachments` takes them, streamed, never held whole: `multipart/form-data` with one
`file` part (its text fields before it, as S3 POST forms require), or the raw file as the body with its name in the
`filename` query parameter.

The multipart body goes through python-multipart's push parser chunk by chunk; the file part's bytes are handed on
as they come. Every received byte is counted against Content-Length: a body longer or shorter than it declared, cut
off, or malformed as multipart is a 400, raised while the file streams, so the store keeps nothing of it."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import AsyncIterator
from email.message import Message as MimeHeader
from typing import Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser
from starlette.requests import ClientDisconnect, Request

from app.domain.attachments import Purpose
from app.domain.errors import BadRequest, FieldError, InvalidInput, UnsupportedMediaType
from app.domain.file_types import FieldAt
from app.schemas.common import KEY_PATTERN
from app.services.attachments import UploadFields, UploadForm

FORM_FIELDS = ("purpose", "customer_no")
"""The text fields a form may carry, each at most once, before the file: with the file, three parts at most."""
MAX_FIELD_BYTES = 256
MAX_PART_HEADER_BYTES = 4096
"""A part's headers: room for a 255-character name in UTF-8, encoded twice (filename and filename*)."""

MULTIPART_FIELDS = UploadFields(
    file_name=FieldAt("/file", "body"),
    declared_type=FieldAt("/file", "body"),
    content=FieldAt("/file", "body"),
    purpose=FieldAt("/purpose", "body"),
    customer_no=FieldAt("/customer_no", "body"),
)
RAW_FIELDS = UploadFields(
    file_name=FieldAt("filename", "query"),
    declared_type=FieldAt("Content-Type", "header"),
    content=FieldAt("", "body"),
    purpose=FieldAt("purpose", "query"),
    customer_no=FieldAt("customer_no", "query"),
)
MULTIPART_OVERHEAD = (1 + len(FORM_FIELDS)) * (MAX_PART_HEADER_BYTES + 200) + len(FORM_FIELDS) * MAX_FIELD_BYTES
"""What a multipart body may add to its file: part headers, boundaries and the text fields."""


def malformed(detail: str, *, field: str | None = None) -> BadRequest:
    errors = [FieldError(field, detail)] if field is not None else []
    return BadRequest(f"The upload is malformed: {detail}", code="malformed_upload", errors=errors)


class RequestBody:
    """The request's body, chunk by chunk, counted against its Content-Length."""

    def __init__(self, request: Request) -> None:
        self._stream = request.stream()
        length = request.headers.get("content-length")
        self.declared = int(length) if length is not None and length.isdigit() else None
        self._received = 0

    async def next(self) -> bytes | None:
        """The next non-empty chunk, None at the end of the body."""
        while True:
            try:
                chunk = await anext(self._stream)
            except StopAsyncIteration:
                if self.declared is not None and self._received != self.declared:
                    raise self._lied() from None
                return None
            except ClientDisconnect:
                raise BadRequest(
                    "The body was cut off before its end: nothing was stored", code="body_incomplete"
                ) from None
            self._received += len(chunk)
            if self.declared is not None and self._received > self.declared:
                raise self._lied()
            if chunk:
                return chunk

    def _lied(self) -> BadRequest:
        return BadRequest(
            f"The body's length is not its declared Content-Length of {self.declared} bytes: nothing was stored",
            code="body_length_mismatch",
            errors=[FieldError("Content-Length", "declare the body's real length", location="header")],
        )


class RawFile:
    """The whole body is the file."""

    def __init__(self, body: RequestBody) -> None:
        self._body = body

    async def chunks(self) -> AsyncIterator[bytes]:
        while (chunk := await self._body.next()) is not None:
            yield chunk

    async def finish(self) -> None:
        """Nothing follows the file."""


class MultipartFile:
    """A multipart/form-data body read up to its `file` part: `open` collects the text fields before it, `chunks`
    hands on the file's bytes, `finish` reads the closing boundary (and refuses any part after the file)."""

    def __init__(self, body: RequestBody, boundary: str) -> None:
        self._body = body
        self._events: deque[tuple[str, Any]] = deque()
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._header_bytes = 0
        self._headers: dict[str, str] = {}
        self._closing = len(f"\r\n--{boundary}--\r\n")
        self._fed = 0  # bytes given to the parser before the chunk it is parsing
        self._data_at: int | None = None  # where the latest part's data starts in the body
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_part_data": self._part_data,
                "on_part_end": lambda: self._events.append(("part_end", None)),
                "on_header_field": lambda data, start, end: self._header_chars(self._header_name, data[start:end]),
                "on_header_value": lambda data, start, end: self._header_chars(self._header_value, data[start:end]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_end": lambda: self._events.append(("end", None)),
            },
        )

    def _part_begin(self) -> None:
        self._headers, self._header_bytes = {}, 0

    def _headers_finished(self) -> None:
        self._events.append(("headers", dict(self._headers)))
        self._data_at = None

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._data_at is None:
            self._data_at = self._fed + start
        self._events.append(("data", data[start:end]))

    def _header_chars(self, into: bytearray, data: bytes) -> None:
        self._header_bytes += len(data)
        if self._header_bytes > MAX_PART_HEADER_BYTES:
            raise malformed(f"a part's headers exceed {MAX_PART_HEADER_BYTES} bytes")
        into += data

    def _header_end(self) -> None:
        try:
            name, value = self._header_name.decode("ascii").lower(), self._header_value.decode("utf-8")
        except UnicodeDecodeError:
            raise malformed("a part header is not UTF-8") from None
        self._headers[name] = value
        self._header_name.clear()
        self._header_value.clear()

    async def _event(self) -> tuple[str, Any]:
        """The parser's next event, reading the body as far as it takes."""
        while not self._events:
            chunk = await self._body.next()
            if chunk is None:
                raise malformed("the body ends before the closing boundary")
            try:
                self._parser.write(chunk)
            except MultipartParseError as exc:
                raise malformed(str(exc)) from None
            self._fed += len(chunk)
        return self._events.popleft()

    def room(self) -> int | None:
        """The most bytes the file can have by the declared Content-Length: what is left once the file's headers
        are read, less the closing boundary (the file is the last part; an epilogue after the boundary, which no
        client sends, would count as file). None when no length was declared."""
        if self._body.declared is None:
            return None
        data_at = self._fed if self._data_at is None else self._data_at
        return max(self._body.declared - data_at - self._closing, 0)

    async def open(self) -> tuple[dict[str, str], str, str | None]:
        """Read up to the file part: the text fields (by name), the file's name and its declared type."""
        fields: dict[str, str] = {}
        while True:
            kind, headers = await self._event()
            if kind == "end":
                raise InvalidInput(
                    "The form has no file part",
                    code="validation_failed",
                    errors=[FieldError("/file", "send the file as a part named file")],
                )
            name, file_name = _disposition(headers.get("content-disposition", ""))
            if name == "file":
                if file_name is None:
                    raise malformed("the file part has no filename", field="/file")
                return fields, file_name, headers.get("content-type")
            if name not in FORM_FIELDS or file_name is not None:
                raise malformed(
                    f"an unknown part {name!r}; the form takes file, {', '.join(FORM_FIELDS)}", field=f"/{name}"
                )
            if name in fields:
                raise malformed(f"the field {name} is given twice", field=f"/{name}")
            fields[name] = await self._field_value(name)

    async def _field_value(self, name: str) -> str:
        value = bytearray()
        while (event := await self._event())[0] == "data":
            value += event[1]
            if len(value) > MAX_FIELD_BYTES:
                raise malformed(f"the field {name} is longer than {MAX_FIELD_BYTES} bytes", field=f"/{name}")
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise malformed(f"the field {name} is not UTF-8", field=f"/{name}") from None

    async def chunks(self) -> AsyncIterator[bytes]:
        while (event := await self._event())[0] == "data":
            yield event[1]

    async def finish(self) -> None:
        kind, _ = await self._event()
        if kind != "end":
            raise malformed("the file must be the last part; send the fields before it")
        while await self._body.next() is not None:
            pass  # the epilogue after the closing boundary means nothing


def _disposition(value: str) -> tuple[str, str | None]:
    """A part's field name and file name, as sent (no path is stripped: a name with one is refused, not cut)."""
    header = MimeHeader()
    header["content-disposition"] = value
    if header.get_content_disposition() != "form-data":
        raise malformed("a part is not form-data with a name")
    name = header.get_param("name", header="content-disposition")
    if not isinstance(name, str):
        raise malformed("a part has no name")
    return name, header.get_filename()


def _purpose(value: str | None, at: FieldAt) -> Purpose:
    if value is None:
        return Purpose.EVIDENCE
    try:
        return Purpose(value)
    except ValueError:
        raise InvalidInput(
            f"Unknown purpose {value!r}",
            code="validation_failed",
            errors=[at.error(f"one of {[p.value for p in Purpose]}")],
        ) from None


async def read_upload(
    request: Request, *, filename: str | None, purpose: Purpose | None, customer_no: str | None
) -> tuple[UploadForm, RawFile | MultipartFile]:
    """The upload's form and its file, read up to the first byte of the file."""
    content_type = request.headers.get("content-type")
    if content_type is None:
        raise UnsupportedMediaType(
            "Send the file as multipart/form-data, or as the body with its own Content-Type",
            errors=[FieldError("Content-Type", "missing", location="header")],
        )
    header = MimeHeader()
    header["content-type"] = content_type
    media_type = content_type.split(";", 1)[0].strip().lower()
    body = RequestBody(request)
    if media_type != "multipart/form-data":
        if filename is None:
            raise InvalidInput(
                "A raw upload names its file in the filename parameter",
                code="validation_failed",
                errors=[FieldError("filename", "required for a raw upload", location="query")],
            )
        form = UploadForm(
            filename,
            media_type,
            purpose or Purpose.EVIDENCE,
            customer_no,
            RAW_FIELDS,
            declared_size=body.declared,
        )
        return form, RawFile(body)
    given = [
        name for name, value in (("filename", filename), ("purpose", purpose), ("customer_no", customer_no)) if value
    ]
    if given:
        raise BadRequest(
            f"The upload is malformed: a multipart upload sends {given[0]} in the form, not the query",
            code="malformed_upload",
            errors=[FieldError(given[0], "send it as a form field (the file's name in its part)", location="query")],
        )
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise malformed("the Content-Type has no boundary")
    multipart = MultipartFile(body, boundary)
    fields, file_name, part_type = await multipart.open()
    customer = fields.get("customer_no")
    if customer is not None and not re.match(KEY_PATTERN, customer):
        raise InvalidInput(
            "The customer_no field is not a customer number",
            code="validation_failed",
            errors=[FieldError("/customer_no", f"must match {KEY_PATTERN}")],
        )
    form = UploadForm(
        file_name,
        part_type,
        _purpose(fields.get("purpose"), MULTIPART_FIELDS.purpose),
        customer,
        MULTIPART_FIELDS,
        declared_size=multipart.room(),
    )
    return form, multipart
