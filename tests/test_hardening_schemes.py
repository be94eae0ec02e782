"""Security review M6: a released mark never changes when its question's mark scheme does.

Once an essay has been marked with a scheme, its structure is fixed (criteria, codes, SPaG,
levels, bands; wording may still change), a marked question keeps its scheme, and editing
means making a copy. Every mark also keeps the maxima it was given against, and every page
reads those. The setup follows the review: the teacher's own copy of a shipped question,
marked 16/16 (+ 4/4 SPaG) and released.
"""

from __future__ import annotations

import csv
import io
import shutil

import pytest
import yaml
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from classroom.models import CriterionMark, Mark
from crisis.content.loader import CONTENT_DIR, LoaderError, load_unit
from crisis.models import Criterion, EssayPrompt, Level, MarkScheme, SchemeInUse
from tests.factories import AssignmentFactory, EssayPromptFactory
from tests.helpers import hand_in, mark_revision

pytestmark = pytest.mark.django_db

FEEDBACK = "16 out of 16"


def sixteen_mark_scheme(owner=None) -> MarkScheme:
    """AO1 and AO2 (levels 1–4 and 5–8 each): 16 marks, plus SPaG (1–2, 3–4)."""
    scheme = MarkScheme.objects.create(name="Sixteen marks", owner=owner)
    for order, (code, spag, bands) in enumerate(
        [("AO1", False, [(1, 4), (5, 8)]), ("AO2", False, [(1, 4), (5, 8)]), ("SPAG", True, [(1, 2), (3, 4)])]
    ):
        criterion = Criterion.objects.create(scheme=scheme, order=order, code=code, name=f"Skill {code}", is_spag=spag)
        for number, (low, high) in enumerate(bands, start=1):
            Level.objects.create(
                criterion=criterion, number=number, min_marks=low, max_marks=high, descriptor=f"{code} L{number}"
            )
    return scheme


def full_marks(essay, teacher, release=True) -> Mark:
    """The top level and its top mark on every criterion, completed (and released)."""
    scheme = essay.assignment.prompt.mark_scheme
    scores = {}
    for criterion in scheme.criteria.prefetch_related("levels"):
        top = max(criterion.levels.all(), key=lambda level: level.number)
        scores[criterion.pk] = (top.pk, top.max_marks)
    mark = essay.record_mark(teacher, scores, base_revision=mark_revision(essay), www="Full marks")
    mark.complete(by=teacher)
    if release:
        mark.release(by=teacher)
    return mark


@pytest.fixture
def shipped_prompt(db) -> EssayPrompt:
    return EssayPromptFactory(mark_scheme=sixteen_mark_scheme())


@pytest.fixture
def own_prompt(shipped_prompt, teacher) -> EssayPrompt:
    """The teacher's own copy of the shipped question, with their own copy of its scheme."""
    return shipped_prompt.make_copy(teacher)


@pytest.fixture
def released(own_prompt, school_class, teacher, student) -> Mark:
    assignment = AssignmentFactory(school_class=school_class, prompt=own_prompt, title="Scheme swap essay")
    return full_marks(hand_in(assignment, student), teacher)


def post_data(context) -> dict:
    """The POST a browser would send for the page's form and formsets, unchanged."""
    data: dict = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else str(value)

    if "form" in context:
        add(context["form"])
    formsets = list(context["formsets"].values()) if "formsets" in context else []
    if context.get("formset") is not None:
        formsets.append(context["formset"])
    for formset in formsets:
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def structure(scheme: MarkScheme) -> list:
    """Everything about a scheme that a mark depends on."""
    return [
        (c.code, c.is_spag, [(lv.number, lv.min_marks, lv.max_marks) for lv in c.levels.order_by("number")])
        for c in scheme.criteria.order_by("order", "pk")
    ]


def feedback_page(client, mark) -> str:
    client.force_login(mark.submission.student)
    response = client.get(reverse("classroom:feedback", args=[mark.submission.assignment_id]))
    assert response.status_code == 200
    return response.text


def markbook_page(client, teacher, school_class) -> str:
    client.force_login(teacher)
    response = client.get(reverse("classroom:markbook", args=[school_class.pk]))
    assert response.status_code == 200
    return response.text


