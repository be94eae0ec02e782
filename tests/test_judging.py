"""Comparative judgement's database side (classroom/judging.py): sessions and their scripts,
the pair each judge is shown, the choices, the results with their anchors, and accepting
suggested marks into the markbook. The views and access rules: tests/test_judging_views.py;
the maths: tests/test_bradley_terry.py, tests/test_pairing.py, tests/test_anchoring.py."""

from __future__ import annotations

import random

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from classroom import bradley_terry, department, judging, pairing
from classroom.judging import JudgingError
from classroom.models import Judgement, JudgingScript, Mark, MarkChange, ReviewMark, Standardisation
from tests.factories import AssignmentFactory, EssayPromptFactory, SchoolClassFactory, StudentFactory, marking_scheme
from tests.helpers import criteria, draft, give_mark, hand_in

pytestmark = pytest.mark.django_db


def class_of_writers(school_class, assignment, count, start=0):
    """`count` new pupils of `school_class` who hand in essays of rising quality ("quality 0",
    "quality 1", …); returns their submissions, weakest first."""
    essays = []
    for n in range(start, start + count):
        pupil = StudentFactory(username=f"writer{n}", first_name=f"Wren{n}", last_name=f"Writer{n}")
        school_class.enrol(pupil)
        text = f"I am Wren{n} Writer{n}. Quality {n}. " + "The Hotline was agreed in 1963. " * (n + 1)
        essays.append(hand_in(assignment, pupil, text=text))
    return essays


def quality(script: JudgingScript) -> int:
    return int(script.text.split("Quality ")[1].split(".")[0])


def judge_all(session, *judges, rng=None, noise=0.0) -> int:
    """The judges take turns to judge every pair offered to them until none is left, the
    better essay winning (or, with `noise`, the worse one now and then); returns how many."""
    rng = rng or random.Random(1)
    scripts = {s.pk: s for s in session.scripts.all()}
    made = 0
    active = list(judges)
    while active:
        for judge in list(active):
            pair = judging.pair_for(session, judge, rng=rng)
            if pair is None:
                active.remove(judge)
                continue
            better_left = quality(scripts[pair.left_id]) > quality(scripts[pair.right_id])
            if rng.random() < noise:
                better_left = not better_left
            judging.decide(pair, judge, "left" if better_left else "right")
            made += 1
    return made


@pytest.fixture
def writers(school_class, marking_assignment):
    return class_of_writers(school_class, marking_assignment, 8)


@pytest.fixture
def session(writers, teacher, marking_assignment):
    return judging.create_session(teacher, "Year 10 essays", [marking_assignment], target=4)


# --- sessions and scripts ---------------------------------------------------------------------


def test_a_session_copies_each_handed_in_essay_with_the_writers_name_masked(session, writers, student):
    scripts = list(session.scripts.select_related("submission"))
    assert {s.submission_id for s in scripts} == {e.pk for e in writers}
    for script in scripts:
        assert "Wren" not in script.text and "Writer" not in script.text
        assert "[name]" in script.text
    assert sorted(s.number for s in scripts) == list(range(1, 9))


def test_script_numbers_are_not_the_order_the_essays_came_in(teacher, school_class, marking_assignment):
    class_of_writers(school_class, marking_assignment, 30)
    session = judging.create_session(teacher, "Shuffled", [marking_assignment])
    by_essay = [s.number for s in session.scripts.order_by("submission_id")]
    assert by_essay != sorted(by_essay)


def test_drafts_and_empty_essays_are_not_scripts(teacher, school_class, marking_assignment, student, writers):
    draft(marking_assignment, student, "Not handed in yet.")
    session = judging.create_session(teacher, "Only handed in", [marking_assignment])
    assert session.scripts.count() == len(writers)


