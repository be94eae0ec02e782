"""Writing help: sentence starters and paragraph frames per question type, and the
source-analysis frame, from crisis/content/writing_frames.yaml (FORMAT.md, "Writing help").

The file is part of the code, not of a unit: it is read once, checked, and kept. A mistake
in it is a startup-time error naming the entry, and tests/test_support.py loads it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ImproperlyConfigured

from crisis.models import EssayPrompt

FRAMES_FILE = Path(__file__).resolve().parent / "content" / "writing_frames.yaml"


def _text(item: Any, key: str, where: str) -> str:
    value = item.get(key) if isinstance(item, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise ImproperlyConfigured(f"{FRAMES_FILE.name}: {where}, {key} is missing or not text")
    return value.strip()


def _texts(item: dict, key: str, where: str) -> list[str]:
    values = item.get(key)
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v.strip() for v in values):
        raise ImproperlyConfigured(f"{FRAMES_FILE.name}: {where}, {key} must be a list of text")
    return [v.strip() for v in values]


def parse(data: Any) -> dict[str, Any]:
    """The checked contents of writing_frames.yaml: every question type has a frame."""
    if not isinstance(data, dict):
        raise ImproperlyConfigured(f"{FRAMES_FILE.name}: expected question_types and source_analysis")
    raw_types = data.get("question_types")
    if not isinstance(raw_types, dict):
        raise ImproperlyConfigured(f"{FRAMES_FILE.name}: question_types is missing")
    unknown = set(raw_types) - set(EssayPrompt.QuestionType.values)
    missing = set(EssayPrompt.QuestionType.values) - set(raw_types)
    if unknown or missing:
        raise ImproperlyConfigured(
            f"{FRAMES_FILE.name}: question_types must have exactly the types "
            f"{', '.join(EssayPrompt.QuestionType.values)} (unknown: {sorted(unknown)}, missing: {sorted(missing)})"
        )
    types = {}
    for key, item in raw_types.items():
        where = f"question_types.{key}"
        steps = item.get("frame") if isinstance(item, dict) else None
        if not isinstance(steps, list) or not steps:
            raise ImproperlyConfigured(f"{FRAMES_FILE.name}: {where}, frame must be a list of steps")
        types[key] = {
            "key": key,
            "title": _text(item, "title", where),
            "aim": _text(item, "aim", where),
            "watch_out": _text(item, "watch_out", where),
            "frame": [
                {"step": _text(step, "step", f"{where}, frame[{n}]"), "starters": _texts(step, "starters", where)}
                for n, step in enumerate(steps, start=1)
            ],
        }
    raw_source = data.get("source_analysis")
    where = "source_analysis"
    questions = raw_source.get("questions") if isinstance(raw_source, dict) else None
    if not isinstance(questions, list) or not questions:
        raise ImproperlyConfigured(f"{FRAMES_FILE.name}: {where}, questions must be a list")
    source = {
        "title": _text(raw_source, "title", where),
        "intro": _text(raw_source, "intro", where),
        "questions": [
            {key: _text(q, key, f"{where}, questions[{n}]") for key in ("heading", "ask", "starter")}
            for n, q in enumerate(questions, start=1)
        ],
    }
    return {"question_types": types, "source_analysis": source}


@cache
def frames() -> dict[str, Any]:
    return parse(yaml.safe_load(FRAMES_FILE.read_text(encoding="utf-8")))


def frame_for(question_type: str | None) -> dict[str, Any]:
    """The writing help for a question type; an unknown or empty type gets the general frame."""
    types = frames()["question_types"]
    return types.get(question_type or "", types[EssayPrompt.QuestionType.OTHER])


def source_analysis() -> dict[str, Any]:
    return frames()["source_analysis"]
