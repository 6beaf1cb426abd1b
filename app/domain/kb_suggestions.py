"""Articles suggested for a ticket, and titles for type-ahead. Pure: no I/O.

A ticket's text is long and says much besides its question, so its suggestions are not a search for every word (an
AND of them all finds nothing): its significant tokens (Chinese bigrams without function characters, Latin words that
are not stop words, the title's first) are ORed, each also as its synonyms, and an article scores for every token it
holds (title over tags over body), plus a boost when it is written for the ticket's product line or category.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from app.domain.kb_articles import Visibility
from app.domain.kb_synonyms import Thesaurus
from app.domain.kb_tokens import Span, fold, is_chinese, runs

DEFAULT_SUGGESTIONS, MAX_SUGGESTIONS = 5, 20
MAX_TICKET_SPANS = 32
"""A ticket asks with its most telling tokens at most: the score is one SQL term per token and field."""
TITLE_HIT, TAGS_HIT, BODY_HIT = 3, 2, 1
PRODUCT_LINE_BOOST, CATEGORY_BOOST = 6, 4
MAX_TITLES = 10
_FUNCTION_CHARS = frozenset(
    "的了是我你他她它们在和就都而及与或吗呢吧啊呀请您这那有个也还又被把给让要会能到从对么什怎没不已经"
)
"""Characters that make a bigram say nothing about the question (我的, 了吗, 请问)."""
_STOP_WORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "could", "did", "do", "does", "for", "from",
        "had", "has", "have", "i", "if", "in", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our",
        "please", "so", "that", "the", "this", "to", "was", "we", "were", "will", "with", "would", "you", "your",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RelatedQuery:
    """What a ticket asks the knowledge base: spans ORed (a Latin word as a prefix, a bigram as itself), the boosts,
    and the caller's reach (customers: public only; staff: their business-line scope and the ticket's line)."""

    spans: tuple[Span, ...]
    product_line: str | None
    category: str | None
    visibility: Visibility | None
    business_lines: frozenset[str] | None
    limit: int


def ticket_spans(title: str, description: str, thesaurus: Thesaurus) -> tuple[Span, ...]:
    """The ticket's significant spans: the title's in order, then the description's most frequent; each followed by
    its synonyms; at most MAX_TICKET_SPANS."""
    title_spans = _significant(title, thesaurus)
    counted = Counter(_significant(description, thesaurus))
    ordered = list(dict.fromkeys([*title_spans, *(span for span, _ in counted.most_common())]))
    spans: dict[Span, None] = {}
    for span in ordered:
        spans[span] = None
        for other in thesaurus.others(span):
            spans[other] = None
    return tuple(spans)[:MAX_TICKET_SPANS]


def _significant(text: str, thesaurus: Thesaurus) -> list[Span]:
    """Latin words but stop words and bare numbers; Chinese bigrams without function characters, and a whole Chinese
    run that is a synonym term (退款到账 says more than its bigrams)."""
    found: list[Span] = []
    for run in runs(fold(text)):
        if not is_chinese(run):
            if len(run) > 1 and run not in _STOP_WORDS and not run.isdigit():
                found.append(Span(run))
            continue
        if len(run) > 2 and run in thesaurus.by_term:
            found.append(Span(run))
        bigrams = (run[i : i + 2] for i in range(len(run) - 1))
        found += [Span(bigram) for bigram in bigrams if not _FUNCTION_CHARS.intersection(bigram)]
    return found
