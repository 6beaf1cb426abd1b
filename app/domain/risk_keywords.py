"""高风险客诉识别 (high-risk complaint flag): whether a customer's message threatens to take the complaint outside
after-sales — to a regulator (12315, 消协, 市场监管), the media (曝光, 记者), the police, a lawyer or a court, or back
to the bank (chargeback) — found by keywords a manager configures.

Matching sees `normalise(text)`, so the spellings customers use to get past a platform's word filter (full-width
１２３１５, Traditional 律師, 1 2 3 1 5, 曝\u200b光) read as the plain word; keywords are normalised the same way. One
Aho–Corasick automaton (the Rust `aho-corasick` crate, whose transitions do not slow down as keywords are added) finds
every keyword in one pass, so a message costs about the same against 50 keywords or 5,000.

Where a keyword matches:
- Chinese keywords match anywhere, as substrings (Chinese has no spaces to mark words).
- An edge of a keyword that is a Latin letter or a digit must stand at a word boundary: the character beside it is
  not a Latin letter or digit (a Chinese character, a space or punctuation is a boundary). So `sue` never matches
  "issue" or "pursue", and `12315` never matches inside the order number 8812315990 or the SKU AB12315.
- A keyword ending in a Latin letter also matches with one trailing "s": `lawyer` matches "Lawyers", `sue` "sues",
  `chargeback` "chargebacks". Nothing else is inflected ("sued" and "suing" are keywords of their own): "-es" or
  "-ed" would let `not` match "notes" and `tim` "timed".
- A hyphen between Latin letters reads as a space: "charge-back" is `charge back`, a keyword apart from `chargeback`
  (the defaults hold both), and "small-claims" matches `small claims`.
Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ahocorasick_rs import AhoCorasick
from opencc import OpenCC

from app.domain.errors import FieldError, InvalidInput

MAX_KEYWORDS = 5_000
MAX_KEYWORD_LENGTH = 64
"""Risk terms are words and short phrases; a longer one is a pasted sentence that would never match."""

DEFAULT_KEYWORDS: tuple[str, ...] = (
    # regulators, consumer bodies and public complaint boards (mainland, Hong Kong, Taiwan)
    "12315", "12345", "12305", "315晚会", "消协", "消费者协会", "消保委", "消委会", "消基会", "消保官", "消费者权益",
    "工商局", "工商部门", "工商所", "市场监管", "市场监督", "市监局", "质监局", "物价局", "市长热线", "政务热线",
    "邮政管理局", "有关部门", "信访", "投诉到", "举报", "黑猫投诉", "聚投诉",
    # the media and public exposure
    "媒体", "曝光", "记者", "电视台", "央视", "报社", "微博",
    # police, lawyers and courts
    "去报警", "要报警", "已报警", "已经报警", "报警处理", "警察", "公安", "派出所", "律师", "起诉", "诉讼", "法院",
    "法庭", "打官司", "仲裁", "法律途径", "法律手段", "法律程序", "法律责任", "维权",
    # fraud claims, statutory compensation and payment reversal
    "欺诈", "诈骗", "假一赔", "退一赔三", "三倍赔偿", "十倍赔偿", "拒付",
    # English
    "lawyer", "attorney", "solicitor", "legal action", "legal advice", "lawsuit", "sue", "suing", "sued",
    "small claims", "class action", "take you to court", "see you in court", "cease and desist", "arbitration",
    "chargeback", "charge back", "dispute", "disputed", "bbb", "better business bureau", "consumer protection",
    "ftc", "cfpb", "accc", "trading standards", "ombudsman", "consumer council", "to the press", "to the media",
    "journalist", "reporter", "newspaper", "local news", "tv station", "police", "fraud",
)  # fmt: skip
"""高风险 terms from after-sales practice. Some near ones are left out on purpose: bare 工商 (工商银行 is a bank
customers pay with), 投诉 (every message here is one), bare 报警 (an appliance's fault alarm, 报警器), 110, court and
media (prices, court shoes, media players): the phrases around them are listed instead."""

DEFAULT_EXCEPTIONS: tuple[str, ...] = (
    # a device's media, a camera's exposure: 媒体 and 曝光 as technical words
    "多媒体", "流媒体", "媒体播放", "媒体键", "媒体库", "曝光补偿", "曝光过度", "曝光不足", "曝光时间", "自动曝光",
    "长曝光",
    # "complained until now": a complaint about waiting, not a threat to take it elsewhere
    "投诉到现在",
    "fraud alert",
)  # fmt: skip
"""Phrases in which a default keyword is no threat; 自媒体 is left out on purpose (发到自媒体上 is one)."""

_T2S = OpenCC("t2s")
"""OpenCC's Traditional → Simplified, phrase-aware (頭髮 → 头发, 皇后 stays); its C++ converter is shared by all."""
_COMMON_FULL_WIDTH = {char: unicodedata.normalize("NFKC", char) for char in "，！？：；（）～\u3000"}
"""The full-width forms nearly every Chinese message holds. Any of them fails NFKC's quick check and sends the whole
text through full decomposition and composition (some 50 ns a character); replacing them first, and then the other
full-width forms (１２３１５, ＢＢＢ), leaves most messages already normal."""
_FULL_WIDTH = re.compile("[\u3000\uff01-\uff5e]")
_SEPARATORS = re.escape(" -_.·•・*~|/\\+=‐‒–—―−")
"""What customers put between the characters of a filtered word (律 师, 律-师, 律·师, 1-2-3-1-5); commas, 、 and 。 are
real punctuation and stay."""
_HAN = "\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_GAP = re.compile(f"[{_SEPARATORS}]+(?=[0-9{_HAN}])")
_HAN_CHAR = re.compile(f"[{_HAN}]")
_HYPHENS = ("-", "\u2010")  # NFKC folds the other hyphens of words (U+2011, U+FE63, U+FF0D) into these
_WORD_HYPHEN = re.compile("[-\u2010]+(?=[a-z])")
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]+"
)
"""Controls and the format characters that print nothing: zero-width spaces and joiners, bidi marks, soft hyphens."""
_SURROGATE = re.compile("[\ud800-\udfff]")