def test_a_session_needs_two_essays_and_one_question(teacher, school_class, marking_assignment, other_class):
    with pytest.raises(JudgingError, match="at least two handed-in essays"):
        judging.create_session(teacher, "Too early", [marking_assignment])
    assert not judging.JudgingSession.objects.exists()
    other_question = AssignmentFactory(
        school_class=school_class, prompt=EssayPromptFactory(mark_scheme=marking_scheme())
    )
    with pytest.raises(JudgingError, match="same question"):
        judging.create_session(teacher, "Mixed", [marking_assignment, other_question])
    with pytest.raises(JudgingError, match="title"):
        judging.create_session(teacher, "   ", [marking_assignment])
    with pytest.raises(JudgingError, match="between 2 and 40"):
        judging.create_session(teacher, "Target", [marking_assignment], target=1)
    assert not judging.JudgingSession.objects.exists()


def test_a_teachers_copy_of_the_question_counts_as_the_same_question(teacher, school_class, marking_assignment):
    copy = marking_assignment.prompt.make_copy(teacher)
    other = AssignmentFactory(school_class=SchoolClassFactory(teachers=[teacher]), prompt=copy)
    class_of_writers(school_class, marking_assignment, 2)
    class_of_writers(other.school_class, other, 2, start=10)
    session = judging.create_session(teacher, "Two classes", [marking_assignment, other])
    assert session.scripts.count() == 4


def test_essays_handed_in_later_are_added_with_new_numbers(session, school_class, marking_assignment):
    assert judging.add_scripts(session) == 0
    class_of_writers(school_class, marking_assignment, 3, start=20)
    assert judging.add_scripts(session) == 3
    assert sorted(session.scripts.values_list("number", flat=True)) == list(range(1, 12))


# --- judging ----------------------------------------------------------------------------------


def test_the_pair_shown_is_kept_until_decided(session, teacher):
    first = judging.pair_for(session, teacher)
    assert first is not None and first.left_id != first.right_id
    assert judging.pair_for(session, teacher).pk == first.pk  # a reload shows the same pair
    decided = judging.decide(first, teacher, "right", note="  Sharper use of Source B.  ")
    assert decided.winner_id == first.right_id and decided.note == "Sharper use of Source B."
    assert decided.seconds is not None and decided.seconds >= 0
    assert judging.pair_for(session, teacher).pk != first.pk


def test_a_choice_is_recorded_once_and_only_by_its_judge(session, teacher, other_teacher):
    pair = judging.pair_for(session, teacher)
    with pytest.raises(JudgingError, match="no longer waiting"):
        judging.decide(pair, other_teacher, "left")
    with pytest.raises(JudgingError, match="left or the right"):
        judging.decide(pair, teacher, "middle")
    with pytest.raises(JudgingError, match="too long"):
        judging.decide(pair, teacher, "left", note="x" * 501)
    judging.decide(pair, teacher, "left")
    with pytest.raises(JudgingError, match="already recorded"):
        judging.decide(pair, teacher, "right")
    pair.refresh_from_db()
    assert pair.winner_id == pair.left_id


def test_one_waiting_pair_per_judge_is_enforced_by_the_database(session, teacher):
    pair = judging.pair_for(session, teacher)
    with pytest.raises(IntegrityError), transaction.atomic():
        Judgement.objects.create(session=session, judge=teacher, left_id=pair.right_id, right_id=pair.left_id)


def test_every_script_reaches_the_target_and_no_judge_sees_a_pair_twice(session, teacher, other_teacher, head):
    made = judge_all(session, teacher, other_teacher, head)
    counts = {s.pk: 0 for s in session.scripts.all()}
    seen = set()
    for judgement in session.judgements.all():
        counts[judgement.left_id] += 1
        counts[judgement.right_id] += 1
        pair = (judgement.judge_id, frozenset((judgement.left_id, judgement.right_id)))
        assert pair not in seen
        seen.add(pair)
    assert min(counts.values()) >= session.target
    assert made <= len(counts) * session.target // 2 + 2  # about n·target/2, no runaway
    assert judging.session_progress(session).complete


def test_left_and_right_are_balanced(teacher, school_class, marking_assignment):
    class_of_writers(school_class, marking_assignment, 12)
    session = judging.create_session(teacher, "Sides", [marking_assignment], target=8)
    judge_all(session, teacher)
    sides = dict.fromkeys(session.scripts.values_list("pk", flat=True), 0)
    for left, right in session.judgements.values_list("left_id", "right_id"):
        sides[left] += 1
        sides[right] -= 1
    assert max(abs(v) for v in sides.values()) <= 2


