"""HTTP checks against two app nodes sharing one database and one Redis (scripts/two_nodes.sh).

    python scripts/two_nodes_checks.py http://127.0.0.1:A http://127.0.0.1:B --redis-port P shared
    python scripts/two_nodes_checks.py A B --redis-port P stop-node-a --signal TERM --pid PID

`shared`: a log-in made on A works on B (and a log-out on B ends it on A); wrong passwords
spread over both nodes lock out at the limit; the judging scale cached through A is read
from the same Redis through B; an essay saved through A from revision r and then through B
from r is a conflict (409), not lost text.

`stop-node-a`: writers (demo pupils) autosave their essays through both nodes in turn; part
way, node A is sent SIGTERM (gunicorn's graceful stop: its master) or SIGKILL (every process
of the node, as when a machine dies). The writers carry on through B. Every save a node
acknowledged (200) must be what the database holds next: the writer's next save, from the
acknowledged revision, must not be refused as a conflict, and at the end each essay's text
and revision are the writer's last acknowledged ones.

Requests are sent as deploy/nginx-crisis-classroom.conf forwards them (prod_smoke_checks.Browser).
Prints one line per check; exits non-zero if any failed.
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from classroom.demo import DEMO_PASSWORD, STUDENTS, student_username  # noqa: E402
from scripts.prod_smoke_checks import Browser, CheckFailed, Response, expect, log_in  # noqa: E402

WRITE_LINK = re.compile(r'href="(/classroom/assignments/\d+/write/)"')
JUDGE_LINK = re.compile(r'href="(/classroom/judging/(\d+)/judge/)"')
BASE_REVISION = re.compile(r'name="base_revision" value="(\d+)"')
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ESSAY_BOX = re.compile(r'<textarea name="text"[^>]*>\n?(.*?)</textarea>', re.DOTALL)
JUDGES = ("ms.khan", "mr.evans")  # both judge the demo's judging session
# Pupils for the lock-out and the conflict; the writers are found among the others.
LOCKED_PUPIL = "oliver.smith"
CONFLICT_PUPIL = "amelia.brown"


@dataclass
class Nodes:
    a: str
    b: str
    redis_port: int
    failure_limit: int


class Visitor:
    """One person's browser, its cookies shared by both nodes (as behind a load balancer)."""

    def __init__(self, nodes: Nodes, address: str = "203.0.113.7") -> None:
        self.cookies: dict[str, str] = {}
        self.on = {
            "A": Browser(nodes.a, cookies=self.cookies, address=address),
            "B": Browser(nodes.b, cookies=self.cookies, address=address),
        }

    def get(self, node: str, path: str) -> Response:
        return self.on[node].request("GET", path)

    def log_in(self, node: str, username: str, password: str = DEMO_PASSWORD) -> Response:
        self.cookies.clear()
        return log_in(self.on[node], username, password)

    def post(self, node: str, path: str, fields: dict[str, str], referer: str) -> Response:
        browser = self.on[node]
        return browser.request(
            "POST",
            path,
            body=urllib.parse.urlencode(fields),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                "X-CSRFToken": self.cookies.get("csrftoken", ""),
                "Origin": browser.https_origin(),
                "Referer": browser.https_origin() + referer,
            },
        )


@dataclass
class Essay:
    """A pupil's editable essay as its writing page shows it."""

    path: str  # the writing page
    autosave: str
    revision: int
    text: str


def open_essay(visitor: Visitor, node: str) -> Essay | None:
    """The first essay on the pupil's home page that can still be written, else None."""
    home = visitor.get(node, "/")
    expect(home.status == 200, f"home page status {home.status}")
    for path in dict.fromkeys(WRITE_LINK.findall(home.text)):
        essay = read_essay(visitor, node, path)
        if essay is not None:
            return essay
    return None


