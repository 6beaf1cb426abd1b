"""Texts the service itself writes where a customer reads them (a solution, a timeline remark): stored in Chinese,
as every remark is, and shown in the reader's language. A text's whole numbers are its parameters, read back from
the stored Chinese, so a standard text needs no column of its own."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DAYS_SUFFIX = "_days"
"""A parameter named `…_days` is a count of days: in English `1 day`, `3 days`."""


@dataclass(frozen=True)
class StandardText:
    """`zh` and `en` are templates with the same `{fields}`, each standing for a whole number."""

    zh: str
    en: str
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = re.split(r"\{(\w+)\}", self.zh)
        regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>\\d+)" for i, p in enumerate(parts))
        object.__setattr__(self, "_pattern", re.compile(regex))

    def text(self, **values: int) -> str:
        """The text to store (the Chinese)."""
        return self.zh.format(**values)

    def read(self, stored: str, language: str) -> str | None:
        """The stored text in `language`, None when it is not this standard text."""
        found = self._pattern.fullmatch(stored)
        if found is None:
            return None
        if language != "en":
            return stored
        values = {name: _english(name, int(number)) for name, number in found.groupdict().items()}
        return self.en.format(**values)


def _english(name: str, number: int) -> str:
    if name.endswith(DAYS_SUFFIX):
        return "1 day" if number == 1 else f"{number} days"
    return str(number)


RESOLVED_BY_TASKS = StandardText("您的问题已处理完成。", "Your issue has been resolved.")
"""The solution a customer reads when the ticket resolved itself as its last task was approved; what the tasks
reported stays in the resolution's internal note."""
AUTO_COMPLETED = StandardText(
    "问题已解决 {resolved_days} 天，期间未收到您的进一步反馈，系统已自动完成本工单。",
    "Completed automatically: your issue was resolved {resolved_days} ago, with no further word from you.",
)
AUTO_COMPLETED_REOPENABLE = StandardText(
    AUTO_COMPLETED.zh + "如问题仍未解决，您可在 {reopen_days} 天内重新打开。",
    AUTO_COMPLETED.en + " If it is not solved, you can reopen it within {reopen_days}.",
)
"""自动完成: a resolved ticket nobody followed up on (app/services/ticket_auto_close.py)."""
AUTO_REVIEWED = StandardText("极速审核", "Approved at once (极速审核)")
NO_REVIEW_LEVEL = StandardText("无需人工审核", "Approved: no review level applies")
"""An after-sales order approved without a reviewer: by an auto-review rule, or because no approval level applies."""

STANDARD_TEXTS = (RESOLVED_BY_TASKS, AUTO_COMPLETED_REOPENABLE, AUTO_COMPLETED, AUTO_REVIEWED, NO_REVIEW_LEVEL)


def in_language(stored: str, language: str) -> str:
    """A stored text as the reader reads it: a standard text in their language, anything else as written."""
    for standard in STANDARD_TEXTS:
        shown = standard.read(stored, language)
        if shown is not None:
            return shown
    return stored