def test_a_closed_session_shows_no_pairs_and_drops_the_waiting_one(session, teacher):
    judging.pair_for(session, teacher)
    judging.close_session(session)
    assert not session.judgements.exists()
    assert judging.pair_for(session, teacher) is None
    judging.reopen_session(session)
    assert judging.pair_for(session, teacher) is not None


def test_a_pupil_judge_is_never_shown_a_script_from_their_own_class(teacher, school_class, marking_assignment):
    other = SchoolClassFactory(name="10K", teachers=[teacher])
    other_assignment = AssignmentFactory(school_class=other, prompt=marking_assignment.prompt)
    mine = class_of_writers(school_class, marking_assignment, 4)
    class_of_writers(other, other_assignment, 4, start=10)
    session = judging.create_session(
        teacher, "Peer", [marking_assignment, other_assignment], peer_judging=True, judge_classes=[school_class]
    )
    pupil = mine[0].student
    shown = 0
    while (pair := judging.pair_for(session, pupil)) is not None:
        assert pair.by_pupil
        classes = set(
            JudgingScript.objects.filter(pk__in=[pair.left_id, pair.right_id]).values_list(
                "submission__assignment__school_class", flat=True
            )
        )
        assert classes == {other.pk}
        judging.decide(pair, pupil, "left")
        shown += 1
    assert shown == 6  # every pair of the other class's four scripts, once


def test_peer_judging_needs_judge_classes_with_another_classs_essays(teacher, school_class, marking_assignment):
    class_of_writers(school_class, marking_assignment, 4)
    with pytest.raises(JudgingError, match="10H History would have nothing to judge"):
        judging.create_session(
            teacher, "Own class", [marking_assignment], peer_judging=True, judge_classes=[school_class]
        )
    with pytest.raises(JudgingError, match="Tick the classes whose pupils are to judge"):
        judging.create_session(teacher, "No judges", [marking_assignment], peer_judging=True)
    assert not judging.JudgingSession.objects.exists()
    # Without peer judging the judge classes are not asked for.
    assert judging.create_session(teacher, "Teachers only", [marking_assignment]).scripts.count() == 4


def test_settings_refuse_peer_judging_by_the_only_class_writing(teacher, school_class, marking_assignment):
    class_of_writers(school_class, marking_assignment, 4)
    other = SchoolClassFactory(name="10K", teachers=[teacher])
    session = judging.create_session(teacher, "Own class", [marking_assignment])
    with pytest.raises(JudgingError, match="nothing to judge"):
        judging.update_session(
            session, title="Renamed", target=6, peer_judging=True, judge_classes=[other, school_class]
        )
    session.refresh_from_db()
    assert (session.title, session.target, session.peer_judging) == ("Own class", pairing.DEFAULT_TARGET, False)
    assert not session.judge_classes.exists()
    judging.update_session(session, title="Renamed", target=6, peer_judging=True, judge_classes=[other])
    assert list(session.judge_classes.all()) == [other] and session.peer_judging


# --- results ----------------------------------------------------------------------------------


def test_results_fit_the_model_to_the_decided_judgements(session, teacher, other_teacher):
    judge_all(session, teacher, other_teacher, noise=0.2)
    result = judging.results(session)
    pairs = [
        (w, right if w == left else left)
        for left, right, w in session.judgements.exclude(winner=None).values_list("left_id", "right_id", "winner_id")
    ]
    fit = bradley_terry.fit(pairs, list(session.scripts.values_list("pk", flat=True)))
    assert result.judgements == len(pairs)
    for row in result.scripts:
        assert row.score == pytest.approx(fit.scores[row.script.pk])
        assert row.standard_error == pytest.approx(fit.standard_errors[row.script.pk])
    assert [row.rank for row in result.scripts] == list(range(1, 9))
    assert [row.score for row in result.scripts] == sorted((row.score for row in result.scripts), reverse=True)
    assert result.ssr == pytest.approx(fit.ssr)
    assert result.split_half is not None
    assert {j.judge for j in result.judges} == {teacher, other_teacher}
    assert all(j.median_seconds is not None and 0 <= j.left_share <= 1 for j in result.judges)