def assert_still_sixteen_out_of_sixteen(client, mark, teacher) -> None:
    """The pupil's feedback and the teacher's markbook read exactly as released."""
    html = feedback_page(client, mark)
    assert f"<strong>{FEEDBACK}</strong>" in html
    assert "spelling, punctuation and grammar: <strong>4 out of 4</strong>" in html
    assert html.count("8 out of 8") == 2
    assert "Not marked" not in html
    book = markbook_page(client, teacher, mark.submission.assignment.school_class)
    assert '<span class="cell-mark">16/16</span> <span class="cell-percent">100%</span>' in book
    assert "out of 16</span>" in book


# --- the review's attack, over HTTP ----------------------------------------------------------


def test_m6_a_marked_question_cannot_switch_scheme(client, teacher, released, own_prompt):
    other = MarkScheme.objects.create(name="One criterion", owner=teacher)
    criterion = Criterion.objects.create(scheme=other, code="AO9", name="New")
    Level.objects.create(criterion=criterion, number=1, min_marks=0, max_marks=50, descriptor="All of it")
    url = reverse("content:prompt_edit", args=[own_prompt.pk])
    client.force_login(teacher)
    data = post_data(client.get(url).context)
    data["mark_scheme"] = str(other.pk)
    data["question"] = "A changed question"

    response = client.post(url, data)

    assert response.status_code == 200
    assert "This question keeps its mark scheme: 1 essay set from it has been marked with it." in response.text
    own_prompt.refresh_from_db()
    assert own_prompt.mark_scheme_id != other.pk
    assert own_prompt.question != "A changed question"  # nothing saved
    assert_still_sixteen_out_of_sixteen(client, released, teacher)
    assert "16 out of 50" not in feedback_page(client, released)


def test_m6_re_banding_a_level_of_a_used_scheme_is_refused(client, teacher, released, own_prompt):
    scheme = own_prompt.mark_scheme
    before = structure(scheme)
    criterion = scheme.criteria.get(code="AO1")
    url = reverse("content:criterion_levels", args=[criterion.pk])
    client.force_login(teacher)
    data = post_data(client.get(url).context)
    data["levels-1-max_marks"] = "25"  # level 2: 5–25
    data["levels-0-descriptor"] = "Changed with the bands"

    response = client.post(url, data)

    assert response.status_code == 200
    assert "Nothing was saved: this mark scheme has been used to mark 1 essay" in response.text
    assert "Make an editable copy" in response.text
    assert structure(scheme) == before
    assert not criterion.levels.filter(descriptor="Changed with the bands").exists()
    assert_still_sixteen_out_of_sixteen(client, released, teacher)


def test_m6_adding_a_criterion_to_a_used_scheme_is_refused(client, teacher, released, own_prompt):
    scheme = own_prompt.mark_scheme
    before = structure(scheme)
    url = reverse("content:markscheme_edit", args=[scheme.pk])
    client.force_login(teacher)
    data = post_data(client.get(url).context)
    total = int(data["criteria-TOTAL_FORMS"])
    data["criteria-TOTAL_FORMS"] = str(total + 1)
    data.update({f"criteria-{total}-code": "AO9", f"criteria-{total}-name": "New", f"criteria-{total}-order": "9"})

    response = client.post(url, data)

    assert response.status_code == 200
    assert "Nothing was saved: this mark scheme has been used to mark 1 essay" in response.text
    assert structure(scheme) == before
    assert_still_sixteen_out_of_sixteen(client, released, teacher)


def test_m6_re_coding_a_criterion_or_moving_spag_in_a_used_scheme_is_refused(client, teacher, released, own_prompt):
    scheme = own_prompt.mark_scheme
    before = structure(scheme)
    url = reverse("content:markscheme_edit", args=[scheme.pk])
    client.force_login(teacher)
    data = post_data(client.get(url).context)
    data["criteria-0-code"] = "AO7"
    data["criteria-1-is_spag"] = "on"
    data.pop("criteria-2-is_spag")

    response = client.post(url, data)

    assert response.status_code == 200
    assert "this mark scheme has been used to mark 1 essay" in response.text
    assert structure(scheme) == before
    assert_still_sixteen_out_of_sixteen(client, released, teacher)


