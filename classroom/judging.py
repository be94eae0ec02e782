"""Comparative judgement: sessions, the pair each judge sees next, the judgements,
the results and the marks the scale suggests.

The maths is pure and lives apart: classroom/bradley_terry.py fits the scale,
classroom/pairing.py chooses pairs, classroom/anchoring.py maps the scale to marks. This
module reads and writes the database around them; access rules stay in
classroom/permissions.py ("comparative judgement").

A session holds anonymised copies of the handed-in essays of its assignments (all on one
question). A judge asks for a pair (`pair_for`): the pair they were shown and have not
decided yet, else a new one from the pairing, kept at once so a reload shows the same two
scripts and the time taken is known. `decide` records the choice. `results` fits the scale
to every decided judgement (but those of judges the owner left out), with reliability
figures, judge statistics and, where the session has anchors, suggested marks; `accept`
writes chosen suggestions into the markbook, recorded as coming from judgement.
"""

from __future__ import annotations

import hashlib
import random
import statistics
from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

from django.core.cache import cache
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from classroom import anchoring, bradley_terry, pairing
from classroom.department import pupil_names, redact_names, same_question
from classroom.models import (
    MAX_JUDGEMENT_NOTE_CHARS,
    MAX_JUDGING_TARGET,
    MIN_JUDGING_TARGET,
    Assignment,
    CriterionMark,
    Judgement,
    JudgingScript,
    JudgingSession,
    Mark,
    MarkChange,
    MarkError,
    ModerationItem,
    ReviewCriterionMark,
    ReviewMark,
    SchoolClass,
    Submission,
    User,
    VersionConflict,
)
from classroom.status import MARKABLE_STATES
from crisis.models import MarkScheme
from crisis.wording import plural

# A cached scale is refitted once this many judgements have been added since (pairing.py).
REFIT_EVERY = 20
SCALE_CACHE_SECONDS = 6 * 60 * 60


class JudgingError(ValueError):
    """A judging request that cannot be carried out; the message says why. Nothing was saved."""


# --- sessions and scripts ----------------------------------------------------------------------


def check_settings(target: int) -> None:
    if not MIN_JUDGING_TARGET <= target <= MAX_JUDGING_TARGET:
        raise JudgingError(
            f"The target must be between {MIN_JUDGING_TARGET} and {MAX_JUDGING_TARGET} judgements a script."
        )


def check_judge_classes(
    assignments: Iterable[Assignment], peer_judging: bool, judge_classes: Iterable[SchoolClass]
) -> None:
    """With peer judging, each judge class needs scripts from another class to judge: pupils
    never judge their own class's essays. JudgingError naming the classes left with none."""
    if not peer_judging:
        return
    judges = list(judge_classes)
    if not judges:
        raise JudgingError("Tick the classes whose pupils are to judge, or turn peer judging off.")
    writing = {assignment.school_class_id for assignment in assignments}
    idle = [c.name for c in judges if not writing - {c.pk}]
    if idle:
        raise JudgingError(
            f"Pupils never judge their own class's essays, so {' and '.join(idle)} would have nothing to judge "
            "here: choose another class's pupils, or add another class's assignment on this question."
        )


