"""Security review L2 ("Bad input"): every form and JSON endpoint, fuzzed; no answer is a 500.

Every named URL (tests.helpers.named_patterns) is opened, for every object of its kind in
the `school` fixture, by each actor: anonymous, a student, the class's teacher, the head of
department, and another teacher (who teaches only 11E). Two halves (`AREAS`): the classroom
with signing in, and the subject content with its authoring pages.

- What to send is discovered, not listed: the POST forms of every page the actors were
  shown (input, select, textarea and button names, and the `data-autosave-url` the page's
  script posts the same form to), plus every name the view reads from the request while
  it handles a plausible POST or GET (`reads`, below): `remove`, `action`, `bank_entry`,
  `start`, `sort`, `shape`, `attempt`…
- A route takes POST unless every actor gets 405. Its actors are the ones a plausible POST
  does not refuse (403, 404, 405, or the login page), and one who is refused.
- The first allowed actor sends each hostile value into each field in turn, the other fields
  as the browser would send them (required ones filled in plausibly): long strings, NUL,
  emoji/RTL/combining marks, numbers that are negative, huge, "1e3", "²", "٣", "NaN", empty,
  and invalid UTF-8 both as %FF%FE in a urlencoded body and as raw bytes in a multipart
  part (a text box gets the values that are text to it; a CSV upload gets them as the
  file's content). A route that answers JSON also gets a JSON body, broken JSON and deeply
  nested JSON. The other actors, and URLs posting a form already fuzzed field by field
  elsewhere (an edit page's create page, the mark form's autosave), get every field hostile
  at once. A page gets each value in each query parameter it reads.
- Lists of rows (formsets) are sent with their first row only, and Django's own list fields
  (row counts, ids, delete boxes) are fuzzed field by field on one list page: the same code
  reads every row of every list, and the pages render several times faster.
- Every request runs in a savepoint that is rolled back, and the client's cookies are put
  back, so the school is the same for every request (a "delete" or "log out" changes
  nothing for the next one). Inside the savepoint, a refused essay or DIRT autosave is
  checked to have changed nothing. A request that takes SLOW seconds of CPU fails too.

Every failure is collected and reported at once (actor, method, URL, field, value). Each
500 it found has a test of its own at the end of the file.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import quote, urlencode, urljoin, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

from classroom.models import DirtResponse, Submission
from crisis.forms import MAX_ROWS
from tests.factories import (
    AssignmentFactory,
    EssayPromptFactory,
    KnowledgeQuestionFactory,
    LessonFactory,
    MarkSchemeFactory,
    SourceFactory,
    link_sources,
)
from tests.helpers import draft, named_patterns, route_urls

pytestmark = pytest.mark.django_db

# The values sent in every field: (label for the report, value).
HOSTILE: list[tuple[str, str]] = [
    ("300 characters", "x" * 300),
    ("100,001 characters", "y" * 100_001),
    ("NUL", "a\x00b"),
    ("emoji/RTL/combining", "Cuba 🚀🇨🇺 \u202eevil\u202c e\u0301\u0327\u0338 \u05e9\u05dc\u05d5\u05dd"),
    ("-1", "-1"),
    ("huge", "99999999999999999999"),
    ("1e3", "1e3"),
    ("superscript two", "²"),
    ("Arabic-Indic three", "٣"),
    ("NaN", "NaN"),
    ("empty", ""),
]
BAD_UTF8 = b"\xff\xfe\xfa bad \xc3("
PROBE = "__fuzz_probe__"  # carried by probe requests, so only their data is watched
BOUNDARY = "fuzzBoundary7MA4YWxk"
PLAUSIBLE_TEXT = "The Hotline was set up in 1963."
PLAUSIBLE_CSV = b"given_name,family_name\nGrace,Hopper\n"
# Text boxes (and buttons, whose value a view compares with a word) get the values that are
# text to them: any number is text too.
TEXT_KINDS = {"text", "textarea", "password", "email", "search", "url", "tel", "button"}
TEXT_VALUES = {"300 characters", "100,001 characters", "NUL", "emoji/RTL/combining", "empty"}
# A formset's management form: how many rows the page sent.
MANAGEMENT = ("-TOTAL_FORMS", "-INITIAL_FORMS", "-MIN_NUM_FORMS", "-MAX_NUM_FORMS")
# CPU seconds one request may take: gunicorn kills a worker after GUNICORN_TIMEOUT (30 s).
SLOW = 10
# Refusals: wrong role, outsider, wrong method; anonymous: sent to the login page.
REFUSED = {403, 404, 405}
# The actors; where several may use a route, the first of them fuzzes it field by field.
ACTORS = ["anonymous", "teacher", "student", "head", "other_teacher"]  # other_teacher: 11E only
# Who is tried as "one who isn't allowed", in this order.
OUTSIDERS = ["other_teacher", "student", "anonymous", "teacher"]
# The routes whose refused saves must leave the essay (or DIRT response) exactly as it was.
VERSIONED_TEXT = {"classroom:autosave", "classroom:write", "classroom:dirt_autosave", "classroom:dirt_save"}


# --- what a view reads ----------------------------------------------------------------------


@contextmanager
def reads() -> Iterator[set[str]]:
    """Names read during the block from request data that carries PROBE (GET or POST):
    form fields, buttons, and any `request.POST.get(...)` or `"x" in request.GET`."""
    names: set[str] = set()
    methods = ("__getitem__", "get", "getlist", "__contains__")
    own = {name: MultiValueDict.__dict__.get(name) for name in methods}

    def watched(method):
        def read(self, key, *args, **kwargs):
            if dict.__contains__(self, PROBE) and isinstance(key, str):
                names.add(key)
            return method(self, key, *args, **kwargs)

        return read

    for name in methods:
        setattr(MultiValueDict, name, watched(getattr(MultiValueDict, name)))
    try:
        yield names
    finally:
        for name, method in own.items():
            if method is None:
                delattr(MultiValueDict, name)
            else:
                setattr(MultiValueDict, name, method)


# --- the forms on a page --------------------------------------------------------------------


@dataclass
class Field:
    name: str
    value: str | None  # None: not sent unless fuzzed (an unticked box, a button)
    kind: str  # text, hidden, file, button, textarea, select, radio, checkbox…


@dataclass
class Form:
    actions: list[str]
    fields: list[Field] = field(default_factory=list)


def _filled(kind: str, attrs: dict) -> str:
    """What a person would type into a required field the page left empty."""
    if kind == "number":
        return attrs.get("min") or "1"
    if kind == "date":
        return timezone.localdate().isoformat()
    if kind == "datetime-local":
        return (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    if kind == "email":
        return "someone@school.example"
    return PLAUSIBLE_TEXT


class FormParser(HTMLParser):
    """The POST forms of a page, each with the URLs it is sent to."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: tuple[dict, list[tuple[str, bool]]] | None = None
        self.textarea: tuple[dict, list[str]] | None = None
        self.radios: dict[str, list[tuple[str, bool, bool]]] = {}

    def _path(self, url: str) -> str:
        return urlsplit(urljoin(self.page, url)).path

    def handle_starttag(self, tag: str, attr_list) -> None:
        attrs = {key: value or "" for key, value in attr_list}
        if tag == "form":
            if attrs.get("method", "get").lower() == "post":
                actions = [self._path(attrs.get("action") or self.page)]
                if attrs.get("data-autosave-url"):
                    actions.append(self._path(attrs["data-autosave-url"]))
                self.form = Form(actions)
                self.forms.append(self.form)
            return
        if self.form is None or not attrs.get("name"):
            if tag == "option" and self.select is not None:
                self.select[1].append((attrs.get("value", ""), "selected" in attrs))
            return
        name, kind = attrs["name"], attrs.get("type", "text").lower()
        if tag == "input":
            if kind in ("submit", "image", "reset", "button"):
                self.form.fields.append(Field(name, None, "button"))
            elif kind == "radio":
                choice = (attrs.get("value", "on"), "checked" in attrs, "required" in attrs)
                self.radios.setdefault(name, []).append(choice)
            elif kind == "checkbox":
                on = "checked" in attrs or "required" in attrs
                self.form.fields.append(Field(name, attrs.get("value", "on") if on else None, kind))
            elif kind == "file":
                self.form.fields.append(Field(name, "", "file"))
            else:
                value = attrs.get("value", "")
                if not value and "required" in attrs:
                    value = _filled(kind, attrs)
                self.form.fields.append(Field(name, value, kind))
        elif tag == "button":
            self.form.fields.append(Field(name, None, "button"))
        elif tag == "select":
            self.select = (attrs, [])
        elif tag == "textarea":
            self.textarea = (attrs, [])

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.form is not None:
            for name, options in self.radios.items():
                chosen = [value for value, checked, _ in options if checked]
                if not chosen and any(required for _, _, required in options):
                    chosen = [options[0][0]]
                self.form.fields.append(Field(name, chosen[0] if chosen else None, "radio"))
            self.radios, self.form = {}, None
        elif tag == "select" and self.select is not None and self.form is not None:
            attrs, options = self.select
            chosen = [value for value, selected in options if selected] or [value for value, _ in options[:1]]
            if chosen and not chosen[0] and "required" in attrs:  # "---------": a person picks one
                chosen = [value for value, _ in options if value][:1] or chosen
            self.form.fields.append(Field(attrs["name"], chosen[0] if chosen else "", "select"))
            self.select = None
        elif tag == "textarea" and self.textarea is not None and self.form is not None:
            attrs, text = self.textarea
            value = "".join(text).removeprefix("\n")
            if not value and "required" in attrs:
                value = PLAUSIBLE_TEXT
            self.form.fields.append(Field(attrs["name"], value, "textarea"))
            self.textarea = None