def read_essay(visitor: Visitor, node: str, path: str) -> Essay | None:
    page = visitor.get(node, path)
    expect(page.status == 200, f"{path}: status {page.status}")
    if 'id="essay-form"' not in page.text:
        return None  # handed in, or marked: read-only
    revision, text = BASE_REVISION.search(page.text), ESSAY_BOX.search(page.text)
    expect(revision is not None and text is not None, f"{path}: no revision or essay box on the writing page")
    return Essay(path, path.replace("/write/", "/autosave/"), int(revision[1]), html.unescape(text[1]))


def autosave(visitor: Visitor, node: str, essay: Essay, text: str, base: int) -> tuple[int, dict]:
    response = visitor.post(node, essay.autosave, {"text": text, "base_revision": str(base)}, essay.path)
    try:
        answer = json.loads(response.text)
    except ValueError:
        answer = {"status": f"not JSON: {response.text[:80]!r}"}
    return response.status, answer


# --- shared ------------------------------------------------------------------------------


def check_session(nodes: Nodes, state: dict) -> str:
    pupil = Visitor(nodes)
    posted = pupil.log_in("A", CONFLICT_PUPIL)
    expect(posted.status == 302, f"log-in through A: status {posted.status}")
    home = pupil.get("B", "/")
    expect(home.status == 200, f"B answered {home.status} to A's session ({home.header('Location')!r})")
    expect("Amelia" in home.text and WRITE_LINK.search(home.text) is not None, "B's home page is not Amelia's")
    token = CSRF_FIELD.search(home.text)
    expect(token is not None, "no log-out form on B's page")
    logout = pupil.post("B", "/accounts/logout/", {"csrfmiddlewaretoken": token[1]}, "/")
    expect(logout.status == 302, f"log-out through B: status {logout.status}")
    after = pupil.get("A", "/")
    expect(after.status == 302 and "/accounts/login/" in after.header("Location"), "A still knows the session")
    return f"{CONFLICT_PUPIL} logged in through A, used B, logged out through B; A then asks for a log-in"


def check_lockout(nodes: Nodes, state: dict) -> str:
    # One attacker address as nginx writes it (X-Forwarded-For: $remote_addr, PROXY_COUNT=1),
    # its guesses alternating between the nodes as a load balancer would spread them.
    attacker = Visitor(nodes, address="198.51.100.77")
    statuses = []
    for attempt in range(nodes.failure_limit):
        statuses.append(attacker.log_in("AB"[attempt % 2], LOCKED_PUPIL, "not-the-password").status)
    right = attacker.log_in("AB"[nodes.failure_limit % 2], LOCKED_PUPIL).status
    before_limit = statuses[: nodes.failure_limit - 1]
    expect(all(status == 200 for status in before_limit), f"locked before the limit: {statuses}")
    expect(right == 429, f"{nodes.failure_limit} wrong passwords over both nodes ({statuses}), then the right: {right}")
    elsewhere = Visitor(nodes, address="203.0.113.51").log_in("B", LOCKED_PUPIL).status
    expect(elsewhere == 302, f"the pupil at another address was refused ({elsewhere})")
    return (
        f"{nodes.failure_limit} wrong passwords for {LOCKED_PUPIL} from 198.51.100.77, alternately through A and B, "
        f"gave {statuses}; then the right one gave {right}; from another address the pupil logs in"
    )


def check_shared_cache(nodes: Nodes, state: dict) -> str:
    # The judging page fits the session's scale and caches it (classroom/judging.py); a second
    # judge's page (a first page offers its own pair) needs the scale again.
    store = redis.Redis(host="127.0.0.1", port=nodes.redis_port)
    judges = {"A": Visitor(nodes), "B": Visitor(nodes)}
    for (node, judge), username in zip(judges.items(), JUDGES, strict=True):
        expect(judge.log_in(node, username).status == 302, f"{username} could not log in through {node}")
    listing = judges["A"].get("A", "/classroom/judging/")
    link = JUDGE_LINK.search(listing.text)
    expect(listing.status == 200 and link is not None, "no judging session to judge in the demo")
    store.flushdb()
    first = judges["A"].get("A", link[1])
    expect(first.status == 200, f"judging page through A: status {first.status}")
    keys = sorted(key.decode() for key in store.keys("*"))
    scale_keys = [key for key in keys if key.endswith(f"judging-scale:{link[2]}")]
    expect(bool(scale_keys), f"A's judging page left no scale in Redis (keys: {keys})")
    hits = int(store.info("stats")["keyspace_hits"])
    second = judges["B"].get("B", link[1])
    expect(second.status == 200, f"judging page through B: status {second.status}")
    read = int(store.info("stats")["keyspace_hits"]) - hits
    expect(read >= 1, "B did not read the scale A had cached")
    return (
        f"{JUDGES[0]}'s page through A cached the scale ({scale_keys[0]}); {JUDGES[1]}'s through B read it "
        f"from the same Redis ({read} hit); {len(keys)} keys"
    )


