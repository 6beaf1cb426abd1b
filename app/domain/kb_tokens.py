"""The knowledge base's own tokenizer, the one both databases index and query with, so that search means the same on
SQLite (FTS5 splitting on spaces only) and PostgreSQL (a tsvector of these lexemes, never its own parser).

Text is folded first (NFKC, so full-width ＲＥＦＵＮＤ and １２ are ASCII; case-folded; Traditional → Simplified by
OpenCC, so 退貨 is 退货), then cut into runs: Latin/digit words, and runs of Chinese characters. A Chinese run is
indexed as its overlapping bigrams (退款申请 → 退款 款申 申请) and as its single characters, so that a query of one
character (退) finds it wherever it stands. A query keeps each run whole as a `Span`: one character asks for that
character, a longer run for all its bigrams, and the run itself must then occur in the folded text as a phrase (the
search checks it), so that 退款 never matches 退 … 款. Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from opencc import OpenCC

_T2S = OpenCC("t2s")
_HAN = "\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_RUN = re.compile(f"[a-z0-9]+|[{_HAN}]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_WORD = 40
"""Longer Latin runs (hashes, pasted URLs) are cut: a token is a word, not a blob."""


def fold(text: str) -> str:
    """What matching sees: NFKC, case-folded, Traditional Chinese as Simplified, white space runs as one space."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    if not folded.isascii():
        folded = _T2S.convert(_SURROGATE.sub("\ufffd", folded))
    return " ".join(folded.split())


def runs(text: str) -> list[str]:
    """The Latin/digit words and Chinese runs of already folded text, in order."""
    return [run[:MAX_WORD] if run.isascii() else run for run in _RUN.findall(text)]


def is_chinese(run: str) -> bool:
    return not run.isascii()


def run_tokens(run: str) -> list[str]:
    """A run's index tokens: a word itself; a Chinese run's bigrams, then its characters."""
    if not is_chinese(run):
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)] + list(run)


def index_tokens(text: str) -> list[str]:
    """The distinct tokens of a text, in first-seen order: what is stored and indexed for it."""
    return list(dict.fromkeys(token for run in runs(fold(text)) for token in run_tokens(run)))


@dataclass(frozen=True, slots=True)
class Span:
    """One run of a query: a Latin word (matched as a prefix of indexed words: refund finds refunds) or a Chinese
    phrase (all of `tokens` indexed, and `text` itself present)."""

    text: str

    @property
    def chinese(self) -> bool:
        return is_chinese(self.text)

    @property
    def tokens(self) -> tuple[str, ...]:
        if not self.chinese:
            return (self.text,)
        if len(self.text) == 1:
            return (self.text,)
        return tuple(dict.fromkeys(self.text[i : i + 2] for i in range(len(self.text) - 1)))


def query_spans(query: str) -> tuple[Span, ...]:
    """The distinct spans of a query, in order; empty when it holds no letter, digit or Chinese character."""
    return tuple(Span(run) for run in dict.fromkeys(runs(fold(query))))