# --- sending, counting, reporting -----------------------------------------------------------


class Fuzzer:
    def __init__(self, clients: dict[str, Client]) -> None:
        self.clients = clients
        self.count = 0
        self.failures: list[str] = []
        self.checked_unchanged = 0  # refused essay/DIRT saves checked to have changed nothing

    def send(self, actor: str, method: str, url: str, label: str, url_name: str = "", **kwargs):
        """One request, in a savepoint rolled back afterwards, the client's cookies restored."""
        client = self.clients[actor]
        cookies = copy.deepcopy(client.cookies)
        watch = url_name in VERSIONED_TEXT and method == "POST"
        with transaction.atomic():
            before = _texts() if watch else {}
            started = time.process_time()
            response = getattr(client, method.lower())(url, **kwargs)
            seconds = time.process_time() - started
            self.count += 1
            where = f"{actor} {method} {url} [{url_name}] {label}"
            if seconds > SLOW:
                self.failures.append(f"{where}: {seconds:.0f} s of CPU (gunicorn kills a worker after 30 s: a 502)")
            if response.status_code >= 500:
                error = getattr(response, "exc_info", None)
                why = f"{error[0].__name__}: {str(error[1])[:200]}" if error else ""
                self.failures.append(f"{where}: {response.status_code} {why}")
            elif watch and response.status_code >= 400:
                self.checked_unchanged += 1
                after = _texts()
                if any(after.get(key) != value for key, value in before.items()):
                    self.failures.append(f"{where}: refused ({response.status_code}), yet the text changed")
            transaction.set_rollback(True)
        client.cookies = cookies
        return response


