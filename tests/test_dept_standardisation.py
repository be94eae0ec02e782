"""Standardisation (issue 14, item 2): agreed scripts, blind trial marks, tolerance, the gate
in front of marking, the pupil-name check, access and query budgets."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from classroom import department
from classroom.department import NamedPupilError, ScriptError
from classroom.models import ReviewMark, Standardisation, StandardisationScript
from tests.factories import AssignmentFactory, StudentFactory, SubmissionFactory, TeacherFactory

pytestmark = pytest.mark.django_db

# Planted in the agreed mark's rationale: a marker's pages must not carry it before their mark.
SECRET = "Zanzibar-rationale-7731"
AGREED = {"AO1": (2, 3), "AO2": (2, 5), "SPAG": (1, 2)}  # total 8 (SPaG not counted)


# --- helpers -----------------------------------------------------------------------------------


def _criteria(standardisation):
    scheme = standardisation.prompt.mark_scheme
    return {c.code: c for c in scheme.criteria.prefetch_related("levels")}


def scores(standardisation, marks: dict) -> dict:
    """{criterion id: (level id or None, marks)} from {code: (level number or 0, marks)}."""
    out = {}
    for code, (number, value) in marks.items():
        criterion = _criteria(standardisation)[code]
        out[criterion.pk] = (None if number == 0 else criterion.levels.get(number=number).pk, value)
    return out


def post_data(standardisation, marks: dict, **extra) -> dict:
    data = {}
    for pk, (level_id, value) in scores(standardisation, marks).items():
        data[f"level-{pk}"] = "0" if level_id is None else str(level_id)
        data[f"marks-{pk}"] = str(value)
    data.update(extra)
    return data


def new_essay(assignment, first="Pupil", last="Numbered", text="The Hotline was a teleprinter link set up in 1963."):
    pupil = StudentFactory(first_name=first, last_name=last)
    assignment.school_class.enrol(pupil)
    return SubmissionFactory(assignment=assignment, student=pupil, text=text, submitted=True)


def agreed_script(standardisation, essay, head, rationale=SECRET, marks=AGREED):
    script = department.add_script(standardisation, essay, essay.text)
    department.set_agreed_mark(script, head, scores(standardisation, marks), rationale)
    return script


@pytest.fixture
def standardisation(marking_assignment, head):
    return Standardisation.objects.create(
        prompt=marking_assignment.prompt,
        title="Mock standardisation",
        tolerance_marks=2,
        tolerance_levels=1,
        created_by=head,
    )


@pytest.fixture
def script(standardisation, essay, head):
    return agreed_script(standardisation, essay, head)


def url(name, *args):
    return reverse(f"classroom:{name}", args=args)


# --- blind: the agreed mark never reaches a marker before their own mark -------------------------


def test_marker_pages_hide_the_agreed_mark_and_the_pupil_until_the_marker_has_marked(
    client, cast, script, school_class
):
    client.force_login(cast["teacher"])
    for page in (url("standardisation_take", script.standardisation_id), url("standardisation_trial", script.pk)):
        content = client.get(page).content.decode()
        assert SECRET not in content
        assert "Why this is the agreed mark" not in content
        assert "Agreed mark" not in content and "agreed 8" not in content
        assert "Sam Student" not in content and school_class.name not in content
        assert "Script A" in content
    listing = client.get(url("standardisation_list")).content.decode()
    assert SECRET not in listing


def test_after_the_trial_mark_the_marker_sees_the_agreed_mark_rationale_and_difference(client, cast, script):
    client.force_login(cast["teacher"])
    # 2 marks over the agreed total (8), same levels: exactly at the tolerance boundary.
    data = post_data(script.standardisation, {"AO1": (2, 4), "AO2": (2, 6), "SPAG": (1, 2)})
    response = client.post(url("standardisation_trial", script.pk), data, follow=True)
    content = response.content.decode()
    assert response.status_code == 200
    assert SECRET in content
    assert "+2 on the total" in content
    assert "Within tolerance" in content and "Outside tolerance" not in content
    assert "Sam Student" not in content


def test_marking_one_script_does_not_reveal_another_scripts_agreed_mark(client, cast, script, standardisation, head):
    other = agreed_script(
        standardisation, new_essay(script.submission.assignment), head, rationale="Quetzal-second-884"
    )
    department.record_trial_mark(script, cast["teacher"], scores(standardisation, AGREED))
    client.force_login(cast["teacher"])
    take = client.get(url("standardisation_take", standardisation.pk)).content.decode()
    trial = client.get(url("standardisation_trial", script.pk)).content.decode()
    assert "Quetzal-second-884" not in take + trial
    assert "Quetzal-second-884" not in client.get(url("standardisation_trial", other.pk)).content.decode()
    assert SECRET in trial


def test_a_script_without_an_agreed_mark_is_not_shown_to_markers(client, cast, standardisation, essay):
    script = department.add_script(standardisation, essay, essay.text)
    client.force_login(cast["teacher"])
    assert client.get(url("standardisation_trial", script.pk)).status_code == 404
    assert "Script A" not in client.get(url("standardisation_take", standardisation.pk)).content.decode()


# --- tolerance ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "total_difference,level_differences,within",
    [
        (2, [0, 0], True),  # exactly +2 marks: within
        (-2, [0, 0], True),
        (3, [0, 0], False),
        (-3, [0, 0], False),
        (0, [1, -1], True),  # exactly one level either way: within
        (0, [2, 0], False),
        (0, [0, -2], False),
        (2, [1, 1], True),
        (3, [1, 0], False),
    ],
)
def test_within_tolerance_at_the_boundaries(total_difference, level_differences, within):
    standardisation = Standardisation(tolerance_marks=2, tolerance_levels=1)
    assert department.within_tolerance(standardisation, total_difference, level_differences) is within


def test_a_tolerance_of_nothing_means_exact(standardisation):
    standardisation.tolerance_marks = standardisation.tolerance_levels = 0
    assert department.within_tolerance(standardisation, 0, [0, 0])
    assert not department.within_tolerance(standardisation, 1, [0])
    assert not department.within_tolerance(standardisation, 0, [1])


@pytest.mark.parametrize(
    "trial,total_difference,within",
    [
        ({"AO1": (2, 4), "AO2": (2, 6), "SPAG": (1, 2)}, 2, True),  # +2 marks, same levels
        ({"AO1": (2, 3), "AO2": (1, 3), "SPAG": (1, 1)}, -2, True),  # -2 marks, AO2 one level down
        ({"AO1": (1, 2), "AO2": (1, 3), "SPAG": (1, 2)}, -3, False),  # -3 marks
        ({"AO1": (2, 3), "AO2": (2, 5), "SPAG": (0, 0)}, 0, True),  # SPaG: no level (0) vs level 1
    ],
)
def test_trial_marks_are_compared_with_the_agreed_mark(script, cast, trial, total_difference, within):
    standardisation = script.standardisation
    mark = department.record_trial_mark(script, cast["teacher"], scores(standardisation, trial))
    (item,) = department.agreed_scripts_with_marks(standardisation)
    criteria = list(standardisation.prompt.mark_scheme.criteria.order_by("order"))
    comparison = department.compare_with_agreed(standardisation, criteria, item.trials[mark.marker_id], item.agreed)
    assert comparison.total_difference == total_difference
    assert comparison.within is within


def test_two_levels_apart_on_one_criterion_is_outside_even_with_the_total_in_tolerance(script, cast, standardisation):
    # SPaG is not in the total, so its level alone decides: no level (0) against level 2 is 2 levels.
    department.set_agreed_mark(script, cast["head"], scores(standardisation, {**AGREED, "SPAG": (2, 3)}), SECRET)
    department.record_trial_mark(script, cast["teacher"], scores(standardisation, {**AGREED, "SPAG": (0, 0)}))
    (result,) = [
        r
        for r in department.marker_results(
            standardisation,
            list(standardisation.prompt.mark_scheme.criteria.order_by("order")),
            department.agreed_scripts_with_marks(standardisation),
        )
        if r.marker == cast["teacher"]
    ]
    assert result.comparisons[0].total_difference == 0
    assert result.within is False


# --- the gate in front of marking --------------------------------------------------------------


def test_a_required_standardisation_holds_up_the_marking_queue_until_its_scripts_are_marked(
    client, cast, script, essay
):
    teacher = cast["teacher"]
    client.force_login(teacher)
    queue, page = url("marking_queue", essay.assignment_id), url("mark_submission", essay.pk)
    take = url("standardisation_take", script.standardisation_id)
    for address in (queue, page):
        response = client.get(address)
        assert response.status_code == 302 and response["Location"] == take
    followed = client.get(queue, follow=True).content.decode()
    assert "Before you mark work on this question" in followed
    client.post(url("standardisation_trial", script.pk), post_data(script.standardisation, AGREED))
    assert client.get(queue).status_code == 200
    assert client.get(page).status_code == 200


def test_a_new_agreed_script_holds_up_marking_again(client, cast, script, essay, head):
    department.record_trial_mark(script, cast["teacher"], scores(script.standardisation, AGREED))
    client.force_login(cast["teacher"])
    assert client.get(url("marking_queue", essay.assignment_id)).status_code == 200
    agreed_script(script.standardisation, new_essay(essay.assignment), head)
    assert client.get(url("marking_queue", essay.assignment_id)).status_code == 302


def test_the_head_is_never_held_up(client, cast, script, essay):
    client.force_login(cast["head"])
    assert client.get(url("marking_queue", essay.assignment_id)).status_code == 200
    assert client.get(url("mark_submission", essay.pk)).status_code == 200


def test_no_hold_up_when_optional_when_no_script_is_agreed_or_on_another_question(client, cast, standardisation, essay):
    client.force_login(cast["teacher"])
    queue = url("marking_queue", essay.assignment_id)
    department.add_script(standardisation, essay, essay.text)  # no agreed mark yet
    assert client.get(queue).status_code == 200
    agreed = StandardisationScript.objects.get()
    department.set_agreed_mark(agreed, cast["head"], scores(standardisation, AGREED), SECRET)
    assert client.get(queue).status_code == 302
    Standardisation.objects.filter(pk=standardisation.pk).update(required=False)
    assert client.get(queue).status_code == 200
    other = AssignmentFactory(school_class=essay.assignment.school_class)  # another question
    Standardisation.objects.filter(pk=standardisation.pk).update(required=True)
    assert client.get(url("marking_queue", other.pk)).status_code == 200


def test_an_assignment_on_a_teachers_copy_of_the_question_is_held_up_too(client, cast, script, school_class):
    copy = script.standardisation.prompt.make_copy(cast["teacher"])
    assignment = AssignmentFactory(school_class=school_class, prompt=copy)
    client.force_login(cast["teacher"])
    assert client.get(url("marking_queue", assignment.pk)).status_code == 302
    assert department.standardisation_due(cast["head"], copy) is None


def test_a_save_from_the_marking_page_is_not_lost_to_the_gate(client, cast, script, essay):
    from tests.helpers import mark_post

    client.force_login(cast["teacher"])
    response = client.post(url("mark_submission", essay.pk), mark_post(essay, {"AO1": (1, 1)}))
    assert response["Location"] == url("mark_submission", essay.pk)
    assert essay.mark.total == 1


# --- pupils' names -----------------------------------------------------------------------------


def test_a_script_naming_a_pupil_of_the_class_is_refused_until_the_name_is_taken_out(
    client, cast, standardisation, marking_assignment
):
    named = new_essay(
        marking_assignment, text="As sam said in class, the Hotline mattered."
    )  # "Sam Student" is on the roster
    client.force_login(cast["head"])
    add = url("standardisation_add_script", standardisation.pk)
    response = client.post(add, {"submission": named.pk})
    assert response.status_code == 400
    assert "names Sam" in response.content.decode()
    assert not StandardisationScript.objects.exists()
    # Still naming a pupil after an edit: refused again.
    response = client.post(add, {"submission": named.pk, "text": "Mr STUDENT said the Hotline mattered."})
    assert response.status_code == 400 and not StandardisationScript.objects.exists()
    response = client.post(add, {"submission": named.pk, "text": "As a classmate said, the Hotline mattered."})
    script = StandardisationScript.objects.get()
    assert response["Location"] == url("standardisation_script", script.pk)
    assert script.label == "Script A" and script.text == "As a classmate said, the Hotline mattered."
    named.refresh_from_db()
    assert "sam" in named.text  # the pupil's own essay is untouched


def test_names_count_only_as_whole_words(standardisation, marking_assignment):
    essay = new_essay(marking_assignment, text="Samuel and the Studentenbewegung: nobody is named here.")
    assert department.add_script(standardisation, essay, essay.text).label == "Script A"


def test_a_pupil_who_left_the_class_is_still_on_its_roster(standardisation, marking_assignment, school_class, student):
    school_class.enrolments.filter(student=student).update(removed_at="2020-01-01T00:00Z")
    essay = new_essay(marking_assignment, text="Sam wrote this with me.")
    with pytest.raises(NamedPupilError):
        department.add_script(standardisation, essay, essay.text)


def test_editing_the_copy_or_the_rationale_cannot_bring_a_name_back(client, cast, script):
    client.force_login(cast["head"])
    page = url("standardisation_script", script.pk)
    response = client.post(page, {"action": "text", "copy-text": "Written by Sam Student."})
    assert response.status_code == 400
    data = post_data(script.standardisation, AGREED, action="agree", note="Sam shows good knowledge.")
    assert client.post(page, data).status_code == 400
    script.refresh_from_db()
    assert "Sam" not in script.text and script.rationale == SECRET


def test_a_pupil_of_another_class_may_be_named(standardisation, marking_assignment, other_class):
    essay = new_essay(marking_assignment, text="Olly Outsider is a historian I read.")
    department.add_script(standardisation, essay, essay.text)


# --- the head's pages --------------------------------------------------------------------------


def test_the_head_sets_up_a_standardisation_and_picks_scripts(client, cast, marking_assignment, essay):
    client.force_login(cast["head"])
    response = client.post(
        url("standardisation_create"),
        {
            "prompt": marking_assignment.prompt_id,
            "title": "Autumn",
            "tolerance_marks": 3,
            "tolerance_levels": 1,
            "required": "on",
        },
    )
    standardisation = Standardisation.objects.get()
    assert response["Location"] == url("standardisation_add_script", standardisation.pk)
    assert standardisation.created_by == cast["head"] and standardisation.tolerance_marks == 3
    page = client.get(url("standardisation_add_script", standardisation.pk), {"assignment": marking_assignment.pk})
    assert "Sam Student" in page.content.decode()  # the head picks by name
    client.post(url("standardisation_add_script", standardisation.pk), {"submission": essay.pk})
    second = new_essay(marking_assignment)
    client.post(url("standardisation_add_script", standardisation.pk), {"submission": second.pk})
    assert list(standardisation.scripts.values_list("label", flat=True)) == ["Script A", "Script B"]
    script = standardisation.scripts.get(label="Script A")
    data = post_data(standardisation, AGREED, action="agree", note="Secure knowledge; one-sided.")
    assert client.post(url("standardisation_script", script.pk), data).status_code == 302
    agreed = ReviewMark.objects.get(script=script, kind=ReviewMark.Kind.AGREED_STANDARD)
    assert agreed.total == 8 and agreed.marker == cast["head"]
    script.refresh_from_db()
    assert script.rationale == "Secure knowledge; one-sided."


def test_the_results_page_states_the_rule_and_each_markers_standing(client, cast, script, standardisation):
    department.record_trial_mark(
        script, cast["teacher"], scores(standardisation, {"AO1": (1, 1), "AO2": (1, 3), "SPAG": (1, 2)})
    )
    department.record_trial_mark(script, cast["other_teacher"], scores(standardisation, AGREED))
    client.force_login(cast["head"])
    content = client.get(url("standardisation_results", standardisation.pk)).content.decode()
    assert "Within tolerance: the total (not counting SPaG) is within ±2 marks" in content
    assert "±1 level of the agreed level" in content
    teacher_row = content[content.index("Tess Teacher") : content.index("</tr>", content.index("Tess Teacher"))]
    other_row = content[content.index("Otto Other") : content.index("</tr>", content.index("Otto Other"))]
    assert "-4" in teacher_row and "Outside" in teacher_row
    assert "1 of 1" in other_row and "Within" in other_row
    assert "1 marker within tolerance, of 2 markers." in content


def test_taking_a_script_out_needs_the_box_ticked(client, cast, script):
    client.force_login(cast["head"])
    remove = url("standardisation_script_remove", script.pk)
    client.post(remove, {})
    assert StandardisationScript.objects.filter(pk=script.pk).exists()
    client.post(remove, {"confirm": "yes"})
    assert not StandardisationScript.objects.filter(pk=script.pk).exists()


def test_labels_are_not_reused_while_the_script_exists_and_fill_gaps(standardisation, marking_assignment):
    a, b, c = (new_essay(marking_assignment, last=f"N{n}") for n in range(3))
    first = department.add_script(standardisation, a, a.text)
    department.add_script(standardisation, b, b.text)
    first.delete()
    assert department.add_script(standardisation, c, c.text).label == "Script A"
    assert department.script_label(25) == "Script Z" and department.script_label(26) == "Script AA"


# --- access ------------------------------------------------------------------------------------

HEAD_GETS = [
    "standardisation_create",
    "standardisation_detail",
    "standardisation_edit",
    "standardisation_add_script",
    "standardisation_results",
    "standardisation_script",
]
MARKER_GETS = ["standardisation_list", "standardisation_take", "standardisation_trial"]
HEAD_POSTS = [
    "standardisation_create",
    "standardisation_edit",
    "standardisation_add_script",
    "standardisation_script",
    "standardisation_script_remove",
]
MARKER_POSTS = ["standardisation_trial"]


def _address(name, script):
    if name in ("standardisation_list", "standardisation_create"):
        return url(name)
    if name in ("standardisation_script", "standardisation_trial", "standardisation_script_remove"):
        return url(name, script.pk)
    return url(name, script.standardisation_id)


@pytest.mark.parametrize("name", HEAD_GETS + MARKER_GETS)
@pytest.mark.parametrize("who", ["student", "outsider", "teacher", "other_teacher", "head"])
def test_pages_access_matrix(client, cast, script, name, who):
    client.force_login(cast[who])
    if who in ("student", "outsider"):
        expected = 403
    elif who == "head" or name in MARKER_GETS:
        expected = 200
    else:
        expected = 403
    assert client.get(_address(name, script)).status_code == expected


@pytest.mark.parametrize("name", HEAD_GETS + MARKER_GETS + HEAD_POSTS)
def test_pages_send_anonymous_visitors_to_log_in(client, script, name):
    response = (
        client.post(_address(name, script))
        if name == "standardisation_script_remove"
        else client.get(_address(name, script))
    )
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


WRONG_ROLE_POSTS = [(name, who) for name in HEAD_POSTS for who in ("student", "teacher", "other_teacher")] + [
    (name, "student")
    for name in MARKER_POSTS  # every teacher marks the scripts
]


@pytest.mark.parametrize("name,who", WRONG_ROLE_POSTS)
def test_posts_by_the_wrong_role_change_nothing(client, cast, script, name, who):
    before = _snapshot()
    client.force_login(cast[who])
    data = post_data(
        script.standardisation,
        AGREED,
        action="agree",
        note="Changed",
        confirm="yes",
        submission=script.submission_id,
        title="Changed",
        tolerance_marks=9,
        tolerance_levels=9,
    )
    assert client.post(_address(name, script), data).status_code == 403
    assert _snapshot() == before


def _snapshot():
    return (
        list(Standardisation.objects.values_list("pk", "title", "tolerance_marks", "tolerance_levels", "required")),
        list(StandardisationScript.objects.values_list("pk", "label", "text", "rationale")),
        list(ReviewMark.objects.values_list("pk", "kind", "marker", "total")),
    )


def test_anonymous_posts_change_nothing(client, script):
    before = _snapshot()
    client.post(url("standardisation_trial", script.pk), post_data(script.standardisation, AGREED))
    client.post(url("standardisation_script_remove", script.pk), {"confirm": "yes"})
    assert _snapshot() == before


# --- bad input changes nothing -----------------------------------------------------------------


def test_an_incomplete_or_out_of_band_trial_mark_is_refused(client, cast, script):
    client.force_login(cast["teacher"])
    trial = url("standardisation_trial", script.pk)
    standardisation = script.standardisation
    incomplete = post_data(standardisation, {"AO1": (2, 3), "AO2": (2, 5)})
    out_of_band = post_data(standardisation, {"AO1": (1, 4), "AO2": (2, 5), "SPAG": (1, 2)})
    wrong_level = post_data(standardisation, AGREED)
    ao1 = _criteria(standardisation)["AO1"]
    wrong_level[f"level-{ao1.pk}"] = str(_criteria(standardisation)["AO2"].levels.first().pk)
    for data in (incomplete, out_of_band, wrong_level, {}, {f"marks-{ao1.pk}": "9" * 30}):
        response = client.post(trial, data)
        assert response.status_code == 400
        assert SECRET not in response.content.decode()
    assert not ReviewMark.objects.filter(kind=ReviewMark.Kind.TRIAL).exists()


def test_a_trial_mark_is_final(client, cast, script):
    client.force_login(cast["teacher"])
    trial = url("standardisation_trial", script.pk)
    client.post(trial, post_data(script.standardisation, AGREED))
    before = _snapshot()
    response = client.post(
        trial, post_data(script.standardisation, {"AO1": (1, 1), "AO2": (1, 1), "SPAG": (1, 1)}), follow=True
    )
    assert "your mark stands" in response.content.decode()
    assert _snapshot() == before
    with pytest.raises(Exception, match="already marked"):
        department.record_trial_mark(script, cast["teacher"], scores(script.standardisation, AGREED))


@pytest.mark.parametrize(
    "data",
    [
        {"prompt": "999999", "title": "X", "tolerance_marks": 2, "tolerance_levels": 1},
        {"prompt": "99999999999999999999999", "title": "X", "tolerance_marks": 2, "tolerance_levels": 1},
        {"prompt": "PROMPT", "title": "", "tolerance_marks": 2, "tolerance_levels": 1},
        {"prompt": "PROMPT", "title": "X", "tolerance_marks": -1, "tolerance_levels": 1},
        {"prompt": "PROMPT", "title": "X", "tolerance_marks": 2, "tolerance_levels": "lots"},
        {"prompt": "PROMPT", "title": "X" * 201, "tolerance_marks": 2, "tolerance_levels": 1},
    ],
)
def test_bad_settings_are_refused(client, cast, marking_assignment, data):
    client.force_login(cast["head"])
    data = {k: (marking_assignment.prompt_id if v == "PROMPT" else v) for k, v in data.items()}
    assert client.post(url("standardisation_create"), data).status_code == 400
    assert not Standardisation.objects.exists()


def test_bad_settings_on_an_existing_standardisation_change_nothing(client, cast, script):
    client.force_login(cast["head"])
    before = _snapshot()
    data = {"title": "", "tolerance_marks": "-3", "tolerance_levels": "1"}
    assert client.post(url("standardisation_edit", script.standardisation_id), data).status_code == 400
    assert _snapshot() == before


@pytest.mark.parametrize("which", ["draft", "missing", "huge", "text", "duplicate", "empty"])
def test_bad_picks_add_no_script(client, cast, script, marking_assignment, which):
    client.force_login(cast["head"])
    before = _snapshot()
    data: dict = {"submission": script.submission_id}
    if which == "draft":
        pupil = StudentFactory(first_name="Dee", last_name="Draft")
        marking_assignment.school_class.enrol(pupil)
        data["submission"] = SubmissionFactory(assignment=marking_assignment, student=pupil).pk
    elif which == "missing":
        data["submission"] = 987654
    elif which == "huge":
        data["submission"] = "9" * 30
    elif which == "text":
        data = {"submission": new_essay(marking_assignment).pk, "text": "x" * 100_001}
        before = _snapshot()
    elif which == "empty":
        with pytest.raises(ScriptError):
            department.add_script(script.standardisation, new_essay(marking_assignment), "  ")
        before = _snapshot()
        data["text"] = "x" * 100_001
    response = client.post(url("standardisation_add_script", script.standardisation_id), data, follow=True)
    assert response.status_code == 200
    assert _snapshot() == before
    if which == "duplicate":
        assert "already Script A" in response.content.decode()


def test_a_bad_agreed_mark_or_copy_changes_nothing(client, cast, script):
    client.force_login(cast["head"])
    page = url("standardisation_script", script.pk)
    before = _snapshot()
    no_rationale = post_data(script.standardisation, {**AGREED, "AO1": (2, 4)}, action="agree", note="")
    incomplete = post_data(script.standardisation, {"AO1": (2, 4)}, action="agree", note="Why")
    for data in (no_rationale, incomplete, {"action": "text", "copy-text": "  "}, {"action": "other"}, {}):
        assert client.post(page, data).status_code == 400
    assert _snapshot() == before


# --- query budgets: the same at two sizes ------------------------------------------------------


def _queries(client, address) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(address)
    assert response.status_code == 200
    return len(captured)


def _grow(standardisation, assignment, head, scripts: int, markers: int) -> None:
    teachers = [TeacherFactory() for _ in range(markers)]
    for n in range(scripts):
        script = agreed_script(standardisation, new_essay(assignment, last=f"Grown{n}"), head)
        for teacher in teachers:
            department.record_trial_mark(script, teacher, scores(standardisation, AGREED))


@pytest.mark.parametrize(
    "page",
    [
        "standardisation_results",
        "standardisation_take",
        "standardisation_detail",
        "standardisation_list",
        "standardisation_add_script",
    ],
)
def test_query_budget_does_not_grow_with_scripts_or_markers(client, cast, standardisation, marking_assignment, page):
    viewer = (
        cast["head"]
        if page in ("standardisation_results", "standardisation_detail", "standardisation_add_script")
        else cast["teacher"]
    )
    client.force_login(viewer)
    address = url("standardisation_list") if page == "standardisation_list" else url(page, standardisation.pk)
    if page == "standardisation_add_script":
        address += f"?assignment={marking_assignment.pk}"
    _grow(standardisation, marking_assignment, cast["head"], scripts=2, markers=2)
    department.record_trial_mark(standardisation.scripts.first(), cast["teacher"], scores(standardisation, AGREED))
    small = _queries(client, address)
    _grow(standardisation, marking_assignment, cast["head"], scripts=5, markers=4)
    Standardisation.objects.create(prompt=standardisation.prompt, title="Another", created_by=cast["head"])
    assert _queries(client, address) == small


def test_results_page_query_count(client, cast, standardisation, marking_assignment):
    _grow(standardisation, marking_assignment, cast["head"], scripts=3, markers=3)
    client.force_login(cast["head"])
    # session, user, standardisation, scripts, review marks, criterion marks (+ levels),
    # criteria, levels, markers
    assert _queries(client, url("standardisation_results", standardisation.pk)) == 9


def test_the_gate_costs_one_query(cast, script, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert department.standardisation_due(cast["teacher"], script.standardisation.prompt) == script.standardisation
    with django_assert_num_queries(0):
        assert department.standardisation_due(cast["head"], script.standardisation.prompt) is None


def test_an_exemplar_made_of_a_script_stays_hidden_until_the_marker_has_marked_it(client, cast, script, head):
    """The head may promote a standardisation script to an exemplar; a teacher who has not yet
    marked the script must not read its agreed mark there first."""
    from classroom.models import Exemplar

    Exemplar.objects.create(
        prompt=script.standardisation.prompt,
        script=script,
        submission=script.submission,
        title="PLANTED-SCRIPT-EXEMPLAR",
        text=script.text,
        level_name="Level 2",
        total=8,
        max_total=10,
        commentary="PLANTED-RATIONALE",
        promoted_by=head,
    )
    teacher = cast["teacher"]
    client.force_login(teacher)
    address = url("exemplar_question", script.standardisation.prompt_id)
    assert "PLANTED-SCRIPT-EXEMPLAR" not in client.get(address).content.decode()
    department.record_trial_mark(script, teacher, scores(script.standardisation, AGREED))
    assert "PLANTED-SCRIPT-EXEMPLAR" in client.get(address).content.decode()
    client.force_login(head)
    assert "PLANTED-SCRIPT-EXEMPLAR" in client.get(address).content.decode()