def create_session(
    by: User,
    title: str,
    assignments: Sequence[Assignment],
    *,
    target: int = pairing.DEFAULT_TARGET,
    peer_judging: bool = False,
    judge_classes: Iterable[SchoolClass] = (),
) -> JudgingSession:
    """A new session on `assignments` (one or more, all on the same question: a teacher's copy
    of a question counts as the same question), with a script for each essay handed in so
    far. JudgingError, with nothing saved, for an empty title, no assignments, assignments
    on different questions, or no essays handed in yet."""
    title = " ".join(title.split())
    if not title:
        raise JudgingError("Give the session a title.")
    if not assignments:
        raise JudgingError("Choose at least one assignment whose essays are to be judged.")
    check_settings(target)
    judge_classes = list(judge_classes)
    check_judge_classes(assignments, peer_judging, judge_classes)
    prompt = assignments[0].prompt
    question = Assignment.objects.filter(same_question(prompt))
    others = [a for a in assignments if not question.filter(pk=a.pk).exists()]
    if others:
        raise JudgingError(
            "Every assignment in a session must be on the same question: "
            + ", ".join(str(a) for a in others)
            + f" is not on “{prompt.question}”."
        )
    with transaction.atomic():
        session = JudgingSession.objects.create(
            title=title, prompt=prompt, target=target, peer_judging=peer_judging, created_by=by
        )
        session.assignments.set(assignments)
        session.judge_classes.set(judge_classes)
        if add_scripts(session) < 2:
            raise JudgingError(
                "Judging needs at least two handed-in essays, and these assignments have fewer: "
                "start the session once more of the class have handed in."
            )
    return session


def essays_to_add(session: JudgingSession) -> QuerySet[Submission]:
    """Handed-in essays of the session's assignments that are not scripts of it yet."""
    return (
        Submission.objects.filter(assignment__in=session.assignments.all(), state__in=MARKABLE_STATES)
        .exclude(judging_scripts__session=session)
        .exclude(text="")
    )


def add_scripts(session: JudgingSession) -> int:
    """Add a script for each essay handed in since the session began (or for all of them, for a
    new session), numbered at random after the numbers already used. Returns how many."""
    with transaction.atomic():
        JudgingSession.objects.select_for_update().filter(pk=session.pk).first()
        essays = list(essays_to_add(session).select_related("student").order_by("pk"))
        if not essays:
            return 0
        last = session.scripts.aggregate(last=Max("number"))["last"] or 0
        numbers = list(range(last + 1, last + 1 + len(essays)))
        random.SystemRandom().shuffle(numbers)
        JudgingScript.objects.bulk_create(
            JudgingScript(
                session=session,
                submission=essay,
                number=number,
                text=redact_names(essay.text, pupil_names([essay.student])),
            )
            for essay, number in zip(essays, numbers, strict=True)
        )
    cache.delete(_scale_key(session))
    return len(essays)


def update_session(
    session: JudgingSession,
    *,
    title: str,
    target: int,
    peer_judging: bool,
    judge_classes: Iterable[SchoolClass],
) -> None:
    title = " ".join(title.split())
    if not title:
        raise JudgingError("Give the session a title.")
    check_settings(target)
    judge_classes = list(judge_classes)
    check_judge_classes(session.assignments.all(), peer_judging, judge_classes)
    with transaction.atomic():
        session.title, session.target, session.peer_judging = title, target, peer_judging
        session.save(update_fields=["title", "target", "peer_judging"])
        session.judge_classes.set(judge_classes)


def close_session(session: JudgingSession) -> None:
    """Stop judging; the results stay. Pairs shown and not decided are dropped."""
    with transaction.atomic():
        session.closed_at = timezone.now()
        session.save(update_fields=["closed_at"])
        session.judgements.filter(decided_at__isnull=True).delete()


def reopen_session(session: JudgingSession) -> None:
    session.closed_at = None
    session.save(update_fields=["closed_at"])


def set_anchor(script: JudgingScript, anchor: bool) -> None:
    script.anchor = anchor
    script.save(update_fields=["anchor"])


def set_judge_left_out(session: JudgingSession, judge: User, left_out: bool) -> None:
    if left_out:
        session.left_out_judges.add(judge)
    else:
        session.left_out_judges.remove(judge)


# --- judging -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rows:
    """A session's scripts and judgements as plain values: one query each."""

    scripts: list[int]  # script ids, by number
    classes: dict[int, int]  # script id -> the id of its essay's class
    writers: dict[int, int]  # script id -> the id of its essay's writer
    decided: list[tuple[int | None, int, int]]  # (judge, winner, loser), in order
    waiting: list[tuple[int | None, int, int]]  # (judge, left, right): shown, not decided
    shown: list[tuple[int, int]]  # (left, right) of every pair shown


