"""Teachers' Markdown: capped in length, rendered once when saved, shown as stored HTML.

Lesson bodies, overviews and instructions are written by teachers in Markdown. Markdown
passes raw HTML through, so the rendered HTML is cleaned with nh3 against an allow-list:
no scripts, no event-handler attributes, no styles, and links only to http(s), mailto or
relative addresses.

Rendering is expensive and, left alone, unbounded (security review M3: 16,000 `[` took
python-markdown 116 s). So:

- every Markdown field has a length cap (`LESSON_TEXT_MAX`, `SHORT_TEXT_MAX`), checked by
  the forms and again by `RendersMarkdown.save()`, which nothing that saves a row bypasses;
- `RendersMarkdown.save()` renders the text into its `<field>_html` column; pages show
  that column and never render (the lesson editor's Preview renders, within the cap);
- `render_html` runs python-markdown with the parts that rescan the text replaced (see
  `_Bounded`), so its time grows with the length of the text, not faster: the worst inputs
  found (tests/test_hardening_markdown.py; timed by bench/markdown_bench.py) render at the
  cap in well under a second.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import Any, ClassVar
from xml.etree.ElementTree import Element, SubElement

import markdown as python_markdown
import nh3
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.deconstruct import deconstructible
from django.utils.safestring import SafeString, mark_safe
from markdown import blockprocessors, inlinepatterns
from markdown.extensions import Extension
from markdown.extensions.sane_lists import SaneOListProcessor, SaneUListProcessor
from markdown.extensions.tables import PIPE_LEFT, PIPE_NONE, PIPE_RIGHT, TableProcessor
from markdown.htmlparser import HTMLExtractor, inner_blank_line_re
from markdown.preprocessors import HtmlBlockPreprocessor

from crisis.wording import plural

# The longest shipped texts (crisis/content/cuban_missile_crisis/) are lesson bodies of up
# to 11,000 characters, a unit overview of 1,150 and essay instructions of 670. The caps
# leave room for a third more than the longest lesson (about 2,500 words) and for three
# times the longest overview or instructions. The slowest input found takes about 0.3 s to
# render at 15,000 characters; python-markdown rebuilds a paragraph's text for each link,
# tag or emphasis it finds in it, so that grows with the square of the length (0.5 s at 20,000).
LESSON_TEXT_MAX = 15_000
SHORT_TEXT_MAX = 4_000

ALLOWED_TAGS = {
    "h2", "h3", "h4", "h5", "h6", "p", "br", "hr",
    "ul", "ol", "li", "em", "strong", "blockquote", "a", "code", "pre",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def clean_html(html: str) -> str:
    """Keep only the allow-listed tags and attributes; scripts are removed with their content."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener",
        strip_comments=True,
    )


# --- the length caps -------------------------------------------------------------------------


@deconstructible
class MarkdownLengthValidator:
    """Refuse Markdown longer than `limit` characters, saying by how much."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __call__(self, value: str | None) -> None:
        if value and len(value) > self.limit:
            raise ValidationError(
                "This text is %(length)s characters long; the most allowed is %(limit)s. "
                "Shorten it by %(over)s (or split it into two).",
                code="markdown_too_long",
                params={
                    "length": f"{len(value):,}",
                    "limit": f"{self.limit:,}",
                    "over": plural(len(value) - self.limit, "character"),
                },
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MarkdownLengthValidator) and other.limit == self.limit

    def __hash__(self) -> int:
        return hash(self.limit)


class RenderedHTMLField(models.TextField):
    """The sanitised HTML of a Markdown field, written only by `RendersMarkdown.save()`.

    Read back as safe to put in a page: nothing else writes it (not editable in forms).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> SafeString | None:
        return None if value is None else mark_safe(value)  # noqa: S308 - only render_html writes it


