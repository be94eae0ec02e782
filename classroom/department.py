"""The department's shared marking work: marks given outside a pupil's own mark.

Standardisation scripts, blind second marks and moderated marks are all ReviewMarks: a level
and mark per criterion of the question's scheme, checked by the same rules as the marking
page (`classroom.models.validate_scores`). Writes that span several models live here;
access rules stay in classroom/permissions.py and the figures in classroom/agreement.py.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from classroom.compiled import CompiledQuery
from classroom.indicative import term_pattern
from classroom.models import (
    MAX_FEEDBACK_CHARS,
    Assignment,
    CriterionMark,
    Exemplar,
    ExemplarShare,
    FeedbackSheet,
    Mark,
    MarkChange,
    MarkError,
    ModerationItem,
    ModerationSample,
    ReviewCriterionMark,
    ReviewMark,
    SchoolClass,
    Standardisation,
    StandardisationScript,
    Submission,
    User,
    validate_scores,
)
from crisis.models import Criterion, EssayPrompt, MarkScheme
from crisis.wording import plural

Scores = Mapping[int, tuple[int | None, int]]


def scheme_of(*, script: StandardisationScript | None = None, item: ModerationItem | None = None) -> MarkScheme:
    """The mark scheme a review mark of this script or item is given against."""
    if script is not None:
        return script.standardisation.prompt.mark_scheme
    assert item is not None
    return item.submission.assignment.prompt.mark_scheme


def record_review_mark(
    kind: str,
    by: User,
    scores: Scores,
    *,
    script: StandardisationScript | None = None,
    item: ModerationItem | None = None,
    note: str = "",
) -> ReviewMark:
    """Save a complete review mark (every criterion needs a level and mark), replacing the one
    of the same kind already given (for TRIAL marks: the same marker's). MarkError, with
    nothing saved, when the scores do not fit the scheme."""
    if (script is None) == (item is None):
        raise ValueError("A review mark belongs to a standardisation script or a moderation item.")
    if len(note) > MAX_FEEDBACK_CHARS:
        raise MarkError(f"The note is too long (over {MAX_FEEDBACK_CHARS:,} characters).")
    scheme = scheme_of(script=script, item=item)
    maxima = Mark.maxima_of(scheme)  # loads the criteria and levels validate_scores reads
    cleaned = validate_scores(scheme, dict(scores), require_all=True)
    total = sum(marks for criterion, _level, marks in cleaned if not criterion.is_spag)
    lookup: dict[str, object] = {"kind": kind, "script": script, "item": item}
    if kind == ReviewMark.Kind.TRIAL:
        lookup["marker"] = by
    now = timezone.now()
    try:
        with transaction.atomic():
            review, _ = ReviewMark.objects.select_for_update().get_or_create(
                **lookup, defaults={"marker": by, "max_total": maxima["max_total"]}
            )
            review.criterion_marks.all().delete()
            ReviewCriterionMark.objects.bulk_create(
                ReviewCriterionMark(
                    review_mark=review, criterion=criterion, level=level, marks=marks, max_marks=criterion.max_marks
                )
                for criterion, level, marks in cleaned
            )
            review.marker = by
            review.total = total
            review.max_total = maxima["max_total"]
            review.note = note
            review.updated_at = now
            review.completed_at = now
            review.save(update_fields=["marker", "total", "max_total", "note", "updated_at", "completed_at"])
    except IntegrityError as error:  # the same mark was started in another tab a moment ago
        raise MarkError("This mark was saved from another tab at the same moment: reload and try again.") from error
    return review


def levels_of(review: ReviewMark | Mark) -> dict[int, tuple[int | None, int | None, int]]:
    """Criterion id → (level id, level number, marks) for a review mark or a pupil's mark (its
    criterion_marks with their levels loaded), the shape classroom/agreement.py compares."""
    return {
        row.criterion_id: (row.level_id, row.level.number if row.level is not None else None, row.marks)
        for row in review.criterion_marks.all()
    }


# --- pupils' names ----------------------------------------------------------------------------
# Nothing that leaves a class (an exemplar, the whole-class feedback sheet) may name a pupil of
# it: a first or last name of anyone on the class's roster, as a whole word, in any letter case
# (the same matching as indicative-content key terms: classroom/indicative.py).


class NamedPupilError(ValueError):
    """Text that names a pupil; the message says where and whom."""


def roster_of(school_class: SchoolClass) -> QuerySet[User]:
    """Every pupil ever on the class's roster (those who have left it too)."""
    return (
        User.objects.filter(enrolments__school_class=school_class)
        .only("pk", "first_name", "last_name", "role")
        .distinct()
    )