def _texts() -> dict[tuple[str, int], tuple[str, int]]:
    """Every essay's and DIRT response's text and revision."""
    essays = Submission.objects.values_list("pk", "text", "revision")
    dirt = DirtResponse.objects.values_list("pk", "text", "revision")
    return {("essay", pk): (text, rev) for pk, text, rev in essays} | {
        ("dirt", pk): (text, rev) for pk, text, rev in dirt
    }


def _refused(actor: str, response) -> bool:
    if response.status_code in REFUSED:
        return True
    login = reverse("login")
    return response.status_code == 302 and response["Location"].startswith(login) and actor == "anonymous"


def _multipart(pairs: list[tuple[str, bytes]], files: list[tuple[str, bytes]]) -> bytes:
    """A multipart body built by hand, so a part can hold bytes that are not UTF-8."""
    out = b""
    for name, value in pairs:
        out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
    for name, content in files:
        part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="pupils.csv"\r\n'
        out += (part + "Content-Type: text/csv\r\n\r\n").encode() + content + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def _data(pairs, files, extra=()) -> dict:
    """Test-client POST data: (name, value) pairs, a name may repeat, and CSV files."""
    data: dict = {}
    for name, value in [*pairs, *extra]:
        data.setdefault(name, []).append(value)
    for name, content in files:
        data[name] = SimpleUploadedFile("pupils.csv", content, content_type="text/csv")
    return data


# --- routes: what they take, who may use them ----------------------------------------------


