"""Indicative-content hints on hand-written sample essays: hits and misses both asserted."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import pytest

from classroom.indicative import find_term, fold, match_points, merge_spans


@dataclass
class Point:
    pk: int
    text: str
    side: str
    key_terms: str

    @property
    def key_term_list(self):
        return [t.strip() for t in self.key_terms.split(",") if t.strip()]


HOTLINE = Point(1, "The Hotline improved communication", "supports", "hotline, teleprinter, 20 June 1963")
TEST_BAN = Point(2, "The Partial Test Ban Treaty", "supports", "test ban, Partial Test Ban Treaty")
ARMS = Point(3, "The arms race continued", "challenges", "ICBM, arms race, build-up")
VIETNAM = Point(4, "Vietnam", "challenges", "Vietnam, Rolling Thunder")
TURKEY = Point(5, "The secret Turkey deal", "supports", "Turkey, Jupiter")

STRONG_ESSAY = """The crisis led to the Hotline, agreed on 20 June 1963. It was a teleprinter link,
not a telephone. The Partial Test
Ban Treaty followed in August 1963.

However the Soviet ICBM build-up shows the arms race went on, and in Vietnam the US escalated."""

WEAK_ESSAY = "Kennedy was brave and the Russians backed down. Hotlines are phones. Turkeys are birds."


def test_strong_essay_mentions_every_point_it_discusses():
    results = {m.point_id: m for m in match_points(STRONG_ESSAY, [HOTLINE, TEST_BAN, ARMS, VIETNAM, TURKEY])}
    assert results[1].mentioned and set(results[1].matched_terms) == {"hotline", "teleprinter", "20 June 1963"}
    # A term split across a line break still matches.
    assert results[2].mentioned and "Partial Test Ban Treaty" in results[2].matched_terms
    assert results[3].mentioned and set(results[3].matched_terms) == {"ICBM", "arms race", "build-up"}
    assert results[4].mentioned
    assert not results[5].mentioned


def test_weak_essay_misses_whole_word_near_misses():
    results = {m.point_id: m for m in match_points(WEAK_ESSAY, [HOTLINE, TURKEY, VIETNAM])}
    # "Hotlines" and "Turkeys" are not the whole words "hotline" and "Turkey".
    assert not results[1].mentioned
    assert not results[5].mentioned
    assert not results[4].mentioned


def test_spans_point_at_the_matching_passages():
    spans = find_term(STRONG_ESSAY, "teleprinter")
    assert len(spans) == 1
    assert STRONG_ESSAY[spans[0].start : spans[0].end] == "teleprinter"
    upper = find_term("THE HOTLINE.", "hotline")
    assert [(s.start, s.end) for s in upper] == [(4, 11)]


def test_terms_with_punctuation_match_as_whole_terms():
    assert find_term("A U-2 was shot down.", "U-2")
    assert not find_term("A U-21 was shot down.", "U-2")


def test_regex_characters_in_terms_are_literal():
    assert not find_term("anything at all", ".*")
    assert find_term("the (secret) deal", "(secret)")


def test_overlapping_spans_merge_for_highlighting():
    text = "Partial Test Ban Treaty"
    spans = find_term(text, "test ban") + find_term(text, "Partial Test Ban Treaty")
    assert merge_spans(spans) == [(0, len(text))]


def test_empty_terms_are_ignored():
    point = Point(9, "x", "judgement", " , ,")
    assert not match_points("anything", [point])[0].mentioned


# Small alphabets, so that terms often occur, repeat and overlap themselves ("a a" in "a a a");
# the second has case oddities a careless lower-case shortcut would get wrong: the long s and
# the Kelvin sign match "s" and "k" when case is ignored, and the dotted I lowers to two characters.
ALPHABETS = [
    ["a", "A", "b", " ", "\n", "-"],
    ["a", "B", "k", "s", " ", "\n", "-", ".", "2", "\u017f", "\u212a", "\u0130", "é"],
]


@pytest.mark.parametrize("alphabet", ALPHABETS)
def test_looking_only_where_the_first_word_occurs_finds_what_the_scan_finds(alphabet):
    """find_term with the folded text (match_points' shortcut) against the plain scan."""
    rng = random.Random(1962)
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        term = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5)))
        assert find_term(text, term, fold(text)) == find_term(text, term), (text, term)


def test_the_pattern_is_tried_only_where_the_terms_first_word_occurs(monkeypatch):
    from classroom import indicative

    calls = []
    real = indicative.term_pattern

    def counting(term):
        pattern = real(term)
        return None if pattern is None else _Counting(pattern, calls)

    monkeypatch.setattr(indicative, "term_pattern", counting)
    text = "The hotline was agreed in June 1963; a hotline-style link, not hotlines."
    assert find_term(text, "Test Ban", fold(text)) == []
    assert calls == []  # "test" is nowhere in it: no scan at all
    spans = find_term(text, "HOTLINE", fold(text))
    assert [text[s.start : s.end] for s in spans] == ["hotline", "hotline"]
    assert calls == [("match", 4), ("match", 39), ("match", 63)]  # each "hotline", and no whole scan
    calls.clear()
    assert [(s.start, s.end) for s in find_term(text, "HOTLINE")] == [(s.start, s.end) for s in spans]
    assert calls == [("finditer", 0)]  # without the folded text: the plain scan
    calls.clear()
    typographic = "The \u201chotline\u201d \u2013 a Hotline."  # curly quotes and a dash: not ASCII
    assert [(s.start, s.end) for s in find_term(typographic, "hotline", fold(typographic))] == [(5, 12), (18, 25)]
    assert calls == [("match", 5), ("match", 18)]


def test_fold_knows_every_character_that_ignoring_case_matches_with_ascii():
    """Every code point, against every ASCII character, as Python's re ignores case: those
    that match one are folded to it in lower case, and the rest are left alone."""
    everything = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF)
    matches: dict[str, set[str]] = {}
    for code in range(128):
        for found in re.finditer(re.escape(chr(code)), everything, re.IGNORECASE):
            matches.setdefault(found.group(), set()).add(chr(code).lower())
    folded = fold(everything)
    assert len(folded) == len(everything)
    for char, folded_char in zip(everything, folded, strict=True):
        if char in matches:
            assert matches[char] == {folded_char}, char
        else:
            assert folded_char == char, char


class _Counting:
    """A compiled pattern that notes how it is used."""

    def __init__(self, pattern, calls):
        self.pattern, self.calls = pattern, calls

    def finditer(self, text):
        self.calls.append(("finditer", 0))
        return self.pattern.finditer(text)

    def match(self, text, pos):
        self.calls.append(("match", pos))
        return self.pattern.match(text, pos)
