"""Exemplars (issue 14): a marked script promoted to a department exemplar at its level, never
while it names a pupil of the class; the library; sharing with an assignment; what pupils see."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from classroom.department import names_in, record_review_mark, redact_names
from classroom.models import (
    Assignment,
    Exemplar,
    ExemplarShare,
    ReviewMark,
    Standardisation,
    StandardisationScript,
    Submission,
)
from tests.factories import (
    AssignmentFactory,
    ExemplarFactory,
    SchoolClassFactory,
    StudentFactory,
    TeacherFactory,
)
from tests.helpers import FULL, criteria, hand_in, level, mark_fully

pytestmark = pytest.mark.django_db

When = ExemplarShare.When


@pytest.fixture
def priya(school_class):
    pupil = StudentFactory(username="priya.p", first_name="Priya", last_name="Patel")
    school_class.enrol(pupil)
    return pupil


@pytest.fixture
def marked(cast, essay, priya):
    """The essay, marked and complete: one comment anchored on "Hotline", one general."""
    teacher = cast["teacher"]
    mark = mark_fully(essay, teacher, complete=False)
    start = essay.text.index("Hotline")
    mark.add_annotation(teacher, "ANCHORED-NOTE: precise.", start=start, end=start + 7, quote="Hotline")
    mark.add_annotation(teacher, "GENERAL-NOTE: good overall.")
    mark.complete(by=teacher)
    return essay


def _promote_data(essay, **changes):
    data = {
        "title": "A level 1 answer",
        "level_name": "Level 1",
        "text": essay.text,
        "commentary": "Level 1, not 2: the explanation is not developed.",
        "notes": ["1"],
    }
    data.update(changes)
    return data


def _promote(client, essay, **changes):
    return client.post(reverse("classroom:exemplar_promote", args=[essay.pk]), _promote_data(essay, **changes))


# --- the name check ------------------------------------------------------------------------


def test_names_in_matches_first_and_last_names_as_whole_words_in_any_case(cast, priya):
    pupils = [cast["student"], priya]  # Sam Student, Priya Patel
    assert names_in("Sam argued well.", pupils) == ["Sam"]
    assert names_in("as PATEL said, and priya", pupils) == ["Priya", "Patel"]
    assert names_in("Samuel and the students of Patelville", pupils) == []
    assert names_in("student's view", pupils) == ["Student"]  # the apostrophe ends the word
    assert redact_names("Sam, see Student's plan", ["Sam", "Student"]) == "[name], see [name]'s plan"


# --- promoting a marked script ---------------------------------------------------------------


def test_the_promote_page_offers_a_copy_at_the_mark_s_level_with_its_anchored_comments(client, cast, marked):
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:exemplar_promote", args=[marked.pk])).content.decode()
    assert "It was a teleprinter link, not a telephone." in html  # the copy to edit
    # AO2 (out of 6) outweighs AO1 (out of 4): its level is the suggestion.
    assert '<option value="Level 1" selected>' in html and '<option value="Level 2">' in html
    assert "Marked 7 out of 10" in html
    assert "ANCHORED-NOTE" in html and "GENERAL-NOTE" not in html  # only comments tied to a passage


def test_promoting_copies_the_text_level_total_and_notes(client, cast, marked):
    client.force_login(cast["teacher"])
    text = "An opening line.\n\n" + marked.text  # the teacher's edit moves the anchor
    response = _promote(client, marked, text=text, level_name="Level 2")
    exemplar = Exemplar.objects.get()
    assert response["Location"] == reverse("classroom:exemplar_detail", args=[exemplar.pk])
    assert (exemplar.text, exemplar.level_name, exemplar.total, exemplar.max_total) == (text, "Level 2", 7, 10)
    assert exemplar.prompt == marked.assignment.prompt and exemplar.submission == marked
    assert exemplar.promoted_by == cast["teacher"]
    start = text.index("Hotline")
    assert exemplar.notes == [
        {"number": 1, "start": start, "end": start + 7, "quote": "Hotline", "comment": "ANCHORED-NOTE: precise."}
    ]
    html = client.get(response["Location"]).content.decode()
    assert '<mark class="annotation-mark" data-notes="1">' in html and "Level 1, not 2" in html
    assert marked.__class__.objects.get(pk=marked.pk).text == marked.text  # the pupil's essay is untouched


@pytest.mark.parametrize(
    "planted", ["Sam made this point.", "as student argued", "PATEL's essay", "thanks, priya", "Sam\nStudent"]
)
def test_promotion_is_refused_while_the_text_names_a_pupil_of_the_class(client, cast, marked, planted):
    client.force_login(cast["teacher"])
    response = _promote(client, marked, text=marked.text + "\n\n" + planted)
    assert response.status_code == 400
    assert "The text names" in response.content.decode() and "nothing was saved" in response.content.decode()
    assert not Exemplar.objects.exists()
    assert _promote(client, marked).status_code == 302  # once the names are out
    assert Exemplar.objects.count() == 1


def test_names_in_the_title_commentary_or_a_copied_comment_are_refused_too(client, cast, marked):
    client.force_login(cast["teacher"])
    for field in ("title", "commentary"):
        assert _promote(client, marked, **{field: "Priya's answer"}).status_code == 400
    annotation = marked.mark.annotations.get(number=1)
    annotation.comment = "Well done, Sam."
    annotation.save(update_fields=["comment"])
    response = _promote(client, marked)
    assert response.status_code == 400 and "Comment 1 names Sam" in response.content.decode()
    assert not Exemplar.objects.exists()
    assert _promote(client, marked, notes=[]).status_code == 302  # not copied: promoted without it
    assert Exemplar.objects.get().notes == []


def test_a_pupil_who_has_left_the_class_is_still_on_its_roster(client, cast, marked, priya, school_class):
    school_class.enrolments.get(student=priya).remove()
    client.force_login(cast["teacher"])
    assert _promote(client, marked, text=marked.text + " Priya.").status_code == 400
    assert not Exemplar.objects.exists()


def test_names_of_pupils_in_other_classes_do_not_block_it(client, cast, marked, other_class):
    client.force_login(cast["teacher"])
    assert _promote(client, marked, text=marked.text + " Olly.").status_code == 302  # Olly Outsider


def test_an_unfinished_mark_cannot_be_promoted(client, cast, essay):
    mark_fully(essay, cast["teacher"], complete=False)
    client.force_login(cast["teacher"])
    for response in (client.get(reverse("classroom:exemplar_promote", args=[essay.pk])), _promote(client, essay)):
        assert response["Location"] == reverse("classroom:mark_submission", args=[essay.pk])
    assert not Exemplar.objects.exists()


def test_bad_input_is_refused_with_nothing_saved(client, cast, marked):
    client.force_login(cast["teacher"])
    for bad in ({"level_name": "Level 9"}, {"notes": ["7"]}, {"notes": ["x"]}, {"commentary": ""}, {"text": ""}):
        response = _promote(client, marked, **bad)
        assert response.status_code == 400 and "Not saved" in response.content.decode(), bad
    assert not Exemplar.objects.exists()


def test_the_marking_page_offers_promotion_once_the_mark_is_complete(client, cast, essay):
    client.force_login(cast["teacher"])
    url = reverse("classroom:exemplar_promote", args=[essay.pk])
    mark_page = reverse("classroom:mark_submission", args=[essay.pk])
    mark = mark_fully(essay, cast["teacher"], complete=False)
    assert url not in client.get(mark_page).content.decode()
    mark.complete(by=cast["teacher"])
    assert url in client.get(mark_page).content.decode()


# --- standardisation scripts -----------------------------------------------------------------


@pytest.fixture
def script(cast, essay, head):
    standardisation = Standardisation.objects.create(prompt=essay.assignment.prompt, title="Autumn standardisation")
    script = StandardisationScript.objects.create(
        standardisation=standardisation,
        submission=essay,
        label="Script A",
        text="SCRIPT-TEXT: the Hotline was a teleprinter link.",
        rationale="SCRIPT-RATIONALE: level 2 for AO1.",
    )
    return script


def _agree(script, head):
    by_code = criteria(script.submission)
    scores = {by_code[code].pk: (level(by_code[code], number).pk, marks) for code, (number, marks) in FULL.items()}
    record_review_mark(ReviewMark.Kind.AGREED_STANDARD, head, scores, script=script)


def test_the_head_promotes_a_standardisation_script_at_its_agreed_mark(client, cast, script, head):
    url = reverse("classroom:exemplar_promote_script", args=[script.pk])
    client.force_login(head)
    response = client.get(url)
    assert response["Location"] == reverse("classroom:exemplar_library")  # no agreed mark yet
    _agree(script, head)
    html = client.get(url).content.decode()
    assert "SCRIPT-TEXT" in html and "SCRIPT-RATIONALE" in html and "Marked 7 out of 10" in html
    data = {"title": "Script A", "level_name": "Level 1", "text": script.text, "commentary": script.rationale}
    assert client.post(url, {**data, "text": script.text + " Sam."}).status_code == 400  # the roster applies
    assert client.post(url, data).status_code == 302
    exemplar = Exemplar.objects.get()
    assert (exemplar.script, exemplar.total, exemplar.max_total, exemplar.notes) == (script, 7, 10, [])


@pytest.mark.parametrize(("who", "status"), [("anonymous", 302), ("student", 403), ("teacher", 403), ("head", 200)])
def test_only_the_head_promotes_standardisation_scripts(client, cast, script, head, who, status):
    _agree(script, head)
    if who != "anonymous":
        client.force_login(cast[who])
    assert client.get(reverse("classroom:exemplar_promote_script", args=[script.pk])).status_code == status


# --- access ----------------------------------------------------------------------------------

ACTORS = ["anonymous", "student", "outsider", "other_teacher", "teacher", "head"]


def _login(client, cast, who):
    if who != "anonymous":
        client.force_login(cast[who])


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("student", 403), ("outsider", 403), ("other_teacher", 404), ("teacher", 200), ("head", 200)],
)
def test_who_may_promote_a_pupil_s_script(client, cast, marked, who, status):
    _login(client, cast, who)
    assert client.get(reverse("classroom:exemplar_promote", args=[marked.pk])).status_code == status
    response = _promote(client, marked)
    assert response.status_code == (302 if status in (200, 302) else status)
    assert Exemplar.objects.exists() is (status == 200)


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("student", 403), ("outsider", 403), ("other_teacher", 200), ("teacher", 200), ("head", 200)],
)
def test_every_teacher_reads_the_library(client, cast, who, status):
    exemplar = ExemplarFactory()
    _login(client, cast, who)
    for url in (
        reverse("classroom:exemplar_library"),
        reverse("classroom:exemplar_question", args=[exemplar.prompt_id]),
        reverse("classroom:exemplar_detail", args=[exemplar.pk]),
    ):
        response = client.get(url)
        assert response.status_code == status, url
        if status == 200:
            shown = exemplar.prompt.question if url == reverse("classroom:exemplar_library") else exemplar.title
            assert shown in response.content.decode()
        if status == 302:
            assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("student", 403), ("other_teacher", 403), ("teacher", 200), ("head", 200)],
)
def test_who_promoted_it_or_a_head_changes_and_deletes_it(client, cast, who, status):
    exemplar = ExemplarFactory(promoted_by=cast["teacher"])
    _login(client, cast, who)
    edit = reverse("classroom:exemplar_edit", args=[exemplar.pk])
    assert client.get(edit).status_code == status
    data = {"title": "CHANGED", "level_name": "Level 2", "commentary": "Now clearer."}
    client.post(edit, data)
    assert (Exemplar.objects.get(pk=exemplar.pk).title == "CHANGED") is (status == 200)
    client.post(reverse("classroom:exemplar_delete", args=[exemplar.pk]))
    assert Exemplar.objects.filter(pk=exemplar.pk).exists() is (status != 200)


def test_a_change_that_names_a_pupil_is_refused(client, cast, marked):
    client.force_login(cast["teacher"])
    _promote(client, marked)
    exemplar = Exemplar.objects.get()
    data = {"title": "Sam's essay", "level_name": "Level 1", "commentary": "Fine."}
    assert client.post(reverse("classroom:exemplar_edit", args=[exemplar.pk]), data).status_code == 400
    assert Exemplar.objects.get().title == "A level 1 answer"


# --- sharing with an assignment --------------------------------------------------------------


@pytest.fixture
def shared(cast, marking_assignment):
    exemplar = ExemplarFactory(prompt=marking_assignment.prompt, promoted_by=cast["other_teacher"])
    return exemplar


def _share(client, exemplar, assignment, when=When.ALWAYS):
    return client.post(
        reverse("classroom:exemplar_share", args=[exemplar.pk]), {"assignment": assignment.pk, "when": when}
    )


def test_a_teacher_shares_any_exemplar_with_their_own_assignment_on_the_question(
    client, cast, shared, marking_assignment
):
    client.force_login(cast["teacher"])
    page = client.get(reverse("classroom:exemplar_detail", args=[shared.pk])).content.decode()
    assert f'<option value="{marking_assignment.pk}">' in page
    _share(client, shared, marking_assignment, When.AFTER_SUBMIT)
    share = ExemplarShare.objects.get()
    assert (share.assignment, share.when, share.shared_by) == (marking_assignment, When.AFTER_SUBMIT, cast["teacher"])
    _share(client, shared, marking_assignment, When.ALWAYS)  # changes when, no second share
    assert ExemplarShare.objects.get().when == When.ALWAYS
    client.post(reverse("classroom:exemplar_unshare", args=[shared.pk, marking_assignment.pk]))
    assert not ExemplarShare.objects.exists()


def test_sharing_is_refused_for_another_teacher_s_class_or_another_question(client, cast, shared, marking_assignment):
    client.force_login(cast["other_teacher"])
    response = _share(client, shared, marking_assignment)
    assert response.status_code == 302 and not ExemplarShare.objects.exists()
    client.force_login(cast["teacher"])
    elsewhere = AssignmentFactory(school_class=marking_assignment.school_class)  # another question
    _share(client, shared, elsewhere)
    _share(client, shared, marking_assignment, when="tomorrow")
    _share(client, shared, Assignment(pk=99999999999999999999))
    assert not ExemplarShare.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"), [("anonymous", 302), ("student", 403), ("other_teacher", 404), ("teacher", 302), ("head", 302)]
)
def test_who_may_stop_sharing_on_an_assignment(client, cast, shared, marking_assignment, who, status):
    ExemplarShare.objects.create(exemplar=shared, assignment=marking_assignment)
    _login(client, cast, who)
    response = client.post(reverse("classroom:exemplar_unshare", args=[shared.pk, marking_assignment.pk]))
    assert response.status_code == status
    assert ExemplarShare.objects.exists() is (who not in ("teacher", "head"))


def test_a_copy_of_the_question_can_share_the_original_s_exemplars(client, cast, shared, school_class):
    copy = shared.prompt.make_copy(cast["teacher"])
    assignment = AssignmentFactory(school_class=school_class, prompt=copy)
    client.force_login(cast["teacher"])
    _share(client, shared, assignment)
    assert ExemplarShare.objects.get().assignment == assignment


# --- what pupils see -------------------------------------------------------------------------


def _pupil_page(client, pupil, assignment, exemplar):
    client.force_login(pupil)
    return client.get(reverse("classroom:exemplar_for_pupil", args=[assignment.pk, exemplar.pk]))


def _write_page(client, pupil, assignment) -> str:
    client.force_login(pupil)
    return client.get(reverse("classroom:write", args=[assignment.pk])).content.decode()


def test_a_pupil_reads_an_exemplar_shared_from_the_start(client, cast, shared, marking_assignment):
    ExemplarShare.objects.create(exemplar=shared, assignment=marking_assignment, when=When.ALWAYS)
    url = reverse("classroom:exemplar_for_pupil", args=[marking_assignment.pk, shared.pk])
    assert url in _write_page(client, cast["student"], marking_assignment)
    html = _pupil_page(client, cast["student"], marking_assignment, shared).content.decode()
    assert "EXEMPLAR-COMMENTARY" in html and "EXEMPLAR-NOTE" in html and "Level 2: <strong>7 out of 10" in html


def test_after_hand_in_means_after_hand_in(client, cast, shared, marking_assignment):
    ExemplarShare.objects.create(exemplar=shared, assignment=marking_assignment, when=When.AFTER_SUBMIT)
    student = cast["student"]
    assert shared.title not in _write_page(client, student, marking_assignment)
    assert _pupil_page(client, student, marking_assignment, shared).status_code == 404
    hand_in(marking_assignment, student)
    assert shared.title in _write_page(client, student, marking_assignment)
    assert _pupil_page(client, student, marking_assignment, shared).status_code == 200
    Submission.objects.get(assignment=marking_assignment, student=student).return_for_redraft(by=cast["teacher"])
    assert _pupil_page(client, student, marking_assignment, shared).status_code == 404  # redrafting: as drafting


def test_a_pupil_never_sees_an_exemplar_not_shared_with_them(client, cast, shared, marking_assignment, other_class):
    other = ExemplarFactory(prompt=marking_assignment.prompt)  # in the library, not shared
    ExemplarShare.objects.create(exemplar=shared, assignment=marking_assignment, when=When.ALWAYS)
    student, outsider = cast["student"], cast["outsider"]
    assert other.title not in _write_page(client, student, marking_assignment)
    assert _pupil_page(client, student, marking_assignment, other).status_code == 404
    # Shared with an assignment of another class: not through theirs, and not through that one.
    theirs = AssignmentFactory(school_class=other_class, prompt=marking_assignment.prompt)
    assert _pupil_page(client, outsider, theirs, shared).status_code == 404
    assert _pupil_page(client, outsider, marking_assignment, shared).status_code == 404
    for name in ("exemplar_library", "exemplar_detail", "exemplar_question"):
        args = {"exemplar_library": [], "exemplar_detail": [shared.pk], "exemplar_question": [shared.prompt_id]}[name]
        assert client.get(reverse(f"classroom:{name}", args=args)).status_code == 403


def test_a_timed_essay_is_written_without_its_exemplars(client, cast, shared, school_class, marking_assignment):
    timed = AssignmentFactory(school_class=school_class, prompt=marking_assignment.prompt, time_limit_minutes=30)
    ExemplarShare.objects.create(exemplar=shared, assignment=timed, when=When.ALWAYS)
    student = cast["student"]
    assert shared.title not in _write_page(client, student, timed)
    assert _pupil_page(client, student, timed, shared).status_code == 404
    hand_in(timed, student)
    assert _pupil_page(client, student, timed, shared).status_code == 200


def test_a_question_sealed_by_another_class_s_timed_essay_keeps_them_closed(client, cast, shared, marking_assignment):
    ExemplarShare.objects.create(exemplar=shared, assignment=marking_assignment, when=When.ALWAYS)
    other = SchoolClassFactory(teachers=[cast["other_teacher"]], students=[cast["student"]])
    timed = AssignmentFactory(school_class=other, prompt=marking_assignment.prompt, time_limit_minutes=30)
    student = cast["student"]
    assert shared.title not in _write_page(client, student, marking_assignment)
    assert _pupil_page(client, student, marking_assignment, shared).status_code == 404
    Submission.start(timed, student)
    assert _pupil_page(client, student, marking_assignment, shared).status_code == 200


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("outsider", 404), ("other_teacher", 404), ("student", 200), ("teacher", 200), ("head", 200)],
)
def test_the_pupil_page_of_a_shared_exemplar_access(client, cast, shared, marking_assignment, who, status):
    ExemplarShare.objects.create(exemplar=shared, assignment=marking_assignment, when=When.ALWAYS)
    _login(client, cast, who)
    url = reverse("classroom:exemplar_for_pupil", args=[marking_assignment.pk, shared.pk])
    assert client.get(url).status_code == status


def test_the_teacher_s_preview_lists_every_share_and_when(client, cast, shared, marking_assignment):
    ExemplarShare.objects.create(exemplar=shared, assignment=marking_assignment, when=When.AFTER_SUBMIT)
    html = _write_page(client, cast["teacher"], marking_assignment)
    assert shared.title in html and "after they hand in" in html


# --- query budgets ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 12])
def test_library_pages_query_budget(client, cast, django_assert_num_queries, size):
    teacher = TeacherFactory()
    first = ExemplarFactory(promoted_by=teacher)
    for n in range(size):
        ExemplarFactory(prompt=first.prompt, level_name=f"Level {n % 3}", promoted_by=TeacherFactory())
        ExemplarFactory()  # another question each
    client.force_login(cast["teacher"])
    # session, user, counts per question, the questions with their units
    with django_assert_num_queries(4):
        assert client.get(reverse("classroom:exemplar_library")).status_code == 200
    # session, user, the question, its exemplars with who chose them and their share counts
    with django_assert_num_queries(4):
        assert client.get(reverse("classroom:exemplar_question", args=[first.prompt_id])).status_code == 200


def test_the_pupil_s_page_lists_shares_in_a_fixed_number_of_queries(client, cast, marking_assignment):
    hand_in(marking_assignment, cast["student"])
    client.force_login(cast["student"])
    counts = []
    for size in (1, 8):
        while ExemplarShare.objects.count() < size:
            exemplar = ExemplarFactory(prompt=marking_assignment.prompt)
            ExemplarShare.objects.create(exemplar=exemplar, assignment=marking_assignment, when=When.ALWAYS)
        with CaptureQueriesContext(connection) as queries:
            html = client.get(reverse("classroom:write", args=[marking_assignment.pk])).content.decode()
        assert html.count("EXEMPLAR-TITLE-") == size
        # the shares with their exemplars in one query, then the pupil's sealed questions
        assert sum("exemplarshare" in q["sql"] for q in queries.captured_queries) == 1
        counts.append(len(queries))
    assert counts[0] == counts[1]
