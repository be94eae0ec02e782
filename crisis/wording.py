"""Counts in words, for text built in Python ("1 minute", "2 minutes"). Templates use
Django's `pluralize` filter: `{{ n }} minute{{ n|pluralize }}`."""

from __future__ import annotations


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """The count and its noun, singular only for exactly one: "1 mark", "0 marks", "1,200 words".
    Give `plural_noun` when adding an "s" is wrong ("1 class", "2 classes")."""
    return f"{count:,} {noun if count == 1 else (plural_noun or noun + 's')}"
