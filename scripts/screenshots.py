"""make screenshots: regenerate the README's pictures of the key pages in docs/screenshots/.

Starts the app the production way on a throwaway database (tests/e2e/server.py: gunicorn,
DEBUG off, the demo department from seed_demo), gives 10H History a term's worth of work
through the model methods (run as `--seed` inside the server's environment), then drives
the system Chromium to each page as a teacher or a student would and saves a PNG of what
is on screen.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Uses DATABASE_URL like the tests: a postgres:// URL means a new database on that server
(dropped afterwards), anything else a temporary SQLite file. Needs /usr/bin/chromium
(CHROMIUM_PATH to override).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT_DIR = ROOT / "docs" / "screenshots"
PASSWORD = "cuba-1962"  # noqa: S105 - the demo password seed_demo publishes
WIDE = {"width": 1400, "height": 900}
NARROW = {"width": 390, "height": 844}
MAX_BYTES = 400_000

# Paragraphs the demo essays are built from (each student gets a different selection).
HOW_FAR = [
    "The Cuban Missile Crisis improved US–Soviet diplomacy to a large extent, because it showed both "
    "leaders how close they had come to a nuclear war that neither wanted. In the thirteen days of "
    "October 1962 each side learned that misunderstanding was as dangerous as missiles.",
    "The clearest improvement was the Hotline. On 20 June 1963 the two governments signed a "
    "Memorandum of Understanding setting up a direct communications link, a teleprinter line between "
    "Washington and Moscow. In the crisis, messages had taken hours to arrive and Khrushchev had even "
    "used Radio Moscow to reply quickly, so the Hotline shows that both sides wanted faster, private "
    "communication. It was used in earnest during the Six-Day War in 1967.",
    "The Partial Test Ban Treaty of 5 August 1963 was the first treaty to limit nuclear testing. "
    "Kennedy's American University speech of 10 June 1963 had asked Americans to re-examine their "
    "attitude to the Soviet Union, and the tone of the treaty talks was far better than in 1962.",
    "Source K shows the Hotline doing its job. On 5 June 1967, the first day of the Six-Day War, "
    "Kosygin and Johnson agreed within an hour to work for a cease-fire. The messages were secret, "
    "which is more flexible than a public speech, so both leaders could give ground without losing face.",
    "However, the rivalry did not end. The Soviet Union resolved never to be out-gunned again and built "
    "up its ICBMs, so the arms race went on. The two sides backed opposite sides in Vietnam, and the "
    "Warsaw Pact invasion of Czechoslovakia in 1968 delayed arms talks.",
    "Overall, the crisis improved crisis management and communication a great deal, through the "
    "Hotline, the test ban and later the Non-Proliferation Treaty of 1968, but it did much less to "
    "build trust. It was a first step towards détente in 1972 rather than the end of the Cold War.",
]
DRAFT = HOW_FAR[0] + "\n\n" + HOW_FAR[1] + "\n\nThe Partial Test Ban Treaty of 5 August 1963 was the first"


def seed() -> dict:
    """On top of seed_demo's coursework: the "How far…" essay this week, handed in by most of
    10H, one essay marked with comments and released, one being marked, one being written."""
    import random

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisis.settings")
    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from classroom.demo.coursework import PAST_TITLE
    from classroom.models import Assignment, CommentBankEntry, DirtResponse, Mark, SchoolClass, Submission, User
    from crisis.models import EssayPrompt

    rng = random.Random(1962)
    teacher = User.objects.get(username="ms.khan")
    school_class = SchoolClass.objects.get(name="10H History")
    students = list(school_class.active_students().order_by("last_name", "first_name"))
    prompts = {p.slug: p for p in EssayPrompt.objects.shipped()}
    now = timezone.now().replace(second=0, microsecond=0)

    def essay_from(paragraphs: list[str], count: int) -> str:
        middle = sorted(rng.sample(range(1, len(paragraphs) - 1), count - 2))
        return "\n\n".join([paragraphs[0], *(paragraphs[i] for i in middle), paragraphs[-1]])

    def write(assignment, student, text: str, at, submit: bool) -> Submission:
        submission = Submission.start(assignment, student, at=at - timedelta(hours=2))
        submission.save_draft(text, base_revision=submission.revision, at=at - timedelta(minutes=20))
        if submit:
            submission.submit(by=student, at=at)
        return submission

    def give_mark(submission: Submission, ability: int, **feedback) -> Mark:
        scores = {}
        for criterion in submission.assignment.prompt.mark_scheme.criteria.prefetch_related("levels"):
            levels = sorted(criterion.levels.all(), key=lambda level: level.number)
            level = levels[max(0, min(len(levels) - 1, ability + rng.choice([-1, 0, 0, 1])))]
            scores[criterion.pk] = (level.pk, rng.randint(level.min_marks, level.max_marks))
        return submission.record_mark(teacher, scores, base_revision=0, **feedback)

    def anchor(mark: Mark, quote: str, comment: str, bank_code: str | None = None) -> None:
        text = mark.submission.text
        start = text.index(quote)
        entry = CommentBankEntry.objects.filter(code=bank_code).first() if bank_code else None
        mark.add_annotation(teacher, entry.text if entry else comment, start, start + len(quote), quote, entry)

    with transaction.atomic():
        # seed_demo set and marked last month's Hotline essay; Amelia answers her improvement task.
        past = Mark.objects.get(submission__student__username="amelia.brown", submission__assignment__title=PAST_TITLE)
        response = DirtResponse.for_mark(past)
        response.save_text(
            "The Test Ban Treaty did more: it limited testing for good, while the Hotline only helped talking.",
            response.revision,
        )
        response.submit()

        # This week: the "How far…" essay, open, partly handed in, partly marked.
        current = Assignment.objects.create(
            school_class=school_class,
            prompt=prompts["crisis-improved-relations"],
            title=prompts["crisis-improved-relations"].question,
            opens_at=now - timedelta(days=6),
            due_at=(now + timedelta(days=2)).replace(hour=9, minute=0),
            created_by=teacher,
        )
        submitted: dict[str, Submission] = {}
        writers = [student for student in students if student.username != "isla.jones"]
        for index, student in enumerate(writers):
            if index < 14:
                # Amelia's is the whole essay, so the comments below have their passages.
                whole = student.username == "amelia.brown"
                text = "\n\n".join(HOW_FAR) if whole else essay_from(HOW_FAR, rng.choice([4, 5, 6]))
                at = now - timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 6))
                submitted[student.username] = write(current, student, text, at, submit=True)
            elif index < 20:
                write(current, student, essay_from(HOW_FAR, 3), now - timedelta(hours=index), submit=False)
        isla = User.objects.get(username="isla.jones")  # in the middle of writing hers
        writing = write(current, isla, DRAFT, now - timedelta(minutes=3), submit=False)

        # Amelia's essay is marked, commented and released; Leo's is being marked.
        amelia = submitted["amelia.brown"]
        mark = give_mark(
            amelia,
            2,
            www="A clear judgement from the first paragraph, and precise dates for the Hotline and the test ban.",
            ebi="Explain the other side as fully as the first: how far did the rivalry go on after 1962?",
            improvement_task="Add a paragraph on Czechoslovakia in 1968: what does it show about relations?",
        )
        anchor(mark, "a teleprinter line between", "Precise and correct: a teleprinter link, not a red telephone.")
        anchor(mark, "the rivalry did not end", "Good: you weigh the limits too. Add a date for the ICBM build-up.")
        anchor(mark, "which is more flexible", "", bank_code="prov")
        mark.complete(by=teacher)
        mark.release(by=teacher)

        leo = submitted["leo.davies"]
        draft = give_mark(leo, 1, www="You know the main agreements after the crisis.", ebi="")
        if "Hotline" in leo.text:
            anchor(draft, "Hotline", "Say what kind of link it was, and when it was agreed.")
        anchor(draft, "The Cuban Missile Crisis improved", "A clear opening judgement: keep it in view to the end.")

    return {
        "writing": current.pk,
        "amelia_submission": amelia.pk,
        "leo_submission": leo.pk,
        "class": school_class.pk,
        "amelia": amelia.student_id,
        "writer": writing.student.username,
    }


def _shoot(page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=False, animations="disabled", caret="hide")
    size = path.stat().st_size
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"  {shown}  {size // 1024} KB")
    if size > MAX_BYTES:
        raise SystemExit(f"{path.name} is {size:,} bytes, over the {MAX_BYTES:,} limit")


def take_screenshots(url: str, ids: dict, out: Path) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    out.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []

    def log_in(page, username: str) -> None:
        page.goto(f"{url}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()

    def settle(page) -> None:
        page.wait_for_load_state("networkidle")
        page.evaluate("() => { if (document.activeElement) document.activeElement.blur(); window.scrollTo(0, 0); }")

    def save(page, name: str) -> None:
        path = out / name
        _shoot(page, path)
        shots.append(path)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)

        def context(viewport):
            made = browser.new_context(
                locale="en-GB", timezone_id="Europe/London", viewport=viewport, device_scale_factor=1
            )
            made.set_default_timeout(15_000)
            return made

        # The student writing beside the sources, on a wide screen and on a phone.
        student = context(WIDE).new_page()
        log_in(student, ids["writer"])
        student.goto(f"{url}/classroom/assignments/{ids['writing']}/write/")
        student.get_by_text("Instructions", exact=True).click()  # folded away, as a writer would
        box = student.get_by_label("Your essay")
        expect(box).not_to_have_value("")
        settle(student)
        save(student, "writing.png")

        phone = context(NARROW)
        narrow = phone.new_page()
        log_in(narrow, ids["writer"])
        narrow.goto(f"{url}/classroom/assignments/{ids['writing']}/write/")
        narrow.get_by_text("Instructions", exact=True).click()
        narrow.get_by_role("tab", name=re.compile("Sources")).click()
        expect(narrow.get_by_role("heading", name=re.compile("^Source A"))).to_be_visible()
        settle(narrow)
        save(narrow, "writing-narrow-sources.png")
        phone.close()

        # The teacher marking an essay with comments on passages.
        teacher = context(WIDE).new_page()
        log_in(teacher, "ms.khan")
        teacher.goto(f"{url}/classroom/submissions/{ids['leo_submission']}/mark/")
        expect(teacher.get_by_role("heading", name=re.compile("^Marking: "), level=1)).to_be_visible()
        settle(teacher)
        heading = teacher.get_by_role("heading", name=re.compile("^Marking: "), level=1)
        heading.evaluate("el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 12)")
        save(teacher, "marking.png")

        # The markbook, and a student's progress chart.
        teacher.goto(f"{url}/classroom/classes/{ids['class']}/markbook/")
        expect(teacher.get_by_role("heading", name=re.compile("^Markbook"), level=1)).to_be_visible()
        settle(teacher)
        save(teacher, "markbook.png")

        # The student's side: feedback with the comments, and their progress.
        amelia = context(WIDE).new_page()
        log_in(amelia, "amelia.brown")
        amelia.goto(f"{url}/classroom/assignments/{ids['writing']}/feedback/")
        expect(amelia.get_by_role("heading", name=re.compile("^Feedback"), level=1)).to_be_visible()
        settle(amelia)
        save(amelia, "feedback.png")

        amelia.get_by_role("navigation", name="Main").get_by_role("link", name="My progress").click()
        chart = amelia.get_by_role("img", name=re.compile("Marks per skill"))
        expect(chart).to_be_visible()
        settle(amelia)
        amelia.get_by_role("heading", name=re.compile("My progress"), level=1).scroll_into_view_if_needed()
        save(amelia, "progress.png")

        browser.close()
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where the PNGs go (default docs/screenshots)")
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)  # inside the server's environment
    args = parser.parse_args()
    if args.seed:
        print(json.dumps(seed()))
        return

    from tests.e2e.server import production_server

    with production_server() as server:
        print(f"Serving the production way on {server.url} ({server.database}); seeding the demo class…")
        ids = json.loads(server.python(Path(__file__), "--seed").strip().splitlines()[-1])
        print(f"Screenshots into {args.out}:")
        take_screenshots(server.url, ids, args.out.resolve())


if __name__ == "__main__":
    main()
