"""Demo coursework for `seed_demo`: a term of 10H History's work on the unit, so a school trying
the app sees marking, feedback, the markbook and progress over time at once.

Three assignments on the shipped exam-style prompts:

- five weeks ago, the 8-mark account (`account-agreements-1963`): marked and released;
- two weeks ago, the 16 + 4 essay (`crisis-improved-relations`): marked and released;
- this week, "explain two consequences" (`two-consequences`): open, six essays to mark.

The essays, marks and feedback are data, in `classroom/demo/essays/<prompt slug>.yaml`: one
script per pupil, written for the demo in the pupil's voice, with the level and mark fixed and
justified against the scheme's level descriptor (see the note at the top of
`crisis-improved-relations.yaml`). Nothing is random, so every run gives the same department
and the same script always gets the same mark. Everything goes through the model methods a
teacher's and a pupil's clicks use (start, save_draft, submit, record_mark, add_annotation,
complete, release).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from django.utils import timezone

from classroom.comment_bank import expand_codes, read_bank
from classroom.models import (
    MAX_COMMENT_CHARS,
    Assignment,
    CommentBankEntry,
    SchoolClass,
    Submission,
    User,
    WritingEvent,
)
from crisis.content.loader import CONTENT_DIR
from crisis.models import Criterion, EssayPrompt
from crisis.wording import plural

ESSAYS_DIR = Path(__file__).resolve().parent / "essays"
BANK_FILE = CONTENT_DIR / "cuban_missile_crisis" / "comment_bank.yaml"

EARLIER_TITLE = "Account: how the crisis led to the agreements of 1963"
PAST_TITLE = "The crisis and US–Soviet relations, 1962–1972: how far do you agree?"
OPEN_TITLE = "Two consequences of the crisis (exam practice)"

# (title, prompt slug, days from now it opened, days from now it was or is due, late pupils)
EARLIER = (EARLIER_TITLE, "account-agreements-1963", -42, -35, ("george.thompson",))
PAST = (PAST_TITLE, "crisis-improved-relations", -21, -14, ("leo.davies", "harry.wright"))
OPEN = (OPEN_TITLE, "two-consequences", -2, 5, ())
ASSIGNMENTS = (EARLIER, PAST, OPEN)


@dataclass(frozen=True)
class Note:
    """A marker's comment anchored to a quotation from the essay."""

    quote: str
    comment: str


@dataclass(frozen=True)
class Script:
    """One pupil's essay and, once marked, its mark and feedback as the teacher gave them."""

    pupil: str
    text: str
    state: str = "marked"  # "marked" (and released), "submitted" (to mark) or "draft"
    level: int | None = None
    marks: int | None = None
    spag: int | None = None
    strands: tuple[tuple[str, int], ...] = ()
    comment: str = ""
    www: str = ""
    ebi: str = ""
    task: str = ""
    notes: tuple[Note, ...] = ()


def read_scripts(slug: str) -> list[Script]:
    """The demo scripts for one prompt, from `essays/<slug>.yaml`."""
    data = yaml.safe_load((ESSAYS_DIR / f"{slug}.yaml").read_text(encoding="utf-8"))
    if data.get("prompt") != slug:
        raise ValueError(f"essays/{slug}.yaml is for prompt {data.get('prompt')!r}, not {slug!r}.")
    scripts = []
    for item in data["scripts"]:
        notes = tuple(Note(note["quote"], note["comment"]) for note in item.get("notes") or ())
        scripts.append(
            Script(
                pupil=item["pupil"],
                text=item["text"].strip(),
                state=item.get("state", "marked"),
                level=item.get("level"),
                marks=item.get("marks"),
                spag=item.get("spag"),
                strands=tuple((item.get("strands") or {}).items()),
                comment=" ".join(str(item.get("comment", "")).split()),
                www=" ".join(str(item.get("www", "")).split()),
                ebi=" ".join(str(item.get("ebi", "")).split()),
                task=" ".join(str(item.get("task", "")).split()),
                notes=notes,
            )
        )
    return scripts


def bank_lookup() -> dict[str, object]:
    """The shipped starter comment bank, code (lower case) to an object with its `text`, read
    from the unit's file so the feedback reads the same whether or not the bank is loaded."""

    @dataclass(frozen=True)
    class Entry:
        text: str

    return {str(item["code"]).lower(): Entry(str(item["text"]).strip()) for item in read_bank(BANK_FILE)}


def expand(text: str, bank: dict[str, object]) -> str:
    """Feedback as a teacher who typed `#code` gets it: the code replaced by the bank's text."""
    expanded, _entry = expand_codes(text, bank, MAX_COMMENT_CHARS)
    return expanded


