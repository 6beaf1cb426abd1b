"""Synonym terms folded and checked, and the spans a ticket asks the knowledge base with."""

from __future__ import annotations

import pytest

from app.domain.errors import InvalidInput
from app.domain.kb_suggestions import MAX_TICKET_SPANS, ticket_spans
from app.domain.kb_synonyms import NO_SYNONYMS, Thesaurus, folded_terms
from app.domain.kb_tokens import Span


def test_terms_are_folded_as_search_folds_them():
    assert folded_terms(["退貨", "ＲＥＴＵＲＮ", "Refund"]) == ("退货", "return", "refund")


@pytest.mark.parametrize("terms", [["退款"], ["退款", "退 款"], ["退款", "!!"], ["a1", "A1"], ["退款", "x" * 33]])
def test_bad_terms_are_refused(terms):
    with pytest.raises(InvalidInput):
        folded_terms(terms)


def test_a_span_expands_to_its_groups_other_terms():
    thesaurus = Thesaurus.of([("退款", "refund")])
    assert thesaurus.others(Span("refund")) == (Span("退款"),)
    assert thesaurus.others(Span("退货")) == ()


def test_a_ticket_asks_with_its_significant_bigrams_and_words_title_first():
    spans = [span.text for span in ticket_spans("申请退款", "I want my refund 12345 please，退款了吗", NO_SYNONYMS)]
    assert spans[0] == "退款"  # the title first; 申请 and 请退 hold the function character 请
    assert "refund" in spans and "want" in spans
    assert not {"my", "please", "12345", "了吗", "款了", "申请"} & set(spans)


def test_a_ticket_asks_with_synonyms_of_its_words_and_at_most_so_many_spans():
    spans = ticket_spans("想退钱", "", Thesaurus.of([("退钱", "退款")]))
    assert Span("退款") in spans
    long = ticket_spans("".join(chr(0x4E00 + n) for n in range(200)), "", NO_SYNONYMS)
    assert len(long) == MAX_TICKET_SPANS
