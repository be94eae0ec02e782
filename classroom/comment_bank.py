"""The comment bank: `#code` expansion and loading the starter bank from the unit folders."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.db import transaction

from classroom.models import MAX_BANK_CHARS, CommentBankEntry
from crisis.content.loader import CONTENT_DIR, unit_folders
from crisis.models import EssayPrompt

CODE_PATTERN = re.compile(r"(?<![\w#])#([A-Za-z0-9][\w-]{0,19})(?![\w-])")


def precedence(entry: CommentBankEntry) -> int:
    """Which entry a code means when several share it: the teacher's own (2) over the
    department bank's (1) over the starter bank's (0)."""
    if entry.department:
        return 1
    return 0 if entry.is_starter else 2


def entries_by_code(entries) -> dict[str, CommentBankEntry]:
    """Code (lower case) to entry, by `precedence`: a teacher's own entry wins over a
    department one with the same code, which wins over a starter one."""
    found: dict[str, CommentBankEntry] = {}
    for entry in sorted(entries, key=precedence):
        found[entry.code.lower()] = entry
    return found


def usable_entries(entries) -> list[CommentBankEntry]:
    """The bank as a marker can use it: one entry per code, the teacher's own shadowing the
    department's and the department's the starter one (the same rule as `#code` expansion,
    so the list and the expansion agree), in the bank's order."""
    return sorted(entries_by_code(entries).values(), key=lambda e: (e.criterion_code, e.code.lower()))


def expand_codes(text: str, entries, limit: int) -> tuple[str, CommentBankEntry | None]:
    """Replace each `#code` with its bank text; unknown codes stay as typed.

    Returns the new text and, when the whole comment was one code, that entry (so the
    annotation can record where it came from). Expansion stops as soon as the text passes
    `limit` characters (the field's maximum): the result is then `limit + 1` characters long,
    for the field's own length check to refuse, and never grows with the number of codes.
    """
    lookup = entries if isinstance(entries, dict) else entries_by_code(entries)
    single = CODE_PATTERN.fullmatch(text.strip())
    pieces: list[str] = []
    length = 0
    position = 0
    for match in CODE_PATTERN.finditer(text):
        entry = lookup.get(match.group(1).lower())
        for piece in (text[position : match.start()], entry.text if entry else match.group(0)):
            pieces.append(piece)
            length += len(piece)
        position = match.end()
        if length > limit:
            return "".join(pieces)[: limit + 1], None
    pieces.append(text[position:])
    expanded = "".join(pieces)
    if len(expanded) > limit:
        expanded = expanded[: limit + 1]
    return expanded, lookup.get(single.group(1).lower()) if single else None


class BankFileError(Exception):
    pass


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def summary(self) -> str:
        return f"Starter comment bank: {self.created} added, {self.updated} updated, {self.unchanged} unchanged."


def read_bank(path: Path) -> list[dict]:
    """Parse and check one comment_bank.yaml; BankFileError naming every problem."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(data, list):
        raise BankFileError(f"{path}: expected a list of comments.")
    errors = []
    seen = set()
    for index, item in enumerate(data, start=1):
        where = f"{path.name} item {index}"
        if not isinstance(item, dict):
            errors.append(f"{where}: expected code, text, criterion and prompt.")
            continue
        code = str(item.get("code") or "").strip()
        if not code or not CODE_PATTERN.fullmatch("#" + code):
            errors.append(f"{where}: code {code!r} must be letters, digits, - or _ (up to 20).")
        elif code.lower() in seen:
            errors.append(f"{where}: code {code!r} is used twice.")
        seen.add(code.lower())
        if not str(item.get("text") or "").strip():
            errors.append(f"{where}: text is missing.")
        elif len(str(item["text"]).strip()) > MAX_BANK_CHARS:
            errors.append(f"{where}: text is longer than {MAX_BANK_CHARS:,} characters.")
        criterion = item.get("criterion")
        if criterion is not None and criterion not in CommentBankEntry.CRITERION_CODES:
            codes = ", ".join(CommentBankEntry.CRITERION_CODES)
            errors.append(f"{where}: criterion {criterion!r} must be one of {codes} or null.")
    if errors:
        raise BankFileError("\n".join(errors))
    return data


def load_starter_bank(root: Path = CONTENT_DIR) -> LoadReport:
    """Load every unit folder's comment_bank.yaml as starter entries (no owner); idempotent.

    Entries are matched by code and updated in place, so annotations that used them keep
    their link. Every file is checked before anything is written.
    """
    items = []
    for folder in unit_folders(root):
        path = folder / "comment_bank.yaml"
        if path.exists():
            items.extend(read_bank(path))
    prompts = {p.slug: p for p in EssayPrompt.objects.filter(owner__isnull=True)}
    missing = sorted({item["prompt"] for item in items if item.get("prompt") and item["prompt"] not in prompts})
    if missing:
        raise BankFileError(f"Unknown prompt slugs (run load_unit first?): {', '.join(missing)}.")
    report = LoadReport()
    with transaction.atomic():
        existing = {e.code: e for e in CommentBankEntry.objects.filter(owner__isnull=True)}
        for item in items:
            code = str(item["code"]).strip()
            values = {
                "text": str(item["text"]).strip(),
                "criterion_code": item.get("criterion") or "",
                "prompt": prompts.get(item.get("prompt") or ""),
            }
            entry = existing.get(code)
            if entry is None:
                CommentBankEntry.objects.create(owner=None, code=code, **values)
                report.created += 1
            elif any(getattr(entry, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(entry, name, value)
                entry.save(update_fields=list(values))
                report.updated += 1
            else:
                report.unchanged += 1
    return report