def test_m6_the_models_refuse_what_the_forms_refuse(teacher, released, own_prompt):
    """The rule lives on the models: the admin, the shell and any future page meet it too."""
    scheme = own_prompt.mark_scheme
    before = structure(scheme)
    ao1 = scheme.criteria.get(code="AO1")
    top = ao1.levels.get(number=2)
    attempts = [
        lambda: Criterion.objects.create(scheme=scheme, code="AO9", name="New"),
        lambda: Level.objects.create(criterion=ao1, number=3, min_marks=9, max_marks=12, descriptor="More"),
        lambda: ao1.levels.get(number=1).delete(),
        lambda: scheme.criteria.get(code="AO2").delete(),
    ]
    top.max_marks = 50
    attempts.append(top.save)
    ao1.code = "AO7"
    attempts.append(ao1.save)
    for attempt in attempts:
        with pytest.raises(SchemeInUse):
            attempt()
    assert structure(scheme) == before

    other = sixteen_mark_scheme(owner=teacher)
    own_prompt.mark_scheme = other
    with pytest.raises(SchemeInUse, match="keeps its mark scheme"):
        own_prompt.save()
    assert EssayPrompt.objects.get(pk=own_prompt.pk).mark_scheme_id == scheme.pk


def test_m6_the_wording_of_a_used_scheme_can_still_be_corrected(client, teacher, released, own_prompt):
    scheme = own_prompt.mark_scheme
    before = structure(scheme)
    criterion = scheme.criteria.get(code="AO1")
    url = reverse("content:criterion_levels", args=[criterion.pk])
    client.force_login(teacher)
    page = client.get(url)
    assert "This mark scheme has been used to mark 1 essay, so its criteria, levels and mark bands are fixed" in (
        page.text
    )
    data = post_data(page.context)
    data["levels-1-descriptor"] = "Precise knowledge (typo fixed)"
    assert client.post(url, data).status_code == 302

    edit_url = reverse("content:markscheme_edit", args=[scheme.pk])
    page = client.get(edit_url)
    assert page.context["formset"].total_form_count() == 3  # no blank row offered for a new criterion
    data = post_data(page.context)
    data["name"] = "Sixteen marks (fixed)"
    data["criteria-0-name"] = "Knowledge and understanding"
    assert client.post(edit_url, data).status_code == 302

    assert structure(scheme) == before
    assert criterion.levels.get(number=2).descriptor == "Precise knowledge (typo fixed)"
    assert scheme.criteria.get(code="AO1").name == "Knowledge and understanding"
    assert "Precise knowledge (typo fixed)" in feedback_page(client, released)
    assert_still_sixteen_out_of_sixteen(client, released, teacher)


# --- editing a used scheme makes a copy ------------------------------------------------------


def test_m6_editing_a_used_scheme_makes_a_copy_which_edits_freely(client, teacher, released, own_prompt):
    scheme = own_prompt.mark_scheme
    before = structure(scheme)
    client.force_login(teacher)
    page = client.get(reverse("content:markscheme_edit", args=[scheme.pk]))
    assert reverse("content:markscheme_copy", args=[scheme.pk]) in page.text

    response = client.post(reverse("content:markscheme_copy", args=[scheme.pk]))

    copy = MarkScheme.objects.get(copied_from=scheme)
    assert response["Location"] == reverse("content:markscheme_edit", args=[copy.pk])
    # The question's own copy of the scheme is "Sixteen marks (copy)": this one is numbered on.
    assert copy.owner == teacher and copy.name == "Sixteen marks (copy 2)"
    assert structure(copy) == before and copy.marked_essays() == 0
    levels_url = reverse("content:criterion_levels", args=[copy.criteria.get(code="AO1").pk])
    data = post_data(client.get(levels_url).context)
    data["levels-1-max_marks"] = "10"
    assert client.post(levels_url, data).status_code == 302
    assert copy.criteria.get(code="AO1").max_marks == 10
    assert structure(scheme) == before

    # The marked question may not move to the copy; a question with no marks may.
    prompt_url = reverse("content:prompt_edit", args=[own_prompt.pk])
    data = post_data(client.get(prompt_url).context)
    data["mark_scheme"] = str(copy.pk)
    assert "keeps its mark scheme" in client.post(prompt_url, data).text
    assert EssayPrompt.objects.get(pk=own_prompt.pk).mark_scheme_id == scheme.pk
    unmarked = EssayPromptFactory(owner=teacher, unit=own_prompt.unit, mark_scheme=sixteen_mark_scheme(teacher))
    unmarked_url = reverse("content:prompt_edit", args=[unmarked.pk])
    data = post_data(client.get(unmarked_url).context)
    data["mark_scheme"] = str(copy.pk)
    assert client.post(unmarked_url, data).status_code == 302
    assert EssayPrompt.objects.get(pk=unmarked.pk).mark_scheme_id == copy.pk
    assert_still_sixteen_out_of_sixteen(client, released, teacher)