def pupil_names(users: Iterable[User]) -> list[str]:
    """The first and last names of `users`, each once."""
    names: dict[str, str] = {}
    for user in users:
        for name in (user.first_name, user.last_name):
            name = " ".join(name.split())
            if len(name) >= 2:  # a lone initial would match "J. F. Kennedy"
                names.setdefault(name.lower(), name)
    return list(names.values())


def names_in(text: str, users: Iterable[User]) -> list[str]:
    """The first and last names of `users` that `text` contains as whole words, ignoring case."""
    found = []
    for name in pupil_names(users):
        pattern = term_pattern(name)
        if pattern is not None and pattern.search(text):
            found.append(name)
    return found


def redact_names(text: str, names: Sequence[str], mask: str = "[name]") -> str:
    """`text` with each of `names` (pupil_names) replaced by `mask`, matched as names_in does."""
    for name in sorted(names, key=len, reverse=True):  # "Anne Marie" before "Anne"
        pattern = term_pattern(name)
        if pattern is not None:
            text = pattern.sub(mask, text)
    return text


def check_no_names(parts: Iterable[tuple[str, str]], users: Iterable[User]) -> None:
    """NamedPupilError naming every (label, text) part that names a pupil in `users`."""
    users = list(users)
    problems = []
    for label, text in parts:
        named = names_in(text, users)
        if named:
            problems.append(f"{label} names {' and '.join(named)}")
    if problems:
        raise NamedPupilError(
            "; ".join(problems) + ". Take out every pupil's name (first or last) before saving: nothing was saved."
        )


# --- the department comment bank, exemplars and the whole-class feedback sheet ---------------


def set_bank_curators(candidates: QuerySet[User], chosen: Iterable[User]) -> None:
    """Make exactly `chosen` (of `candidates`, the teachers a head may name) curators of the
    department comment bank."""
    ids = [user.pk for user in chosen]
    with transaction.atomic():
        candidates.filter(curates_bank=True).exclude(pk__in=ids).update(curates_bank=False)
        candidates.filter(pk__in=ids, curates_bank=False).update(curates_bank=True)


def level_label(number: int | None) -> str:
    return "No level" if number is None else f"Level {number}"


def level_choices(scheme: MarkScheme) -> list[str]:
    """The level labels an exemplar of `scheme` may be filed under ("Level 1", "Level 2", …):
    the level numbers of its content criteria (criteria and levels prefetched)."""
    numbers = {level.number for c in scheme.criteria.all() if not c.is_spag for level in c.levels.all()}
    return [level_label(number) for number in sorted(numbers)]


def suggested_level(scheme: MarkScheme, levels: Mapping[int, tuple[int | None, int | None, int]]) -> str:
    """The level of the criterion worth most marks (the first of equals), from `levels_of`."""
    content = [c for c in scheme.criteria.all() if not c.is_spag]
    if not content:
        return ""
    top = max(content, key=lambda c: c.max_marks)
    number = levels.get(top.pk, (None, None, 0))[1]
    return level_label(number) if number is not None else ""


def exemplar_notes(mark: Mark, text: str) -> list[dict]:
    """The mark's comments anchored to the essay, as Exemplar.notes (annotations loaded)."""
    return [
        {"number": a.number, "start": a.start, "end": a.end, "quote": a.quote, "comment": a.comment}
        for a in mark.annotations.all()
        if a.anchored_in(text)
    ]


def reanchor(notes: Iterable[Mapping], text: str) -> list[dict]:
    """Notes renumbered from 1 and anchored in `text` (the copy the teacher may have edited):
    where the quote still sits at its offsets, else at its nearest occurrence; a quote no longer
    in the text leaves a general note (without the quote, which may hold a name taken out)."""
    out = []
    for number, note in enumerate(notes, start=1):
        start, end, quote = note.get("start"), note.get("end"), note.get("quote") or ""
        if not (quote and start is not None and text[start:end] == quote):
            found = [m.start() for m in re.finditer(re.escape(quote), text)] if quote else []
            if found:
                start = min(found, key=lambda position: abs(position - (start or 0)))
                end = start + len(quote)
            else:
                start, end, quote = None, None, ""
        out.append({"number": number, "start": start, "end": end, "quote": quote, "comment": note["comment"]})
    return out


def promote_exemplar(
    *,
    by: User,
    prompt: EssayPrompt,
    title: str,
    text: str,
    level_name: str,
    total: int,
    max_total: int,
    commentary: str,
    notes: Iterable[Mapping],
    pupils: Iterable[User],
    submission: Submission | None = None,
    script: StandardisationScript | None = None,
) -> Exemplar:
    """Save a department exemplar: a copy of the text with the chosen notes re-anchored in it.
    NamedPupilError, with nothing saved, while the title, text, commentary or a note names any
    of `pupils` (the roster of the class it came from)."""
    placed = reanchor(notes, text)
    parts = [("The title", title), ("The text", text), ("The commentary", commentary)]
    parts += [(f"Comment {note['number']}", note["comment"]) for note in placed]
    check_no_names(parts, pupils)
    return Exemplar.objects.create(
        prompt=prompt,
        submission=submission,
        script=script,
        title=title,
        text=text,
        level_name=level_name,
        total=total,
        max_total=max_total,
        notes=placed,
        commentary=commentary,
        promoted_by=by,
    )


