"""Reading and writing support shown beside questions and sources (crisis/writing_frames.py)."""

from __future__ import annotations

import re
from typing import Any

from django import template

from crisis import glossary, writing_frames

register = template.Library()


@register.filter
def pronunciation(text: str) -> str:
    """A respelling such as "kroosh-CHOF", its stressed part marked (crisis.glossary)."""
    return glossary.pronunciation_html(text or "")


_SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z\"“(])")


@register.filter
def first_sentence(text: str) -> str:
    """The first sentence of a definition, for the one-page knowledge organiser."""
    match = _SENTENCE_END.search(text or "")
    return text[: match.end()] if match else text


@register.inclusion_tag("crisis/_writing_help.html")
def writing_help(prompt: Any, open_panel: bool = False) -> dict[str, Any]:
    """The "Writing help" panel for a question: sentence starters and a paragraph frame for its type."""
    return {"help": writing_frames.frame_for(prompt.question_type), "open_panel": open_panel}


@register.inclusion_tag("crisis/_source_frame.html")
def source_frame(open_panel: bool = False) -> dict[str, Any]:
    """The source-analysis frame: nature, origin, purpose, content, context, what it can't tell us."""
    return {"frame": writing_frames.source_analysis(), "open_panel": open_panel}