def load_rows(session: JudgingSession) -> Rows:
    scripts = list(
        session.scripts.order_by("number").values_list(
            "pk", "submission__assignment__school_class_id", "submission__student_id"
        )
    )
    decided: list[tuple[int | None, int, int]] = []
    waiting: list[tuple[int | None, int, int]] = []
    shown: list[tuple[int, int]] = []
    rows = session.judgements.order_by("pk").values_list("judge_id", "left_id", "right_id", "winner_id")
    for judge, left, right, winner in rows:
        shown.append((left, right))
        if winner is None:
            waiting.append((judge, left, right))
        else:
            decided.append((judge, winner, right if winner == left else left))
    return Rows(
        [pk for pk, _, _ in scripts],
        {pk: school_class for pk, school_class, _ in scripts},
        {pk: writer for pk, _, writer in scripts},
        decided,
        waiting,
        shown,
    )


def _scale_key(session: JudgingSession) -> str:
    return f"judging-scale:{session.pk}"


def _scale(session: JudgingSession, rows: Rows) -> bradley_terry.Fit:
    """The current scale for pairing, refitted every REFIT_EVERY judgements (kept in the cache,
    so every worker shares it)."""
    cached = cache.get(_scale_key(session))
    if cached is not None and not isinstance(cached, bradley_terry.Fit):
        cached = None
    scale = pairing.current_scale(rows.scripts, rows.decided, cached=cached, every=REFIT_EVERY)
    if scale is not cached:
        cache.set(_scale_key(session), scale, SCALE_CACHE_SECONDS)
    return scale