class RendersMarkdown(models.Model):
    """A model with Markdown fields, each stored beside its HTML (`body` → `body_html`).

    `save()` checks each Markdown field against its cap and renders it, so the HTML is
    right after every save that writes either column: forms, the admin, `load_unit`,
    `make_copy`. (Queryset `update()` and `bulk_create()` skip `save()`; use neither on
    these fields.)
    """

    MARKDOWN_FIELDS: ClassVar[Sequence[str]] = ()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        written = None if update_fields is None else set(update_fields)
        for name in self.MARKDOWN_FIELDS:
            html_name = f"{name}_html"
            if written is not None and not written & {name, html_name}:
                continue
            text = getattr(self, name) or ""
            field = self._meta.get_field(name)
            assert isinstance(field, models.Field)
            try:
                field.run_validators(text)  # the length cap, whoever saves
            except ValidationError as error:
                raise ValidationError({name: error.messages}) from None
            setattr(self, html_name, render_markdown(text))
            if written is not None:
                written |= {name, html_name}
        if written is not None:
            kwargs["update_fields"] = written
        super().save(*args, **kwargs)


# --- rendering -------------------------------------------------------------------------------

# A private-use character stands in for a "<" that cannot start a tag; it becomes "&lt;"
# after rendering, which is how such a "<" would have come out anyway.
_PLAIN_LT = "\ue000"
_TAG_START = re.compile(r"<(?=[A-Za-z/?]|!(?!--))")
# Lists and block quotes nested deeper than this are read as text (python-markdown
# recurses once per level and would hit Python's recursion limit).
MAX_NESTING = 24
# Per render (see _Budget): characters the link parsers may scan, characters of addresses
# and titles that reference links may repeat, and cells tables may have.
LINK_SCAN_BUDGET = 200_000
REFERENCE_COPY_BUDGET = 50_000
TABLE_CELL_BUDGET = 5_000
_LINK_WINDOWS = (500, 4_000)
_QUOTES = re.compile("[\"']")


def _plain_unclosed_tags(text: str) -> str:
    """Make each "<" that opens a tag with no ">" before the next "<" plain text.

    The standard library's HTML parser, which python-markdown runs over the whole text,
    rescans the rest of the text for every such "<" (`<a <a <a …`: quadratic).
    """
    out = []
    last = 0
    close = nxt = 0  # positions of the next ">" and of the "<" after the current one
    for match in _TAG_START.finditer(text):
        start = match.start()
        if 0 <= close <= start:
            close = text.find(">", start)
        if 0 <= nxt <= start:
            nxt = text.find("<", start + 1)
        if close < 0 or 0 <= nxt < close:
            out.append(text[last:start])
            out.append(_PLAIN_LT)
            last = start + 1
    out.append(text[last:])
    return "".join(out)


class _LineSearch:
    """A block processor's "is there such a line anywhere in this block?" search, remembered.

    python-markdown hands a block's remainder back to every block processor after each
    heading, rule or quotation it finds, and several of them search the whole remainder
    again: a block of k such lines costs k × its length. A remainder is the end of a
    block searched before, starting at a line, so the search resumes where the last one
    stopped instead. Only `search()` is remembered; the rest is the compiled pattern's.
    """

    MIN_LENGTH = 1_000  # shorter texts are searched directly
    KEEP = 8

    def __init__(self, pattern: re.Pattern[str], newline_first: bool) -> None:
        self.pattern = pattern
        # True for patterns written "(^|\n)…": a match at a line start begins at the "\n" before it.
        self.newline_first = newline_first
        # Recently searched texts, most recent first, each with what is known about it:
        # the first match at or after position `start` begins at `found` (-1: there is none).
        self.recent: list[tuple[str, int, int]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pattern, name)

    def search(self, block: str, pos: int = 0) -> re.Match[str] | None:
        if pos or len(block) < self.MIN_LENGTH:
            return self.pattern.search(block, pos)
        for index, (text, start, found) in enumerate(self.recent):  # noqa: B007 - used after the break
            offset = len(text) - len(block)
            if offset >= 0 and (offset == 0 or text[offset - 1] == "\n") and text.endswith(block):
                del self.recent[index]
                break
        else:
            text, start, found, offset = block, 0, -2, 0
        origin = offset - 1 if self.newline_first and offset else offset
        if not (start <= origin and (found == -1 or origin <= found)):
            match = self.pattern.search(text, origin) if origin else self.pattern.search(text)
            start, found = origin, match.start() if match else -1
        self.recent = [(text, start, found), *self.recent[: self.KEEP - 1]]
        if found < 0:
            return None
        return self.pattern.search(block, max(found - offset, 0))


