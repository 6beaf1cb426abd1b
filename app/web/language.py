"""Accept-Language → `zh` (zh-CN, the default) or `en` for customer-facing labels."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Header

Language = Literal["zh", "en"]


async def language(
    accept_language: Annotated[
        str | None, Header(description="`zh-CN` (default) or `en` for labels and messages.")
    ] = None,
) -> Language:
    """The language the caller ranks highest among those we speak; anything else gets zh-CN."""
    choices: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, quality = part.strip().lower().partition(";q=")
        try:
            choices.append((float(quality) if quality else 1.0, tag))
        except ValueError:
            continue
    for _, tag in sorted(choices, key=lambda choice: -choice[0]):  # stable: equal weights keep their order
        if tag.startswith(("en", "zh")):
            return "en" if tag.startswith("en") else "zh"
    return "zh"


Lang = Annotated[Language, Depends(language)]