@pytest.mark.parametrize(("who", "status"), [("teacher", 302), ("other_teacher", 302), ("student", 403)])
def test_m6_any_teacher_may_copy_a_scheme_students_may_not(client, cast, own_prompt, who, status):
    client.force_login(cast[who])
    url = reverse("content:markscheme_copy", args=[own_prompt.mark_scheme_id])
    assert client.post(url).status_code == status
    assert MarkScheme.objects.filter(copied_from=own_prompt.mark_scheme).count() == (1 if status == 302 else 0)


def test_m6_copying_a_scheme_needs_a_login_a_post_and_an_existing_scheme(client, teacher, own_prompt):
    url = reverse("content:markscheme_copy", args=[own_prompt.mark_scheme_id])
    assert client.post(url)["Location"].startswith(reverse("login"))
    client.force_login(teacher)
    assert client.get(url).status_code == 405
    assert client.post(reverse("content:markscheme_copy", args=[999999])).status_code == 404
    assert not MarkScheme.objects.filter(copied_from=own_prompt.mark_scheme).exists()


def test_m6_an_unused_scheme_still_edits_freely_and_marks_are_out_of_its_new_bands(
    client, teacher, student, school_class, own_prompt
):
    """Handed in but not yet marked: nothing depends on the bands, so they change freely."""
    essay = hand_in(AssignmentFactory(school_class=school_class, prompt=own_prompt), student)
    scheme = own_prompt.mark_scheme
    client.force_login(teacher)
    page = client.get(reverse("content:markscheme_edit", args=[scheme.pk]))
    assert "scheme-fixed" not in page.text
    levels_url = reverse("content:criterion_levels", args=[scheme.criteria.get(code="AO1").pk])
    data = post_data(client.get(levels_url).context)
    data["levels-1-max_marks"] = "12"
    assert client.post(levels_url, data).status_code == 302
    other = sixteen_mark_scheme(owner=teacher)
    prompt_url = reverse("content:prompt_edit", args=[own_prompt.pk])
    data = post_data(client.get(prompt_url).context)
    data["mark_scheme"] = str(other.pk)
    assert client.post(prompt_url, data).status_code == 302
    data["mark_scheme"] = str(scheme.pk)
    assert client.post(prompt_url, data).status_code == 302  # and back

    mark = full_marks(essay, teacher)

    assert (mark.total, mark.max_total, mark.max_spag) == (20, 20, 4)
    assert sorted(mark.criterion_marks.values_list("marks", "max_marks")) == [(4, 4), (8, 8), (12, 12)]
    assert "<strong>20 out of 20</strong>" in feedback_page(client, mark)


# --- every page reads the maxima stored with the mark ---------------------------------------