class _Budget:
    """What one render may still spend on the parts of Markdown that are not linear."""

    def __init__(self) -> None:
        self.left = LINK_SCAN_BUDGET  # characters the link parsers may still scan
        self.copies_left = REFERENCE_COPY_BUDGET
        self.cells_left = TABLE_CELL_BUDGET


class _BoundedLinks(inlinepatterns.LinkInlineProcessor):
    """The link and image parsers, with a budget of characters scanned per render.

    python-markdown scans from every "[" to its matching "]" (and from every "](" to the
    matching ")", further when the link has a title), so a run of unmatched "[" costs the
    square of its length. A link costs about three times its length (500 characters more
    with a title), so the budget covers hundreds; once it is spent, the rest of the "["
    in the text stay as they are written.
    """

    budget: _Budget
    _BRACKET = re.compile(r"[\[\]]")

    def getText(self, data: str, index: int) -> tuple[str, int, bool]:  # noqa: N802 - python-markdown's name
        end = min(len(data), index + self.budget.left)
        depth = 1
        for bracket in self._BRACKET.finditer(data, index, end):
            depth += 1 if bracket.group() == "[" else -1
            if depth == 0:
                self.budget.left -= bracket.end() - index
                return data[index : bracket.start()], bracket.end(), True
        self.budget.left -= end - index
        return "", len(data), False

    def getLink(self, data: str, index: int) -> tuple[str, str | None, int, bool]:  # noqa: N802
        result: tuple[str, str | None, int, bool] = ("", None, index, False)
        for window in _LINK_WINDOWS:
            end = min(len(data), index + min(window, self.budget.left))
            if end <= index:
                break
            # Never cut python-markdown's placeholders (STX klzzwxh:1234 ETX) in two.
            etx = data.find("\x03", end, end + 16)
            if etx >= 0 and "\x02" not in data[end:etx]:
                end = etx + 1
            result = super().getLink(data[:end], index)
            _href, _title, stop, handled = result
            if handled and index < stop and not _QUOTES.search(data, index, stop):
                self.budget.left -= stop - index  # it read up to the ")" and no further
            else:
                self.budget.left -= end - index  # it may have read the whole window
            if handled or end == len(data):
                break
        return result


class _Link(_BoundedLinks):
    pass


class _Image(_BoundedLinks, inlinepatterns.ImageInlineProcessor):
    pass


class _BoundedReferences(_BoundedLinks, inlinepatterns.ReferenceInlineProcessor):
    """A reference link repeats its definition's address and title at every use: "[r]" a few
    thousand times after one long "[r]: …" made megabytes of HTML. Past the budget, a use
    is left as it is written, like one with no definition."""

    def handleMatch(  # noqa: N802 - python-markdown's name
        self, m: re.Match[str], data: str
    ) -> tuple[Element | None, int | None, int | None]:
        node, start, end = super().handleMatch(m, data)
        if node is not None:
            copied = len(node.get("href") or node.get("src") or "") + len(node.get("title") or "")
            if copied > self.budget.copies_left:
                return None, start, end
            self.budget.copies_left -= copied
        return node, start, end


class _Reference(_BoundedReferences):
    pass


class _ImageReference(_BoundedReferences, inlinepatterns.ImageReferenceInlineProcessor):
    pass


