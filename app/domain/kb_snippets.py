"""Highlighted snippets of search hits: a window of the folded text around the first span found, HTML-escaped, each
span found in it wrapped in <mark>. Pure: no I/O."""

from __future__ import annotations

import html
import re

from app.domain.kb_tokens import Span

WINDOW = 120


def snippet(folded: str, spans: tuple[Span, ...]) -> str:
    """`folded` is text as `fold` gives it, so that spans (folded too) are found as they are indexed."""
    found = [at for span in spans if (at := folded.find(span.text)) >= 0]
    start = max(0, min(found) - WINDOW // 4) if found else 0
    window = folded[start : start + WINDOW]
    marked = html.escape(window)
    words = sorted({html.escape(span.text) for span in spans}, key=len, reverse=True)
    if words:
        marked = re.sub("|".join(map(re.escape, words)), lambda m: f"<mark>{m.group()}</mark>", marked)
    prefix = "…" if start else ""
    suffix = "…" if start + WINDOW < len(folded) else ""
    return prefix + marked + suffix