def update_exemplar(
    exemplar: Exemplar, *, title: str, level_name: str, commentary: str, pupils: Iterable[User]
) -> Exemplar:
    """Change an exemplar's title, level and commentary (its text and notes stay as promoted);
    NamedPupilError, with nothing saved, while they name any of `pupils`."""
    check_no_names([("The title", title), ("The commentary", commentary)], pupils)
    exemplar.title, exemplar.level_name, exemplar.commentary = title, level_name, commentary
    exemplar.save(update_fields=["title", "level_name", "commentary"])
    return exemplar


def exemplar_pupils(exemplar: Exemplar) -> QuerySet[User]:
    """The roster an exemplar must not name: that of the class its essay came from."""
    return script_roster(exemplar.submission or (exemplar.script.submission if exemplar.script is not None else None))


def unshare_exemplar(exemplar: Exemplar, assignment: Assignment) -> bool:
    """Stop showing `exemplar` to the pupils of `assignment`; whether it was shown there."""
    deleted, _ = ExemplarShare.objects.filter(exemplar=exemplar, assignment=assignment).delete()
    return bool(deleted)


def share_exemplar(exemplar: Exemplar, assignment: Assignment, when: str, by: User) -> ExemplarShare:
    """Show `exemplar` to the pupils of `assignment` (or change when they see it)."""
    share, _ = ExemplarShare.objects.update_or_create(
        assignment=assignment, exemplar=exemplar, defaults={"when": when, "shared_by": by}
    )
    return share


def save_feedback_sheet(
    assignment: Assignment, by: User, *, misconceptions: str, exemplar_paragraph: str
) -> FeedbackSheet:
    """Save the teacher's words on the whole-class sheet; NamedPupilError (nothing saved) while
    they name a pupil of the class."""
    check_no_names(
        [("The misconceptions", misconceptions), ("The exemplar paragraph", exemplar_paragraph)],
        roster_of(assignment.school_class),
    )
    sheet, _ = FeedbackSheet.objects.update_or_create(
        assignment=assignment,
        defaults={
            "misconceptions": misconceptions,
            "exemplar_paragraph": exemplar_paragraph,
            "updated_by": by,
            "updated_at": timezone.now(),
        },
    )
    return sheet


# --- moderation: drawing a sample, blind second marks, the agreed mark and the audit trail -----
#
# A sample takes, for each first marker (Mark.marker) of an assignment, `size` of their complete
# marks in turn from the top, the bottom and the middle of their totals, then `random_extra`
# more at random. The random choice and the order of the labels ("Script 1", …) come from
# random.Random(sample.pk), so a sample can be drawn again exactly (choose_scripts). A script
# whose mark was already agreed in moderation is not drawn again.

STRATA_IN_TURN = (ModerationItem.Stratum.TOP, ModerationItem.Stratum.BOTTOM, ModerationItem.Stratum.MIDDLE)
MAX_SAMPLE_SIZE = 20
MAX_RANDOM_EXTRA = 10


