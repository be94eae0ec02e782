"""Hints for the marker: does an essay appear to mention an indicative-content point?

A point matches when any of its key terms occurs in the essay as whole words, ignoring
letter case ("Turkey" matches "turkey," but not "Turkeys"; "test ban" matches
"Test  Ban" across a line break). The result is a hint shown beside the essay with the
matching passages highlighted; it never sets a mark.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    term: str


@dataclass
class PointMatch:
    point_id: int | None
    text: str
    side: str
    terms: list[str]
    spans: list[Span] = field(default_factory=list)

    @property
    def mentioned(self) -> bool:
        return bool(self.spans)

    @property
    def matched_terms(self) -> list[str]:
        seen: list[str] = []
        for span in self.spans:
            if span.term not in seen:
                seen.append(span.term)
        return seen


@lru_cache(maxsize=1024)
def term_pattern(term: str) -> re.Pattern[str] | None:
    """A case-insensitive whole-word pattern; spaces in the term match any whitespace."""
    words = term.split()
    if not words:
        return None
    body = r"\s+".join(re.escape(word) for word in words)
    # \b fails next to punctuation such as "U-2" or "20 June 1963."; look-arounds on
    # word characters give whole-word matching for any term.
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


# Python's re, ignoring case, matches an ASCII character with its other case and with these
# four others alone (tests/test_indicative.py finds them among every code point, and fails if
# a later Python's Unicode tables add one). `fold` maps each to the ASCII character in lower
# case, one character for one, so positions in the folded text are positions in the essay.
_FOLD = str.maketrans(
    {
        **{upper: upper.lower() for upper in string.ascii_uppercase},
        "\u0130": "i",
        "\u0131": "i",
        "\u212a": "k",
        "\u017f": "s",
    }
)


def fold(text: str) -> str:
    """The text with every character a case-ignoring pattern matches with an ASCII character
    made that character in lower case (other characters kept)."""
    return text.lower() if text.isascii() else text.translate(_FOLD)


def find_term(text: str, term: str, folded: str | None = None) -> list[Span]:
    """The term's whole-word matches in `text`, as `finditer` gives them. With `folded`
    (`fold(text)`, which match_points passes), a term in ASCII is looked for only where its
    first word occurs in the folded text: every match starts at such a place, so the pattern
    is tried there alone (in order, from the end of the last match, as finditer would) rather
    than scanned across the whole essay with its look-arounds at every position."""
    term = term.strip()
    pattern = term_pattern(term)
    if pattern is None:
        return []
    if folded is None or not term.isascii():
        return [Span(m.start(), m.end(), term) for m in pattern.finditer(text)]
    first = term.split()[0].lower()
    spans = []
    end = 0
    at = folded.find(first)
    while at != -1:
        if at >= end and (found := pattern.match(text, at)):
            spans.append(Span(found.start(), found.end(), term))
            end = found.end()
        at = folded.find(first, at + 1)
    return spans


def match_points(text: str, points: Iterable) -> list[PointMatch]:
    """Match each point (anything with `pk`/`id`, `text`, `side`, `key_term_list`) against the essay."""
    results = []
    folded = fold(text)
    for point in points:
        terms = list(point.key_term_list)
        spans: list[Span] = []
        for term in terms:
            spans.extend(find_term(text, term, folded))
        spans.sort(key=lambda s: (s.start, -s.end))
        results.append(
            PointMatch(
                point_id=getattr(point, "pk", getattr(point, "id", None)),
                text=point.text,
                side=point.side,
                terms=terms,
                spans=spans,
            )
        )
    return results


def merge_spans(spans: Sequence[Span]) -> list[tuple[int, int]]:
    """Overlapping or touching spans merged, for highlighting without nested marks."""
    merged: list[list[int]] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if merged and span.start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], span.end)
        else:
            merged.append([span.start, span.end])
    return [(start, end) for start, end in merged]