class _ShortReference(_BoundedReferences, inlinepatterns.ShortReferenceInlineProcessor):
    pass


class _ShortImageReference(_BoundedReferences, inlinepatterns.ShortImageReferenceInlineProcessor):
    pass


# python-markdown's names and priorities (its documentation lists them) for the parsers replaced.
_LINK_PARSERS: list[tuple[str, int, type[_BoundedLinks], str]] = [
    ("reference", 170, _Reference, inlinepatterns.REFERENCE_RE),
    ("link", 160, _Link, inlinepatterns.LINK_RE),
    ("image_link", 150, _Image, inlinepatterns.IMAGE_LINK_RE),
    ("image_reference", 140, _ImageReference, inlinepatterns.IMAGE_REFERENCE_RE),
    ("short_reference", 130, _ShortReference, inlinepatterns.REFERENCE_RE),
    ("short_image_ref", 125, _ShortImageReference, inlinepatterns.IMAGE_REFERENCE_RE),
]


class _Backtick(inlinepatterns.BacktickInlineProcessor):
    """python-markdown's code spans, looking the closing backticks up in a table of the
    text's backtick runs (it reads the rest of the text for each opening that has none).

    The table is made once per text: positions count from the end, which python-markdown
    leaves alone as it replaces code spans in front of them.
    """

    _RUNS = re.compile("`+")

    def __init__(self, pattern: str) -> None:
        super().__init__(pattern)
        self._text = ""
        self._by_length: dict[int, list[int]] = {}  # run length: run starts, counted from the end
        self._starts: list[int] = []
        self._longest: list[tuple[int, int]] = []  # for the runs from i on: the first longest (length, start)

    def _table_for(self, text: str, position: int) -> None:
        if text is self._text or (len(text) - position <= len(self._text) and self._text.endswith(text[position:])):
            return
        runs = [(m.start() - len(text), m.end() - m.start()) for m in self._RUNS.finditer(text)]
        self._text = text
        self._by_length = {}
        for start, length in runs:
            self._by_length.setdefault(length, []).append(start)
        self._starts = [start for start, _length in runs]
        self._longest = []
        best = (0, 0)
        for start, length in reversed(runs):
            if length >= best[0]:
                best = (length, start)
            self._longest.append(best)
        self._longest.reverse()

    def find_code_spans(self, start: int, text: str) -> tuple[int, int | None]:
        # As python-markdown's (3.11), answered from the table.
        ticks = 0
        while start < len(text) and text[start] == "`":
            ticks += 1
            start += 1
        self._table_for(text, start)
        here = start - len(text)
        same = self._by_length.get(ticks, [])
        at = bisect_left(same, here)
        if at < len(same):
            return start, same[at] + len(text)
        at = bisect_left(self._starts, here)
        if at < len(self._starts):
            longest, run = self._longest[at]
            if 0 < longest < ticks:
                return start - (ticks - longest), run + len(text)
        return start + ticks, None


class _Extractor(HTMLExtractor):
    """python-markdown's raw-HTML extractor, answering "is an open inline tag closed later in
    this paragraph?" from a table of closing tags (for each comment it searched the rest of
    the text once per open tag)."""

    _CLOSING = re.compile(r"(?=(</\s*([^\s>]+)\s*>))")

    def reset(self) -> None:
        super().reset()
        self._table_of: str | None = None
        self._closing: dict[str, list[tuple[int, int]]] = {}  # tag: (start, end) of each "</tag>"
        self._blank_lines: list[int] = []

    def inline_close_follows(self, text: str) -> bool:
        if not self.inline_stack:
            return False
        if self._table_of is not self.rawdata:
            self._table_of = self.rawdata
            self._closing = {}
            for m in self._CLOSING.finditer(self.rawdata):
                self._closing.setdefault(m.group(2).lower(), []).append((m.start(), m.end(1)))
            self._blank_lines = [m.start() for m in inner_blank_line_re.finditer(self.rawdata)]
        start = self.line_offset + self.offset + len(text)
        at = bisect_left(self._blank_lines, start)
        end = self._blank_lines[at] if at < len(self._blank_lines) else len(self.rawdata)
        for tag in set(self.inline_stack):
            closing = self._closing.get(tag, [])
            at = bisect_left(closing, (start, -1))
            if at < len(closing) and closing[at][1] <= end:
                return True
        return False