@dataclass
class Route:
    name: str
    url: str
    forms: list[Form] = field(default_factory=list)
    get_reads: set[str] = field(default_factory=set)
    post_reads: set[str] = field(default_factory=set)
    get_refused: dict[str, bool] = field(default_factory=dict)
    post_refused: dict[str, bool] = field(default_factory=dict)
    accepts_post: bool = False  # some actor gets something else than 405
    post_ok: bool | None = None  # the plausible POST of the first allowed actor succeeded (< 400)
    answers_json: bool = False

    def fields(self) -> list[Field]:
        """The form fields sent to this URL (first form first), then names only the view reads.
        Of a list of rows (a formset) only the first row is sent, as if the lesson had one key
        term: the same code reads every row, and the page then renders several times faster."""
        seen: dict[str, Field] = {}
        for form in self.forms:
            for each in form.fields:
                seen.setdefault(each.name, each)
        for name in sorted(self.post_reads - set(seen) - {PROBE}):
            seen[name] = Field(name, None, "read")
        lists = {name.removesuffix("-TOTAL_FORMS") for name in seen if name.endswith("-TOTAL_FORMS")}
        fields = []
        for each in seen.values():
            row = re.match(r"(.+)-(\d+)-", each.name)
            if each.name.startswith("csrf") or (row and row[1] in lists and row[2] != "0"):
                continue
            if each.name.endswith(MANAGEMENT) and each.name.split("-")[-1] in ("TOTAL_FORMS", "INITIAL_FORMS"):
                each = Field(each.name, str(min(int(each.value or 0), 1)), each.kind)
            fields.append(each)
        return fields

    def shapes(self) -> dict[str, Field]:
        """One field of each shape (the first): marks-12 and marks-13, terms-0-order and
        questions-0-order, every list's TOTAL_FORMS are read by the same code."""
        names = [each.name for each in self.fields()]
        lists = tuple(name.removesuffix("TOTAL_FORMS") for name in names if name.endswith("-TOTAL_FORMS"))
        shapes: dict[str, Field] = {}
        for each in self.fields():
            shape = re.sub(r"\d+", "N", each.name)
            if each.name.startswith(lists):
                shape = "<formset>-" + shape.split("-", 1)[1]
            shapes.setdefault(shape, each)
        return shapes

    @staticmethod
    def machinery(shape: str, each: Field) -> bool:
        """Django's own fields of a list of rows: its row counts, and each row's id, delete box
        and link to its parent (hidden). The same code on every list page."""
        if not shape.startswith("<formset>-"):
            return False
        return shape.endswith(MANAGEMENT) or shape.endswith(("-N-id", "-N-DELETE")) or each.kind == "hidden"

    def has_lists(self) -> bool:
        return any(self.machinery(shape, each) for shape, each in self.shapes().items())

    def plausible(self) -> tuple[list[tuple[str, str]], list[tuple[str, bytes]]]:
        fields = self.fields()
        pairs = [(each.name, each.value) for each in fields if each.value is not None and each.kind != "file"]
        return pairs, [(each.name, PLAUSIBLE_CSV) for each in fields if each.kind == "file"]

    @staticmethod
    def actors(refused: dict[str, bool]) -> list[str]:
        """The actors allowed (in ACTORS order: the first one fuzzes field by field), then one
        who is refused."""
        allowed = [actor for actor in ACTORS if not refused[actor]]
        return allowed + [actor for actor in OUTSIDERS if refused[actor]][:1]


def _discover(fuzz: Fuzzer, school: dict, area) -> list[Route]:
    """Every URL of the area opened (GET), then posted to plausibly, by every actor: its
    forms, what it reads, whom it refuses."""
    routes: dict[str, Route] = {}
    for url_name, route in named_patterns():
        for url in filter(area, route_urls(route, school)):
            routes[url] = Route(url_name, url)
    forms: list[Form] = []
    for route in routes.values():
        for actor in ACTORS:
            with reads() as names:
                response = fuzz.send(actor, "GET", route.url, "plausible GET", route.name, data={PROBE: "1"})
            route.get_reads |= names - {PROBE}
            route.get_refused[actor] = _refused(actor, response)
            if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
                parser = FormParser(route.url)
                parser.feed(response.content.decode())
                forms += parser.forms
    for form in forms:
        for action in form.actions:
            if action in routes:
                routes[action].forms.append(form)
    for route in routes.values():
        pairs, files = route.plausible()
        for actor in ACTORS:
            with reads() as names:
                data = _data(pairs, files, [(PROBE, "1")])
                response = fuzz.send(actor, "POST", route.url, "plausible POST", route.name, data=data)
            route.post_reads |= names
            route.post_refused[actor] = _refused(actor, response)
            if route.post_ok is None and not route.post_refused[actor]:
                route.post_ok = response.status_code < 400
            route.accepts_post |= response.status_code != 405
            route.answers_json |= response["Content-Type"].startswith("application/json")
    return list(routes.values())