def test_the_scale_follows_the_quality_of_the_essays(teacher, school_class, marking_assignment):
    class_of_writers(school_class, marking_assignment, 10)
    session = judging.create_session(teacher, "Order", [marking_assignment], target=8)
    judge_all(session, teacher)
    ranked = [quality(row.script) for row in judging.results(session).scripts]
    # 40 judgements of the 45 pairs: which pairs are left out follows the (random) script
    # numbers, so the best two (or worst two) may never meet and tie on their record.
    assert ranked[0] in (8, 9) and ranked[-1] in (0, 1)
    assert sum(1 for a, b in zip(ranked, ranked[1:], strict=False) if a < b) <= 2


def test_a_judge_left_out_drops_out_of_the_results(session, teacher, other_teacher):
    judge_all(session, teacher, other_teacher)
    everyone = judging.results(session).judgements
    judging.set_judge_left_out(session, other_teacher, True)
    result = judging.results(session)
    assert result.judgements == session.judgements.filter(judge=teacher).count() < everyone
    assert [j.left_out for j in result.judges if j.judge == other_teacher] == [True]


def _score(submission, ao1, ao2, spag):
    by_code = criteria(submission)
    out = {}
    for code, marks in (("AO1", ao1), ("AO2", ao2), ("SPAG", spag)):
        criterion = by_code[code]
        found = criterion.level_for_mark(marks) if marks else None
        out[criterion.pk] = (found.pk if found else None, marks)
    return out


def test_agreed_marks_prefer_standardisation_then_the_mark(session, writers, teacher, head):
    give_mark(writers[1], teacher, 2, 3, 2, release=False)
    give_mark(writers[2], teacher, 3, 4, 2, release=False)
    standardisation = Standardisation.objects.create(prompt=writers[2].assignment.prompt, title="Agreed")
    script = department.add_script(standardisation, writers[2], "An agreed copy.")
    department.set_agreed_mark(script, head, _score(writers[2], 4, 6, 4), "Top.")
    agreed = judging.agreed_marks([e.pk for e in writers])
    assert agreed[writers[1].pk].source == "marking" and agreed[writers[1].pk].total == 5
    assert agreed[writers[2].pk].source == "standardisation" and agreed[writers[2].pk].total == 10
    assert agreed[writers[2].pk].marks == {"AO1": 4, "AO2": 6, "SPAG": 4}
    assert writers[0].pk not in agreed
    assert ReviewMark.objects.filter(kind=ReviewMark.Kind.AGREED_STANDARD).count() == 1


def test_a_draft_mark_is_no_anchor(session, writers, teacher):
    writers[3].record_mark(teacher, _score(writers[3], 2, 3, 2), base_revision=0)
    assert writers[3].pk not in judging.agreed_marks([writers[3].pk])


@pytest.fixture
def anchored(session, writers, teacher, other_teacher):
    """The session judged, with the weakest, a middle and the best essay marked (anchors)."""
    give_mark(writers[0], teacher, 1, 1, 1, release=False)
    give_mark(writers[4], teacher, 3, 4, 2, release=False)
    give_mark(writers[7], teacher, 4, 6, 4, release=False)
    # Every pair of the eight compared once, the better essay winning, so the order is fixed by
    # the judges and not by which pairs the (randomly numbered) scripts happened to be offered.
    scripts = sorted(session.scripts.all(), key=quality)
    for n, worse in enumerate(scripts):
        for better in scripts[n + 1 :]:
            left, right = (worse, better) if (n % 2) else (better, worse)
            Judgement.objects.create(
                session=session,
                judge=(teacher, other_teacher)[n % 2],
                left=left,
                right=right,
                winner=better,
                decided_at=timezone.now(),
            )
    return session


