"""The demo department's shared work for `seed_demo`, made from the demo coursework
so a school trying the app sees standardisation, moderation and the agreement figures at once:

- a standardisation on the 16 + 4 essay's question: three of 10H's scripts (the highest, middle
  and lowest mark among the essays that name no pupil of the class) with the agreed mark (the
  class teacher's) and a rationale; the class teacher's trial marks agree with it, the second
  teacher's are a little severe, and on one script outside the tolerance, so the head's results
  show it;
- a completed moderation round on the same essay: a sample of four scripts (top, middle, bottom,
  one at random) second-marked blind by the second teacher by a fixed rule (one mark lower than
  the first mark on two of them, two lower on one, the same on one), then agreed by the head,
  who lets the first mark stand on each (the demo's marks are justified in their comments, which
  a changed mark would contradict), so the agreement figures show a slightly severe second
  marker;
- the top script as a department exemplar, and the whole-class feedback sheet's words.

Nothing is random beyond the sample's own seeded draw, and everything goes through the
functions the pages use (classroom/department.py). Made once: a second run leaves it alone.
"""

from __future__ import annotations

from classroom import department
from classroom.models import Assignment, Mark, ReviewMark, SchoolClass, Standardisation, User

STANDARDISATION_TITLE = "Autumn standardisation: the crisis and US–Soviet relations"
RATIONALE = {
    "top": "Explains how the crisis changed relations on both sides of the argument and reaches a judgement "
    "that follows from it; the knowledge is accurate and relevant.",
    "middle": "Explains some consequences with relevant knowledge, but the other side is thin and the judgement "
    "is asserted at the end rather than reached through the essay.",
    "bottom": "Describes events with some accurate knowledge but little explanation of how they changed "
    "relations, and no judgement.",
}
# The second marker's content mark, relative to the first, per sampled script in label order.
SECOND_MARK_OFFSETS = (-1, 0, -2, -1)
AGREE_FIRST = "Checked against the level descriptor with both markers: the first mark stands."
MISCONCEPTIONS = (
    "The Hotline was a teleprinter link, not a red telephone.\n"
    "The Partial Test Ban Treaty (1963) banned tests in the atmosphere, in space and under water, not underground.\n"
    "The Jupiter missiles left Turkey in April 1963 under a secret understanding: it was not announced in "
    "October 1962."
)


def scores_of(mark: Mark | ReviewMark) -> dict[int, tuple[int | None, int]]:
    return {row.criterion_id: (row.level_id, row.marks) for row in mark.criterion_marks.all()}


def shifted(mark: Mark, offset: int) -> dict[int, tuple[int | None, int]]:
    """The mark's scores with the content criterion `offset` marks away (kept within the
    criterion), at the level whose band holds the new mark; SPaG as given."""
    scores = {}
    for row in mark.criterion_marks.select_related("criterion").prefetch_related("criterion__levels"):
        marks, level_id = row.marks, row.level_id
        if not row.criterion.is_spag and offset:
            marks = max(0, min(row.criterion.max_marks, marks + offset))
            level = next((lv for lv in row.criterion.levels.all() if lv.min_marks <= marks <= lv.max_marks), None)
            level_id = level.pk if level is not None else None
        scores[row.criterion_id] = (level_id, marks)
    return scores


def create_demo_department(head: User, teachers: list[User], school_class: SchoolClass, essay_title: str) -> str:
    """Create the demo department's standardisation, moderation round, exemplar and feedback
    sheet on the class's assignment called `essay_title`; a line for seed_demo's output."""
    assignment = Assignment.objects.filter(school_class=school_class, title=essay_title).first()
    if assignment is None:
        return "No demo moderation: the demo coursework is missing."
    if Standardisation.objects.filter(title=STANDARDISATION_TITLE).exists():
        return "Demo standardisation and moderation already present."
    first, second = teachers[0], teachers[1]
    marks = sorted(
        Mark.objects.filter(submission__assignment=assignment, completed_at__isnull=False).select_related("submission"),
        key=lambda mark: (-mark.total, mark.pk),
    )
    if len(marks) < 6:
        return "No demo moderation: too few marked essays."
    roster = list(department.roster_of(school_class))

    # Standardisation: the highest, middle and lowest marks among the essays that name no pupil
    # of the class (the name check refuses the rest: "Johnson" is a pupil here as well as a
    # President).
    unnamed = [mark for mark in marks if not department.names_in(mark.submission.text, roster)]
    standardisation = Standardisation.objects.create(
        prompt=assignment.prompt, title=STANDARDISATION_TITLE, created_by=head
    )
    picks = (
        {"top": unnamed[0], "middle": unnamed[len(unnamed) // 2], "bottom": unnamed[-1]} if len(unnamed) >= 3 else {}
    )
    scripts = []
    for place, mark in picks.items():
        script = department.add_script(standardisation, mark.submission, mark.submission.text)
        department.set_agreed_mark(script, head, scores_of(mark), RATIONALE[place])
        scripts.append((script, mark))
    for number, (script, mark) in enumerate(scripts):
        department.record_trial_mark(script, first, scores_of(mark))
        department.record_trial_mark(script, second, shifted(mark, -3 if number == 1 else -1))

    # Moderation: draw, second-mark blind, agree.
    sample = department.draw_sample(assignment, head, 3, second, random_extra=1)
    items = list(sample.items.select_related("submission__mark").order_by("label"))
    for item, offset in zip(items, SECOND_MARK_OFFSETS, strict=False):
        first_mark = item.submission.mark
        department.record_second_mark(item, second, shifted(first_mark, offset), note="")
    for item in items:
        department.agree_mark(item, head, scores_of(item.submission.mark), AGREE_FIRST)

    # The top script as an exemplar, and the whole-class sheet's words.
    exemplars = 0
    if scripts:
        script, mark = scripts[0]
        scheme = assignment.prompt.mark_scheme
        department.promote_exemplar(
            by=first,
            prompt=assignment.prompt,
            title="An answer that explains both sides",
            text=mark.submission.text,
            level_name=department.suggested_level(scheme, department.levels_of(mark)),
            total=mark.total,
            max_total=mark.max_total,
            commentary=RATIONALE["top"],
            notes=department.exemplar_notes(mark, mark.submission.text),
            pupils=roster,
            submission=mark.submission,
        )
        exemplars = 1
    department.save_feedback_sheet(assignment, first, misconceptions=MISCONCEPTIONS, exemplar_paragraph="")
    return (
        f"Demo department: a standardisation of {len(scripts)} scripts, a moderation round of {len(items)} "
        f"scripts second-marked and agreed, {exemplars} exemplar."
    )