def check_conflict(nodes: Nodes, state: dict) -> str:
    pupil = Visitor(nodes)
    expect(pupil.log_in("A", CONFLICT_PUPIL).status == 302, f"{CONFLICT_PUPIL} could not log in")
    essay = open_essay(pupil, "A")
    expect(essay is not None, f"{CONFLICT_PUPIL} has no essay to write in the demo")
    assert essay is not None
    base = essay.revision
    status, answer = autosave(pupil, "A", essay, essay.text + "\nSaved through node A.", base)
    expect(status == 200 and answer.get("revision") == base + 1, f"save through A: {status} {answer}")
    status, answer = autosave(pupil, "B", essay, essay.text + "\nSaved through node B, from the old page.", base)
    expect(status == 409 and answer.get("status") == "conflict", f"through B from revision {base}: {status} {answer}")
    expect(answer.get("revision") == base + 1, f"the conflict names revision {answer.get('revision')}")
    expect((answer.get("text") or "").endswith("Saved through node A."), "the conflict does not carry A's text")
    kept = read_essay(pupil, "B", essay.path)
    expect(kept is not None and kept.text.endswith("Saved through node A."), "B's page does not show A's text")
    return f"revision {base}: saved through A (now {base + 1}); the same base through B gave 409 with A's text"


SHARED: list[tuple[str, Callable[[Nodes, dict], str]]] = [
    ("session", check_session),
    ("lock-out", check_lockout),
    ("cache", check_shared_cache),
    ("conflict", check_conflict),
]


# --- stop-node-a -------------------------------------------------------------------------


@dataclass
class Writer:
    username: str
    visitor: Visitor
    essay: Essay
    saves: int = 0
    acknowledged: tuple[int, str] | None = None  # (revision, text) of the last 200
    lost_by_a: int = 0  # saves through A that got no answer (the node went away)
    problems: list[str] = field(default_factory=list)


def find_writers(nodes: Nodes, count: int) -> list[Writer]:
    taken = {LOCKED_PUPIL, CONFLICT_PUPIL}
    writers = []
    for given, family in reversed(STUDENTS):
        username = student_username(given, family)
        if username in taken:
            continue
        visitor = Visitor(nodes, address=f"203.0.113.{100 + len(writers)}")
        if visitor.log_in("B", username).status != 302:
            continue
        essay = open_essay(visitor, "B")
        if essay is not None:
            writers.append(Writer(username, visitor, essay))
        if len(writers) == count:
            break
    return writers