def test_anchors_give_every_other_script_a_suggested_mark_in_order(anchored, writers):
    result = judging.results(anchored)
    assert result.anchors == 3 and not result.anchoring_errors
    by_essay = {row.script.submission_id: row for row in result.scripts}
    assert all(by_essay[e.pk].is_anchor for e in (writers[0], writers[4], writers[7]))
    suggested = [by_essay[e.pk].suggestion.total for e in writers]
    assert suggested == sorted(suggested)  # better essays never get lower marks
    for row in result.scripts:
        s = row.suggestion
        assert s is not None and s.low <= s.total <= s.high
    # The anchors' own suggestions land near their agreed marks.
    assert abs(by_essay[writers[7].pk].suggestion.total - 10) <= 3
    assert abs(by_essay[writers[0].pk].suggestion.total - 2) <= 3


def test_scripts_nobody_has_judged_yet_are_unranked_unanchored_and_get_no_suggestion(
    anchored, writers, school_class, marking_assignment, teacher
):
    late = class_of_writers(school_class, marking_assignment, 2, start=20)
    give_mark(late[1], teacher, 4, 6, 4, release=False)  # a marked essay: still no anchor unjudged
    assert judging.add_scripts(anchored) == 2
    result = judging.results(anchored)
    by_essay = {row.script.submission_id: row for row in result.scripts}
    unjudged = [by_essay[e.pk] for e in late]
    assert result.scripts[-2:] == sorted(unjudged, key=lambda row: row.script.number)
    assert [row.rank for row in result.scripts] == [*range(1, 9), None, None]
    assert result.anchors == 3  # the three judged anchors only
    for row in unjudged:
        assert (row.judgements, row.is_anchor, row.suggestion) == (0, False, None)
        assert judging.acceptance_refusal(row) == "Not judged yet."
    # Accepting them is refused, and nothing changes.
    ids = [row.script.pk for row in unjudged]
    with pytest.raises(JudgingError, match="Not judged yet"):
        judging.accept(anchored, teacher, ids, result.fingerprint, ids)
    assert not Mark.objects.filter(submission=late[0]).exists()


def test_without_two_anchors_there_are_no_suggestions_and_the_page_says_why(session, writers, teacher):
    give_mark(writers[0], teacher, 1, 1, 1, release=False)
    judge_all(session, teacher)
    result = judging.results(session)
    assert all(row.suggestion is None for row in result.scripts)
    (message,) = result.anchoring_errors.values()
    assert "at least two" in message.lower()


def test_an_anchor_left_out_is_no_longer_an_anchor(anchored, writers):
    script = anchored.scripts.get(submission=writers[4])
    judging.set_anchor(script, False)
    result = judging.results(anchored)
    assert result.anchors == 2
    row = next(r for r in result.scripts if r.script.pk == script.pk)
    assert not row.is_anchor and judging.acceptance_refusal(row) == ""


# --- accepting suggested marks ----------------------------------------------------------------


def test_accepting_writes_complete_marks_recorded_as_from_judgement(anchored, writers, teacher):
    result = judging.results(anchored)
    unmarked = [row for row in result.scripts if row.agreed is None]
    allowed = {row.script.pk for row in result.scripts}
    labels = judging.accept(anchored, teacher, [row.script.pk for row in unmarked], result.fingerprint, allowed)
    assert len(labels) == len(unmarked) == 5
    for row in unmarked:
        mark = Mark.objects.get(submission=row.script.submission_id)
        assert mark.is_complete and not mark.is_released
        assert mark.total == row.suggestion.total
        given = {cm.criterion_id: (cm.level_id, cm.marks) for cm in mark.criterion_marks.all()}
        assert given == row.suggestion.scores()
        changes = MarkChange.objects.filter(mark=mark)
        assert changes.exists() and {c.source for c in changes} == {MarkChange.Source.JUDGEMENT}
        assert all("Year 10 essays" in c.reason and c.changed_by == teacher for c in changes)
    after = judging.results(anchored)
    accepted = [row for row in after.scripts if row.script.accepted_at is not None]
    assert len(accepted) == 5
    assert all(row.agreed.source == "judgement" and not row.is_anchor for row in accepted)
    assert after.anchors == 3  # accepted marks never anchor the scale they came from