# --- fuzzing ----------------------------------------------------------------------------------


def _values(kind: str) -> list[tuple[str, str]]:
    """Every hostile value; a text box gets the ones that are text to it (a number is text too)."""
    return [(label, value) for label, value in HOSTILE if kind not in TEXT_KINDS or label in TEXT_VALUES]


def _fuzz_fields(fuzz: Fuzzer, route: Route, actor: str, machinery: bool) -> set[str]:
    """Each hostile value in each field in turn, the others plausible; returns the fields.
    A list's own fields (Route.machinery) only where `machinery`: once per test."""
    pairs, files = route.plausible()
    shapes = {shape: each for shape, each in route.shapes().items() if machinery or not route.machinery(shape, each)}
    for target in shapes.values():
        others = [(name, value) for name, value in pairs if name != target.name]
        other_files = [(name, content) for name, content in files if name != target.name]
        for label, value in _values(target.kind):
            where = f"field {target.name!r} = {label}"
            if target.kind == "file":
                data = _data(others, [(target.name, f"given_name,family_name\n{value},Smith\n".encode())])
            else:
                data = _data(others, other_files, [(target.name, value)])
            fuzz.send(actor, "POST", route.url, where, route.name, data=data)
        # Invalid UTF-8: as %FF%FE in a urlencoded body, and as raw bytes in a multipart part.
        body = urlencode(others) + ("&" if others else "") + quote(target.name) + "=%FF%FE%00"
        fuzz.send(
            actor, "POST", route.url, f"field {target.name!r} = %FF%FE (urlencoded)", route.name,
            data=body, content_type="application/x-www-form-urlencoded",
        )  # fmt: skip
        raw_pairs = [(name, value.encode()) for name, value in others]
        if target.kind == "file":
            raw_files = [(target.name, b"given_name,family_name\n" + BAD_UTF8 + b",Smith\n")]
        else:
            raw_files = other_files
            raw_pairs.append((target.name, BAD_UTF8))
        fuzz.send(
            actor, "POST", route.url, f"field {target.name!r} = invalid UTF-8 (multipart)", route.name,
            data=_multipart(raw_pairs, raw_files), content_type=f"multipart/form-data; boundary={BOUNDARY}",
        )  # fmt: skip
    if route.answers_json:  # the autosaves: JSON bodies (their scripts send forms, never JSON)
        whole = dict(pairs)
        for label, body in [
            ("JSON body", json.dumps(whole)),
            ("JSON body, NUL in every field", json.dumps(dict.fromkeys(whole, "a\x00b"))),
            ("broken JSON", '{"text": "\x00'),
            ("deeply nested JSON", "[" * 100_000 + "]" * 100_000),
        ]:
            fuzz.send(actor, "POST", route.url, label, route.name, data=body, content_type="application/json")
    return set(shapes)


def _fuzz_whole(fuzz: Fuzzer, route: Route, actor: str) -> set[str]:
    """Every field hostile at once (a huge number; long emoji/RTL text; invalid UTF-8), for
    the other actors and for the URLs that post a form fuzzed field by field elsewhere. A
    list's row count stays plausible: field by field it is sent hostile values too."""
    fields = [each for each in route.fields() if not each.name.endswith(MANAGEMENT)]
    counts = [(name, value) for name, value in route.plausible()[0] if name.endswith(MANAGEMENT)]
    names = [each.name for each in fields]
    for label, value in [("huge", "99999999999999999999"), ("emoji/RTL × 30", HOSTILE[3][1] * 30)]:
        if names:
            data = _data(counts, [], [(name, value) for name in names])
            fuzz.send(actor, "POST", route.url, f"every field = {label}", route.name, data=data)
    files = [(each.name, BAD_UTF8) for each in fields if each.kind == "file"]
    raw = [(name, value.encode()) for name, value in counts]
    raw += [(each.name, BAD_UTF8) for each in fields if each.kind != "file"]
    fuzz.send(
        actor, "POST", route.url, "every field = invalid UTF-8 (multipart)", route.name,
        data=_multipart(raw, files), content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )  # fmt: skip
    return {re.sub(r"\d+", "N", name) for name in names}