def own_scripts(judge: User, rows: Rows) -> set[int]:
    """Scripts a pupil judge may not see: their own essay (whichever class they wrote it in)
    and every script from a class they are on now. None for teachers."""
    if not judge.is_student:
        return set()
    mine = set(
        SchoolClass.objects.filter(enrolments__student=judge, enrolments__removed_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    return {
        script
        for script, school_class in rows.classes.items()
        if school_class in mine or rows.writers[script] == judge.pk
    }


def pair_for(session: JudgingSession, judge: User, rng: random.Random | None = None) -> Judgement | None:
    """The pair `judge` is to compare: the one shown and not decided yet, else a new one from
    the pairing (kept at once). None when the session is closed or nothing is left for this
    judge: every script they may see has reached the target, or they have compared every pair
    worth showing. Under the session's lock, so two judges asking at once are paired from
    the same up-to-date counts."""
    with transaction.atomic():
        JudgingSession.objects.select_for_update().filter(pk=session.pk).first()
        waiting = session.judgements.filter(judge=judge, decided_at__isnull=True).first()
        if waiting is not None:
            return waiting
        if session.closed_at is not None:
            return None
        rows = load_rows(session)
        pair = pairing.next_pair(
            rows.scripts,
            rows.decided + rows.waiting,  # a pair being judged counts for its scripts already
            judge.pk,
            rng=rng or random.Random(),
            target=session.target,
            exclude=own_scripts(judge, rows),
            sides=pairing.side_balance(rows.shown),
            scale=_scale(session, rows),
        )
        if pair is None:
            return None
        left, right = cast(tuple[int, int], pair)
        return Judgement.objects.create(
            session=session, judge=judge, by_pupil=judge.is_student, left_id=left, right_id=right
        )


def decide(judgement: Judgement, judge: User, side: str, note: str = "") -> Judgement:
    """Record `judge`'s choice on the pair they were shown: `side` is "left" or "right".
    JudgingError, with nothing saved, if the pair is not theirs, is already decided (a second
    click, or another tab), the session is closed, or the note is too long."""
    if side not in ("left", "right"):
        raise JudgingError("Choose the left or the right script.")
    note = note.strip()
    if len(note) > MAX_JUDGEMENT_NOTE_CHARS:
        raise JudgingError(f"The note is too long: at most {MAX_JUDGEMENT_NOTE_CHARS} characters.")
    with transaction.atomic():
        locked = Judgement.objects.select_for_update().select_related("session").filter(pk=judgement.pk).first()
        if locked is None or locked.judge_id != judge.pk:
            raise JudgingError("That pair is no longer waiting for you: here is your next one.")
        if locked.decided_at is not None:
            raise JudgingError("Your choice on that pair was already recorded: here is your next one.")
        if locked.session.closed_at is not None:
            raise JudgingError("This session has closed: no more judgements are being recorded.")
        locked.winner_id = locked.left_id if side == "left" else locked.right_id
        locked.note = note
        locked.decided_at = timezone.now()
        locked.save(update_fields=["winner", "note", "decided_at"])
    return locked


def session_progress(session: JudgingSession) -> pairing.Progress:
    """How far the session has got (decided judgements against the target). Two queries."""
    rows = load_rows(session)
    return pairing.progress(rows.scripts, rows.decided, session.target)


def judgements_by(session: JudgingSession, judge: User) -> int:
    return session.judgements.filter(judge=judge, decided_at__isnull=False).count()


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreedMark:
    """A mark a script's scale position can be anchored to."""

    source: str  # "standardisation", "moderation", "marking" or "judgement" (accepted from a session)
    marks: dict[str, int]  # criterion code -> marks
    total: int
    max_total: int


@dataclass
class ScriptResult:
    script: JudgingScript
    rank: int | None  # None: not judged yet (listed last)
    score: float
    standard_error: float
    infit: float | None
    judgements: int
    wins: int
    agreed: AgreedMark | None  # its agreed mark, if it has one (anchor or not)
    is_anchor: bool  # its agreed mark is one the scale is anchored to
    sampled: bool  # in a moderation sample: its mark is decided there
    suggestion: anchoring.Suggestion | None = None
    disagreement: float | None = None  # anchors: (agreed − predicted) / SE


@dataclass
class JudgeResult:
    judge: User | None
    by_pupil: bool
    judgements: int
    infit: float | None
    median_seconds: float | None
    left_share: float | None  # share of choices for the script on the left
    left_out: bool


@dataclass
class Results:
    session: JudgingSession
    progress: pairing.Progress
    scripts: list[ScriptResult]  # by rank, best first
    judges: list[JudgeResult]
    judgements: int  # decided judgements in the fit
    ssr: float | None
    split_half: float | None
    median_seconds: float | None
    anchoring: dict[int, anchoring.Anchoring] = field(default_factory=dict)  # scheme id -> mapping
    anchoring_errors: dict[int, str] = field(default_factory=dict)  # scheme id -> why not
    schemes: dict[int, MarkScheme] = field(default_factory=dict)
    fingerprint: str = ""

    @property
    def anchors(self) -> int:
        return sum(1 for row in self.scripts if row.is_anchor)


def agreed_marks(submission_ids: Collection[int]) -> dict[int, AgreedMark]:
    """Per essay, the mark its scale position may be anchored to, most agreed first: the
    department's agreed mark from standardisation, else a complete mark (moderated, if the
    essay was sampled and agreed; "judgement" if it was accepted from a judging session).
    Four queries."""
    found: dict[int, AgreedMark] = {}
    standard = (
        ReviewCriterionMark.objects.filter(
            review_mark__kind=ReviewMark.Kind.AGREED_STANDARD, review_mark__script__submission_id__in=submission_ids
        )
        .order_by("review_mark_id")
        .values_list(
            "review_mark__script__submission_id", "criterion__code", "criterion__is_spag", "marks", "max_marks"
        )
    )
    moderated = set(
        ModerationItem.objects.filter(submission_id__in=submission_ids, agreed_at__isnull=False).values_list(
            "submission_id", flat=True
        )
    )
    marked = CriterionMark.objects.filter(
        mark__submission_id__in=submission_ids, mark__completed_at__isnull=False
    ).values_list("mark__submission_id", "criterion__code", "criterion__is_spag", "marks", "max_marks")
    collected: dict[int, tuple[str, dict[str, int], int, int]] = {}
    for source, rows in (("standardisation", standard), ("marking", marked)):
        taken = set(collected)
        for submission_id, code, is_spag, marks, max_marks in rows:
            if submission_id in taken:
                continue
            kind = "moderation" if source == "marking" and submission_id in moderated else source
            entry = collected.setdefault(submission_id, (kind, {}, 0, 0))
            entry[1][code] = marks
            if not is_spag:
                collected[submission_id] = (entry[0], entry[1], entry[2] + marks, entry[3] + max_marks)
    judged = set(
        JudgingScript.objects.filter(submission_id__in=submission_ids, accepted_at__isnull=False).values_list(
            "submission_id", flat=True
        )
    )
    for submission_id, (kind, by_code, total, max_total) in collected.items():
        if kind == "marking" and submission_id in judged:
            kind = "judgement"  # accepted from a judging session: never an anchor
        found[submission_id] = AgreedMark(kind, by_code, total, max_total)
    return found


def scheme_scales(scheme: MarkScheme) -> list[anchoring.CriterionScale]:
    """The scheme's criteria as the anchoring takes them (criteria and levels prefetched)."""
    return [
        anchoring.CriterionScale(
            criterion=criterion.pk,
            max_marks=criterion.max_marks,
            bands=tuple(
                anchoring.Band(level.pk, level.number, level.min_marks, level.max_marks)
                for level in criterion.levels.all()
            ),
            is_spag=criterion.is_spag,
        )
        for criterion in scheme.criteria.all()
    ]


def _fingerprint(decided: int, anchors: Iterable[tuple[int, int]], left_out: Iterable[int]) -> str:
    """What the suggestions depend on, so an accept made from an out-of-date page is refused."""
    text = f"{decided}|{sorted(anchors)}|{sorted(left_out)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def results(session: JudgingSession, *, split_half: bool = True) -> Results:
    """The session's scale and everything shown with it; see the module docstring. A fixed
    number of queries, whatever the numbers of scripts and judgements."""
    scripts = list(
        session.scripts.select_related(
            "submission__student",
            "submission__assignment__school_class",
            "submission__assignment__prompt",
            "submission__mark",
        ).order_by("number")
    )
    left_out = set(session.left_out_judges.values_list("pk", flat=True))
    rows = list(
        session.judgements.filter(decided_at__isnull=False)
        .order_by("pk")
        .values_list("judge_id", "by_pupil", "left_id", "right_id", "winner_id", "shown_at", "decided_at")
    )
    ids = [s.pk for s in scripts]
    used = [row for row in rows if row[0] not in left_out]
    triples = [(judge, winner, right if winner == left else left) for judge, _, left, right, winner, _, _ in used]
    scale = bradley_terry.fit([(winner, loser) for _, winner, loser in triples], ids)
    judge_fit = bradley_terry.judge_infit(triples, scale) if triples else {}
    reliability = bradley_terry.split_half(triples, ids) if split_half and triples else None
    counts = dict.fromkeys(ids, 0)
    wins = dict.fromkeys(ids, 0)
    for _, winner, loser in triples:
        counts[winner] += 1
        counts[loser] += 1
        wins[winner] += 1
    agreed = agreed_marks([s.submission_id for s in scripts])
    sampled = set(
        ModerationItem.objects.filter(submission__judging_scripts__session=session).values_list(
            "submission_id", flat=True
        )
    )
    # Scripts nobody has judged yet have no place on the scale: they go last, unranked.
    by_rank = sorted(scripts, key=lambda s: (counts[s.pk] == 0, -scale.scores[s.pk], s.number))
    script_rows = [
        ScriptResult(
            script=s,
            rank=rank if counts[s.pk] else None,
            score=scale.scores[s.pk],
            standard_error=scale.standard_errors[s.pk],
            infit=scale.infit.get(s.pk),
            judgements=counts[s.pk],
            wins=wins[s.pk],
            agreed=agreed.get(s.submission_id),
            # An anchor needs a place on the scale: a script nobody has judged yet has none.
            is_anchor=s.anchor
            and counts[s.pk] > 0
            and s.submission_id in agreed
            and agreed[s.submission_id].source != "judgement",
            sampled=s.submission_id in sampled,
        )
        for rank, s in enumerate(by_rank, start=1)
    ]
    # Judges: everyone who decided a pair, left out or not.
    per_judge: dict[int | None, list[tuple]] = {}
    for row in rows:
        per_judge.setdefault(row[0], []).append(row)
    people = {u.pk: u for u in User.objects.filter(pk__in=[j for j in per_judge if j is not None])}
    judges = []
    for judge_id, made in per_judge.items():
        seconds = [(decided - shown).total_seconds() for *_, shown, decided in made]
        judges.append(
            JudgeResult(
                judge=people.get(judge_id) if judge_id is not None else None,
                by_pupil=made[0][1],
                judgements=len(made),
                infit=judge_fit.get(judge_id),
                median_seconds=statistics.median(seconds),
                left_share=sum(1 for _, _, left, _, winner, _, _ in made if winner == left) / len(made),
                left_out=judge_id in left_out,
            )
        )
    judges.sort(key=lambda j: (j.by_pupil, -j.judgements, j.judge.display_name if j.judge else ""))
    all_seconds = [(decided - shown).total_seconds() for *_, shown, decided in used if decided is not None]
    result = Results(
        session=session,
        progress=pairing.progress(ids, triples, session.target),
        scripts=script_rows,
        judges=judges,
        judgements=len(used),
        ssr=scale.ssr,
        split_half=reliability,
        median_seconds=statistics.median(all_seconds) if all_seconds else None,
    )
    _anchor(result, scripts)
    result.fingerprint = _fingerprint(
        len(used), [(r.script.pk, r.agreed.total) for r in script_rows if r.is_anchor and r.agreed], left_out
    )
    return result


def _anchor(result: Results, scripts: list[JudgingScript]) -> None:
    """Suggested marks for the scripts of each mark scheme in the session (a teacher's copy of
    a question has its own copy of the scheme; criteria are matched by code)."""
    scheme_ids = {s.submission.assignment.prompt.mark_scheme_id for s in scripts}
    schemes = MarkScheme.objects.filter(pk__in=scheme_ids).prefetch_related("criteria__levels")
    result.schemes = {scheme.pk: scheme for scheme in schemes}
    scores: dict[Hashable, float] = {row.script.pk: row.score for row in result.scripts}
    errors: dict[Hashable, float] = {row.script.pk: row.standard_error for row in result.scripts}
    for scheme in result.schemes.values():
        codes = {criterion.pk: criterion.code for criterion in scheme.criteria.all()}
        anchors = [
            anchoring.Anchor(row.script.pk, {pk: row.agreed.marks[code] for pk, code in codes.items()})
            for row in result.scripts
            if row.is_anchor and row.agreed is not None and set(codes.values()) <= set(row.agreed.marks)
        ]
        try:
            mapping = anchoring.anchor(scores, errors, anchors, scheme_scales(scheme))
        except anchoring.AnchoringError as error:
            result.anchoring_errors[scheme.pk] = str(error)
            continue
        result.anchoring[scheme.pk] = mapping
    for row in result.scripts:
        found = result.anchoring.get(row.script.submission.assignment.prompt.mark_scheme_id)
        if found is not None and row.judgements:
            row.suggestion = found.suggestions.get(row.script.pk)
            row.disagreement = found.disagreements.get(row.script.pk)


# --- accepting suggested marks -----------------------------------------------------------------


def acceptance_refusal(row: ScriptResult) -> str:
    """Why the row's suggested mark cannot go into the markbook, or "" if it can."""
    submission = row.script.submission
    if row.judgements == 0:
        return "Not judged yet."
    if row.suggestion is None:
        return "No suggested mark yet."
    if row.script.accepted_at is not None:
        return "Accepted."
    if row.is_anchor:
        return "An anchor: its agreed mark sets the scale."
    if submission.state not in MARKABLE_STATES:
        return "Returned for redrafting: no longer handed in."
    if row.sampled:
        return "In a moderation sample: its mark is decided there."
    mark = getattr(submission, "mark", None)
    if mark is not None and mark.is_released:
        return "Its mark has been released to the pupil."
    return ""


def accept(
    session: JudgingSession, by: User, script_ids: Collection[int], fingerprint: str, allowed: Collection[int]
) -> list[str]:
    """Put the suggested marks of `script_ids` into the markbook: a complete mark with the
    suggested level and mark per criterion, recorded in the audit trail as coming from
    judgement (a mark already there is changed; its written feedback stays). `allowed`: the
    scripts `by` may mark (classroom/permissions.py). JudgingError, with nothing saved, when
    the results changed since the page was drawn (`fingerprint`) or a chosen script cannot
    take its suggestion; else the labels of the scripts accepted."""
    current = results(session, split_half=False)
    if fingerprint != current.fingerprint:
        raise JudgingError(
            "New judgements or anchors have changed the suggested marks since this page was drawn: "
            "nothing was accepted. Check the suggestions below and accept again."
        )
    chosen = [row for row in current.scripts if row.script.pk in set(script_ids)]
    if not chosen:
        raise JudgingError("Tick the scripts whose suggested marks you accept.")
    problems = []
    for row in chosen:
        refusal = acceptance_refusal(row) or ("" if row.script.pk in allowed else "Not a class you teach.")
        if refusal:
            problems.append(f"{row.script.label}: {refusal}")
    if problems:
        raise JudgingError(" ".join(problems) + " Nothing was accepted.")
    reason = f"Suggested by comparative judgement ({session.title})."
    now = timezone.now()
    try:
        with transaction.atomic():
            for row in chosen:
                assert row.suggestion is not None
                _write_mark(row.script.submission, row.suggestion.scores(), by, reason)
                JudgingScript.objects.filter(pk=row.script.pk).update(accepted_at=now, accepted_by=by)
    except (MarkError, VersionConflict) as error:
        raise JudgingError(f"{error} Nothing was accepted.") from error
    return [row.script.label for row in chosen]


def _write_mark(submission: Submission, scores: dict, by: User, reason: str) -> None:
    """One essay's mark set to `scores`, complete, with the audit trail's rows."""
    from classroom.department import apply_mark_change

    mark = Mark.for_submission(submission, by)
    if mark.is_complete:
        apply_mark_change(mark, scores, by=by, source=MarkChange.Source.JUDGEMENT, reason=reason)
        return
    before = MarkChange.scores_of(mark)
    total_before = mark.total
    submission.record_mark(
        by,
        scores,
        base_revision=mark.revision,
        www=mark.www,
        ebi=mark.ebi,
        improvement_task=mark.improvement_task,
        strands=None,
    )
    mark.refresh_from_db()
    mark.complete(by)
    mark.refresh_from_db()
    MarkChange.record(mark, before, total_before, by=by, source=MarkChange.Source.JUDGEMENT, reason=reason)


def summary(results: Results) -> str:
    """One line on how far the session has got, for lists."""
    p = results.progress
    made = plural(p.made, "judgement")
    return f"{made} of about {p.needed}; {p.at_target} of {plural(p.scripts, 'script')} at the target"
