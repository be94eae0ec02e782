"""Pupils writing and teachers marking, for Locust (bench/load_test.sh runs it headless).

    LOAD_PLAN=plan.json LOAD_TEACHERS=5 locust -f bench/locustfile.py --host http://127.0.0.1:8000

The plan (bench/load_plan.py) names the seeded pupils, each with an essay open to write, and
the seeded teachers with their classes and the essays they have to mark. A pupil logs in,
opens the writing page and autosaves every AUTOSAVE_SECONDS with the essay a sentence longer
each time, as static/js/autosave.js does; a teacher logs in and, in turn, opens the marking
queue, an essay's marking page (saving a mark there), and the class's markbook. Each
simulated person is a different account, so no two of them save the same essay or mark.

Anything but the expected answer, a conflict (409) included, counts as a failure.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import re
from pathlib import Path
from typing import Any

from locust import HttpUser, between, constant, task

PLAN: dict[str, Any] = json.loads(Path(os.environ["LOAD_PLAN"]).read_text(encoding="utf-8"))
AUTOSAVE_SECONDS = float(os.environ.get("LOAD_AUTOSAVE_SECONDS", "10"))
BASE_REVISION = re.compile(r'name="base_revision" value="(\d+)"')
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ESSAY_BOX = re.compile(r'<textarea name="text"[^>]*>\n?(.*?)</textarea>', re.DOTALL)
SENTENCES = [
    "Khrushchev placed missiles on Cuba partly to close the gap in long-range weapons.",
    "Kennedy chose a quarantine rather than an air strike, which left time to negotiate.",
    "The secret deal over the Jupiter missiles in Turkey let both leaders claim success.",
    "The hotline set up in 1963 shows how close the two sides believed they had come to war.",
]
_pupils = itertools.count()
_teachers = itertools.count()


class Pupil(HttpUser):
    weight = 1
    wait_time = constant(AUTOSAVE_SECONDS)

    def on_start(self) -> None:
        me = PLAN["pupils"][next(_pupils) % len(PLAN["pupils"])]
        self.write_path = f"/classroom/assignments/{me['assignment']}/write/"
        self.autosave_path = f"/classroom/assignments/{me['assignment']}/autosave/"
        log_in(self, me["username"])
        with self.client.get(self.write_path, name="write page", catch_response=True) as page:
            revision, text = BASE_REVISION.search(page.text), ESSAY_BOX.search(page.text)
            if page.status_code != 200 or revision is None or text is None:
                page.failure(f"no essay box to write in ({page.status_code})")
                self.revision, self.text = 0, ""
            else:
                self.revision, self.text = int(revision[1]), html.unescape(text[1])
        self.sentences = itertools.cycle(SENTENCES)

    @task
    def autosave(self) -> None:
        text = f"{self.text} {next(self.sentences)}".strip()
        with self.client.post(
            self.autosave_path,
            data={"text": text, "base_revision": str(self.revision)},
            headers=ajax_headers(self),
            name="autosave",
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                self.revision, self.text = response.json()["revision"], text
            else:
                response.failure(f"{response.status_code}: {response.text[:120]}")


class Teacher(HttpUser):
    fixed_count = int(os.environ.get("LOAD_TEACHERS", "5"))
    wait_time = between(5, 15)

    def on_start(self) -> None:
        me = PLAN["teachers"][next(_teachers) % len(PLAN["teachers"])]
        log_in(self, me["username"])
        self.classes = itertools.cycle(me["classes"])
        self.revisions: dict[int, int] = {}
        self.remarks = itertools.count(1)

    @task
    def marking_round(self) -> None:
        school_class = next(self.classes)
        # A round starts on a new connection. After a 5-15 s pause, a kept-alive one may be
        # closed by gunicorn as idle (after 5 s) just as the request goes out on it. Browsers
        # resend a GET that meets that; nginx, which stands between them and gunicorn in
        # production, closes idle connections before gunicorn does.
        self.client.close()
        self.client.get(f"/classroom/assignments/{school_class['assignment']}/marking/", name="marking queue")
        essay = school_class["to_mark"][next(self.remarks) % len(school_class["to_mark"])]
        page = self.client.get(f"/classroom/submissions/{essay}/mark/", name="marking page")
        revision = BASE_REVISION.search(page.text)
        if revision is not None:
            self.revisions[essay] = int(revision[1])
        with self.client.post(
            f"/classroom/submissions/{essay}/mark/autosave/",
            data={
                "base_revision": str(self.revisions.get(essay, 0)),
                "www": f"A clear line of argument (note {next(self.remarks)}).",
                "ebi": "Support each point with a precise date or figure.",
            },
            headers=ajax_headers(self),
            name="mark autosave",
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                self.revisions[essay] = response.json()["revision"]
            else:
                response.failure(f"{response.status_code}: {response.text[:120]}")
        self.client.get(f"/classroom/classes/{school_class['class']}/markbook/", name="markbook")


def log_in(user: HttpUser, username: str) -> None:
    page = user.client.get("/accounts/login/", name="login page")
    token = CSRF_FIELD.search(page.text)
    with user.client.post(
        "/accounts/login/",
        data={"csrfmiddlewaretoken": token[1] if token else "", "username": username, "password": PLAN["password"]},
        name="log in",
        catch_response=True,
    ) as response:
        # A right password redirects to the home page (followed); a wrong one shows the form again.
        if response.status_code != 200 or response.url is None or response.url.endswith("/accounts/login/"):
            response.failure(f"{username} was not logged in ({response.status_code})")


def ajax_headers(user: HttpUser) -> dict[str, str]:
    return {"X-CSRFToken": user.client.cookies.get("csrftoken", ""), "Accept": "application/json"}