class _HtmlBlock(HtmlBlockPreprocessor):
    def run(self, lines: list[str]) -> list[str]:
        # As python-markdown's, with _Extractor.
        parser = _Extractor(self.md)
        parser.feed("\n".join(lines))
        parser.close()
        return "".join(parser.cleandoc).split("\n")


class _Nesting:
    """Stop reading list items and quotations as such `MAX_NESTING` levels down."""

    parser: Any

    def test(self, parent: Element, block: str) -> bool:
        return len(self.parser.state) < MAX_NESTING and super().test(parent, block)  # type: ignore[misc]


class _OList(_Nesting, SaneOListProcessor):
    pass


class _UList(_Nesting, SaneUListProcessor):
    pass


class _Quote(_Nesting, blockprocessors.BlockQuoteProcessor):
    pass


class _Setext(blockprocessors.SetextHeaderProcessor):
    def run(self, parent: Element, blocks: list[str]) -> None:
        # As python-markdown's, without splitting the whole rest of the block into lines.
        first, underline, *rest = blocks.pop(0).split("\n", 2)
        heading = SubElement(parent, "h1" if underline.startswith("=") else "h2")
        heading.text = first.strip()
        if rest:
            blocks.insert(0, rest[0])


class _Code(blockprocessors.CodeBlockProcessor):
    def detab(self, text: str, length: int | None = None) -> tuple[str, str]:
        # As python-markdown's, reading lines only as far as the code goes (it splits the
        # whole rest of the block into lines for each code block in it).
        indent = " " * (self.tab_length if length is None else length)
        code = []
        start = 0
        while True:
            end = text.find("\n", start)
            line = text[start:] if end < 0 else text[start:end]
            if line.startswith(indent):
                code.append(line[len(indent) :])
            elif not line.strip():
                code.append("")
            else:
                return "\n".join(code), text[start:]
            if end < 0:
                return "\n".join(code), ""
            start = end + 1