def test_m6_stored_maxima_survive_a_scheme_changed_underneath(client, teacher, head, released, own_prompt):
    """Even a change that bypasses the rule (straight in the database) leaves marks as given."""
    scheme = own_prompt.mark_scheme
    Level.objects.filter(criterion__scheme=scheme, number=2).update(max_marks=50)
    extra = Criterion.objects.bulk_create([Criterion(scheme=scheme, order=9, code="AO4", name="Judgement")])
    Level.objects.bulk_create([Level(criterion=extra[0], number=1, min_marks=1, max_marks=30, descriptor="x")])
    assert MarkScheme.objects.get(pk=scheme.pk).total_marks == 130  # the scheme now says something else entirely

    assert_still_sixteen_out_of_sixteen(client, released, teacher)
    essay = released.submission
    client.force_login(teacher)
    marking = client.get(reverse("classroom:mark_submission", args=[essay.pk])).text
    assert "</output> / 16</strong>" in marking and "</output> / 4</strong>" in marking
    progress = client.get(reverse("classroom:student_progress", args=[essay.student_id])).text
    assert "<td>16/16 (100.0%)</td>" in progress
    assert progress.count("8/8 (<span") == 2
    export = client.get(
        reverse("classroom:markbook_export", args=[essay.assignment.school_class_id]), {"shape": "long"}
    )
    row = next(r for r in csv.reader(io.StringIO(export.content.decode())) if r[4] == "Scheme swap essay")
    assert row[7:10] == ["16", "16", "100"]
    client.force_login(head)
    department = client.get(reverse("classroom:department_progress"), {"prompt": own_prompt.copied_from_id})
    row = department.context["view"].rows[0]
    assert row.mean_percent == 100.0
    assert row.criteria["AO1"] == (8.0, 100.0) and row.criteria["AO2"] == (8.0, 100.0)


# --- the shipped unit and the migration ----------------------------------------------------


def test_m6_reloading_the_unit_cannot_re_band_a_used_shipped_scheme(tmp_path, teacher, student, school_class):
    folder = tmp_path / "unit"
    shutil.copytree(CONTENT_DIR / "cuban_missile_crisis", folder)
    load_unit(folder)
    prompt = EssayPrompt.objects.shipped().get(slug="crisis-improved-relations")
    released = full_marks(hand_in(AssignmentFactory(school_class=school_class, prompt=prompt), student), teacher)
    before = structure(prompt.mark_scheme)
    path = folder / "prompts.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data[0]["mark_scheme"]["criteria"][0]["levels"].append(
        {"number": 5, "min_marks": 17, "max_marks": 17, "descriptor": "Beyond the top band."}
    )
    data[0]["total_marks"] += 1
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")

    with pytest.raises(LoaderError, match="essays have been marked with its mark scheme"):
        load_unit(folder)

    assert structure(prompt.mark_scheme) == before
    released.refresh_from_db()
    assert (released.total, released.max_total) == (prompt.total_marks, prompt.total_marks)


@pytest.mark.django_db(transaction=True)
def test_m6_the_migration_fills_each_mark_s_maxima_from_the_scheme_it_was_given_with(
    teacher, released, own_prompt, school_class, student
):
    drafted = hand_in(AssignmentFactory(school_class=school_class, prompt=own_prompt), student)
    started = Mark.for_submission(drafted, teacher)  # a comment, no levels yet
    switched_to = sixteen_mark_scheme(owner=teacher)
    Level.objects.filter(criterion__scheme=switched_to).update(max_marks=50, min_marks=1)  # now 100 + 50

    executor = MigrationExecutor(connection)
    executor.migrate([("classroom", "0006_readiness_probe")])
    # Before this change a marked question could switch scheme (the attack in the review).
    EssayPrompt.objects.filter(pk=own_prompt.pk).update(mark_scheme=switched_to)
    executor = MigrationExecutor(connection)
    executor.migrate([("classroom", "0007_mark_maxima")])
    old = executor.loader.project_state([("classroom", "0007_mark_maxima")]).apps
    OldMark = old.get_model("classroom", "Mark")
    OldCriterionMark = old.get_model("classroom", "CriterionMark")

    given = OldMark.objects.get(pk=released.pk)
    assert (given.max_total, given.max_spag) == (16, 4)  # the scheme its levels came from
    assert sorted(OldCriterionMark.objects.filter(mark_id=released.pk).values_list("max_marks", flat=True)) == [4, 8, 8]
    fresh = OldMark.objects.get(pk=started.pk)
    assert (fresh.max_total, fresh.max_spag) == (100, 50)  # no levels yet: the question's scheme

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert CriterionMark.objects.filter(mark=released).count() == 3
