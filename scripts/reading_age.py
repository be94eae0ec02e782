#!/usr/bin/env python3
"""Readability of each lesson body: Flesch–Kincaid grade, reading age and words per sentence.

    python scripts/reading_age.py                      # the shipped unit, in unit.yaml order
    python scripts/reading_age.py path/to/lessons/*.md # any lesson files

Standard library only, so it runs anywhere the repository is checked out. The figures are
estimates: syllables are counted with the usual vowel-group rule, which is right for most
English words and a little off for names (Khrushchev, Dobrynin). The Markdown is stripped
first, and every heading, list item, table row and quotation line counts as a sentence of
its own, because a reader meets it as one.

Flesch–Kincaid grade = 0.39 × (words / sentences) + 11.8 × (syllables / words) − 15.59
Reading age (years)  = grade + 5 (US grade 1 is age 6–7)
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

UNIT_DIR = Path(__file__).resolve().parent.parent / "crisis" / "content" / "cuban_missile_crisis"

WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*")
SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+")
VOWEL_GROUP = re.compile(r"[aeiouy]+")


@dataclass
class Readability:
    name: str
    words: int
    sentences: int
    syllables: int

    @property
    def words_per_sentence(self) -> float:
        return self.words / self.sentences if self.sentences else 0.0

    @property
    def grade(self) -> float:
        if not self.words or not self.sentences:
            return 0.0
        return 0.39 * self.words_per_sentence + 11.8 * (self.syllables / self.words) - 15.59

    @property
    def reading_age(self) -> float:
        return self.grade + 5


def split_front_matter(text: str) -> tuple[str, str]:
    """(front matter, body) of a lesson file; the front matter is '' when there is none."""
    text = text.replace("\r\n", "\n")
    if text.startswith("---\n"):
        end = text.find("\n---\n", 3)
        if end != -1:
            return text[4:end], text[end + 5 :]
    return "", text


def plain_lines(markdown: str) -> list[str]:
    """The body as plain text, one string per Markdown line, with the markup taken out."""
    lines = []
    for line in markdown.splitlines():
        line = line.strip()
        if not line or re.fullmatch(r"[-|:\s]+", line):  # blank lines, table rules, '---'
            continue
        line = re.sub(r"^#{1,6}\s+", "", line)  # headings
        line = re.sub(r"^(>\s*)+", "", line)  # quotations
        line = re.sub(r"^([-*+]|\d+[.)])\s+", "", line)  # list items
        line = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", line)  # links and images keep their text
        line = re.sub(r"`([^`]*)`", r"\1", line)
        line = re.sub(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1", r"\2", line)  # bold and italics
        line = line.replace("|", " . ")  # table cells read as separate phrases
        if line.strip(" ."):
            lines.append(line)
    return lines


def sentences(lines: list[str]) -> list[str]:
    result = []
    for line in lines:
        result += [s for s in SENTENCE_END.split(line) if WORD.search(s)]
    return result


def syllables(word: str) -> int:
    """Estimated syllables: vowel groups, adjusted for the commonest silent and split vowels.

    Numbers count by their digits ('1962' is read 'nineteen sixty-two').
    """
    if word.isdigit():
        return min(len(word) + 1, 5)
    word = word.lower().replace("’", "'").split("'")[0]
    count = len(VOWEL_GROUP.findall(word))
    if (
        count > 1
        and (
            (word.endswith("e") and not word.endswith(("le", "ee", "ye")))  # 'site', 'Rome'
            or (word.endswith("ed") and word[-3] not in "aeiouytd")  # 'trained', not 'wanted'
            or (word.endswith("es") and word[-3] not in "aeiouy" and not re.search(r"([sxzgc]|[cs]h)$", word[:-2]))
        )
    ):  # 'sites', not 'promises', 'places' or 'countries'
        count -= 1
    # vowel pairs usually said as two syllables: Soviet, historian, actual, going, video
    count += len(re.findall(r"(?<![cgt])ia|ie(?=[tn])|ua|[aeo]ing|uing|eo", word))
    return max(count, 1)


def measure(name: str, body: str) -> Readability:
    found = sentences(plain_lines(body))
    words = [w for s in found for w in WORD.findall(s)]
    return Readability(name, len(words), len(found), sum(syllables(w) for w in words))


def lesson_files_in_unit_order(unit_dir: Path = UNIT_DIR) -> list[Path]:
    """The unit's lesson files, in the order unit.yaml lists their slugs (others last)."""
    order: list[str] = []
    in_list = False
    for line in (unit_dir / "unit.yaml").read_text(encoding="utf-8").splitlines():
        if re.match(r"^lessons:\s*$", line):
            in_list = True
            continue
        if in_list:
            item = re.match(r"^\s+-\s+(\S+)", line)
            if item:
                order.append(item.group(1).strip("\"'"))
            elif line.strip() and not line.startswith(" "):
                in_list = False
    by_slug = {}
    for path in sorted((unit_dir / "lessons").glob("*.md")):
        front, _ = split_front_matter(path.read_text(encoding="utf-8"))
        slug = re.search(r"^slug:\s*(\S+)", front, flags=re.M)
        by_slug[slug.group(1).strip("\"'") if slug else path.stem] = path
    listed = [by_slug.pop(slug) for slug in order if slug in by_slug]
    return listed + sorted(by_slug.values())


def _row(r: Readability) -> str:
    return (
        f"{r.name:<34} {r.words:>6} {r.sentences:>9} {r.words_per_sentence:>14.1f} "
        f"{r.grade:>8.1f} {r.reading_age:>11.1f}"
    )


def table(rows: list[Readability]) -> str:
    head = f"{'lesson':<34} {'words':>6} {'sentences':>9} {'words/sentence':>14} {'FK grade':>8} {'reading age':>11}"
    rule = "-" * len(head)
    out = [head, rule, *(_row(r) for r in rows)]
    if len(rows) > 1:
        totals = (sum(r.words for r in rows), sum(r.sentences for r in rows), sum(r.syllables for r in rows))
        out += [rule, _row(Readability("all lessons", *totals))]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or lesson_files_in_unit_order()
    rows = []
    for path in paths:
        _, body = split_front_matter(path.read_text(encoding="utf-8"))
        rows.append(measure(path.stem, body))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