def normalise(text: str) -> str:
    """What matching sees: NFKC (full-width forms to ASCII), case-folded, Traditional Chinese to Simplified, controls
    and invisible format characters (zero-width spaces, bidi marks) dropped, runs of white space as one space, a hyphen
    between Latin letters as a space, and separators removed between Chinese characters and beside a single digit."""
    # ASCII is its own NFKC and holds no Chinese
    folded = text.lower() if text.isascii() else _simplified(_nfkc(text).casefold())
    folded = " ".join(folded.split())
    if not folded.isprintable():  # white space is gone by now: almost always nothing else is to be dropped
        folded = " ".join(_INVISIBLE.sub("", folded).split())
    if any(hyphen in folded for hyphen in _HYPHENS):
        folded = _WORD_HYPHEN.sub(_hyphen_in_word, folded)
    return _GAP.sub(_gap, folded)


def _nfkc(text: str) -> str:
    for char, folded in _COMMON_FULL_WIDTH.items():
        if char in text:
            text = text.replace(char, folded)
    if unicodedata.is_normalized("NFKC", text):
        return text
    for char in set(_FULL_WIDTH.findall(text)):
        text = text.replace(char, unicodedata.normalize("NFKC", char))
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def _simplified(text: str) -> str:
    try:
        return _T2S.convert(text)
    except UnicodeEncodeError:  # a lone surrogate (valid in a JSON escape, not in UTF-8)
        return _T2S.convert(_SURROGATE.sub("\ufffd", text))


# The gap rules find the separator first and look at its neighbours only where one stands: a scan that stopped at
# every letter or Chinese character to look for a separator after it would cost more than the rest of the matching.


def _hyphen_in_word(match: re.Match[str]) -> str:
    start = match.start()
    return " " if start and "a" <= match.string[start - 1] <= "z" else match.group()


def _gap(match: re.Match[str]) -> str:
    """A separator between Chinese characters goes; one between digits goes only beside a single digit, so that
    1 2 3 1 5 and 12 3 15 join while two numbers side by side (12315 12345) stay two."""
    text, start, end = match.string, match.start(), match.end()
    if not start:
        return match.group()
    before, after = text[start - 1], text[end]
    if _HAN_CHAR.match(before):
        return "" if _HAN_CHAR.match(after) else match.group()
    if not ("0" <= before <= "9" and "0" <= after <= "9"):
        return match.group()
    single_before = start < 2 or not "0" <= text[start - 2] <= "9"
    single_after = end + 1 == len(text) or not "0" <= text[end + 1] <= "9"
    return "" if single_before or single_after else match.group()


def _joins(char: str) -> bool:
    """Whether `char` continues a Latin word or a number, so that a keyword's Latin or digit edge beside it is no
    word boundary; Chinese characters (from U+2E80 on) never do."""
    return char.isalnum() and char < "\u2e80"


@dataclass(frozen=True, slots=True)
class _Edges:
    """Which edges of one normalised keyword must stand at a word boundary, and whether a plural "s" may follow."""

    start: bool
    end: bool
    plural: bool

    @classmethod
    def of(cls, word: str) -> _Edges:
        return cls(_joins(word[0]), _joins(word[-1]), word[-1].isascii() and word[-1].isalpha())