def _fuzz_query(fuzz: Fuzzer, route: Route, actor: str, every_value: bool) -> set[str]:
    """Hostile values in the query parameters the page reads: each value in each parameter
    in turn, or (every_value False) a huge number and %FF%FE in all of them at once."""
    params = sorted(route.get_reads)
    if every_value:
        for param in params:
            for label, value in HOSTILE:
                fuzz.send(actor, "GET", route.url, f"?{param}= {label}", route.name, data={param: value})
            fuzz.send(actor, "GET", f"{route.url}?{quote(param)}=%FF%FE%00", f"?{param}= %FF%FE", route.name)
    else:
        fuzz.send(actor, "GET", route.url, "every parameter huge", route.name, data=dict.fromkeys(params, "9" * 20))
        raw = "&".join(f"{quote(param)}=%FF%FE%00" for param in params)
        fuzz.send(actor, "GET", f"{route.url}?{raw}", "every parameter %FF%FE", route.name)
    return set(params)


# --- the tests ----------------------------------------------------------------------------------


@pytest.fixture
def clients(cast) -> dict[str, Client]:
    clients = {"anonymous": Client(raise_request_exception=False)}
    for actor in ACTORS[1:]:
        clients[actor] = Client(raise_request_exception=False)
        clients[actor].force_login(cast[actor])
    return clients


@pytest.fixture
def quiet(monkeypatch):
    """Thousands of requests at full speed: no "Forbidden"/"Not Found" log record for each
    refusal (500s are still logged), and no copy of every template's context for the test
    client (nothing here reads response.context)."""
    monkeypatch.setattr("django.test.client.store_rendered_templates", lambda *args, **kwargs: None)
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


# Two halves, so `pytest -n 2` runs them side by side: the classroom (and signing in), and the
# subject content with its authoring pages. For each: what must have been fuzzed, so the test
# cannot quietly fuzz nothing.
AREAS = {
    "classroom": {
        "urls": lambda url: not url.startswith("/learn/"),
        "post_routes": 50,
        "requests": 1_800,
        "one_by_one": {
            "login": {"username", "password"},
            "classroom:autosave": {"text", "base_revision"},
            "classroom:write": {"text", "base_revision", "start", "submit"},
            "classroom:mark_autosave": {"base_revision", "action", "level-N", "marks-N", "www"},
            "classroom:annotation_add": {"comment", "start", "end", "quote", "bank_entry"},
            "classroom:assignment_extensions": {"remove", "student", "due_at"},
            "classroom:class_join": {"code"},
            "classroom:student_import": {"file"},
            "classroom:dirt_autosave": {"text", "base_revision"},
            "classroom:comment_bank": {"bank-code", "next"},
        },
        "whole": {"classroom:mark_submission": {"base_revision", "action", "level-N", "marks-N"}},
        "query": {
            "login": {"next"},
            "classroom:markbook": {"sort"},
            "classroom:markbook_export": {"shape", "separator", "bom"},
            "classroom:marking_queue": {"show"},
            "classroom:comment_bank": {"criterion"},
            "classroom:department_progress": {"prompt"},
            "classroom:assignment_create": {"prompt"},
        },
        "unchanged": 50,  # refused essay and DIRT saves checked
    },
    "learn": {
        "urls": lambda url: url.startswith("/learn/"),
        "post_routes": 15,
        "requests": 750,
        "one_by_one": {
            "content:lesson": {"qN"},
            "content:lesson_edit": {"title", "sources", "<formset>-N-term", "<formset>-N-answer_number"},
            "content:prompt_edit": {"mark_scheme", "word_max", "<formset>-N-source", "<formset>-N-side"},
            "content:markscheme_edit": {"name", "<formset>-N-code", "<formset>-N-is_spag"},
            "content:criterion_levels": {"<formset>-N-min_marks", "<formset>-TOTAL_FORMS", "<formset>-N-id"},
        },
        "whole": {"content:lesson_create": {"title", "sources", "terms-N-term"}},
        "query": {"content:lesson": {"attempt"}},
        "unchanged": 0,
    },
}


