"""Mark schemes as the boards write them (issue 12, item 4).

The scheme format (any number of levels, an optional 0 band, qualification, best-fit
guidance, AO labels, question types), its loader errors, level-0 marking beside the old
"no level" marks, formative skill strands (saved with the mark under its version check,
shown to the pupil with released feedback and on the progress pages), and the pages that
show markers the guidance and indicative content as "not prescriptive".
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from classroom import progress
from classroom.models import CriterionMark, Mark, StrandTick, VersionConflict
from crisis.content.loader import CONTENT_DIR, LoaderError, load_unit, read_unit
from crisis.models import Criterion, EssayPrompt, Level, MarkScheme, validate_bands
from tests.factories import AssignmentFactory, EssayPromptFactory, IndicativePointFactory, SubmissionFactory
from tests.helpers import give_mark, hand_in, mark_fully, mark_post, mark_revision

pytestmark = pytest.mark.django_db

UNIT_DIR = CONTENT_DIR / "cuban_missile_crisis"
GUIDANCE = "Read the whole answer first. Decide the level that best fits it, then place it within the level."


# --- a board-style scheme: AQA's 16 + 4 ----------------------------------------------------


def board_scheme(name: str = "AQA 16 + 4 test scheme") -> MarkScheme:
    """One holistic criterion AO1+AO2 (0; 1–4; 5–8; 9–12; 13–16) and SPaG (0; 1; 2–3; 4)."""
    scheme = MarkScheme.objects.create(
        name=name, qualification="AQA GCSE History (8145), Paper 1 Section B", guidance=GUIDANCE
    )
    content = Criterion.objects.create(
        scheme=scheme, order=0, code="AO1+AO2", assessment_objectives="AO1, AO2", name="Knowledge and analysis"
    )
    for number, (low, high) in enumerate([(0, 0), (1, 4), (5, 8), (9, 12), (13, 16)]):
        Level.objects.create(
            criterion=content, number=number, min_marks=low, max_marks=high, descriptor=f"Content level {number}"
        )
    spag = Criterion.objects.create(scheme=scheme, order=1, code="SPAG", name="SPaG", is_spag=True)
    for number, (low, high) in enumerate([(0, 0), (1, 1), (2, 3), (4, 4)]):
        Level.objects.create(criterion=spag, number=number, min_marks=low, max_marks=high, descriptor=f"SPaG {number}")
    return scheme


@pytest.fixture
def board_essay(school_class, student):
    prompt = EssayPromptFactory(mark_scheme=board_scheme(), question_type=EssayPrompt.QuestionType.HOW_FAR)
    IndicativePointFactory(prompt=prompt, text="The Hotline was a teleprinter link.", key_terms="hotline")
    assignment = AssignmentFactory(school_class=school_class, prompt=prompt, title="Board essay")
    return SubmissionFactory(assignment=assignment, student=student, text="The Hotline came in 1963.", submitted=True)


def by_code(submission) -> dict[str, Criterion]:
    return {c.code: c for c in submission.assignment.prompt.mark_scheme.criteria.prefetch_related("levels")}


def mark_url(submission) -> str:
    return reverse("classroom:mark_submission", args=[submission.pk])


def autosave_url(submission) -> str:
    return reverse("classroom:mark_autosave", args=[submission.pk])


# --- validate_bands -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bands",
    [
        [(0, 0, 0), (1, 1, 4), (2, 5, 8), (3, 9, 12), (4, 13, 16)],  # AQA 16
        [(0, 0, 0), (1, 1, 5), (2, 6, 10), (3, 11, 15), (4, 16, 20), (5, 21, 25)],  # A-level 25, five levels
        [(0, 0, 0), (1, 1, 2), (2, 3, 4)],  # AQA 4-mark inference
        [(1, 1, 1), (2, 2, 2), (3, 3, 3), (4, 4, 4)],  # the old one-mark strands still pass
        [(1, 1, 3)],  # a single level
    ],
)
def test_board_shaped_bands_are_valid(bands):
    validate_bands(bands)


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ([(0, 0, 2), (1, 3, 4)], "level 0 is the band for no rewardable material, so it must be 0 marks (0–0)"),
        ([(0, 0, 0)], "add at least one level above level 0"),
        ([(0, 0, 0), (2, 1, 4)], "found level 2 where level 1 should be"),
        ([(1, 1, 2), (3, 3, 4)], "found level 3 where level 2 should be"),
        ([(1, 1, 2), (1, 3, 4)], "there are two levels numbered 1"),
        ([(0, 0, 0), (1, 2, 4)], "there is a gap between level 0 (up to 0) and level 1 (from 2)"),
        ([(0, 0, 0), (1, 0, 4)], "level 0 (0) and level 1 (0) overlap"),
        ([], "add at least one level"),
    ],
)
def test_bands_a_board_would_not_write_are_refused_with_a_reason(bands, message):
    with pytest.raises(ValidationError) as excinfo:
        validate_bands(bands, what="Levels")
    assert any(message in text for text in excinfo.value.messages), excinfo.value.messages


# --- the loader -------------------------------------------------------------------------------


@pytest.fixture
def unit_copy(tmp_path) -> Path:
    import shutil

    folder = tmp_path / "unit"
    shutil.copytree(UNIT_DIR, folder)
    return folder


def edit_prompts(folder: Path, change) -> None:
    path = folder / "prompts.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def loader_errors(folder: Path) -> str:
    with pytest.raises(LoaderError) as excinfo:
        read_unit(folder)
    return str(excinfo.value)


def test_the_shipped_schemes_use_the_board_format(db):
    """Every shipped prompt names its question type, every scheme its qualification and
    guidance, and every content criterion its AO labels and a 0 band."""
    load_unit(UNIT_DIR)
    prompts = list(EssayPrompt.objects.shipped().select_related("mark_scheme"))
    assert prompts
    for prompt in prompts:
        scheme = prompt.mark_scheme
        assert scheme.qualification, prompt.slug
        assert "level" in scheme.guidance.lower(), prompt.slug
        for criterion in scheme.criteria.all():
            numbers = list(criterion.levels.order_by("number").values_list("number", "min_marks", "max_marks"))
            assert numbers[0] == (0, 0, 0), (prompt.slug, criterion.code)
            if not criterion.is_spag:
                assert criterion.assessment_objectives, (prompt.slug, criterion.code)
    assert len({p.mark_scheme.name for p in prompts}) == len(prompts)


def test_new_keys_load_and_a_second_load_changes_nothing(db, unit_copy):
    def board(prompts):
        scheme = prompts[0]["mark_scheme"]
        scheme["qualification"] = "AQA GCSE History (8145), Paper 1 Section B: Conflict and tension"
        scheme["guidance"] = GUIDANCE
        scheme["criteria"][0]["assessment_objectives"] = "AO1, AO2"
        prompts[0]["question_type"] = "how-far"

    edit_prompts(unit_copy, board)
    first = read_unit(unit_copy).prompts[0]
    load_unit(unit_copy)
    prompt = EssayPrompt.objects.shipped().get(slug=first["slug"])
    assert prompt.question_type == "how-far"
    assert prompt.mark_scheme.qualification.startswith("AQA GCSE History (8145)")
    assert prompt.mark_scheme.guidance == GUIDANCE
    assert prompt.mark_scheme.criteria.get(is_spag=False, order=0).assessment_objectives == "AO1, AO2"
    assert not load_unit(unit_copy).changed


def test_prompts_without_the_new_keys_still_load_with_defaults(db, unit_copy):
    def old_style(prompts):
        for prompt in prompts:
            prompt.pop("question_type", None)
            prompt["mark_scheme"].pop("qualification", None)
            prompt["mark_scheme"].pop("guidance", None)
            for criterion in prompt["mark_scheme"]["criteria"]:
                criterion.pop("assessment_objectives", None)

    edit_prompts(unit_copy, old_style)
    load_unit(unit_copy)
    prompt = EssayPrompt.objects.shipped().first()
    assert prompt.question_type == "other"
    assert (prompt.mark_scheme.qualification, prompt.mark_scheme.guidance) == ("", "")


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (lambda p: p[0].update(question_type="essay"), ["question_type", "'essay' is not a question type", "how-far"]),
        (
            lambda p: p[0]["mark_scheme"]["criteria"][0]["levels"][0].update(max_marks=2),
            ["level 0 is the band for no rewardable material"],
        ),
        (lambda p: p[0]["mark_scheme"].update(guidence="Typo"), ["unknown key(s) guidence"]),
        (
            lambda p: p[0]["mark_scheme"]["criteria"][0].update(code="AO1+AO2+AO3+AO4+SPAG+X"),
            ["code", "the most allowed is 20"],
        ),
        (
            lambda p: p[1]["mark_scheme"].update(name=p[0]["mark_scheme"]["name"]),
            ["mark_scheme, name", "every scheme needs its own name"],
        ),
        (
            lambda p: p[0]["mark_scheme"]["criteria"][0]["levels"].pop(1),
            ["found level 2 where level 1 should be"],
        ),
    ],
)
def test_scheme_mistakes_are_named_with_file_prompt_and_field(unit_copy, change, fragments):
    edit_prompts(unit_copy, change)
    message = loader_errors(unit_copy)
    assert "prompts.yaml" in message
    for fragment in fragments:
        assert fragment in message, message


# --- level 0 on the marking page ---------------------------------------------------------------


def test_level_0_is_offered_like_any_level_and_no_level_is_not(client, teacher, board_essay):
    client.force_login(teacher)
    html = client.get(mark_url(board_essay)).content.decode()
    content = by_code(board_essay)["AO1+AO2"]
    zero = content.levels.get(number=0)
    assert f'value="{zero.pk}"' in html and "Level 0 (0 marks)" in html
    assert f'id="level-{content.pk}-none"' not in html  # the 0 band replaces "no rewardable material"
    # Level 1 is offered too, so a marker picks from the whole grid.
    assert f'value="{content.levels.get(number=1).pk}"' in html


def test_level_0_saves_0_marks_with_its_level(client, teacher, board_essay):
    crit = by_code(board_essay)
    zero, spag = crit["AO1+AO2"].levels.get(number=0), crit["SPAG"].levels.get(number=0)
    data = {
        "base_revision": 0,
        f"level-{crit['AO1+AO2'].pk}": str(zero.pk),
        f"marks-{crit['AO1+AO2'].pk}": "0",
        f"level-{crit['SPAG'].pk}": str(spag.pk),
        f"marks-{crit['SPAG'].pk}": "",
        "action": "complete",
    }
    client.force_login(teacher)
    assert client.post(mark_url(board_essay), data).status_code == 302
    mark = Mark.objects.get(submission=board_essay)
    assert mark.is_complete and (mark.total, mark.spag, mark.max_total, mark.max_spag) == (0, 0, 16, 4)
    assert CriterionMark.objects.get(mark=mark, criterion=crit["AO1+AO2"]).level == zero


def test_level_0_refuses_a_mark_above_0(client, teacher, board_essay):
    crit = by_code(board_essay)["AO1+AO2"]
    data = {"base_revision": 0, f"level-{crit.pk}": str(crit.levels.get(number=0).pk), f"marks-{crit.pk}": "3"}
    client.force_login(teacher)
    response = client.post(mark_url(board_essay), data)
    assert "level 0 allows 0 marks, not 3" in response.content.decode()
    assert not CriterionMark.objects.filter(criterion=crit).exists()


def test_an_old_no_level_mark_still_shows_and_saves_beside_a_0_band(client, teacher, board_essay):
    crit = by_code(board_essay)
    board_essay.record_mark(teacher, {crit["AO1+AO2"].pk: (None, 0)}, base_revision=0)  # the old path
    client.force_login(teacher)
    html = client.get(mark_url(board_essay)).content.decode()
    assert re.search(rf'id="level-{crit["AO1+AO2"].pk}-none" value="0"[^>]*checked', html)
    data = mark_post(board_essay, {"AO1+AO2": (0, 0)})  # 0: "no level", as before
    assert client.post(mark_url(board_essay), data).status_code == 302
    saved = CriterionMark.objects.get(criterion=crit["AO1+AO2"])
    assert saved.level is None and saved.marks == 0


# --- what markers and teachers are shown ---------------------------------------------------------


def test_the_marking_page_shows_qualification_guidance_ao_labels_bands_and_not_prescriptive(
    client, teacher, board_essay
):
    client.force_login(teacher)
    html = client.get(mark_url(board_essay)).content.decode()
    assert "AQA GCSE History (8145), Paper 1 Section B" in html
    assert GUIDANCE in html
    assert 'ao-labels">AO1, AO2</span>' in html
    for band in ("Level 0 (0 marks)", "Level 1 (1–4 marks)", "Level 4 (13–16 marks)"):
        assert band in html
    assert "Not prescriptive:" in html and "credit any valid point" in html


def test_without_guidance_the_marking_page_still_says_how_to_mark_best_fit(client, teacher, essay):
    client.force_login(teacher)
    html = client.get(mark_url(essay)).content.decode()
    assert "Read the whole answer first. Decide the level whose descriptor fits it best" in html


def test_the_scheme_page_shows_qualification_guidance_ao_labels_every_band_and_not_prescriptive(
    client, teacher, student, board_essay
):
    prompt = board_essay.assignment.prompt
    url = reverse("content:prompt", args=[prompt.pk])
    client.force_login(teacher)
    html = client.get(url).content.decode()
    assert "AQA GCSE History (8145), Paper 1 Section B" in html and GUIDANCE in html
    assert "assesses AO1, AO2" in html
    assert '<th scope="row">Level 0</th><td>0 marks</td>' in html
    assert '<th scope="row">Level 4</th><td>13–16 marks</td>' in html
    assert "Not prescriptive:" in html


# --- editing the new fields in a teacher's copy ------------------------------------------------


def _formset_post(context) -> dict:
    from tests.test_content_authoring import post_data

    return post_data(context)


def test_a_teacher_edits_qualification_guidance_and_ao_labels_in_their_copy(client, teacher):
    scheme = board_scheme().make_copy(teacher)
    url = reverse("content:markscheme_edit", args=[scheme.pk])
    client.force_login(teacher)
    data = _formset_post(client.get(url).context)
    data["qualification"] = "Edexcel GCSE History, Paper 4"
    data["guidance"] = "Decide the level first."
    data["criteria-0-assessment_objectives"] = "AO1, AO2 (judgement)"
    data["criteria-0-code"] = "AO1+AO2"
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["formset"].errors
    scheme.refresh_from_db()
    assert (scheme.qualification, scheme.guidance) == ("Edexcel GCSE History, Paper 4", "Decide the level first.")
    assert scheme.criteria.get(code="AO1+AO2").assessment_objectives == "AO1, AO2 (judgement)"


def test_a_teacher_adds_a_0_band_and_a_fifth_level(client, teacher):
    scheme = MarkScheme.objects.create(name="Mine", owner=teacher)
    criterion = Criterion.objects.create(scheme=scheme, code="AO1", name="Knowledge")
    for number, (low, high) in enumerate([(1, 5), (6, 10), (11, 15), (16, 20)], start=1):
        Level.objects.create(criterion=criterion, number=number, min_marks=low, max_marks=high, descriptor="x")
    url = reverse("content:criterion_levels", args=[criterion.pk])
    client.force_login(teacher)
    data = _formset_post(client.get(url).context)
    data.update({"levels-4-number": "0", "levels-4-min_marks": "0", "levels-4-max_marks": "0"})
    data["levels-4-descriptor"] = "No rewardable material."
    assert client.post(url, data).status_code == 302
    data = _formset_post(client.get(url).context)
    data.update({"levels-5-number": "5", "levels-5-min_marks": "21", "levels-5-max_marks": "25"})
    data["levels-5-descriptor"] = "Fully substantiated judgement."
    assert client.post(url, data).status_code == 302
    bands = list(criterion.levels.order_by("number").values_list("number", "min_marks", "max_marks"))
    assert bands == [(0, 0, 0), (1, 1, 5), (2, 6, 10), (3, 11, 15), (4, 16, 20), (5, 21, 25)]


def test_a_0_band_with_marks_is_a_form_error(client, teacher):
    scheme = MarkScheme.objects.create(name="Mine", owner=teacher)
    criterion = Criterion.objects.create(scheme=scheme, code="AO1", name="Knowledge")
    Level.objects.create(criterion=criterion, number=1, min_marks=3, max_marks=4, descriptor="x")
    url = reverse("content:criterion_levels", args=[criterion.pk])
    client.force_login(teacher)
    data = _formset_post(client.get(url).context)
    data.update({"levels-1-number": "0", "levels-1-min_marks": "0", "levels-1-max_marks": "2"})
    data["levels-1-descriptor"] = "Weak"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "level 0 is the band for no rewardable material, so it must be 0 marks" in response.content.decode()
    assert criterion.levels.count() == 1


# --- skill strands: saved with the mark ---------------------------------------------------------


def strands_of(submission) -> dict[str, int]:
    return dict(StrandTick.objects.filter(mark__submission=submission).values_list("strand", "rating"))


def test_strands_are_saved_with_the_mark_and_not_counted_in_it(client, teacher, board_essay):
    crit = by_code(board_essay)["AO1+AO2"]
    data = {
        "base_revision": 0,
        f"level-{crit.pk}": str(crit.levels.get(number=3).pk),
        f"marks-{crit.pk}": "10",
        "strand-knowledge": "3",
        "strand-analysis": "2",
        "strand-sources": "",
        "strand-judgement": "1",
    }
    client.force_login(teacher)
    assert client.post(mark_url(board_essay), data).status_code == 302
    assert strands_of(board_essay) == {"knowledge": 3, "analysis": 2, "judgement": 1}
    mark = Mark.objects.get(submission=board_essay)
    assert mark.total == 10 and mark.revision == 1
    html = client.get(mark_url(board_essay)).content.decode()
    assert re.search(r'id="strand-knowledge-3" value="3"[^>]*checked', html)
    assert re.search(r'id="strand-sources-none" value=""[^>]*checked', html)


def test_autosave_saves_strands_under_the_mark_s_version_check(client, teacher, board_essay):
    client.force_login(teacher)
    saved = client.post(autosave_url(board_essay), {"base_revision": 0, "strand-analysis": "2"})
    assert saved.status_code == 200 and saved.json()["revision"] == 1
    assert strands_of(board_essay) == {"analysis": 2}
    # A second tab still on revision 0 is refused and changes nothing.
    stale = client.post(autosave_url(board_essay), {"base_revision": 0, "strand-analysis": "3"})
    assert stale.status_code == 409
    assert strands_of(board_essay) == {"analysis": 2}
    # "Not rated" clears a strand; strands the request does not name keep their ticks.
    client.post(autosave_url(board_essay), {"base_revision": 1, "strand-knowledge": "3"})
    cleared = client.post(autosave_url(board_essay), {"base_revision": 2, "strand-analysis": ""})
    assert cleared.status_code == 200
    assert strands_of(board_essay) == {"knowledge": 3}


def test_a_forged_rating_is_refused_and_nothing_is_saved(client, teacher, board_essay):
    client.force_login(teacher)
    response = client.post(autosave_url(board_essay), {"base_revision": 0, "strand-analysis": "9", "www": "Good"})
    assert response.status_code == 400
    assert not Mark.objects.filter(submission=board_essay, www="Good").exists()
    assert strands_of(board_essay) == {}


def test_the_model_refuses_an_unknown_strand(teacher, board_essay):
    from classroom.models import MarkError

    with pytest.raises(MarkError):
        board_essay.record_mark(teacher, {}, base_revision=0, strands={"spelling": 2})
    assert not StrandTick.objects.exists()


def test_a_released_mark_s_strands_cannot_change(teacher, essay):
    mark = mark_fully(essay, teacher)
    mark.release(by=teacher)
    with pytest.raises(VersionConflict):
        essay.record_mark(teacher, {}, base_revision=mark_revision(essay), strands={"knowledge": 3})
    assert not StrandTick.objects.exists()


@pytest.mark.parametrize("who", ["other_teacher", "student", "outsider"])
def test_only_the_class_s_markers_can_tick_strands(client, cast, essay, who):
    client.force_login(cast[who])
    response = client.post(autosave_url(essay), {"base_revision": 0, "strand-knowledge": "3"})
    assert response.status_code in (403, 404)
    assert not StrandTick.objects.exists()


# --- pupils see their strands with released feedback ------------------------------------------


def test_the_pupil_sees_strands_only_with_released_feedback(client, teacher, student, essay):
    mark = give_mark(essay, teacher, 4, 3, release=False, strands={"knowledge": 3, "judgement": 1})
    url = reverse("classroom:feedback", args=[essay.assignment_id])
    client.force_login(student)
    assert client.get(url).status_code == 404  # complete, not released yet
    mark.release(by=teacher)
    html = client.get(url).content.decode()
    assert "Your skills" in html
    assert re.search(r"<dt[^>]*>Knowledge</dt>\s*<dd[^>]*>Secure</dd>", html)
    assert re.search(r"<dt[^>]*>Judgement</dt>\s*<dd[^>]*>Not yet</dd>", html)
    assert "Use of sources" not in html  # not rated: not shown


# --- progress over time -----------------------------------------------------------------------


@pytest.fixture
def strand_class(teacher, student, school_class):
    """Three released essays for `student`, the strands improving over time, and one
    essay marked but not released (which must not count)."""
    from tests.factories import marking_scheme

    now = timezone.now()
    days = datetime.timedelta(days=1)
    prompt = EssayPromptFactory(mark_scheme=marking_scheme())
    ratings = [{"knowledge": 1, "analysis": 1}, {"knowledge": 2}, {"knowledge": 3, "analysis": 3}]
    assignments = []
    for i, strands in enumerate(ratings):
        assignment = AssignmentFactory(
            school_class=school_class,
            prompt=prompt,
            title=f"Essay {i + 1}",
            opens_at=now - (30 - i) * days,
            due_at=now - (20 - i) * days,
        )
        give_mark(hand_in(assignment, student, at=now - (21 - i) * days), teacher, 3, 4, strands=strands)
        assignments.append(assignment)
    hidden = AssignmentFactory(
        school_class=school_class, prompt=prompt, title="Essay 4", opens_at=now - 5 * days, due_at=now - days
    )
    give_mark(hand_in(hidden, student, at=now - 2 * days), teacher, 3, 4, strands={"knowledge": 1}, release=False)
    return assignments


def test_student_progress_lists_each_strand_per_essay_in_date_order(student, strand_class):
    report = progress.student_progress(student)
    strands = {h.strand: h for h in report.strands}
    assert list(strands) == ["knowledge", "analysis"]  # only strands ever rated, in the strands' order
    assert [p.rating if p else None for p in strands["knowledge"].ratings] == [1, 2, 3]
    assert [p.rating if p else None for p in strands["analysis"].ratings] == [1, None, 3]
    assert [p.title for p in strands["knowledge"].rated] == ["Essay 1", "Essay 2", "Essay 3"]


def test_the_progress_page_shows_the_strands_beside_the_criterion_codes(client, student, strand_class):
    client.force_login(student)
    html = client.get(reverse("classroom:my_progress")).content.decode()
    assert "Skill strands over time" in html
    row = re.search(r'<tr data-strand="knowledge">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r">(Not yet|Developing|Secure)<", row) == ["Not yet", "Developing", "Secure"]
    assert '<th scope="col">AO1</th>' in html  # the per-criterion view is still there
    assert "Essay 4" not in html


def test_the_class_overview_counts_strand_ratings_and_their_change(client, teacher, school_class, strand_class):
    overview = progress.class_overview(school_class)
    strands = {c.strand: c for c in overview.strands}
    assert strands["knowledge"].ratings == [("Not yet", 0), ("Developing", 0), ("Secure", 1)]
    assert (strands["knowledge"].mean_rating, strands["knowledge"].change) == (3.0, 1.0)
    assert strands["analysis"].previous_mean_rating is None and strands["analysis"].change is None
    client.force_login(teacher)
    html = client.get(reverse("classroom:class_overview", args=[school_class.pk])).content.decode()
    assert "Skill strands" in html and 'data-strand="knowledge"' in html and "up 1.0" in html


def test_progress_lists_ao_codes_then_other_codes_then_spag_last():
    from classroom.progress import criterion_sort_key

    codes = ["SPAG", "C2", "AO1+AO2", "AO2", "C1", "AO1", "A-level AO1"]
    assert sorted(codes, key=criterion_sort_key) == ["AO1", "AO2", "A-level AO1", "AO1+AO2", "C1", "C2", "SPAG"]
