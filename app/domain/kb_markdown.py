"""Article bodies are Markdown; readers get HTML rendered from it and then sanitised, so that a body holding
<script>, event handlers or javascript: links renders as harmless text. markdown-it-py renders CommonMark (raw HTML
in the source left escaped), nh3 (the Rust ammonia sanitiser) keeps only an allow-list of tags and URL schemes."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote", "ul", "ol",
    "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "del",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}


def render(markdown: str) -> str:
    """Sanitised HTML of a Markdown body."""
    return nh3.clean(
        _MARKDOWN.render(markdown),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
