"""A lesson's key terms, marked where the lesson text first uses them.

The lesson body is stored as sanitised HTML (`Lesson.body_html`, crisis/markdown.py). When
the page is shown, `mark_terms` finds the first use of each key term in it and turns the
word into a button that opens the term's definition and pronunciation in place (Bootstrap's
collapse: a disclosure button with aria-expanded, no inline script or style).

The pass is linear and never reparses Markdown. It reads the stored HTML once, tag by tag;
only text inside paragraphs, list items, quotations, table cells and emphasis is searched,
never a tag, a link, a heading, code or a table heading. Text is cut into words and
punctuation marks, and the terms are looked up word by word in a table (a trie), at most
`MAX_TERM_TOKENS` deep, so the work is bounded by (length of the text) × `MAX_TERM_TOKENS`
whatever the terms are. Every piece of text that is rewritten is escaped again, and the
term, definition and pronunciation are escaped: nothing a teacher types becomes markup.
"""

from __future__ import annotations

import functools
import html
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Terms marked in one lesson (the glossary at the foot lists every one), and the words and
# punctuation marks one term may span ("Organization of American States" is 4).
MAX_TERMS = 40
MAX_TERM_TOKENS = 12

# Text inside only these elements may be marked (nh3's allow-list, crisis/markdown.py, has no
# others that hold running text); anything else (a, h2–h6, code, pre, th) is left alone.
_MARKABLE = {"p", "li", "ul", "ol", "blockquote", "em", "strong", "table", "thead", "tbody", "tr", "td"}
_VOID = {"br", "hr", "img", "wbr"}
# nh3 writes every attribute value in double quotes, where ">" may appear unescaped.
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)(?:[^>\"]|\"[^\"]*\")*>")
_TOKENS = re.compile(r"\w+|[^\w\s]")
_QUOTES = "\"'“”‘’"
_PARENTHESIS = re.compile(r"\s*\(([^()]*)\)")


class Term(Protocol):
    term: str
    definition: str
    pronunciation: str


class _TermText(NamedTuple):
    """What marking reads of a key term: the cache key, so an edit to any of it is a new entry."""

    term: str
    definition: str
    pronunciation: str


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    term: int | None = None  # index of the term a match ending here belongs to


def _plural_stems(word: str) -> tuple[str, ...]:
    if len(word) < 3 or word[-1] not in "sS":
        return ()
    return (word[:-1], word[:-2]) if word[-2] in "eE" else (word[:-1],)


def _tokens(text: str) -> list[str]:
    return _TOKENS.findall(text)


def _is_abbreviation(text: str) -> bool:
    """ "MAD", "ICBM", "U-2": matched with their capitals, so "mad" is not "MAD"."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def term_variants(term: str) -> list[str]:
    """The forms of a key term looked for in the text: as written (a person's "Surname,
    Forenames" as "Forenames Surname" and the surname alone), without a bracketed part,
    and the bracketed abbreviation on its own ("Mutually assured destruction (MAD)" gives
    that, "Mutually assured destruction" and "MAD"; "Partial (Limited) Test Ban Treaty" gives
    "Partial Test Ban Treaty" and "Limited Test Ban Treaty")."""
    term = term.strip().strip(_QUOTES).strip()
    variants = [term]
    surname, comma, forenames = term.partition(",")
    if comma and surname.strip() and forenames.strip():
        # A person written "Khrushchev, Nikita" is found as "Nikita Khrushchev" or "Khrushchev".
        variants = [f"{forenames.strip()} {surname.strip()}", surname.strip()]
        term = surname.strip()
    match = _PARENTHESIS.search(term)
    if match:
        inside = match.group(1).strip()
        variants.append((term[: match.start()] + term[match.end() :]).strip())
        if not term[match.end() :].strip():
            variants.append(inside)
        else:
            before = term[: match.start()].rsplit(" ", 1)
            variants.append(" ".join([*before[:-1], inside]) + term[match.end() :])
    return [v for v in dict.fromkeys(variants) if v]


class _Finder:
    """The terms' variants in two tries of tokens: abbreviations by exact case, the rest folded."""

    def __init__(self, terms: Sequence[str]) -> None:
        self.exact = _Node()
        self.folded = _Node()
        for index, term in enumerate(terms):
            for variant in term_variants(term):
                tokens = _tokens(variant)
                if not tokens or len(tokens) > MAX_TERM_TOKENS:
                    continue
                node = self.exact if _is_abbreviation(variant) else self.folded
                if node is self.folded:
                    tokens = [t.casefold() for t in tokens]
                for token in tokens:
                    node = node.children.setdefault(token, _Node())
                if node.term is None:
                    node.term = index

    @staticmethod
    def _walk(root: _Node, keys: list[str], start: int, best: tuple[int, int] | None) -> tuple[int, int] | None:
        """The longest term from token `start` as (tokens matched, term index), or `best` if
        that is longer; a term's last word may be read as a plural ("missiles", "ICBMs")."""
        node = root
        for depth in range(min(MAX_TERM_TOKENS, len(keys) - start)):
            key = keys[start + depth]
            for stem in _plural_stems(key):
                ending = node.children.get(stem)
                if ending is not None and ending.term is not None and (best is None or depth + 1 > best[0]):
                    best = (depth + 1, ending.term)
            child = node.children.get(key)
            if child is None:
                break
            node = child
            if node.term is not None and (best is None or depth + 1 > best[0]):
                best = (depth + 1, node.term)
        return best

    def matches(self, text: str) -> Iterable[tuple[int, int, int]]:
        """(start, end, term index) of each longest match, left to right, not overlapping."""
        found = list(_TOKENS.finditer(text))
        raw = [m.group() for m in found]
        folded = [t.casefold() for t in raw]
        at = 0
        while at < len(found):
            best = self._walk(self.exact, raw, at, None)
            best = self._walk(self.folded, folded, at, best)
            if best is None:
                at += 1
                continue
            length, term = best
            yield found[at].start(), found[at + length - 1].end(), term
            at += length


def pronunciation_html(text: str) -> SafeString:
    """A respelling such as "kroosh-CHOF" as HTML: the stressed part (in capitals) is a
    <strong> holding it in small letters, shown in capitals by CSS, so a screen reader says
    the syllable instead of spelling out the letters."""
    parts = []
    for piece in re.split(r"([\s-]+)", text.strip()):
        if piece and _is_abbreviation(piece) and len([c for c in piece if c.isalpha()]) > 1:
            parts.append(f'<strong class="stress">{escape(piece.lower())}</strong>')
        else:
            parts.append(escape(piece))
    return mark_safe("".join(parts))  # noqa: S308 - every piece escaped


def _note(number: int, term: _TermText, words: str) -> str:
    note_id = f"glossary-note-{number}"
    say = ""
    if term.pronunciation:
        say = f' <span class="pronunciation">(say: {pronunciation_html(term.pronunciation)})</span>'
    return (
        f'<button type="button" class="glossary-term" data-bs-toggle="collapse" data-bs-target="#{note_id}" '
        f'aria-expanded="false" aria-controls="{note_id}">{escape(words)}</button>'
        f'<span class="collapse glossary-note" id="{note_id}">'
        f'<span class="glossary-note-term">{escape(term.term.strip())}</span>{say}: {escape(term.definition)}'
        "</span>"
    )


def mark_terms(body_html: str, terms: Sequence[Term]) -> SafeString:
    """`body_html` with the first use of each of `terms` (the first `MAX_TERMS`) marked.

    The result depends on nothing but the text passed in, so it is kept (per process, the
    last `_MARKED_KEPT` lessons) keyed on that text itself: a teacher's edit to the lesson or a
    term is a different key, never a stale page."""
    kept = tuple(_TermText(t.term, t.definition, t.pronunciation) for t in list(terms)[:MAX_TERMS])
    return _marked(body_html, kept)


_MARKED_KEPT = 64


@functools.lru_cache(maxsize=_MARKED_KEPT)
def _marked(body_html: str, terms: tuple[_TermText, ...]) -> SafeString:
    if not terms or not body_html:
        return mark_safe(body_html)  # noqa: S308 - stored sanitised HTML, unchanged
    finder = _Finder([t.term for t in terms])
    used: set[int] = set()
    out: list[str] = []
    stack: list[str] = []
    open_tags: Counter[str] = Counter()  # the names on the stack, so a lookup is not a scan
    blocked = 0  # open elements on the stack that are not markable
    position = 0
    length = len(body_html)
    while position < length:
        lt = body_html.find("<", position)
        end = length if lt < 0 else lt
        if end > position:
            chunk = body_html[position:end]
            out.append(chunk if blocked or len(used) == len(terms) else _mark_text(chunk, finder, terms, used))
            position = end
            continue
        tag = _TAG.match(body_html, position)
        if tag is None:
            # Not a tag nh3 would write: leave the rest exactly as stored.
            out.append(body_html[position:])
            break
        closing, name = tag.group(1) == "/", tag.group(2).lower()
        if closing:
            if open_tags[name]:
                while stack:  # each element is pushed and popped once: linear overall
                    popped = stack.pop()
                    open_tags[popped] -= 1
                    blocked -= popped not in _MARKABLE
                    if popped == name:
                        break
        elif name not in _VOID and not tag.group().endswith("/>"):
            stack.append(name)
            open_tags[name] += 1
            blocked += name not in _MARKABLE
        out.append(tag.group())
        position = tag.end()
    return mark_safe("".join(out))  # noqa: S308 - stored HTML plus escaped text and our own tags


def _mark_text(chunk: str, finder: _Finder, terms: tuple[_TermText, ...], used: set[int]) -> str:
    """One text node with the first use of each term not yet `used` marked, or as it was."""
    text = html.unescape(chunk)
    pieces: list[str] = []
    last = 0
    for start, end, index in finder.matches(text):
        if index in used:
            continue
        used.add(index)
        pieces.append(escape(text[last:start]))
        pieces.append(_note(len(used), terms[index], text[start:end]))
        last = end
    if not pieces:
        return chunk
    pieces.append(escape(text[last:]))
    return "".join(pieces)
