"""Texts the service writes for customers are stored in Chinese and read in the reader's language, their numbers
read back from the stored text."""

from __future__ import annotations

from app.workflows.standard_texts import (
    AUTO_COMPLETED,
    AUTO_COMPLETED_REOPENABLE,
    AUTO_REVIEWED,
    RESOLVED_BY_TASKS,
    in_language,
)


def test_a_standard_text_is_stored_in_chinese_and_read_in_english_with_its_numbers():
    stored = AUTO_COMPLETED_REOPENABLE.text(resolved_days=1, reopen_days=15)

    assert (
        stored
        == "问题已解决 1 天，期间未收到您的进一步反馈，系统已自动完成本工单。如问题仍未解决，您可在 15 天内重新打开。"
    )
    assert in_language(stored, "zh-CN") == stored
    assert in_language(stored, "en") == (
        "Completed automatically: your issue was resolved 1 day ago, with no further word from you. "
        "If it is not solved, you can reopen it within 15 days."
    )


def test_each_standard_text_is_told_apart_from_the_others_and_from_free_text():
    short = AUTO_COMPLETED.text(resolved_days=3)

    assert (
        in_language(short, "en")
        == "Completed automatically: your issue was resolved 3 days ago, with no further word from you."
    )
    assert in_language(RESOLVED_BY_TASKS.text(), "en") == "Your issue has been resolved."
    assert in_language(AUTO_REVIEWED.text(), "en") == "Approved at once (极速审核)"
    assert (
        in_language("问题已解决 3 天，客户来电确认", "en") == "问题已解决 3 天，客户来电确认"
    )  # an agent's own remark
    assert in_language("问题已解决 x 天，期间未收到您的进一步反馈，系统已自动完成本工单。", "en").startswith("问题")