@pytest.mark.parametrize("area", AREAS)
def test_l2_no_hostile_input_to_any_form_json_endpoint_or_query_makes_a_500(clients, school, quiet, area, capsys):
    started = time.monotonic()
    expected = AREAS[area]
    fuzz = Fuzzer(clients)
    routes = _discover(fuzz, school, expected["urls"])
    one_by_one: dict[str, set[str]] = {}  # route name -> fields fuzzed one at a time
    whole: dict[str, set[str]] = {}  # route name -> fields fuzzed all at once
    queried: dict[str, set[str]] = {}  # route name -> query parameters fuzzed
    # URLs with the same fields post the same form (an edit page and its create page, the
    # mark form and its autosave, three assignments' deadlines): one is fuzzed field by field,
    # the last where a plausible POST succeeds (so hostile values reach the save, not just a
    # conflict), the others whole. Django's own list fields: on the last list page only.
    by_shapes = sorted(routes, key=lambda route: bool(route.post_ok))  # stable: URL order within
    last_with_shapes = {frozenset(route.shapes()): route.url for route in by_shapes}
    last_list = ([None] + [route.url for route in routes if route.has_lists()])[-1]
    for route in routes:
        if route.accepts_post:
            actors = route.actors(route.post_refused)
            for actor in actors:
                first = actor == actors[0] and not route.post_refused[actor]
                if first and last_with_shapes[frozenset(route.shapes())] == route.url:
                    machinery = route.url == last_list
                    one_by_one.setdefault(route.name, set()).update(_fuzz_fields(fuzz, route, actor, machinery))
                else:
                    whole.setdefault(route.name, set()).update(_fuzz_whole(fuzz, route, actor))
        if route.get_reads:
            actors = route.actors(route.get_refused)
            for actor in actors:
                first = actor == actors[0] and not route.get_refused[actor]
                queried.setdefault(route.name, set()).update(_fuzz_query(fuzz, route, actor, every_value=first))
    seconds = time.monotonic() - started

    assert not fuzz.failures, f"{len(fuzz.failures)} of {fuzz.count} requests failed:\n" + "\n".join(fuzz.failures)
    with capsys.disabled():
        print(
            f"\nL2 fuzz, {area}: {fuzz.count} requests, 0 ≥ 500, in {seconds:.0f} s; {len(routes)} URLs of "
            f"{len({route.name for route in routes})} routes; {len(one_by_one | whole)} routes taking POST, "
            f"{len(one_by_one)} of them fuzzed field by field ({sum(map(len, one_by_one.values()))} fields); "
            f"query parameters of {len(queried)} pages; {fuzz.checked_unchanged} refused essay/DIRT saves "
            "changed nothing"
        )
    assert len(one_by_one | whole) >= expected["post_routes"] and fuzz.count >= expected["requests"]
    for done, kind in ((one_by_one, "one_by_one"), (whole, "whole"), (queried, "query")):
        missing = {name: sorted(names - done.get(name, set())) for name, names in expected[kind].items()}
        assert not any(missing.values()), f"not fuzzed ({kind}): {missing}"
    assert fuzz.checked_unchanged >= expected["unchanged"]


@pytest.mark.parametrize(("label", "value"), HOSTILE, ids=[label for label, _ in HOSTILE])
@pytest.mark.parametrize("field_name", ["text", "base_revision"])
def test_l2_a_refused_essay_autosave_leaves_the_essay_as_it_was(
    client, school_class, student, field_name, label, value
):
    """The autosave answers 200 or refuses (400/409) — and a refusal changes nothing."""
    essay = draft(AssignmentFactory(school_class=school_class), student, "My first paragraph.")
    before = (essay.text, essay.revision)
    client.force_login(student)
    data = {"text": "A new paragraph about the Hotline.", "base_revision": str(essay.revision), field_name: value}
    response = client.post(reverse("classroom:autosave", args=[essay.assignment_id]), data)
    assert response.status_code in (200, 400, 409)
    assert response.json()["status"] in ("saved", "invalid", "conflict")
    essay.refresh_from_db()
    if response.status_code == 200:
        assert (essay.text, essay.revision) == (data["text"], before[1] + 1)
    else:
        assert (essay.text, essay.revision) == before


# --- the 500s the fuzz found, each on its own -----------------------------------------------------


def browser_post(client, url: str) -> dict[str, list[str]]:
    """The page's form at `url` as a browser would send it, every row of every list."""
    parser = FormParser(url)
    parser.feed(client.get(url).content.decode())
    data: dict[str, list[str]] = {}
    for form in parser.forms:
        if url in form.actions:
            for each in form.fields:
                if each.value is not None and each.kind not in ("button", "file"):
                    data.setdefault(each.name, []).append(each.value)
    return data


@pytest.fixture
def lesson(client, teacher):
    """The teacher's own lesson with one knowledge-check question, the teacher signed in."""
    lesson = LessonFactory(owner=teacher)
    KnowledgeQuestionFactory(lesson=lesson)
    client.force_login(teacher)
    return lesson