def test_accepting_changes_a_complete_mark_and_keeps_its_feedback(anchored, writers, teacher):
    script = anchored.scripts.get(submission=writers[4])
    judging.set_anchor(script, False)
    result = judging.results(anchored)
    row = next(r for r in result.scripts if r.script.pk == script.pk)
    before = Mark.objects.get(submission=writers[4])
    judging.accept(anchored, teacher, [script.pk], result.fingerprint, {script.pk})
    mark = Mark.objects.get(submission=writers[4])
    assert mark.total == row.suggestion.total
    assert (mark.www, mark.ebi) == (before.www, before.ebi)
    if mark.total != before.total:
        assert MarkChange.objects.filter(mark=mark, source=MarkChange.Source.JUDGEMENT).exists()


def test_a_draft_marks_feedback_survives_acceptance(anchored, writers, teacher):
    writers[2].record_mark(teacher, {}, base_revision=0, www="Good use of Source A.", ebi="Date the Hotline.")
    result = judging.results(anchored)
    script = anchored.scripts.get(submission=writers[2])
    judging.accept(anchored, teacher, [script.pk], result.fingerprint, {script.pk})
    mark = Mark.objects.get(submission=writers[2])
    assert mark.is_complete and mark.www == "Good use of Source A." and mark.ebi == "Date the Hotline."


def test_accepting_from_an_out_of_date_page_accepts_nothing(anchored, writers, teacher, head):
    result = judging.results(anchored)
    judging.reopen_session(anchored)
    anchored.target = 9  # room for one more judgement
    anchored.save()
    pair = judging.pair_for(anchored, head)
    judging.decide(pair, head, "left")
    row = next(r for r in result.scripts if r.agreed is None)
    with pytest.raises(JudgingError, match="changed the suggested marks"):
        judging.accept(anchored, teacher, [row.script.pk], result.fingerprint, {row.script.pk})
    assert not Mark.objects.filter(submission=row.script.submission_id).exists()


def test_anchors_released_marks_and_other_classes_are_refused_and_nothing_is_accepted(anchored, writers, teacher):
    give_mark(writers[5], teacher, 3, 5, 3, release=True)
    judging.set_anchor(anchored.scripts.get(submission=writers[5]), False)  # else it is an anchor
    result = judging.results(anchored)
    rows = {row.script.submission_id: row for row in result.scripts}
    released, anchor, free = rows[writers[5].pk], rows[writers[7].pk], rows[writers[3].pk]
    assert "released" in judging.acceptance_refusal(released)
    assert "anchor" in judging.acceptance_refusal(anchor)
    for chosen, allowed, message in (
        ([released, free], None, "released"),
        ([anchor, free], None, "anchor"),
        ([free], set(), "Not a class you teach"),
    ):
        ids = [row.script.pk for row in chosen]
        with pytest.raises(JudgingError, match=message):
            judging.accept(anchored, teacher, ids, result.fingerprint, ids if allowed is None else allowed)
    assert not Mark.objects.filter(submission=writers[3]).exists()
    assert not MarkChange.objects.filter(source=MarkChange.Source.JUDGEMENT).exists()


def test_an_essay_in_a_moderation_sample_is_refused(anchored, writers, teacher, other_teacher):
    sample = department.draw_sample(writers[0].assignment, teacher, 1, other_teacher)
    script = anchored.scripts.get(submission=sample.items.get().submission)
    judging.set_anchor(script, False)
    result = judging.results(anchored)
    row = next(r for r in result.scripts if r.script.pk == script.pk)
    assert row.sampled and "moderation" in judging.acceptance_refusal(row)
    with pytest.raises(JudgingError, match="moderation"):
        judging.accept(anchored, teacher, [script.pk], result.fingerprint, {script.pk})
    assert not MarkChange.objects.filter(source=MarkChange.Source.JUDGEMENT).exists()


def test_a_redrafted_essay_is_refused(anchored, writers, teacher):
    writers[2].return_for_redraft(by=teacher)
    result = judging.results(anchored)
    row = next(r for r in result.scripts if r.script.submission_id == writers[2].pk)
    assert "redraft" in judging.acceptance_refusal(row)
