"""Blind second marking, moderation and the audit trail of marks (issue 14, item 3).

The cast: `teacher` (renamed Fenwick Marchbanks, so the blind pages can be searched for the
name) and `co` teach 10H and marked its essays; `teacher` draws the sample; `other_teacher`
second-marks; `stranger` is a teacher with no part in it; `head` moderates everything.
"""

from __future__ import annotations

import random

import pytest
from django.urls import reverse

from classroom import department
from classroom.models import (
    Annotation,
    Mark,
    MarkChange,
    MarkError,
    ModerationItem,
    ModerationSample,
    ReviewMark,
    Submission,
)
from tests.factories import AssignmentFactory, EssayPromptFactory, StudentFactory, marking_scheme
from tests.helpers import criteria, give_mark, hand_in, level, mark_post, mark_revision

PUPIL_FIRST, PUPIL_LAST = "Zephyrina", "Quillfeather"
WWW, EBI, TASK = "PLANTED-WWW-xyzzy", "PLANTED-EBI-plugh", "PLANTED-TASK-frotz"
COMMENT = "PLANTED-COMMENT-frobozz"
FIRST_MARKER = ("Fenwick", "Marchbanks")

AGREED = {"AO1": (2, 3), "AO2": (2, 5), "SPAG": (2, 3)}

# (AO1, AO2) per script: totals teacher 2, 3, 4, 5, 6, 8; co 2, 4, 6, 7, 9, 10 (out of 10).
TEACHER_MARKS = [(1, 1), (1, 2), (2, 2), (2, 3), (3, 3), (4, 4)]
CO_MARKS = [(1, 3), (2, 4), (3, 4), (4, 5), (4, 6), (1, 1)]


def build(school_class, markers: list[tuple[object, list[tuple[int, int]]]], named_first: bool = False):
    """An assignment of `school_class` with one handed-in essay per (AO1, AO2), marked complete
    (not released) by its marker. Returns the assignment."""
    assignment = AssignmentFactory(
        school_class=school_class, prompt=EssayPromptFactory(mark_scheme=marking_scheme()), title="Crisis essay"
    )
    for marker, pairs in markers:
        for ao1, ao2 in pairs:
            if named_first:
                student, named_first = StudentFactory(first_name=PUPIL_FIRST, last_name=PUPIL_LAST), False
            else:
                student = StudentFactory()
            school_class.enrol(student)
            essay = hand_in(assignment, student, text=f"The Hotline came in 1963.\n\nEssay {ao1}-{ao2} by a pupil.")
            mark = give_mark(essay, marker, ao1, ao2, release=False, www=WWW, ebi=EBI, improvement_task=TASK)
            Annotation.objects.create(mark=mark, number=1, comment=COMMENT, created_by=marker)
    return assignment


@pytest.fixture
def assignment(school_class, teacher, co):
    teacher.first_name, teacher.last_name = FIRST_MARKER
    teacher.save(update_fields=["first_name", "last_name"])
    return build(school_class, [(teacher, TEACHER_MARKS), (co, CO_MARKS)], named_first=True)


@pytest.fixture
def sample(assignment, teacher, other_teacher):
    return department.draw_sample(assignment, teacher, 3, other_teacher, random_extra=1)


def totals(assignment, marker) -> dict[int, int]:
    marks = Mark.objects.filter(submission__assignment=assignment, marker=marker)
    return dict(marks.values_list("submission_id", "total"))


def scores(submission, pairs: dict[str, tuple[int, int]]) -> dict[int, tuple[int | None, int]]:
    by_code = criteria(submission)
    return {by_code[code].pk: (level(by_code[code], number).pk, marks) for code, (number, marks) in pairs.items()}


def review_post(submission, pairs, note="") -> dict:
    return mark_post(submission, pairs, base_revision=0, note=note)


def second_mark(item, marker, pairs=None, note="Solid.") -> ReviewMark:
    pairs = pairs or {"AO1": (2, 4), "AO2": (2, 6), "SPAG": (2, 4)}
    return department.record_second_mark(item, marker, scores(item.submission, pairs), note=note)


# --- drawing a sample ------------------------------------------------------------------------