class _Table(TableProcessor):
    """python-markdown's tables, without rereading the whole block or each row's pipes."""

    # A line that is not a table row: after its spaces, it neither starts nor ends with "|"
    # (a "|" after an odd number of backslashes is escaped).
    NOT_A_ROW = re.compile(r"^[ ]*+(?!\|)(?![^\n]*(?<!\\)(?:\\\\)*\|[ ]*$)", re.MULTILINE)

    def __init__(self, parser: Any, config: dict[str, Any], budget: _Budget) -> None:
        super().__init__(parser, config)
        self.not_a_row = _LineSearch(self.NOT_A_ROW, newline_first=False)
        self.budget = budget

    def test(self, parent: Element, block: str) -> bool:
        # As python-markdown's, reading only the first two lines (it strips every line of the
        # block, each time the rest of a block comes back); a one-column table reads on.
        lines = block.split("\n", 2)
        if len(lines) < 2:
            return False
        header = lines[0].strip(" ")
        self.border = PIPE_NONE
        if header.startswith("|"):
            self.border |= PIPE_LEFT
        if self.RE_END_BORDER.search(header) is not None:
            self.border |= PIPE_RIGHT
        columns = len(self._split_row(header))
        is_table = columns > 1
        if columns == 1 and self.border:
            is_table = self.not_a_row.search(block[len(lines[0]) + 1 :]) is None
        if is_table:
            row = self._split_row(lines[1].strip(" "))
            is_table = len(row) == columns and set("".join(row)) <= set("|:- ")
            if is_table:
                self.separator = row
        if is_table:
            # Every row gets a cell for each column, written or not: a wide heading over many
            # short lines made millions of empty cells. Past the budget, it is not a table.
            cells = columns * (1 + max(block.count("\n") - 1, 1))
            if cells > self.budget.cells_left:
                return False
            self.budget.cells_left -= cells
        return is_table

    def _split(self, row: str) -> list[str]:
        # As python-markdown's: pipes inside a pair of equal backtick runs do not split cells.
        tics: list[int] = []
        tic_points: list[tuple[int, int, int]] = []
        pipes: list[int] = []
        for m in self.RE_CODE_PIPES.finditer(row):
            if m.group(2):
                tics.append(len(m.group(2)) - 1)
                tic_points.append((m.start(2), m.end(2) - 1, 1))
            elif m.group(3):
                tics.append(len(m.group(3)))
                tic_points.append((m.start(3), m.end(3) - 1, 0))
            elif m.group(5):
                pipes.append(m.start(5))
        by_size: dict[int, list[int]] = {}
        for position, size in enumerate(tics):
            by_size.setdefault(size, []).append(position)
        regions = []
        pos = 0
        while pos < len(tics):
            size = tics[pos] - tic_points[pos][2]
            later = by_size.get(size, []) if size else []
            at = bisect_right(later, pos)
            if at < len(later):
                regions.append((tic_points[pos][0], tic_points[later[at]][1]))
                pos = later[at] + 1
            else:
                pos += 1
        cells = []
        start = region = 0
        for pipe in pipes:
            while region < len(regions) and regions[region][1] < pipe:
                region += 1
            if region < len(regions) and regions[region][0] <= pipe:
                continue
            cells.append(row[start:pipe])
            start = pipe + 1
        cells.append(row[start:])
        return cells


class _Bounded(Extension):
    """python-markdown with the parts that rescan the text replaced (security review M3)."""

    def extendMarkdown(self, md: python_markdown.Markdown) -> None:  # noqa: N802 - python-markdown's name
        md.preprocessors.register(_HtmlBlock(md), "html_block", 20)
        md.inlinePatterns.register(_Backtick(inlinepatterns.BACKTICK_RE), "backtick", 190)
        budget = _Budget()
        for name, priority, parser, pattern in _LINK_PARSERS:
            assert name in md.inlinePatterns, name
            instance = parser(pattern, md)
            instance.budget = budget
            md.inlinePatterns.register(instance, name, priority)
        blocks = md.parser.blockprocessors
        for name, priority, processor in [
            ("code", 80, _Code(md.parser)),
            ("table", 75, _Table(md.parser, {"use_align_attribute": False}, budget)),
            ("setextheader", 60, _Setext(md.parser)),
            ("olist", 40, _OList(md.parser)),
            ("ulist", 30, _UList(md.parser)),
            ("quote", 20, _Quote(md.parser)),
        ]:
            assert name in blocks, name
            blocks.register(processor, name, priority)
        for name, attribute, newline_first in [
            ("hashheader", "RE", True),
            ("quote", "RE", True),
            ("hr", "SEARCH_RE", False),
            ("reference", "RE", False),
        ]:
            processor = blocks[name]
            setattr(processor, attribute, _LineSearch(getattr(processor, attribute), newline_first))


def render_html(text: str) -> str:
    """Sanitised HTML for a Markdown string, in time that grows with its length, not faster."""
    text = text.replace(_PLAIN_LT, "\ufffd")
    md = python_markdown.Markdown(extensions=["sane_lists", "tables", _Bounded()], output_format="html")
    html = md.convert(_plain_unclosed_tags(text))
    return clean_html(html.replace(_PLAIN_LT, "&lt;"))


def render_markdown(text: str | None) -> SafeString:
    """`render_html` as a string safe to put in a page (empty text: empty string)."""
    return mark_safe(render_html(text) if text else "")  # noqa: S308 - cleaned by nh3 against the allow-list