def choose_scripts(
    scripts: Sequence[tuple[int, int]], size: int, random_extra: int, rng: random.Random
) -> list[tuple[int, str]]:
    """One marker's scripts to sample: [(submission id, stratum)] from [(submission id, total)].

    `size` scripts (all of them if they have fewer) taken in turn from the top, the bottom and
    the middle of the totals (ties: the lower id first), then up to `random_extra` of the rest
    chosen by `rng`. No script twice."""
    ordered = sorted(scripts, key=lambda script: (-script[1], script[0]))
    n = min(size, len(ordered))
    counts = dict.fromkeys(STRATA_IN_TURN, n // 3)
    for stratum in STRATA_IN_TURN[: n % 3]:
        counts[stratum] += 1
    top = ordered[: counts[ModerationItem.Stratum.TOP]]
    rest = ordered[len(top) :]
    bottom = rest[len(rest) - counts[ModerationItem.Stratum.BOTTOM] :] if counts[ModerationItem.Stratum.BOTTOM] else []
    rest = rest[: len(rest) - len(bottom)]
    start = (len(rest) - counts[ModerationItem.Stratum.MIDDLE]) // 2
    middle = rest[start : start + counts[ModerationItem.Stratum.MIDDLE]]
    chosen = {pk for pk, _total in (*top, *bottom, *middle)}
    others = sorted(pk for pk, _total in ordered if pk not in chosen)
    extra = rng.sample(others, min(random_extra, len(others)))
    return [
        *((pk, ModerationItem.Stratum.TOP) for pk, _ in top),
        *((pk, ModerationItem.Stratum.MIDDLE) for pk, _ in middle),
        *((pk, ModerationItem.Stratum.BOTTOM) for pk, _ in bottom),
        *((pk, ModerationItem.Stratum.RANDOM) for pk in extra),
    ]


def sampleable_marks(assignment: Assignment) -> dict[int | None, list[tuple[int, int]]]:
    """The assignment's complete marks a sample may draw, by first marker: {marker id:
    [(submission id, total)]} (None: a marker whose account has gone). One query."""
    rows = (
        Mark.objects.filter(submission__assignment=assignment, completed_at__isnull=False)
        .exclude(submission__moderation_items__isnull=False)  # an essay is sampled once
        .order_by("submission_id")
        .values_list("marker_id", "submission_id", "total")
    )
    by_marker: dict[int | None, list[tuple[int, int]]] = {}
    for marker_id, submission_id, total in rows:
        by_marker.setdefault(marker_id, []).append((submission_id, total))
    return by_marker


def _marker_order(marker_id: int | None) -> tuple[bool, int]:
    return (marker_id is None, marker_id or 0)


def draw_sample(
    assignment: Assignment,
    by: User,
    size: int,
    second_marker_for: Mapping[int | None, User] | User,
    *,
    random_extra: int = 0,
    tolerance_marks: int = 2,
) -> ModerationSample:
    """Draw a sample of `assignment`'s complete marks for blind second marking (see above).

    `second_marker_for` names the second marker for each first marker's scripts (first
    marker id → teacher), or one teacher for all. MarkError, with nothing saved, when there
    is nothing to draw, a first marker has no second marker, or a second marker is not a
    teacher or is the first marker of the scripts given to them."""
    if not 1 <= size <= MAX_SAMPLE_SIZE:
        raise MarkError(f"Choose between 1 and {MAX_SAMPLE_SIZE} scripts per marker.")
    if not 0 <= random_extra <= MAX_RANDOM_EXTRA:
        raise MarkError(f"Choose between 0 and {MAX_RANDOM_EXTRA} extra scripts at random.")
    by_marker = sampleable_marks(assignment)
    if not by_marker:
        raise MarkError("No marks on this assignment are complete (or all have been moderated): nothing to sample.")
    names = {user.pk: user.display_name for user in User.objects.filter(pk__in=[pk for pk in by_marker if pk])}
    seconds: dict[int | None, User] = {}
    # The class's own teachers, and heads of department (every class), can open its marking
    # pages and see the first marks, so they cannot mark blind.
    class_teachers = set(assignment.school_class.teachers.values_list("pk", flat=True))
    for marker_id in by_marker:
        name = names.get(marker_id, "a marker who has left") if marker_id is not None else "a marker who has left"
        second = second_marker_for if isinstance(second_marker_for, User) else second_marker_for.get(marker_id)
        if second is None:
            raise MarkError(f"Choose a second marker for the scripts marked by {name}.")
        if not (second.is_active and second.is_teacher):
            raise MarkError(f"{second.display_name} is not a teacher here, so cannot second-mark.")
        if second.pk == marker_id:
            raise MarkError(f"{name} marked these scripts first, so cannot second-mark them: choose another teacher.")
        if second.is_head:
            raise MarkError(
                f"{second.display_name} is a head of department and can open every class's marks, so cannot "
                "second-mark blind: choose a teacher from outside the class."
            )
        if second.pk in class_teachers:
            raise MarkError(
                f"{second.display_name} teaches {assignment.school_class.name}, so can see the first marks: "
                "choose a teacher from outside the class to second-mark blind."
            )
        seconds[marker_id] = second
    with transaction.atomic():
        sample = ModerationSample.objects.create(
            assignment=assignment, size=size, tolerance_marks=tolerance_marks, created_by=by
        )
        ModerationItem.objects.bulk_create(
            ModerationItem(
                sample=sample,
                submission_id=submission_id,
                label=label,
                stratum=stratum,
                first_marker_id=marker_id,
                second_marker=seconds[marker_id],
            )
            for label, submission_id, stratum, marker_id in plan_sample(by_marker, size, random_extra, seed=sample.pk)
        )
    return sample


def plan_sample(
    by_marker: Mapping[int | None, Sequence[tuple[int, int]]], size: int, random_extra: int, seed: int
) -> list[tuple[str, int, str, int | None]]:
    """The scripts a sample seeded `seed` draws from `by_marker` (sampleable_marks): [(label,
    submission id, stratum, first marker id)], the labels numbered in an order shuffled by the
    same seed, so it says nothing about marker or stratum."""
    rng = random.Random(seed)
    picks = [
        (submission_id, stratum, marker_id)
        for marker_id in sorted(by_marker, key=_marker_order)
        for submission_id, stratum in choose_scripts(by_marker[marker_id], size, random_extra, rng)
    ]
    rng.shuffle(picks)
    return [
        (f"Script {number}", submission_id, stratum, marker_id)
        for number, (submission_id, stratum, marker_id) in enumerate(picks, start=1)
    ]


def record_second_mark(item: ModerationItem, by: User, scores: Scores, note: str = "") -> ReviewMark:
    """The blind second mark of a sampled script (replacing the marker's earlier one): only by
    its second marker, and only until the agreed mark is recorded. MarkError otherwise."""
    with transaction.atomic():
        locked = ModerationItem.objects.select_for_update().get(pk=item.pk)
        if locked.second_marker_id != by.pk:
            raise MarkError("Only the teacher named as this script's second marker can mark it.")
        if locked.agreed_at is not None:
            raise MarkError("This script has been moderated, so its second mark can no longer change.")
        locked.submission = item.submission  # loaded by the caller: spares the scheme's queries
        return record_review_mark(ReviewMark.Kind.SECOND, by, scores, item=locked, note=note)


def apply_mark_change(mark: Mark, scores: Scores, by: User | None, source: str, reason: str) -> list[MarkChange]:
    """Change a complete mark's levels and marks (criteria not in `scores` keep theirs), with
    a MarkChange row for each criterion that changed: the one way a mark changes outside the
    marking page (moderation, judgement). Under the mark's lock; the total is worked out again
    and the revision goes up, so a marking page open on the old mark cannot overwrite it.

    A released mark is changed too (the moderated mark prevails; the pupil's feedback shows
    it from then on): its comments and written feedback stay as they are. MarkError, with
    nothing changed, if the mark is not complete or the scores do not fit the scheme."""
    with transaction.atomic():
        locked = mark._locked()
        if not locked.is_complete:
            raise MarkError("Only a complete mark can be changed here: the marker has not finished it.")
        scheme = locked.submission.assignment.prompt.mark_scheme
        Mark.maxima_of(scheme)  # loads the criteria and levels validate_scores reads
        before = MarkChange.scores_of(locked)
        cleaned = validate_scores(scheme, dict(scores), require_all=True, keep=set(before))
        changed = False
        for criterion, level, marks in cleaned:
            if before.get(criterion.pk) != (level.pk if level is not None else None, marks):
                changed = True
                CriterionMark.objects.update_or_create(
                    mark=locked,
                    criterion=criterion,
                    defaults={"level": level, "marks": marks, "max_marks": criterion.max_marks},
                )
        if not changed:
            return []
        total_before = locked.total
        totals = locked.criterion_marks.values_list("criterion__is_spag", "marks")
        locked.total = sum(marks for is_spag, marks in totals if not is_spag)
        spag = [marks for is_spag, marks in totals if is_spag]
        locked.spag = spag[0] if spag else None
        locked.revision += 1
        locked.updated_at = timezone.now()
        locked.save(update_fields=["total", "spag", "revision", "updated_at"])
        changes = MarkChange.record(locked, before, total_before, by=by, source=source, reason=reason)
    mark.refresh_from_db(fields=["total", "spag", "revision", "updated_at"])
    return changes


def agree_mark(item: ModerationItem, by: User, scores: Scores, reason: str) -> tuple[ReviewMark, list[MarkChange]]:
    """The moderator's agreed mark of a sampled script, with the reason: kept as a MODERATED
    review mark and applied to the pupil's mark (apply_mark_change). Again later replaces it.
    MarkError, with nothing saved, before the second mark is in or without a reason."""
    reason = reason.strip()
    if not reason:
        raise MarkError("Give the reason for the agreed mark.")
    with transaction.atomic():
        locked = ModerationItem.objects.select_for_update().get(pk=item.pk)
        locked.submission = item.submission
        if not locked.review_marks.filter(kind=ReviewMark.Kind.SECOND, completed_at__isnull=False).exists():
            raise MarkError("The second mark is not in yet: the agreed mark comes after it.")
        agreed = record_review_mark(ReviewMark.Kind.MODERATED, by, scores, item=locked, note=reason)
        mark = Mark.objects.get(submission_id=locked.submission_id)
        changes = apply_mark_change(mark, scores, by=by, source=MarkChange.Source.MODERATION, reason=reason)
        locked.agreed_by, locked.agreed_at, locked.reason = by, timezone.now(), reason
        locked.save(update_fields=["agreed_by", "agreed_at", "reason"])
    item.refresh_from_db(fields=["agreed_by", "agreed_at", "reason"])
    return agreed, changes


@dataclass(frozen=True)
class FirstMark:
    """A sampled script's first mark as the first marker left it: criterion id → (level id,
    level number, marks) like levels_of, and the content total."""

    levels: dict[int, tuple[int | None, int | None, int]]
    total: int
    max_total: int


def first_marks(submission_ids: Iterable[int]) -> dict[int, FirstMark]:
    """The complete first marks of these essays, by submission id, as the first marker left
    them: where moderation has since changed a mark (MarkChange rows of source MODERATION), the
    values before the earliest such change. Two queries."""
    ids = list(submission_ids)
    rows = CriterionMark.objects.filter(mark__submission_id__in=ids, mark__completed_at__isnull=False).values_list(
        "mark__submission_id", "criterion_id", "level_id", "level__number", "marks", "mark__total", "mark__max_total"
    )
    changes = (
        MarkChange.objects.filter(source=MarkChange.Source.MODERATION, mark__submission_id__in=ids)
        .order_by("changed_at", "pk")
        .values_list(
            "mark__submission_id",
            "criterion_id",
            "level_before_id",
            "level_before__number",
            "marks_before",
            "total_before",
        )
    )
    total_before: dict[int, int] = {}
    level_before: dict[tuple[int, int], tuple[int | None, int | None, int]] = {}
    for submission_id, criterion_id, level_id, number, marks, total in changes:
        total_before.setdefault(submission_id, total)
        if criterion_id is not None:
            level_before.setdefault((submission_id, criterion_id), (level_id, number, marks or 0))
    levels: dict[int, dict[int, tuple[int | None, int | None, int]]] = {}
    totals: dict[int, tuple[int, int]] = {}
    for submission_id, criterion_id, level_id, number, marks, total, max_total in rows:
        levels.setdefault(submission_id, {})[criterion_id] = level_before.get(
            (submission_id, criterion_id), (level_id, number, marks)
        )
        totals[submission_id] = (total_before.get(submission_id, total), max_total)
    return {pk: FirstMark(levels[pk], *totals[pk]) for pk in levels}


def beyond_tolerance(sample: ModerationSample, first_total: int, second_total: int) -> bool:
    """Whether a second mark is further from the first than the sample allows."""
    return abs(second_total - first_total) > sample.tolerance_marks


# --- standardisation ----------------------------------------------------------------------------
# The head picks scripts for a question (anonymised copies, "Script A", "Script B"…) and sets
# each one's agreed mark with a rationale. Before marking work on that question, each marker
# marks the scripts blind (one TRIAL mark per script, final once given), then sees how far they
# were from the agreed mark. Markers are shown only scripts whose agreed mark is set.


class ScriptError(ValueError):
    """A script that cannot be added or changed; the message says why. Nothing was saved."""


def same_question(prompt: EssayPrompt, field: str = "prompt") -> Q:
    """`field` is `prompt`, a teacher's copy of it, or the question it was copied from: the same
    question (perhaps reworded), so standardising on one standardises them all."""
    question = Q(**{field: prompt.pk}) | Q(**{f"{field}__copied_from": prompt.pk})
    if prompt.copied_from_id is not None:
        question |= Q(**{field: prompt.copied_from_id})
    return question


def agreed_scripts() -> QuerySet[StandardisationScript]:
    """Scripts whose agreed mark is set: the only ones markers see."""
    agreed = ReviewMark.objects.filter(script=OuterRef("pk"), kind=ReviewMark.Kind.AGREED_STANDARD)
    return StandardisationScript.objects.filter(Exists(agreed))


def _untried_required(prompt: int, original: int | None, marker: int) -> QuerySet[Standardisation]:
    """standardisation_due's query: required standardisations on the question (`prompt`, its
    copies, and the question it was copied from, `original`) with an agreed script `marker`
    has not marked, the first first."""
    question = EssayPrompt(pk=prompt, copied_from_id=original)
    tried = ReviewMark.objects.filter(script=OuterRef("pk"), kind=ReviewMark.Kind.TRIAL, marker=marker)
    untried = agreed_scripts().filter(standardisation=OuterRef("pk")).exclude(Exists(tried))
    return (
        Standardisation.objects.filter(same_question(question), required=True)
        .filter(Exists(untried))
        .order_by("created_at", "pk")[:1]
    )


# Compiled once: it stands in front of every marking queue and marking page.
_untried_required_compiled = CompiledQuery(_untried_required)


def standardisation_due(user: User, prompt: EssayPrompt) -> Standardisation | None:
    """The first required standardisation on `prompt`'s question with an agreed script `user`
    has not marked yet: they mark its scripts before marking work on the question (the marking
    queue and marking page send them there). None when nothing is due, and always for heads,
    who set the agreed marks. One query (none for heads)."""
    if user.is_head:
        return None
    due = _untried_required_compiled.objects(prompt=prompt.pk, original=prompt.copied_from_id, marker=user.pk)
    return due[0] if due else None


def within_tolerance(standardisation: Standardisation, total_difference: int, level_differences: Iterable[int]) -> bool:
    """The tolerance rule: the total within ± tolerance_marks of the agreed total *and* every
    criterion's level within ± tolerance_levels of the agreed level. The boundary is within
    (2 marks over, with a tolerance of ±2, is within)."""
    return abs(total_difference) <= standardisation.tolerance_marks and all(
        abs(difference) <= standardisation.tolerance_levels for difference in level_differences
    )


def tolerance_rule(standardisation: Standardisation) -> str:
    """The rule in words, for the pages that judge by it."""
    marks = plural(standardisation.tolerance_marks, "mark")
    levels = plural(standardisation.tolerance_levels, "level")
    return (
        f"Within tolerance: the total (not counting SPaG) is within ±{marks} of the agreed total, "
        f"and every criterion is within ±{levels} of the agreed level (no rewardable material "
        "counts as level 0). A marker is within tolerance when every script they have marked is."
    )


@dataclass(frozen=True)
class CriterionDifference:
    """One criterion of a marker's mark beside the agreed one: (level number, marks) each, the
    level number 0 for no rewardable material; None where that mark has no such criterion."""

    criterion: Criterion
    yours: tuple[int, int] | None
    agreed: tuple[int, int] | None

    @property
    def level_difference(self) -> int | None:
        if self.yours is None or self.agreed is None:
            return None
        return self.yours[0] - self.agreed[0]

    @property
    def marks_difference(self) -> int | None:
        if self.yours is None or self.agreed is None:
            return None
        return self.yours[1] - self.agreed[1]


@dataclass(frozen=True)
class Comparison:
    """A marker's mark of a script against the agreed mark."""

    rows: list[CriterionDifference]
    total: int
    agreed_total: int
    within: bool

    @property
    def total_difference(self) -> int:
        return self.total - self.agreed_total


def _level_and_marks(row: tuple[int | None, int | None, int] | None) -> tuple[int, int] | None:
    if row is None:
        return None
    _level_id, number, marks = row
    return (number or 0, marks)


def compare_with_agreed(
    standardisation: Standardisation, criteria: Sequence[Criterion], trial: ReviewMark, agreed: ReviewMark
) -> Comparison:
    """`trial` against `agreed` (both with criterion_marks and their levels loaded), criterion by
    criterion in the order of `criteria`, judged by within_tolerance."""
    yours, theirs = levels_of(trial), levels_of(agreed)
    rows = [
        CriterionDifference(
            criterion, _level_and_marks(yours.get(criterion.pk)), _level_and_marks(theirs.get(criterion.pk))
        )
        for criterion in criteria
        if criterion.pk in yours or criterion.pk in theirs
    ]
    differences = [row.level_difference for row in rows if row.level_difference is not None]
    return Comparison(
        rows=rows,
        total=trial.total,
        agreed_total=agreed.total,
        within=within_tolerance(standardisation, trial.total - agreed.total, differences),
    )


@dataclass
class AgreedScript:
    """A script with its agreed mark and the trial marks loaded (marker id → mark)."""

    script: StandardisationScript
    agreed: ReviewMark
    trials: dict[int, ReviewMark]


def agreed_scripts_with_marks(standardisation: Standardisation, marker: User | None = None) -> list[AgreedScript]:
    """The standardisation's scripts that have an agreed mark, in order, with every marker's
    trial mark (or only `marker`'s). Queries: scripts, review marks, their criterion marks."""
    wanted = Q(kind=ReviewMark.Kind.TRIAL) if marker is None else Q(kind=ReviewMark.Kind.TRIAL, marker=marker)
    reviews = ReviewMark.objects.filter(Q(kind=ReviewMark.Kind.AGREED_STANDARD) | wanted)
    criterion_marks = ReviewCriterionMark.objects.select_related("level")
    scripts = (
        agreed_scripts()
        .filter(standardisation=standardisation)
        .prefetch_related(
            Prefetch(
                "review_marks",
                queryset=reviews.prefetch_related(Prefetch("criterion_marks", queryset=criterion_marks)),
            )
        )
    )
    out = []
    for script in scripts:
        marks = list(script.review_marks.all())
        agreed = next(mark for mark in marks if mark.kind == ReviewMark.Kind.AGREED_STANDARD)
        trials = {mark.marker_id: mark for mark in marks if mark.kind == ReviewMark.Kind.TRIAL and mark.marker_id}
        out.append(AgreedScript(script, agreed, trials))
    return out


@dataclass
class MarkerResult:
    """One marker's standardisation: per agreed script, their comparison (None: not marked)."""

    marker: User
    comparisons: list[Comparison | None]

    @property
    def done(self) -> int:
        return sum(1 for comparison in self.comparisons if comparison is not None)

    @property
    def within(self) -> bool | None:
        """Within tolerance on every script marked; None before the first."""
        marked = [comparison for comparison in self.comparisons if comparison is not None]
        return all(comparison.within for comparison in marked) if marked else None


def marker_results(
    standardisation: Standardisation, criteria: Sequence[Criterion], scripts: Sequence[AgreedScript]
) -> list[MarkerResult]:
    """Every teacher (and anyone else who has marked the scripts), by name, with how close they
    came on each of `scripts` (agreed_scripts_with_marks). One query: the markers."""
    marked_by = {marker_id for item in scripts for marker_id in item.trials}
    markers = User.objects.filter(Q(role=User.Role.TEACHER, is_active=True) | Q(pk__in=marked_by)).order_by(
        "last_name", "first_name", "username"
    )
    results = []
    for marker in markers:
        comparisons: list[Comparison | None] = []
        for item in scripts:
            trial = item.trials.get(marker.pk)
            comparisons.append(
                None if trial is None else compare_with_agreed(standardisation, criteria, trial, item.agreed)
            )
        results.append(MarkerResult(marker, comparisons))
    return results


def script_label(number: int) -> str:
    """The label of the script numbered `number` from 0: "Script A" … "Script Z", "Script AA"…"""
    letters = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"Script {letters}"


def script_roster(submission: Submission | None) -> QuerySet[User]:
    """The pupils whose names a script copied from `submission` may not contain: everyone ever
    on the roster of its class (nobody once the essay is gone)."""
    if submission is None:
        return User.objects.none()
    return roster_of(submission.assignment.school_class)


def add_script(standardisation: Standardisation, submission: Submission, text: str) -> StandardisationScript:
    """Add a copy of `submission`'s essay (`text`: the essay, or the head's edited copy of it) as
    the next script, labelled "Script A", "Script B"… NamedPupilError while the text names a
    pupil on the roster of the essay's class; ScriptError when the text is empty or the essay is
    already one of the scripts. Nothing is saved then."""
    if not text.strip():
        raise ScriptError("This essay is empty: choose one with some writing in it.")
    check_no_names([("The essay", text)], script_roster(submission))
    with transaction.atomic():
        # Locks the standardisation, so two scripts added at once get different labels.
        Standardisation.objects.select_for_update().filter(pk=standardisation.pk).first()
        existing = list(standardisation.scripts.values_list("label", "submission_id"))
        picked = next((label for label, submission_id in existing if submission_id == submission.pk), None)
        if picked is not None:
            raise ScriptError(f"This essay is already {picked}.")
        used = {label for label, _ in existing}
        number = 0
        while script_label(number) in used:
            number += 1
        order = standardisation.scripts.aggregate(last=Max("order"))["last"]
        return StandardisationScript.objects.create(
            standardisation=standardisation,
            submission=submission,
            label=script_label(number),
            text=text,
            order=0 if order is None else order + 1,
        )


def change_script_text(script: StandardisationScript, text: str) -> StandardisationScript:
    """The head's edit of a script's copy (the pupil's essay is untouched). NamedPupilError or
    ScriptError, with nothing saved, as add_script."""
    if not text.strip():
        raise ScriptError("The copy cannot be empty.")
    check_no_names([("The essay", text)], script_roster(script.submission))
    script.text = text
    script.save(update_fields=["text"])
    return script


def set_agreed_mark(script: StandardisationScript, by: User, scores: Scores, rationale: str) -> ReviewMark:
    """The agreed mark of a script and the rationale markers read once they have marked it.
    MarkError (scores that do not fit the scheme) or NamedPupilError (a rationale naming a
    pupil of the essay's class), with nothing saved."""
    check_no_names([("The rationale", rationale)], script_roster(script.submission))
    with transaction.atomic():
        review = record_review_mark(ReviewMark.Kind.AGREED_STANDARD, by, scores, script=script)
        script.rationale = rationale
        script.save(update_fields=["rationale"])
    return review


def record_trial_mark(script: StandardisationScript, by: User, scores: Scores) -> ReviewMark:
    """A marker's blind mark of an agreed script. It is final: MarkError, with nothing saved,
    when they have marked this script already (they have seen the agreed mark since), when its
    agreed mark is not set, or when the scores do not fit the scheme."""
    with transaction.atomic():
        # Locks the script: two tabs sending a first mark at once cannot both count.
        StandardisationScript.objects.select_for_update().filter(pk=script.pk).first()
        marks = ReviewMark.objects.filter(script=script)
        if marks.filter(kind=ReviewMark.Kind.TRIAL, marker=by).exists():
            raise MarkError(f"You have already marked {script.label}, and your mark stands: it was not changed.")
        if not marks.filter(kind=ReviewMark.Kind.AGREED_STANDARD).exists():
            raise MarkError(f"{script.label} has no agreed mark yet, so it cannot be marked.")
        return record_review_mark(ReviewMark.Kind.TRIAL, by, scores, script=script)