def test_choose_scripts_takes_top_bottom_middle_then_random_without_repeats():
    scripts = [(pk, total) for pk, total in zip(range(1, 7), [5, 9, 2, 7, 4, 6], strict=True)]
    chosen = department.choose_scripts(scripts, 3, 1, random.Random(7))
    by_stratum = {stratum: pk for pk, stratum in chosen}
    assert by_stratum[ModerationItem.Stratum.TOP] == 2  # 9, the highest
    assert by_stratum[ModerationItem.Stratum.BOTTOM] == 3  # 2, the lowest
    assert by_stratum[ModerationItem.Stratum.MIDDLE] in (1, 6)  # 5 or 6: the middle of 4, 5, 6, 7
    assert len({pk for pk, _ in chosen}) == len(chosen) == 4
    # the same seed, the same random script
    assert department.choose_scripts(scripts, 3, 1, random.Random(7)) == chosen
    # four: two from the top, one from the bottom, one from the middle
    four = [s for _, s in department.choose_scripts(scripts, 4, 0, random.Random(1))]
    assert sorted(four) == sorted(["top", "top", "bottom", "middle"])
    # more than there are: every script once, no random extra left to take
    everything = department.choose_scripts(scripts, 10, 3, random.Random(1))
    assert sorted(pk for pk, _ in everything) == [1, 2, 3, 4, 5, 6]


def test_sample_of_twelve_scripts_by_two_markers(assignment, sample, teacher, co, other_teacher):
    items = list(sample.items.all())
    assert len(items) == 8  # (3 + 1 random) per marker
    assert sorted(item.label for item in items) == sorted(f"Script {n}" for n in range(1, 9))
    assert len({item.submission_id for item in items}) == 8
    for marker in (teacher, co):
        theirs = [item for item in items if item.first_marker_id == marker.pk]
        assert sorted(item.stratum for item in theirs) == ["bottom", "middle", "random", "top"]
        marks = totals(assignment, marker)
        by_stratum = {item.stratum: marks[item.submission_id] for item in theirs}
        assert by_stratum["top"] == max(marks.values())
        assert by_stratum["bottom"] == min(marks.values())
        assert min(marks.values()) < by_stratum["middle"] < max(marks.values())
    assert {item.second_marker_id for item in items} == {other_teacher.pk}


def test_sample_is_reproducible_from_its_id(assignment, teacher, other_teacher):
    before = department.sampleable_marks(assignment)
    sample = department.draw_sample(assignment, teacher, 2, other_teacher, random_extra=2)
    planned = department.plan_sample(before, 2, 2, seed=sample.pk)
    drawn = [
        (item.label, item.submission_id, item.stratum, item.first_marker_id) for item in sample.items.order_by("label")
    ]
    assert sorted(drawn) == sorted(planned)
    # another seed picks (or at least labels) differently
    assert any(
        department.plan_sample(before, 2, 2, seed=seed) != planned for seed in range(sample.pk + 1, sample.pk + 6)
    )


def test_second_markers_chosen_per_first_marker(assignment, teacher, co, other_teacher, stranger):
    sample = department.draw_sample(assignment, teacher, 1, {teacher.pk: other_teacher, co.pk: stranger})
    assert dict(sample.items.values_list("first_marker_id", "second_marker_id")) == {
        teacher.pk: other_teacher.pk,
        co.pk: stranger.pk,
    }


def test_first_marker_is_refused_as_second_marker(assignment, teacher, co, other_teacher):
    with pytest.raises(MarkError, match="Cora Co marked these scripts first"):
        department.draw_sample(assignment, teacher, 3, {teacher.pk: other_teacher, co.pk: co})
    with pytest.raises(MarkError, match="Choose a second marker"):
        department.draw_sample(assignment, teacher, 3, {teacher.pk: other_teacher})
    assert not ModerationSample.objects.exists()


def test_a_teacher_of_the_class_is_refused_as_second_marker(assignment, teacher, co, other_teacher):
    """The class's teachers can open its marking pages and see the first marks: not blind."""
    with pytest.raises(MarkError, match="Cora Co teaches 10H History, so can see the first marks"):
        department.draw_sample(assignment, teacher, 3, {teacher.pk: co, co.pk: other_teacher})
    assert not ModerationSample.objects.exists()