@pytest.mark.parametrize(
    ("choices", "answer", "message"),
    [
        ("Only one choice", "1", "Give at least two choices, one per line."),
        ("", "1", "This field is required."),
        ("A\nB", "99999999999999999999", "There are only 2 choices."),
    ],
)
def test_l2_a_question_the_model_refuses_is_a_form_error_not_a_500(client, lesson, choices, answer, message):
    # KnowledgeQuestion.clean() names `choices` and `answer`, fields the form asks for as
    # choices_text and answer_number: Django raised ValueError for errors on fields a form lacks.
    url = reverse("content:lesson_edit", args=[lesson.pk])
    data = browser_post(client, url) | {"questions-0-choices_text": [choices], "questions-0-answer_number": [answer]}
    response = client.post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert "Give at least two choices." not in html and "must be one of the choices" not in html  # said once
    assert list(lesson.questions.values_list("choices", flat=True)) == [
        ["A telephone", "A teleprinter link", "A radio"]
    ]


def test_l2_a_source_id_no_row_can_have_is_a_form_error(client, lesson):
    # SQLite cannot compare a column with 99999999999999999999 (OverflowError, a 500).
    url = reverse("content:lesson_edit", args=[lesson.pk])
    response = client.post(url, browser_post(client, url) | {"title": ["Renamed"], "sources": ["99999999999999999999"]})
    assert response.status_code == 200
    assert response.context["form"].errors["sources"] == ["“99999999999999999999” is not a valid value."]
    lesson.refresh_from_db()
    assert lesson.title != "Renamed"


def test_l2_a_forged_row_count_is_a_form_error_and_builds_at_most_max_rows(client, lesson):
    url = reverse("content:lesson_edit", args=[lesson.pk])
    started = time.process_time()
    response = client.post(url, browser_post(client, url) | {"terms-TOTAL_FORMS": ["99999999999999999999"]})
    assert response.status_code == 200
    assert f"Please submit at most {MAX_ROWS} forms." in response.content.decode()
    assert len(response.context["formsets"]["terms"].forms) == MAX_ROWS  # not 2,000
    assert time.process_time() - started < 5


@pytest.mark.parametrize("kind", ["prompt", "scheme"])
def test_l2_a_stale_row_count_that_lists_a_row_twice_saves_nothing_and_says_so(client, teacher, kind):
    # A page whose lists changed in another tab (or a forged INITIAL_FORMS) posts existing rows
    # as new ones: the database refuses the second copy (IntegrityError, a 500).
    if kind == "prompt":
        prompt = EssayPromptFactory(owner=teacher, mark_scheme=MarkSchemeFactory(owner=teacher))
        link_sources(prompt, SourceFactory.create_batch(2, unit=prompt.unit))
        url, rows, message = reverse("content:prompt_edit", args=[prompt.pk]), prompt.source_links, "a source is listed"
    else:
        scheme = MarkSchemeFactory(owner=teacher, criteria=2)
        url, rows, message = reverse("content:markscheme_edit", args=[scheme.pk]), scheme.criteria, "two criteria have"
    before = list(rows.values_list("pk", flat=True))
    client.force_login(teacher)
    data = browser_post(client, url)
    prefix = "sources" if kind == "prompt" else "criteria"
    response = client.post(url, data | {f"{prefix}-INITIAL_FORMS": ["1"]})
    assert response.status_code == 200
    assert f"Nothing was saved: {message}" in response.content.decode()
    assert list(rows.values_list("pk", flat=True)) == before


@pytest.mark.parametrize("target", ["bank", "a b", "²", "//evil.example/x", "https://evil.example/", ""])
def test_l2_a_comment_bank_return_address_that_is_not_a_path_here_goes_to_the_bank(client, teacher, target):
    # redirect("a b") looks the word up as a view name (NoReverseMatch, a 500).
    client.force_login(teacher)
    data = {"bank-code": "prov", "bank-text": "Use the provenance.", "bank-criterion_code": "", "next": target}
    response = client.post(reverse("classroom:comment_bank"), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("classroom:comment_bank")


def test_l2_a_comment_bank_return_address_on_this_site_is_kept(client, teacher):
    client.force_login(teacher)
    data = {"bank-code": "prov", "bank-text": "Use the provenance.", "bank-criterion_code": "", "next": "/classroom/x/"}
    assert client.post(reverse("classroom:comment_bank"), data)["Location"] == "/classroom/x/"