def create_demo_coursework(school_class: SchoolClass, teacher: User, students: list[User]) -> str:
    """Create the demo assignments once, with work by those of `students` the scripts name;
    return a line for the seed_demo output."""
    titles = [title for title, *_rest in ASSIGNMENTS]
    if Assignment.objects.filter(school_class=school_class, title__in=titles).exists():
        return "Demo coursework already present."
    slugs = [slug for _title, slug, *_rest in ASSIGNMENTS]
    prompts = {p.slug: p for p in EssayPrompt.objects.shipped().filter(slug__in=slugs).select_related("mark_scheme")}
    if set(prompts) != set(slugs):
        return "No demo coursework: run `python manage.py load_unit` first, then seed_demo again."
    pupils = {student.username: student for student in students}
    bank = bank_lookup()
    starter = {entry.code.lower(): entry for entry in CommentBankEntry.objects.filter(owner__isnull=True)}
    now = timezone.now()
    to_mark = 0
    for title, slug, opens, due, late in ASSIGNMENTS:
        assignment = Assignment.objects.create(
            school_class=school_class,
            prompt=prompts[slug],
            title=title,
            opens_at=now + timedelta(days=opens),
            due_at=now + timedelta(days=due),
            created_by=teacher,
        )
        criteria = list(prompts[slug].mark_scheme.criteria.prefetch_related("levels"))
        for script in read_scripts(slug):
            student = pupils.get(script.pupil)
            if student is None:  # a demo pupil the teacher removed before the unit was loaded
                continue
            submission = Submission.start(assignment, student, at=assignment.opens_at + timedelta(days=1))
            saved_at = assignment.opens_at + timedelta(days=2)
            process = demo_writing_record(submission, script, saved_at)
            submission.save_draft(script.text, submission.revision, at=saved_at, process=process)
            if script.state == "draft":
                continue
            handed_in = assignment.due_at + (timedelta(hours=20) if script.pupil in late else -timedelta(hours=3))
            submission.submit(by=student, at=min(handed_in, now - timedelta(hours=1)))
            if script.state == "submitted":
                to_mark += 1
                continue
            _mark(submission, script, criteria, teacher, bank, starter)
    return (
        f'Demo coursework: "{EARLIER_TITLE}" and "{PAST_TITLE}" marked and released; '
        f'"{OPEN_TITLE}" open with {plural(to_mark, "essay")} to mark.'
    )


# A quotation long enough to have been copied from a source rather than typed.
QUOTATION = re.compile(r'"([^"]{40,})"')


def demo_writing_record(submission: Submission, script: Script, saved_at: datetime) -> list[WritingEvent]:
    """A plain writing record for a demo essay (classroom/writing_process.py), as the writing
    page would have sent it: two evenings of writing, the second ending at `saved_at`, and a
    quotation pasted from the sources when the essay quotes one. The same every run."""
    words = len(script.text.split())
    minutes = max(5, words // 12)  # about twelve words a minute
    first, second = saved_at - timedelta(days=1, minutes=minutes), saved_at - timedelta(minutes=minutes // 2)
    rows = [
        WritingEvent(
            submission=submission,
            session=f"demo{submission.pk}a",
            batch=1,
            index=0,
            kind="writing",
            at=first,
            until=first + timedelta(minutes=minutes // 2),
            active_seconds=minutes * 30,
        ),
        WritingEvent(
            submission=submission,
            session=f"demo{submission.pk}b",
            batch=1,
            index=0,
            kind="writing",
            at=second,
            until=saved_at,
            active_seconds=minutes * 30,
        ),
    ]
    quotation = QUOTATION.search(script.text)
    if quotation:
        rows.append(
            WritingEvent(
                submission=submission,
                session=f"demo{submission.pk}b",
                batch=1,
                index=1,
                kind="paste",
                at=second + timedelta(minutes=1),
                position=quotation.start(1),
                length=len(quotation.group(1)),
                origin=WritingEvent.Origin.SOURCES,
            )
        )
    return rows


def scores_for(script: Script, criteria: list[Criterion]) -> dict[int, tuple[int | None, int]]:
    """The script's (level, mark) per criterion: its content level and mark as given, and the SPaG
    level whose band holds its SPaG mark. These schemes have one content criterion."""
    content = [criterion for criterion in criteria if not criterion.is_spag]
    if len(content) != 1:
        raise ValueError("The demo marks schemes with one content criterion (and SPaG).")
    if script.level is None or script.marks is None:
        raise ValueError(f"{script.pupil}: a marked script needs its level and mark.")
    levels = {level.number: level for level in content[0].levels.all()}
    scores: dict[int, tuple[int | None, int]] = {content[0].pk: (levels[script.level].pk, script.marks)}
    for criterion in criteria:
        if criterion.is_spag and script.spag is not None:
            band = next(lv for lv in criterion.levels.all() if lv.min_marks <= script.spag <= lv.max_marks)
            scores[criterion.pk] = (band.pk, script.spag)
    return scores


def _mark(submission: Submission, script: Script, criteria, teacher: User, bank, starter) -> None:
    mark = submission.record_mark(
        teacher,
        scores_for(script, criteria),
        base_revision=0,
        www=expand(script.www, bank),
        ebi=expand(script.ebi, bank),
        improvement_task=expand(script.task, bank),
        strands=dict(script.strands),
    )
    text = submission.text
    for note in script.notes:
        start = text.index(note.quote)
        code = note.comment[1:].lower() if note.comment.startswith("#") and " " not in note.comment else None
        entry = starter.get(code) if code else None
        mark.add_annotation(
            teacher, expand(note.comment, bank), start, start + len(note.quote), note.quote, bank_entry=entry
        )
    mark.add_annotation(teacher, script.comment)  # the level and mark, justified: a general comment
    mark.complete(teacher)
    mark.release(teacher)