def test_a_pupil_cannot_second_mark(assignment, teacher, student):
    with pytest.raises(MarkError, match="not a teacher"):
        department.draw_sample(assignment, teacher, 3, student)
    assert not ModerationSample.objects.exists()


def test_nothing_to_sample_without_complete_marks(school_class, teacher, other_teacher, student):
    assignment = AssignmentFactory(school_class=school_class, prompt=EssayPromptFactory(mark_scheme=marking_scheme()))
    hand_in(assignment, student)
    with pytest.raises(MarkError, match="nothing to sample"):
        department.draw_sample(assignment, teacher, 3, other_teacher)


def test_draw_page_offers_only_teachers_from_outside_the_class(
    client, assignment, teacher, co, other_teacher, stranger, head
):
    client.force_login(teacher)
    url = reverse("classroom:moderation_draw", args=[assignment.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Fenwick Marchbanks (6 marked scripts)" in page.content.decode()
    data = {
        "size": 3,
        "random_extra": 1,
        "tolerance_marks": 2,
        f"second-{teacher.pk}": other_teacher.pk,
        f"second-{co.pk}": co.pk,
    }
    # Only teachers from outside the class are offered: not the class's teachers, not a head.
    offered = {pk for pk, _name in page.context["form"].fields[f"second-{co.pk}"].choices if pk != ""}
    assert other_teacher.pk in offered and stranger.pk in offered
    assert not offered & {teacher.pk, co.pk, head.pk}
    refused = client.post(url, data)
    assert refused.status_code == 400
    assert not ModerationSample.objects.exists()
    data[f"second-{co.pk}"] = stranger.pk
    response = client.post(url, data)
    sample = ModerationSample.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "classroom:moderation_sample", args=[sample.pk]
    )
    assert sample.items.count() == 8 and sample.created_by == teacher and sample.tolerance_marks == 2


@pytest.mark.parametrize(
    "bad",
    [
        {"size": "0"},
        {"size": "99999999999999999999"},
        {"random_extra": "-1"},
        {"second-TEACHER": ""},
        {"second-TEACHER": "99999999999999999999"},
        {"second-TEACHER": "nonsense"},
    ],
)
def test_draw_page_refuses_bad_input_and_draws_nothing(client, assignment, teacher, co, other_teacher, bad):
    client.force_login(teacher)
    data = {"size": 3, "random_extra": 1, "tolerance_marks": 2, f"second-{teacher.pk}": other_teacher.pk}
    data[f"second-{co.pk}"] = other_teacher.pk
    for key, value in bad.items():
        data[key.replace("TEACHER", str(teacher.pk))] = value
    response = client.post(reverse("classroom:moderation_draw", args=[assignment.pk]), data)
    assert response.status_code == 400
    assert not ModerationSample.objects.exists()


# --- blind second marking -----------------------------------------------------------------


def test_blind_page_shows_the_essay_and_question_and_nothing_of_the_first_mark(
    client, assignment, sample, other_teacher
):
    named = Submission.objects.get(assignment=assignment, student__first_name=PUPIL_FIRST)
    item = ModerationItem.objects.get(sample=sample, submission=named)  # the lowest total: always drawn
    client.force_login(other_teacher)
    response = client.get(reverse("classroom:second_mark", args=[item.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert named.text.split("\n")[0] in html
    assert assignment.prompt.question in html
    assert item.label in html
    for planted in (
        WWW,
        EBI,
        TASK,
        COMMENT,
        PUPIL_FIRST,
        PUPIL_LAST,
        named.student.username,
        *FIRST_MARKER,
        "Candidate",
    ):
        assert planted not in html, planted
    if named.candidate_number is not None:
        assert f"{named.candidate_number:04d}" not in html
    assert " checked" not in html  # no level is filled in from the first mark
    for context in response.context:
        for value in context.flatten().values():
            assert not isinstance(value, Mark | Annotation)


def test_second_marker_saves_a_blind_mark_and_can_change_it(client, sample, other_teacher):
    item = sample.items.first()
    client.force_login(other_teacher)
    url = reverse("classroom:second_mark", args=[item.pk])
    post = review_post(item.submission, {"AO1": (2, 3), "AO2": (1, 2), "SPAG": (1, 1)}, note="Generous AO1.")
    assert client.post(url, post).status_code == 302
    review = ReviewMark.objects.get(item=item, kind=ReviewMark.Kind.SECOND)
    assert (review.total, review.marker, review.note) == (5, other_teacher, "Generous AO1.")
    page = client.get(url).content.decode()
    assert "5 out of 10" in page and "Generous AO1." in page
    client.post(url, review_post(item.submission, {"AO1": (2, 4), "AO2": (1, 2), "SPAG": (1, 1)}))
    assert ReviewMark.objects.get(item=item, kind=ReviewMark.Kind.SECOND).total == 6


def test_second_mark_needs_every_criterion_and_saves_nothing_otherwise(client, sample, other_teacher):
    item = sample.items.first()
    client.force_login(other_teacher)
    url = reverse("classroom:second_mark", args=[item.pk])
    response = client.post(url, review_post(item.submission, {"AO1": (2, 3), "AO2": (1, 2)}))
    assert response.status_code == 400
    assert "SPAG: choose a level and a mark" in response.content.decode()
    wrong_band = client.post(url, review_post(item.submission, {"AO1": (2, 1), "AO2": (1, 2), "SPAG": (1, 1)}))
    assert wrong_band.status_code == 400
    assert not ReviewMark.objects.exists()


def test_second_mark_cannot_change_once_agreed(client, sample, other_teacher, head):
    item = sample.items.first()
    second_mark(item, other_teacher)
    department.agree_mark(
        item, head, scores(item.submission, {"AO1": (2, 3), "AO2": (2, 5), "SPAG": (2, 3)}), "Agreed."
    )
    with pytest.raises(MarkError, match="moderated"):
        second_mark(item, other_teacher, {"AO1": (1, 1), "AO2": (1, 1), "SPAG": (1, 1)})
    client.force_login(other_teacher)
    post = review_post(item.submission, {"AO1": (1, 1), "AO2": (1, 1), "SPAG": (1, 1)})
    assert client.post(reverse("classroom:second_mark", args=[item.pk]), post).status_code == 400
    assert ReviewMark.objects.get(item=item, kind=ReviewMark.Kind.SECOND).total == 10


# --- moderation ---------------------------------------------------------------------------


def test_moderation_page_puts_scripts_beyond_tolerance_first(client, assignment, sample, teacher, other_teacher):
    items = list(sample.items.all())
    marks = {item.pk: Mark.objects.get(submission=item.submission).total for item in items}
    near = next(item for item in items if marks[item.pk] >= 8)  # second mark 10: within 2
    far = next(item for item in items if marks[item.pk] <= 4)  # second mark 10: beyond 2
    second_mark(near, other_teacher)
    second_mark(far, other_teacher)
    client.force_login(teacher)
    response = client.get(reverse("classroom:moderation_sample", args=[sample.pk]))
    rows = response.context["rows"]
    assert [row.item for row in rows[:2]] == [far, near]
    assert rows[0].beyond and not rows[1].beyond
    assert rows[0].first.total == marks[far.pk] and rows[0].second.total == 10
    assert all(row.first is None for row in rows[2:])  # no first mark before the second is in
    assert "Beyond tolerance" in response.content.decode()


def test_agreeing_changes_the_pupils_mark_with_an_audit_trail(client, assignment, sample, teacher, other_teacher):
    item = sample.items.first()
    essay = item.submission
    mark = Mark.objects.get(submission=essay)
    mark.release(by=teacher)
    revision_before, total_before = mark.revision, mark.total
    old = {cm.criterion.code: (cm.level_id, cm.marks) for cm in mark.criterion_marks.select_related("criterion")}
    second_mark(item, other_teacher, note="PLANTED-SECOND-NOTE")
    agreed_pairs = {"AO1": (2, 4), "AO2": (2, 5), "SPAG": (2, 3)}  # SPaG 3 (was 2 under give_mark)
    client.force_login(teacher)
    url = reverse("classroom:moderation_agree", args=[item.pk])
    page = client.get(url).content.decode()
    assert "PLANTED-SECOND-NOTE" in page  # the moderator reads the second marker's note
    response = client.post(url, review_post(essay, agreed_pairs, note="AO2 is level 2: sustained judgement."))
    assert response.status_code == 302
    mark.refresh_from_db()
    assert (mark.total, mark.spag) == (9, 3)
    assert mark.revision == revision_before + 1
    changes = list(MarkChange.objects.filter(mark=mark).select_related("criterion", "level_after"))
    expected = {code for code, (number, marks) in agreed_pairs.items() if old[code][1] != marks}
    assert {change.criterion.code for change in changes} == expected
    for change in changes:
        code = change.criterion.code
        assert (change.level_before_id, change.marks_before) == old[code]
        assert (change.level_after.number, change.marks_after) == agreed_pairs[code]
        assert (change.total_before, change.total_after) == (total_before, 9)
        assert change.source == MarkChange.Source.MODERATION and change.changed_by == teacher
        assert change.reason == "AO2 is level 2: sustained judgement."
    item.refresh_from_db()
    assert item.agreed_by == teacher and item.agreed_at is not None
    assert ReviewMark.objects.get(item=item, kind=ReviewMark.Kind.MODERATED).total == 9
    # the pupil reads the agreed mark (released already), and nothing of the second mark
    client.force_login(essay.student)
    feedback = client.get(reverse("classroom:feedback", args=[assignment.pk])).content.decode()
    assert "9 out of 10" in feedback
    assert "PLANTED-SECOND-NOTE" not in feedback and "sustained judgement" not in feedback
    # the moderation page still shows the first mark as the first marker gave it
    client.force_login(teacher)
    rows = client.get(reverse("classroom:moderation_sample", args=[sample.pk])).context["rows"]
    row = next(row for row in rows if row.item == item)
    assert row.first.total == total_before and row.agreed.total == 9


def test_agreeing_the_first_mark_changes_nothing_and_writes_no_rows(sample, other_teacher, head):
    item = sample.items.first()
    mark = Mark.objects.get(submission=item.submission)
    same = {cm.criterion_id: (cm.level_id, cm.marks) for cm in mark.criterion_marks.all()}
    second_mark(item, other_teacher)
    _review, changes = department.agree_mark(item, head, same, "The first mark stands.")
    assert changes == [] and not MarkChange.objects.exists()
    assert Mark.objects.get(pk=mark.pk).revision == mark.revision


@pytest.mark.parametrize(
    ("pairs", "note", "message"),
    [
        ({"AO1": (2, 4), "AO2": (2, 5), "SPAG": (2, 3)}, "", "This field is required"),
        ({"AO1": (2, 4), "AO2": (2, 5)}, "Reason.", "SPAG: choose a level and a mark"),
        ({"AO1": (2, 1), "AO2": (2, 5), "SPAG": (2, 3)}, "Reason.", "AO1: level 2 allows"),
    ],
)
def test_a_bad_agreed_mark_changes_nothing(client, sample, teacher, other_teacher, pairs, note, message):
    item = sample.items.first()
    mark = Mark.objects.get(submission=item.submission)
    second_mark(item, other_teacher)
    client.force_login(teacher)
    response = client.post(
        reverse("classroom:moderation_agree", args=[item.pk]), review_post(item.submission, pairs, note)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    fresh = Mark.objects.get(pk=mark.pk)
    assert (fresh.total, fresh.revision) == (mark.total, mark.revision)
    assert not MarkChange.objects.exists()
    assert not ReviewMark.objects.filter(kind=ReviewMark.Kind.MODERATED).exists()
    item.refresh_from_db()
    assert item.agreed_at is None


def test_no_agreed_mark_before_the_second_mark(client, sample, teacher):
    item = sample.items.first()
    client.force_login(teacher)
    url = reverse("classroom:moderation_agree", args=[item.pk])
    page = client.get(url)
    assert page.status_code == 200 and "The second mark is not in yet" in page.content.decode()
    assert page.context["first"] is None
    post = review_post(item.submission, {"AO1": (2, 4), "AO2": (2, 5), "SPAG": (2, 3)}, note="Too soon.")
    assert client.post(url, post).status_code == 400
    assert not MarkChange.objects.exists()
    with pytest.raises(MarkError, match="not in yet"):
        department.agree_mark(item, teacher, scores(item.submission, {"AO1": (2, 4)}), "Too soon.")


def test_a_sampled_script_is_not_drawn_again_agreed_or_not(assignment, sample, teacher, other_teacher, head):
    item = sample.items.first()
    second_mark(item, other_teacher)
    department.agree_mark(item, head, scores(item.submission, AGREED), "Agreed.")
    remaining = department.sampleable_marks(assignment)
    drawn = set(sample.items.values_list("submission_id", flat=True))
    assert not drawn & {pk for scripts in remaining.values() for pk, _total in scripts}
    assert sum(len(scripts) for scripts in remaining.values()) == 12 - len(drawn)


def test_a_head_is_refused_as_second_marker(assignment, teacher, co, other_teacher, head):
    """A head of department can open every class's marks: not blind."""
    with pytest.raises(MarkError, match="head of department and can open every class's marks"):
        department.draw_sample(assignment, teacher, 1, {teacher.pk: other_teacher, co.pk: head})
    assert not ModerationSample.objects.exists()


def test_the_first_mark_is_frozen_once_drawn(sample, teacher, other_teacher, head):
    """The first marker cannot change the levels and marks of a sampled essay (before or after
    the agreement): the second mark is compared with it, the agreed mark replaces it."""
    item = sample.items.filter(first_marker=teacher).first()
    essay = item.submission
    mark = essay.mark
    before = (mark.total, mark.revision)
    same = {cm.criterion_id: (cm.level_id, cm.marks) for cm in mark.criterion_marks.all()}
    ao1 = criteria(essay)["AO1"]
    changed = {**same, ao1.pk: (level(ao1, 1).pk, 1) if same[ao1.pk][1] != 1 else (level(ao1, 2).pk, 3)}
    with pytest.raises(MarkError, match="in a moderation sample"):
        essay.record_mark(teacher, changed, base_revision=mark.revision)
    mark.refresh_from_db()
    assert (mark.total, mark.revision) == before and not MarkChange.objects.exists()
    # The written feedback can still change, with the levels as they are.
    essay.record_mark(teacher, same, base_revision=mark.revision, www="Kept as it was.")
    mark.refresh_from_db()
    assert mark.www == "Kept as it was." and mark.total == before[0]


def test_the_second_marker_does_not_see_the_writers_own_name_in_the_essay(client, sample, other_teacher):
    item = sample.items.filter(second_marker=other_teacher).first()
    student = item.submission.student
    Submission.objects.filter(pk=item.submission_id).update(
        text=f"By {student.first_name} {student.last_name}.\n\nThe Hotline."
    )
    client.force_login(other_teacher)
    page = client.get(reverse("classroom:second_mark", args=[item.pk])).content.decode()
    assert "The Hotline." in page and student.last_name not in page and "[name] [name]" in page


def test_an_exemplar_of_a_script_waiting_for_a_second_mark_is_hidden_from_its_second_marker(
    client, sample, teacher, other_teacher
):
    from classroom.models import Exemplar

    item = sample.items.filter(second_marker=other_teacher).first()
    Exemplar.objects.create(
        prompt=item.submission.assignment.prompt,
        submission=item.submission,
        title="PLANTED-EXEMPLAR",
        text=item.submission.text,
        level_name="Level 2",
        total=7,
        max_total=10,
        promoted_by=teacher,
    )
    client.force_login(other_teacher)
    url = reverse("classroom:exemplar_question", args=[item.submission.assignment.prompt_id])
    assert "PLANTED-EXEMPLAR" not in client.get(url).content.decode()
    client.force_login(teacher)
    assert "PLANTED-EXEMPLAR" in client.get(url).content.decode()


def test_apply_mark_change_refuses_a_mark_not_yet_complete(school_class, teacher, student):
    assignment = AssignmentFactory(school_class=school_class, prompt=EssayPromptFactory(mark_scheme=marking_scheme()))
    essay = hand_in(assignment, student)
    mark = essay.record_mark(teacher, scores(essay, {"AO1": (1, 1)}), base_revision=0)
    with pytest.raises(MarkError, match="complete"):
        department.apply_mark_change(mark, scores(essay, {"AO1": (2, 4)}), teacher, MarkChange.Source.MODERATION, "x")
    assert not MarkChange.objects.exists()


# --- the audit trail of ordinary marking ----------------------------------------------------


def test_record_mark_writes_the_audit_trail_only_once_the_mark_is_complete(school_class, teacher, student):
    assignment = AssignmentFactory(school_class=school_class, prompt=EssayPromptFactory(mark_scheme=marking_scheme()))
    essay = hand_in(assignment, student)
    full = {"AO1": (1, 2), "AO2": (1, 3), "SPAG": (1, 1)}
    mark = essay.record_mark(teacher, scores(essay, full), base_revision=0)
    mark = essay.record_mark(teacher, scores(essay, {**full, "AO1": (2, 3)}), base_revision=mark_revision(essay))
    assert not MarkChange.objects.exists()  # a draft: the marker is still deciding
    mark.complete(by=teacher)
    essay.record_mark(teacher, scores(essay, {**full, "AO1": (2, 3)}), base_revision=mark_revision(essay))
    assert not MarkChange.objects.exists()  # saved again unchanged
    essay.record_mark(
        teacher, scores(essay, {**full, "AO1": (2, 4), "SPAG": (2, 3)}), base_revision=mark_revision(essay)
    )
    changes = list(MarkChange.objects.select_related("criterion", "level_before", "level_after"))
    assert [
        (c.criterion.code, c.level_before.number, c.marks_before, c.level_after.number, c.marks_after) for c in changes
    ] == [
        ("AO1", 2, 3, 2, 4),
        ("SPAG", 1, 1, 2, 3),
    ]
    assert all((c.total_before, c.total_after) == (6, 7) for c in changes)
    assert all(c.source == MarkChange.Source.MARKING and c.changed_by == teacher and c.reason == "" for c in changes)


def test_the_marking_page_writes_the_audit_trail_after_completion(client, essay, teacher):
    from tests.helpers import FULL, mark_fully

    mark_fully(essay, teacher)
    client.force_login(teacher)
    post = mark_post(essay, {**FULL, "AO2": (2, 5)})
    assert client.post(reverse("classroom:mark_submission", args=[essay.pk]), post).status_code == 302
    change = MarkChange.objects.select_related("criterion").get()
    assert (change.criterion.code, change.marks_before, change.marks_after) == ("AO2", 3, 5)


def test_audit_page_lists_who_when_what_and_why(client, sample, other_teacher, head, teacher):
    item = sample.items.first()
    second_mark(item, other_teacher)
    department.agree_mark(item, head, scores(item.submission, AGREED), "PLANTED-REASON")
    client.force_login(head)
    html = client.get(reverse("classroom:mark_audit", args=[sample.assignment_id])).content.decode()
    assert "PLANTED-REASON" in html and "Hana Head" in html and "Moderation" in html
    assert item.submission.student.display_name in html


# --- access ------------------------------------------------------------------------------


@pytest.fixture
def pages(sample, other_teacher):
    item = sample.items.first()
    second_mark(item, other_teacher)
    return {
        "home": reverse("classroom:moderation_home"),
        "draw": reverse("classroom:moderation_draw", args=[sample.assignment_id]),
        "sample": reverse("classroom:moderation_sample", args=[sample.pk]),
        "second_mark": reverse("classroom:second_mark", args=[item.pk]),
        "agree": reverse("classroom:moderation_agree", args=[item.pk]),
        "audit": reverse("classroom:mark_audit", args=[sample.assignment_id]),
    }


# Who gets what on each page: the drawer (teacher, who teaches the class and marked first), a
# co-teacher of the class who did not draw (co), the second marker (other_teacher), a teacher
# with no part (stranger), the head, a pupil of the class.
ACCESS = {
    "home": {"teacher": 200, "co": 200, "other_teacher": 200, "stranger": 200, "head": 200, "student": 403},
    "draw": {"teacher": 200, "co": 200, "other_teacher": 404, "stranger": 404, "head": 200, "student": 403},
    "sample": {"teacher": 200, "co": 404, "other_teacher": 403, "stranger": 404, "head": 200, "student": 403},
    "second_mark": {"teacher": 403, "co": 404, "other_teacher": 200, "stranger": 404, "head": 403, "student": 403},
    "agree": {"teacher": 200, "co": 404, "other_teacher": 403, "stranger": 404, "head": 200, "student": 403},
    "audit": {"teacher": 403, "co": 403, "other_teacher": 403, "stranger": 403, "head": 200, "student": 403},
}


@pytest.mark.parametrize("page", list(ACCESS))
def test_access_matrix(client, pages, page, teacher, co, other_teacher, stranger, head, student):
    people = {"teacher": teacher, "co": co, "other_teacher": other_teacher, "stranger": stranger, "head": head}
    people["student"] = student
    response = client.get(pages[page])
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    for who, status in ACCESS[page].items():
        client.force_login(people[who])
        assert client.get(pages[page]).status_code == status, who


@pytest.mark.parametrize("who", ["teacher", "co", "stranger", "head", "student"])
def test_only_the_second_marker_can_post_a_second_mark(client, sample, who, teacher, co, stranger, head, student):
    item = sample.items.first()
    client.force_login({"teacher": teacher, "co": co, "stranger": stranger, "head": head, "student": student}[who])
    post = review_post(item.submission, {"AO1": (2, 4), "AO2": (2, 6), "SPAG": (2, 4)})
    assert client.post(reverse("classroom:second_mark", args=[item.pk]), post).status_code in (403, 404)
    assert not ReviewMark.objects.exists()


@pytest.mark.parametrize("who", ["co", "other_teacher", "stranger", "student"])
def test_only_a_moderator_can_agree(client, pages, sample, who, co, other_teacher, stranger, student):
    item = sample.items.first()
    client.force_login({"co": co, "other_teacher": other_teacher, "stranger": stranger, "student": student}[who])
    post = review_post(item.submission, {"AO1": (1, 1), "AO2": (1, 1), "SPAG": (1, 1)}, note="Sneaky.")
    assert client.post(pages["agree"], post).status_code in (403, 404)
    assert not MarkChange.objects.exists() and not ReviewMark.objects.filter(kind="moderated").exists()


@pytest.mark.parametrize("who", ["other_teacher", "stranger", "student"])
def test_only_the_class_teachers_and_head_can_draw(client, assignment, who, co, other_teacher, stranger, student):
    client.force_login({"other_teacher": other_teacher, "stranger": stranger, "student": student}[who])
    data = {"size": 3, "random_extra": 0, "tolerance_marks": 2, f"second-{co.pk}": stranger.pk}
    assert client.post(reverse("classroom:moderation_draw", args=[assignment.pk]), data).status_code in (403, 404)
    assert not ModerationSample.objects.exists()


def test_second_markers_list_shows_only_their_scripts_by_label(client, sample, other_teacher, head, teacher):
    client.force_login(other_teacher)
    response = client.get(reverse("classroom:moderation_home"))
    html = response.content.decode()
    assert len(response.context["items"]) == 8
    assert "Script 1" in html and PUPIL_FIRST not in html and FIRST_MARKER[1] not in html
    client.force_login(head)
    assert client.get(reverse("classroom:moderation_home")).context["items"] == []


# --- query budgets ---------------------------------------------------------------------------


@pytest.mark.parametrize("per_marker", [3, 6])
def test_query_budgets_do_not_grow(
    client, school_class, teacher, co, other_teacher, head, django_assert_num_queries, per_marker
):
    assignment = build(school_class, [(teacher, TEACHER_MARKS[:per_marker]), (co, CO_MARKS[:per_marker])])
    sample = department.draw_sample(assignment, teacher, per_marker, other_teacher)
    for item in sample.items.all():
        second_mark(item, other_teacher)
    for item in list(sample.items.all())[:2]:
        department.agree_mark(item, head, scores(item.submission, AGREED), "Agreed.")
    client.force_login(other_teacher)
    # session, user, the second marker's scripts, the samples they moderate (none)
    with django_assert_num_queries(4):
        response = client.get(reverse("classroom:moderation_home"))
    assert len(response.context["items"]) == 2 * per_marker
    client.force_login(head)
    # session, user, sample; items (+ markers), review marks, first marks, moderation changes
    with django_assert_num_queries(7):
        response = client.get(reverse("classroom:moderation_sample", args=[sample.pk]))
    assert len(response.context["rows"]) == 2 * per_marker
    # session, user, assignment, changes (+ who, criterion, levels, pupil)
    with django_assert_num_queries(4):
        response = client.get(reverse("classroom:mark_audit", args=[assignment.pk]))
    assert response.context["changes"]