def write(writer: Writer, a_gone: threading.Event, stop: threading.Event) -> None:
    """Autosave a growing essay through A and B in turn (B only once A has gone) until `stop`."""
    revision, text = writer.essay.revision, writer.essay.text
    unanswered: list[str] = []  # texts sent in saves that got no answer since the last 200
    while not stop.is_set():
        node = "A" if writer.saves % 2 == 0 and not a_gone.is_set() else "B"
        attempt = f"{text}\nSentence {writer.saves} from {writer.username}, sent through node {node}."
        writer.saves += 1
        try:
            status, answer = autosave(writer.visitor, node, writer.essay, attempt, revision)
        except (OSError, http.client.HTTPException):
            if node == "B":
                writer.problems.append(f"save {writer.saves} through B failed to connect")
                return
            writer.lost_by_a += 1
            unanswered.append(attempt)
            continue
        if status == 200:
            revision, text, unanswered = answer["revision"], attempt, []
            writer.acknowledged = (revision, text)
        elif status == 409 and unanswered and answer.get("text") in (text, *unanswered):
            # A save A never answered may or may not have been committed: either is fine.
            revision, text, unanswered = answer["revision"], answer["text"], []
        elif status >= 500 and node == "A":
            writer.lost_by_a += 1  # A's worker was stopped mid-request: not acknowledged
            unanswered.append(attempt)
        else:
            writer.problems.append(f"save {writer.saves} through {node} from revision {revision}: {status} {answer}")
            return
        time.sleep(0.05)


def stop_node_a(nodes: Nodes, pid: int, how: str, writers_wanted: int = 4) -> int:
    writers = find_writers(nodes, writers_wanted)
    if len(writers) < 2:
        print(f"FAIL  stop-node-a      only {len(writers)} demo pupils have an essay to write")
        return 1
    a_gone, stop = threading.Event(), threading.Event()
    threads = [threading.Thread(target=write, args=(writer, a_gone, stop)) for writer in writers]
    for thread in threads:
        thread.start()
    time.sleep(3)
    before = sum(writer.saves for writer in writers)
    if how == "KILL":
        os.killpg(pid, signal.SIGKILL)  # the whole node: master and workers
    else:
        os.kill(pid, signal.SIGTERM)  # gunicorn's graceful stop
    time.sleep(0.5)
    a_gone.set()
    time.sleep(3)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    failures = 0
    for writer in writers:
        problems = list(writer.problems)
        final = read_essay(writer.visitor, "B", writer.essay.path)
        held = None if final is None else (final.revision, final.text)
        if writer.acknowledged is None:
            problems.append("no save was acknowledged")
        elif held is None:
            problems.append("the essay can no longer be written")
        elif held != writer.acknowledged:
            problems.append(f"the database holds revision {held[0]}; the last acknowledged: {writer.acknowledged[0]}")
        if problems or held is None:
            failures += 1
            print(f"FAIL  {writer.username:<17} " + "; ".join(problems))
        else:
            print(
                f"ok    {writer.username:<17} {writer.saves} saves, {writer.lost_by_a} through A unanswered; "
                f"the database holds the last acknowledged one (revision {held[0]})"
            )
    total = sum(writer.saves for writer in writers)
    print(
        f"stop-node-a ({how}): {len(writers) - failures} of {len(writers)} writers lost nothing; "
        f"{total} saves, {before} before node A was stopped"
    )
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("node_a", help="e.g. http://127.0.0.1:8001")
    parser.add_argument("node_b", help="e.g. http://127.0.0.1:8002")
    parser.add_argument("--redis-port", type=int, required=True)
    parser.add_argument("--failure-limit", type=int, default=6, help="LOGIN_FAILURE_LIMIT of both nodes")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("shared")
    stop = sub.add_parser("stop-node-a")
    stop.add_argument("--signal", choices=["TERM", "KILL"], required=True)
    stop.add_argument("--pid", type=int, required=True, help="node A's gunicorn master (its process group)")
    args = parser.parse_args()
    nodes = Nodes(args.node_a.rstrip("/"), args.node_b.rstrip("/"), args.redis_port, args.failure_limit)
    if args.command == "stop-node-a":
        return stop_node_a(nodes, args.pid, args.signal)
    failures = 0
    state: dict = {}
    for name, check in SHARED:
        try:
            detail = check(nodes, state)
        except (CheckFailed, OSError, http.client.HTTPException, redis.RedisError) as exc:
            failures += 1
            kind = "" if isinstance(exc, CheckFailed) else type(exc).__name__ + ": "
            print(f"FAIL  {name:<17} {kind}{exc}")
        else:
            print(f"ok    {name:<17} {detail}")
    print(f"two-nodes: {len(SHARED) - failures} of {len(SHARED)} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
