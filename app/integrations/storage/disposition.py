"""The `Content-Disposition` of a download: the real name for clients that read RFC 6266/5987, a safe ASCII one for
the rest, and never a character that could end the header value or split it."""

from __future__ import annotations

from urllib.parse import quote

_RFC5987_SAFE = "!#$&+^`|"  # attr-char beyond what `quote` already keeps (letters, digits, "_.-~")


def content_disposition(filename: str, *, inline: bool) -> str:
    """`attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (or `inline; …` for safe image types)."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\/' else "_" for c in filename) or "download"
    encoded = quote(filename, safe=_RFC5987_SAFE)
    return f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