@dataclass(frozen=True, slots=True)
class RiskKeywords:
    """A configured keyword list, validated and compiled once; `find` may then run on any number of messages.

    `exceptions` are phrases in which a keyword is no threat (多媒体, 曝光补偿, 投诉到现在): an occurrence of a keyword
    inside an occurrence of one of them does not count; another occurrence of it in the same message still does.
    Keywords and exceptions share one automaton, so a message is still read once."""

    keywords: tuple[str, ...]
    exceptions: tuple[str, ...]
    _edges: tuple[_Edges, ...] = field(repr=False, compare=False)
    _automaton: AhoCorasick = field(repr=False, compare=False)

    @classmethod
    def compile(cls, keywords: Sequence[str], exceptions: Sequence[str] = ()) -> RiskKeywords:
        """Raises InvalidInput naming each refused keyword or exception by its pointer (`/keywords/3`,
        `/exceptions/0`)."""
        folded, errors = _fold(keywords, "/keywords", required=True)
        folded_exceptions, exception_errors = _fold(exceptions, "/exceptions", required=False)
        errors += exception_errors
        at = {word: index for index, word in enumerate(folded)}
        errors += [
            FieldError(f"/exceptions/{index}", f"is /keywords/{at[word]} itself: it would never match")
            for index, word in enumerate(folded_exceptions)
            if word in at
        ]
        if errors:
            raise InvalidInput("The risk keywords cannot be used as sent", errors=errors)
        edges = tuple(map(_Edges.of, [*folded, *folded_exceptions]))
        return cls(tuple(keywords), tuple(exceptions), edges, AhoCorasick([*folded, *folded_exceptions]))

    def find(self, text: str) -> tuple[str, ...]:
        """The distinct keywords found in `text`, as configured, in the order of their first occurrence."""
        folded = normalise(text)
        count = len(self.keywords)
        found = [
            (index, start, end)
            for index, start, end in self._automaton.find_matches_as_indexes(folded, overlapping=True)
            if self._stands_alone(folded, index, start, end)
        ]
        excepted = [(start, end) for index, start, end in found if index >= count]
        starts: dict[int, int] = {}
        for index, start, end in found:
            if index >= count or index in starts:
                continue
            if any(x_start <= start and end <= x_end for x_start, x_end in excepted):
                continue
            starts[index] = start
        return tuple(self.keywords[index] for index in sorted(starts, key=starts.__getitem__))

    def _stands_alone(self, folded: str, index: int, start: int, end: int) -> bool:
        """Whether a match's Latin or digit edges stand at word boundaries (see the module's docstring)."""
        edges = self._edges[index]
        if edges.start and start and _joins(folded[start - 1]):
            return False
        return not edges.end or _ends_word(folded, end, edges.plural)


def _ends_word(text: str, end: int, plural: bool) -> bool:
    if end == len(text) or not _joins(text[end]):
        return True
    return plural and text[end] == "s" and (end + 1 == len(text) or not _joins(text[end + 1]))


def _fold(keywords: Sequence[Any], list_pointer: str, *, required: bool) -> tuple[list[str], list[FieldError]]:
    """Each phrase normalised, and every problem of the list, each a pointer to the list or to one phrase."""
    if required and not keywords:
        return [], [FieldError(list_pointer, "name at least one keyword")]
    if len(keywords) > MAX_KEYWORDS:
        return [], [FieldError(list_pointer, f"at most {MAX_KEYWORDS:,} phrases, not {len(keywords):,}")]
    folded: list[str] = []
    errors: list[FieldError] = []
    first_at: dict[str, int] = {}
    for index, keyword in enumerate(keywords):
        pointer = f"{list_pointer}/{index}"
        if not isinstance(keyword, str):
            errors.append(FieldError(pointer, "must be text"))
            continue
        word = normalise(keyword) if len(keyword) <= MAX_KEYWORD_LENGTH else keyword
        if not any(char.isalnum() for char in word):  # empty, or punctuation that would flag most messages
            errors.append(FieldError(pointer, "holds no letter, digit or Chinese character once normalised"))
        elif len(word) > MAX_KEYWORD_LENGTH:
            errors.append(FieldError(pointer, f"is longer than {MAX_KEYWORD_LENGTH} characters"))
        elif word in first_at:
            errors.append(
                FieldError(pointer, f"repeats {list_pointer}/{first_at[word]}: both read {word!r} once normalised")
            )
        else:
            first_at[word] = index
        folded.append(word)
    return folded, errors
