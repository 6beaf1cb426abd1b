"""The knowledge base tokenizer: one folding and one cut for indexing and querying."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.domain.kb_tokens import MAX_WORD, Span, fold, index_tokens, query_spans


def test_a_chinese_run_is_indexed_as_bigrams_and_characters():
    assert index_tokens("退款申请") == ["退款", "款申", "申请", "退", "款", "申", "请"]


def test_one_character_runs_are_single_tokens():
    assert index_tokens("退 A") == ["退", "a"]


def test_latin_words_and_digits_are_lower_case_words():
    assert index_tokens("Refund  ORDER 12315, refund!") == ["refund", "order", "12315"]


def test_full_width_and_traditional_fold_to_the_same_tokens():
    assert fold("ＲＥＦＵＮＤ 退貨 １２") == "refund 退货 12"
    assert index_tokens("退貨") == index_tokens("退货")


def test_mixed_text_is_cut_between_scripts():
    assert [span.text for span in query_spans("iPhone屏幕碎了")] == ["iphone", "屏幕碎了"]


def test_a_query_span_asks_for_its_bigrams_or_its_character():
    assert Span("退款申请").tokens == ("退款", "款申", "申请")
    assert Span("退").tokens == ("退",)
    assert Span("refund").tokens == ("refund",)
    assert Span("哈哈哈").tokens == ("哈哈",)


def test_punctuation_only_holds_no_span():
    assert query_spans("？？！！…— ,.;") == ()


def test_overlong_latin_words_are_cut():
    assert index_tokens("a" * 100) == ["a" * MAX_WORD]


@given(st.text(max_size=60))
def test_every_query_token_of_a_text_is_among_its_index_tokens(text):
    indexed = set(index_tokens(text))
    for span in query_spans(text):
        assert set(span.tokens) <= indexed


@given(st.text(max_size=60))
def test_tokens_never_hold_a_space_and_folding_is_stable(text):
    assert all(token and " " not in token for token in index_tokens(text))
    assert fold(fold(text)) == fold(text)
