"""Which files the service takes, told from their bytes: an allow-list of (extension, type) pairs, and the refusals
of files that are something else than they claim (a renamed executable, markup posing as an image, a polyglot).

The real type is sniffed from the first bytes with `filetype` (pure Python signature matchers, no libmagic: it
installs from PyPI alone). The checks read only the first and the last bytes of a file (`HEAD_BYTES`, `TAIL_BYTES`),
which the upload keeps as the bytes stream past, so a file is never read back to be judged."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import filetype

from app.domain.errors import FieldError, InvalidInput, UnsupportedMediaType

HEAD_BYTES = 8192
"""Enough for every signature `filetype` matches (it reads 8 KiB at most) and for markup hidden near the start."""
TAIL_BYTES = 8192
"""Where a second format appended to a file shows itself (a ZIP's end of central directory, a PDF's `%%EOF`)."""
MAX_FILE_NAME = 255
"""Characters in a file name, as most file systems allow."""

Where = Literal["body", "query", "path", "header"]


@dataclass(frozen=True, slots=True)
class FieldAt:
    """Where a field of an upload was sent (a form field in the body, a query parameter, a header), for the refusal
    that names it."""

    pointer: str
    location: Where

    def error(self, detail: str) -> FieldError:
        return FieldError(self.pointer, detail, location=self.location)


class Kind(StrEnum):
    """Each kind has its own size limit."""

    IMAGE = "image"
    VIDEO = "video"
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class FileType:
    """An allowed extension, the one type its bytes must be, and whether a browser may show it in place (only
    raster images that cannot carry script)."""

    extension: str
    content_type: str
    kind: Kind
    inline: bool = False


_TYPES = (
    FileType("jpg", "image/jpeg", Kind.IMAGE, inline=True),
    FileType("jpeg", "image/jpeg", Kind.IMAGE, inline=True),
    FileType("png", "image/png", Kind.IMAGE, inline=True),
    FileType("gif", "image/gif", Kind.IMAGE, inline=True),
    FileType("webp", "image/webp", Kind.IMAGE, inline=True),
    FileType("heic", "image/heic", Kind.IMAGE),  # phones' default photo format; browsers do not show it anyway
    FileType("mp4", "video/mp4", Kind.VIDEO),
    FileType("mov", "video/quicktime", Kind.VIDEO),
    FileType("pdf", "application/pdf", Kind.DOCUMENT),
)
ALLOWED: dict[str, FileType] = {t.extension: t for t in _TYPES}
"""SVG (script inside), HTML, office documents (macros; ZIP containers hard to judge from their first bytes) and
plain text (no signature to tell it from markup) are not taken."""
UNSPECIFIED_TYPES = frozenset({"application/octet-stream"})
"""A declared type that claims nothing: the bytes alone decide."""

_EXECUTABLES = (
    (b"MZ", "a Windows executable (PE)"),
    (b"\x7fELF", "a Linux executable (ELF)"),
    (b"\xfe\xed\xfa\xce", "a macOS executable (Mach-O)"),
    (b"\xfe\xed\xfa\xcf", "a macOS executable (Mach-O)"),
    (b"\xce\xfa\xed\xfe", "a macOS executable (Mach-O)"),
    (b"\xcf\xfa\xed\xfe", "a macOS executable (Mach-O)"),
    (b"\xca\xfe\xba\xbe", "a macOS universal executable or Java class"),
    (b"#!", "a script (#! line)"),
)
_MARKUP = (b"<html", b"<!doctype", b"<head", b"<body", b"<script", b"<iframe", b"<svg", b"<?php", b"<%@", b"<object")
"""What makes a browser or a server run the bytes as a page or a script, wherever it sits in them."""
_ZIP_LOCAL_HEADER, _ZIP_END = b"PK\x03\x04", b"PK\x05\x06"
_PDF_START, _PDF_END = b"%PDF-", b"%%EOF"
_PDF_ACTIVE = (b"/JavaScript", b"/Launch", b"/EmbeddedFile")
_NAME_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
"""Control characters, and the invisible format characters (bidirectional overrides) that disguise an extension:
`photo\u202egpj.exe` shows as `photoexe.jpg`."""


def check_file_name(name: str, at: FieldAt) -> FileType:
    """The allowed type of a file name, or the refusal naming the field: names a file system would take apart or
    misread (path separators, control characters, `.`/`..`, over 255 characters) are 422, extensions off the
    allow-list 415. Unicode names (Chinese ones) are kept as they are."""

    def invalid(why: str) -> InvalidInput:
        return InvalidInput(
            f"The file name {why}",
            code="invalid_file_name",
            errors=[at.error(f"the file name {why}")],
        )

    if not name.strip():
        raise invalid("is empty")
    if len(name) > MAX_FILE_NAME:
        raise invalid(f"has {len(name)} characters; at most {MAX_FILE_NAME}")
    if "/" in name or "\\" in name:
        raise invalid("holds a path separator (/ or \\); send the name alone")
    if any(unicodedata.category(c) in _NAME_REFUSED_CATEGORIES for c in name):
        raise invalid("holds control or invisible formatting characters")
    if name in (".", ".."):
        raise invalid("names a directory")
    stem, dot, extension = name.rpartition(".")
    found = ALLOWED.get(extension.lower()) if dot and stem else None
    if found is None:
        allowed = ", ".join(ALLOWED)
        what = f"Files named .{extension.lower()} are" if dot and stem else "A file name without an extension is"
        raise UnsupportedMediaType(
            f"{what} not taken; allowed: {allowed}",
            code="file_type_not_allowed",
            errors=[at.error(f"the extension must be one of: {allowed}")],
        )
    return found


def check_declared_type(file_type: FileType, declared: str | None, at: FieldAt) -> None:
    """A type the client declares (the part's or the body's Content-Type) must be the extension's own, or claim
    nothing (application/octet-stream)."""
    media_type = (declared or "").split(";", 1)[0].strip().lower()
    if media_type in UNSPECIFIED_TYPES or media_type == file_type.content_type:
        return
    raise UnsupportedMediaType(
        f"A .{file_type.extension} file is {file_type.content_type}, but the request declares "
        f"{media_type or 'no type'}",
        code="content_type_mismatch",
        errors=[at.error(f"send {file_type.content_type}")],
    )


def check_content(file_type: FileType, head: bytes, tail: bytes, size: int, at: FieldAt) -> None:
    """Refuses bytes that are not what their extension says, naming why: empty (422), an executable, markup or
    script, a second format inside (polyglot), or another type than the extension's (415)."""
    if size == 0:
        raise InvalidInput("The file is empty", code="empty_file", errors=[at.error("the file has no bytes")])

    def detail(why: str) -> str:
        return f"The .{file_type.extension} file is refused: {why}"

    for signature, what in _EXECUTABLES:
        if head.startswith(signature):
            why = f"its bytes are {what}"
            raise UnsupportedMediaType(detail(why), code="executable_content", errors=[at.error(why)])
    ends = (head.lower(), tail.lower())
    for marker in _MARKUP:
        if any(marker in part for part in ends):
            why = f"its bytes hold {marker.decode()}…, markup or script a browser would run"
            raise UnsupportedMediaType(detail(why), code="markup_content", errors=[at.error(why)])
    is_pdf = file_type.content_type == "application/pdf"
    hidden = None
    if not is_pdf and (_PDF_START in head[1:] or _PDF_END in tail):
        hidden = "a PDF"
    elif _ZIP_LOCAL_HEADER in head[1:] or _ZIP_END in tail:
        hidden = "a ZIP archive"
    if hidden is not None:
        why = f"{hidden} is hidden inside it (a polyglot)"
        raise UnsupportedMediaType(detail(why), code="polyglot_content", errors=[at.error(why)])
    if is_pdf and any(action in part for action in _PDF_ACTIVE for part in (head, tail)):
        why = "the PDF carries script, launch actions or embedded files"
        raise UnsupportedMediaType(detail(why), code="active_content", errors=[at.error(why)])
    sniffed = filetype.guess_mime(head)
    if sniffed is None:
        why = f"its bytes are not {file_type.content_type} or any type known"
        raise UnsupportedMediaType(detail(why), code="unrecognised_content", errors=[at.error(why)])
    if sniffed != file_type.content_type:
        why = f"its bytes are {sniffed}, not {file_type.content_type}"
        raise UnsupportedMediaType(detail(why), code="content_type_mismatch", errors=[at.error(why)])
