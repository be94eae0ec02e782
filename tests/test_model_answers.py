"""Model answers: annotated answers at each level of a question's mark scheme.

Loaded from `model_answers/<prompt-slug>.yaml` (checked against the prompt's scheme, synced
idempotently), copied with a teacher's copy of the question and edited there, shown to
teachers on the question's page and to pupils on an assignment's page as the assignment
allows (`Assignment.model_answers`, rules in classroom/permissions.py).
"""

from __future__ import annotations

import datetime
from pathlib import Path

import factory
import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from classroom.models import Assignment, Submission, count_words
from crisis.content.loader import CONTENT_DIR, LoaderError, load_unit, read_unit
from crisis.forms import MAX_ROWS
from crisis.models import (
    MODEL_ANSWER_TEXT_MAX,
    Criterion,
    EssayPrompt,
    Level,
    MarkScheme,
    ModelAnswer,
    model_answer_problems,
)
from tests.factories import AssignmentFactory, EssayPromptFactory, SchoolClassFactory, TeacherFactory, marking_scheme
from tests.helpers import give_mark, hand_in
from tests.test_content_authoring import post_data

pytestmark = pytest.mark.django_db

Release = Assignment.ModelAnswerRelease


class ModelAnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelAnswer

    prompt = factory.SubFactory(EssayPromptFactory)
    order = factory.Sequence(lambda n: n)
    level = 1
    marks = 2
    text = factory.Sequence(lambda n: f"MODEL-ANSWER-TEXT-{n}: the Hotline was set up in 1963.\n\nA second paragraph.")
    commentary = factory.Sequence(lambda n: f"MODEL-COMMENTARY-{n}: Level 1 because it describes.")


# --- a small unit of our own, so the tests do not depend on the shipped prompts -------------

LEVEL_0 = {"number": 0, "min_marks": 0, "max_marks": 0, "descriptor": "Nothing worthy of credit."}


def _levels(*bands: tuple[int, int]) -> list[dict]:
    return [LEVEL_0] + [
        {"number": n, "min_marks": low, "max_marks": high, "descriptor": f"Level {n} descriptor."}
        for n, (low, high) in enumerate(bands, start=1)
    ]


def _prompt(slug: str, total: int, criteria: list[dict], spag: dict | None = None) -> dict:
    scheme: dict = {"name": f"Scheme for {slug}", "criteria": criteria}
    if spag:
        scheme["spag"] = spag
    return {
        "slug": slug,
        "question": f"The question of {slug}?",
        "sources": ["A"],
        "total_marks": total,
        "mark_scheme": scheme,
    }


PROMPTS = [
    # One criterion, levels 0; 1–2; 3–4 (the 4-mark inference).
    _prompt("infer", 4, [{"code": "AO3+AO1", "name": "Inference", "levels": _levels((1, 2), (3, 4))}]),
    # Two criteria, one per consequence, each 0; 1–2; 3–4.
    _prompt(
        "two-cons",
        8,
        [{"code": c, "name": f"Consequence {c}", "levels": _levels((1, 2), (3, 4))} for c in ("C1", "C2")],
    ),
    # One criterion 0; 1–4; 5–8 and SPaG 0; 1; 2–3; 4.
    _prompt(
        "how-far",
        8,
        [{"code": "AO1+AO2", "name": "Analysis", "levels": _levels((1, 4), (5, 8))}],
        spag={"max_marks": 4, "levels": _levels((1, 1), (2, 3), (4, 4))},
    ),
]


def answer(level: int, marks: int, **more) -> dict:
    return {
        "level": level,
        "marks": marks,
        **more,
        "text": more.pop("text", f"An answer at level {level}.\n\nIts second paragraph."),
        "commentary": more.pop("commentary", f"Level {level} because it explains; to go higher it needs more."),
    }


GOOD_ANSWERS = {
    "infer": [answer(2, 4), answer(1, 2)],  # lowest level first once loaded
    "two-cons": [answer(1, 4), answer(2, 7)],
    "how-far": [answer(1, 3, spag=1), answer(2, 7, spag=3)],
}


def write_yaml(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def write_answers(folder: Path, slug: str, answers, **extra) -> Path:
    path = folder / "model_answers" / f"{slug}.yaml"
    write_yaml(path, {"prompt": slug, **extra, "answers": answers})
    return path


@pytest.fixture
def unit_dir(tmp_path) -> Path:
    folder = tmp_path / "unit"
    write_yaml(folder / "unit.yaml", {"slug": "answers-unit", "title": "A unit", "lessons": []})
    source = {
        "label": "A",
        "slug": "source-a",
        "title": "A speech",
        "kind": "speech",
        "author": "Someone",
        "date": "1962-10-22",
        "excerpt": "Words.",
        "citation": "Somewhere.",
    }
    write_yaml(folder / "sources.yaml", [source])
    write_yaml(folder / "prompts.yaml", PROMPTS)
    for slug, answers in GOOD_ANSWERS.items():
        write_answers(folder, slug, answers)
    return folder


def rows(slug: str) -> list[tuple]:
    return list(
        ModelAnswer.objects.filter(prompt__slug=slug, prompt__owner__isnull=True)
        .order_by("order")
        .values_list("order", "level", "marks", "spag")
    )


# --- loading -------------------------------------------------------------------------------


def test_the_loader_reads_each_prompt_s_answers_lowest_level_first(unit_dir):
    data = read_unit(unit_dir)
    answers = {
        p["slug"]: [(a["order"], a["level"], a["marks"], a["spag"]) for a in p["model_answers"]] for p in data.prompts
    }
    assert answers == {
        "infer": [(0, 1, 2, None), (1, 2, 4, None)],
        "two-cons": [(0, 1, 4, None), (1, 2, 7, None)],
        "how-far": [(0, 1, 3, 1), (1, 2, 7, 3)],
    }


def test_loading_twice_keeps_the_rows_and_reports_unchanged(unit_dir):
    first = load_unit(unit_dir)
    assert first.counts[("created", "model answers")] == 6
    assert rows("infer") == [(0, 1, 2, None), (1, 2, 4, None)]
    answer = ModelAnswer.objects.get(prompt__slug="infer", level=2)
    assert answer.text == "An answer at level 2.\n\nIts second paragraph."
    assert answer.commentary.startswith("Level 2 because")
    ids = sorted(ModelAnswer.objects.values_list("pk", flat=True))
    second = load_unit(unit_dir)
    assert not second.changed, second.summary()
    assert sorted(ModelAnswer.objects.values_list("pk", flat=True)) == ids


def test_a_changed_file_updates_answers_in_place_and_removes_those_gone(unit_dir):
    load_unit(unit_dir)
    kept = ModelAnswer.objects.get(prompt__slug="infer", level=1)
    write_answers(unit_dir, "infer", [answer(1, 1, text="A rewritten weak answer.")])
    (unit_dir / "model_answers" / "two-cons.yaml").unlink()
    report = load_unit(unit_dir)
    assert report.counts[("updated", "model answers")] == 1
    assert report.counts[("deleted", "model answers")] == 3  # infer level 2 and both two-cons answers
    kept.refresh_from_db()
    assert (kept.marks, kept.text) == (1, "A rewritten weak answer.")
    assert rows("infer") == [(0, 1, 1, None)]
    assert rows("two-cons") == []


def test_a_reload_never_touches_a_teacher_s_copy(unit_dir, teacher):
    load_unit(unit_dir)
    copy = EssayPrompt.objects.shipped().get(slug="infer").make_copy(teacher)
    write_answers(unit_dir, "infer", [answer(1, 1, text="Changed in the files.")])
    load_unit(unit_dir)
    assert list(copy.model_answers.order_by("order").values_list("level", "marks")) == [(1, 2), (2, 4)]
    assert not copy.model_answers.filter(text="Changed in the files.").exists()


def _rejected(folder: Path, *fragments: str) -> str:
    with pytest.raises(LoaderError) as excinfo:
        load_unit(folder)
    message = str(excinfo.value)
    for fragment in fragments:
        assert fragment in message, message
    assert not ModelAnswer.objects.exists() and not EssayPrompt.objects.exists()
    return message


@pytest.mark.parametrize(
    ("slug", "answers", "fragments"),
    [
        (
            "infer",
            [answer(3, 4)],
            ["model_answers/infer.yaml, answers[1] (level 3), level", "no level 3 (its levels: 0, 1, 2)"],
        ),
        ("infer", [answer(1, 3)], ["answers[1] (level 1), marks", "3 is outside level 1's band of 1–2 marks"]),
        ("infer", [answer(2, 2)], ["2 is outside level 2's band of 3–4 marks"]),
        ("two-cons", [answer(2, 9)], ["two-cons.yaml", "9 does not fit level 2", "between 6 and 8 marks"]),
        ("two-cons", [answer(1, 7)], ["7 does not fit level 1", "between 2 and 6 marks"]),  # a part at level 1 caps it
        ("two-cons", [answer(2, 5)], ["5 does not fit level 2", "between 6 and 8 marks"]),  # both at level 2 or above
        ("two-cons", [answer(4, 8)], ["no level 4"]),
        ("infer", [answer(1, 2, spag=1)], ["infer.yaml, answers[1] (level 1), spag", "no SPaG marks"]),
        ("how-far", [answer(1, 3)], ["how-far.yaml, answers[1] (level 1), spag", "Give a SPaG mark"]),
        ("how-far", [answer(1, 3, spag=5)], ["5 is more than the 4 SPaG marks available"]),
        ("how-far", [answer(1, 9, spag=1)], ["9 is outside level 1's band of 1–4 marks"]),
        ("infer", [answer(1, 2, text="  ")], ["infer.yaml, answers[1], text", "is missing or empty"]),
        ("infer", [answer(1, 2, commentary="")], ["infer.yaml, answers[1], commentary", "is missing or empty"]),
        ("infer", [answer(1, "two")], ["answers[1], marks", "expected a whole number from 0, got 'two'"]),
        ("infer", [answer(1, 2), answer(1, 1)], ["answers[2], level", "already an answer at level 1"]),
        ("infer", [answer(1, 2, text="x" * (MODEL_ANSWER_TEXT_MAX + 1))], ["the most allowed is 12000"]),
        ("infer", "not a list", ["infer.yaml, answers", "expected a list"]),
        ("infer", None, ["infer.yaml, answers", "is missing"]),
        ("infer", ["just text"], ["answers[1]", "expected a mapping"]),
    ],
)
def test_bad_model_answers_are_refused_with_the_file_and_field(unit_dir, slug, answers, fragments):
    write_answers(unit_dir, slug, answers)
    _rejected(unit_dir, *fragments)


def test_an_answer_file_for_a_prompt_that_does_not_exist_is_refused(unit_dir):
    write_answers(unit_dir, "no-such-prompt", [answer(1, 2)])
    _rejected(unit_dir, "model_answers/no-such-prompt.yaml, prompt", "no prompt has slug 'no-such-prompt'")


def test_an_answer_file_must_be_named_after_its_prompt(unit_dir):
    path = unit_dir / "model_answers" / "infer.yaml"
    write_yaml(path, {"prompt": "two-cons", "answers": [answer(1, 2)]})
    _rejected(unit_dir, "model_answers/infer.yaml, prompt", "'two-cons' does not match the file name")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("", "the file is empty"),
        ("prompt: infer\nanswers: [\n", "not valid YAML"),
        ("- a list\n", "expected a mapping"),
    ],
)
def test_an_unreadable_answer_file_is_refused(unit_dir, content, fragment):
    (unit_dir / "model_answers" / "infer.yaml").write_text(content, encoding="utf-8")
    _rejected(unit_dir, "model_answers/infer.yaml", fragment)


def test_every_problem_is_listed_at_once(unit_dir):
    write_answers(unit_dir, "infer", [answer(5, 2), answer(1, 9)])
    write_answers(unit_dir, "how-far", [answer(1, 3)])
    message = _rejected(unit_dir)
    assert "no level 5" in message and "9 is outside" in message and "Give a SPaG mark" in message


def test_the_check_is_shared_by_the_loader_and_the_form():
    one = [{0: (0, 0), 1: (1, 2), 2: (3, 4)}]
    assert model_answer_problems(2, 4, None, one, None) == {}
    assert set(model_answer_problems(2, 5, 1, one, None)) == {"marks", "spag"}
    two = one * 2
    assert model_answer_problems(1, 6, None, two, None) == {}  # one part at level 1 (2), the other full (4)
    assert set(model_answer_problems(1, 7, None, two, None)) == {"marks"}
    assert model_answer_problems(2, 6, None, two, None) == {}
    assert set(model_answer_problems(2, 5, None, two, None)) == {"marks"}
    assert set(model_answer_problems(3, 6, None, two, None)) == {"level"}
    assert model_answer_problems(1, 2, 4, one, 4) == {}
    assert set(model_answer_problems(1, 2, None, one, 4)) == {"spag"}


# --- copies and teachers' editing ----------------------------------------------------------


def scheme_0_to_4() -> MarkScheme:
    """One criterion: 0; 1–2; 3–4 (the 4-mark inference question)."""
    scheme = MarkScheme.objects.create(name="Inference scheme")
    criterion = Criterion.objects.create(scheme=scheme, code="AO3+AO1", name="Inference")
    for number, low, high in ((0, 0, 0), (1, 1, 2), (2, 3, 4)):
        Level.objects.create(criterion=criterion, number=number, min_marks=low, max_marks=high, descriptor="…")
    return scheme


@pytest.fixture
def shipped_prompt() -> EssayPrompt:
    prompt = EssayPromptFactory(mark_scheme=scheme_0_to_4())
    ModelAnswerFactory(prompt=prompt, order=0, level=1, marks=2)
    ModelAnswerFactory(prompt=prompt, order=1, level=2, marks=4)
    return prompt


def test_a_teacher_s_copy_of_a_question_copies_its_model_answers(teacher, shipped_prompt):
    copy = shipped_prompt.make_copy(teacher)
    fields = ("order", "level", "marks", "spag", "text", "commentary")
    assert list(copy.model_answers.values_list(*fields)) == list(shipped_prompt.model_answers.values_list(*fields))
    assert not set(copy.model_answers.values_list("pk", flat=True)) & set(
        shipped_prompt.model_answers.values_list("pk", flat=True)
    )
    copy.model_answers.update(text="Changed in the copy.")
    assert not shipped_prompt.model_answers.filter(text="Changed in the copy.").exists()


def _edit_page(client, user, prompt) -> tuple[str, dict]:
    client.force_login(user)
    url = reverse("content:prompt_edit", args=[prompt.pk])
    response = client.get(url)
    assert response.status_code == 200
    return url, post_data(response.context)


def test_a_teacher_edits_adds_and_removes_model_answers_in_their_copy(client, teacher, shipped_prompt):
    copy = shipped_prompt.make_copy(teacher)
    weak, strong = copy.model_answers.order_by("level")
    url, data = _edit_page(client, teacher, copy)
    forms = {int(data[f"answers-{i}-id"]): i for i in range(int(data["answers-INITIAL_FORMS"]))}
    data[f"answers-{forms[weak.pk]}-text"] = "A weak answer, rewritten.\n\nNow in two paragraphs."
    data[f"answers-{forms[strong.pk]}-DELETE"] = "on"
    new = int(data["answers-TOTAL_FORMS"]) - 1  # the empty extra row
    data.update(
        {
            f"answers-{new}-order": "2",
            f"answers-{new}-level": "2",
            f"answers-{new}-marks": "3",
            f"answers-{new}-text": "A new level 2 answer.",
            f"answers-{new}-commentary": "Level 2 because it uses Source A's content and context.",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["formsets"]["answers"].errors
    assert list(copy.model_answers.order_by("level").values_list("level", "marks", "text")) == [
        (1, 2, "A weak answer, rewritten.\n\nNow in two paragraphs."),
        (2, 3, "A new level 2 answer."),
    ]
    assert shipped_prompt.model_answers.count() == 2  # the original is untouched


@pytest.mark.parametrize(
    ("level", "marks", "spag", "message"),
    [
        ("2", "2", "", "2 is outside level 2&#x27;s band of 3–4 marks"),
        ("4", "4", "", "The mark scheme has no level 4"),
        ("1", "1", "1", "The mark scheme has no SPaG marks"),
    ],
)
def test_a_model_answer_that_does_not_fit_the_scheme_is_not_saved(
    client, teacher, shipped_prompt, level, marks, spag, message
):
    copy = shipped_prompt.make_copy(teacher)
    url, data = _edit_page(client, teacher, copy)
    data.update({"answers-0-level": level, "answers-0-marks": marks, "answers-0-spag": spag})
    response = client.post(url, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert list(copy.model_answers.order_by("level").values_list("level", "marks")) == [(1, 2), (2, 4)]


def test_model_answers_are_checked_against_a_newly_chosen_scheme(client, teacher, shipped_prompt):
    copy = shipped_prompt.make_copy(teacher)
    url, data = _edit_page(client, teacher, copy)
    data["mark_scheme"] = str(marking_scheme().pk)  # AO1 and AO2 (levels 1–2) with SPaG
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Give a SPaG mark" in response.content.decode()
    copy.refresh_from_db()
    assert copy.mark_scheme.name != "Marking test scheme"


def test_the_model_answer_rows_are_capped(client, teacher, shipped_prompt):
    copy = shipped_prompt.make_copy(teacher)
    url, data = _edit_page(client, teacher, copy)
    data["answers-TOTAL_FORMS"] = str(MAX_ROWS + 1)
    response = client.post(url, data)
    assert response.status_code == 200
    assert f"Please submit at most {MAX_ROWS} forms" in response.content.decode()
    assert copy.model_answers.count() == 2


@pytest.mark.parametrize(("who", "status"), [("other_teacher", 403), ("student", 403), ("head", 302)])
def test_only_the_owner_or_the_head_edits_a_copy_s_model_answers(client, cast, teacher, shipped_prompt, who, status):
    copy = shipped_prompt.make_copy(teacher)
    url = reverse("content:prompt_edit", args=[copy.pk])
    client.force_login(teacher)
    data = post_data(client.get(url).context)
    data["answers-0-text"] = "Changed by someone."
    client.force_login(cast[who])
    assert client.post(url, data).status_code == status
    assert copy.model_answers.filter(text="Changed by someone.").exists() == (status == 302)


def test_a_shipped_question_s_model_answers_cannot_be_edited(client, teacher, shipped_prompt):
    client.force_login(teacher)
    assert client.get(reverse("content:prompt_edit", args=[shipped_prompt.pk])).status_code == 403


# --- the question's page: teachers only ----------------------------------------------------


@pytest.mark.parametrize(
    ("who", "sees"),
    [("teacher", True), ("other_teacher", True), ("head", True), ("student", False), ("outsider", False)],
)
def test_the_question_page_shows_every_model_answer_to_teachers_only(client, cast, shipped_prompt, who, sees):
    client.force_login(cast[who])
    response = client.get(reverse("content:prompt", args=[shipped_prompt.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for answer in shipped_prompt.model_answers.all():
        assert (answer.text.split(":")[0] in html) == sees
        assert (answer.commentary.split(":")[0] in html) == sees
    assert ("Model answers (teachers only)" in html) == sees
    if sees:  # level by level, each with its marks and a paragraph per paragraph
        assert html.index("Level 1: 2 marks out of 4") < html.index("Level 2: 4 marks out of 4")
        assert "<p>A second paragraph.</p>" in html


def test_the_question_page_asks_anonymous_visitors_to_sign_in(client, shipped_prompt):
    response = client.get(reverse("content:prompt", args=[shipped_prompt.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_model_answers_are_shown_as_plain_text(client, teacher, shipped_prompt):
    ModelAnswerFactory(prompt=shipped_prompt, level=2, marks=3, text="<script>alert(1)</script> **not bold**")
    client.force_login(teacher)
    html = client.get(reverse("content:prompt", args=[shipped_prompt.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; **not bold**" in html and "<script>alert" not in html


@pytest.mark.parametrize("size", [1, 5])
def test_question_page_query_budget_with_model_answers(client, teacher, django_assert_num_queries, size):
    prompt = EssayPromptFactory(mark_scheme=scheme_0_to_4())
    for order in range(size):
        ModelAnswerFactory(prompt=prompt, order=order)
    client.force_login(teacher)
    # session, user, prompt+unit+owner+copied_from+scheme, source links+sources, criteria, levels,
    # indicative points, model answers
    with django_assert_num_queries(8):
        assert client.get(reverse("content:prompt", args=[prompt.pk])).status_code == 200


# --- the assignment's page: as the assignment allows ---------------------------------------


@pytest.fixture
def release_prompt() -> EssayPrompt:
    """A question marked with the marking test scheme (so essays can be marked), with two answers."""
    prompt = EssayPromptFactory(mark_scheme=marking_scheme())
    ModelAnswerFactory(prompt=prompt, order=0, level=1, marks=3, spag=1, text="WEAK-ANSWER-TEXT: a story.")
    ModelAnswerFactory(prompt=prompt, order=1, level=2, marks=9, spag=4, text="STRONG-ANSWER-TEXT: an argument.")
    return prompt


def _set(school_class, prompt, release, **more) -> Assignment:
    return AssignmentFactory(school_class=school_class, prompt=prompt, model_answers=release, **more)


def _put_in_state(assignment, student, teacher, state: str) -> None:
    if state == "not_started":
        return
    if state == "draft":
        submission = Submission.start(assignment, student)
        submission.save_draft("A first paragraph.", submission.revision)
        return
    submission = hand_in(assignment, student)
    if state == "returned":
        submission.return_for_redraft(by=teacher)
    elif state == "released":
        give_mark(submission, teacher, 3, 4)


def _write_page(client, user, assignment):
    if user is not None:
        client.force_login(user)
    return client.get(reverse("classroom:write", args=[assignment.pk]))


# What a pupil sees, for each setting and the state of their essay.
PUPIL_RULES = {
    Release.HIDDEN: {"not_started": False, "draft": False, "submitted": False, "returned": False, "released": False},
    Release.AFTER_SUBMIT: {
        "not_started": False,
        "draft": False,
        "submitted": True,
        "returned": False,
        "released": True,
    },
    Release.ALWAYS: {"not_started": True, "draft": True, "submitted": True, "returned": True, "released": True},
}


@pytest.mark.parametrize("release", list(PUPIL_RULES))
@pytest.mark.parametrize("state", ["not_started", "draft", "submitted", "returned", "released"])
def test_a_pupil_sees_the_model_answers_as_the_assignment_allows(
    client, cast, school_class, release_prompt, release, state
):
    assignment = _set(school_class, release_prompt, release)
    _put_in_state(assignment, cast["student"], cast["teacher"], state)
    response = _write_page(client, cast["student"], assignment)
    assert response.status_code == 200
    html = response.content.decode()
    sees = PUPIL_RULES[release][state]
    assert ("WEAK-ANSWER-TEXT" in html) == sees and ("STRONG-ANSWER-TEXT" in html) == sees
    assert ('id="model-answers"' in html) == sees
    if sees:
        assert "Level 2: 9 marks out of 10, SPaG 4 out of 4" in html


@pytest.mark.parametrize("release", list(PUPIL_RULES))
@pytest.mark.parametrize(
    ("who", "status"),
    [("teacher", 200), ("co_teacher", 200), ("head", 200), ("other_teacher", 404), ("outsider", 404), (None, "login")],
)
def test_the_assignment_page_s_model_answers_for_every_other_actor(
    client, cast, school_class, release_prompt, release, who, status
):
    co_teacher = TeacherFactory(username="ms.co")
    school_class.teachers.add(co_teacher)
    assignment = _set(school_class, release_prompt, release)
    response = _write_page(client, {**cast, "co_teacher": co_teacher}.get(who), assignment)
    if status == "login":
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
        return
    assert response.status_code == status
    html = response.content.decode()
    # The class's teachers always see them (the preview says when pupils do); nobody else does.
    assert ("STRONG-ANSWER-TEXT" in html) == (status == 200)


def test_the_teacher_s_preview_says_when_pupils_see_them(client, cast, school_class, release_prompt):
    for release, words in [
        (Release.HIDDEN, "never: they are hidden"),
        (Release.AFTER_SUBMIT, "once they have handed in"),
        (Release.ALWAYS, "from the start"),
    ]:
        html = _write_page(client, cast["teacher"], _set(school_class, release_prompt, release)).content.decode()
        assert words in html, release


def test_a_removed_pupil_no_longer_sees_them(client, cast, school_class, release_prompt):
    assignment = _set(school_class, release_prompt, Release.ALWAYS)
    school_class.enrolments.get(student=cast["student"]).remove()
    assert _write_page(client, cast["student"], assignment).status_code == 404


def test_a_timed_essay_is_written_without_them_whatever_the_setting(client, cast, school_class, release_prompt):
    """Sealed before Start; still hidden while the clock runs ("always" included); shown once
    handed in."""
    assignment = _set(school_class, release_prompt, Release.ALWAYS, time_limit_minutes=30)
    html = _write_page(client, cast["student"], assignment).content.decode()
    assert "Start the timed essay" in html and "WEAK-ANSWER-TEXT" not in html
    submission = Submission.start(assignment, cast["student"])
    submission.save_draft("The clock is running.", submission.revision)
    assert "WEAK-ANSWER-TEXT" not in _write_page(client, cast["student"], assignment).content.decode()
    hand_in(assignment, cast["student"])
    assert "WEAK-ANSWER-TEXT" in _write_page(client, cast["student"], assignment).content.decode()


@pytest.mark.parametrize("sealed_side", ["original", "copy"])
def test_a_copy_of_a_sealed_question_keeps_its_answers_closed_too(
    client, cast, teacher, school_class, release_prompt, sealed_side
):
    """The copy carries the same answers: a timed essay not yet started on either question
    keeps the other's answers closed to that pupil."""
    copy = release_prompt.make_copy(teacher)
    assert copy.model_answers.count() == 2
    sealed, shown = (release_prompt, copy) if sealed_side == "original" else (copy, release_prompt)
    other = SchoolClassFactory(teachers=[cast["other_teacher"]], students=[cast["student"]])
    timed = _set(other, sealed, Release.HIDDEN, time_limit_minutes=30)
    open_one = _set(school_class, shown, Release.ALWAYS)
    assert "WEAK-ANSWER-TEXT" not in _write_page(client, cast["student"], open_one).content.decode()
    Submission.start(timed, cast["student"])
    assert "WEAK-ANSWER-TEXT" in _write_page(client, cast["student"], open_one).content.decode()


def test_another_assignment_does_not_unseal_a_timed_question(client, cast, school_class, release_prompt):
    """The same question set untimed with answers shown, and timed (not started) in another
    class of the pupil's: the answers stay hidden until the timed essay is started."""
    shown = _set(school_class, release_prompt, Release.ALWAYS)
    other = SchoolClassFactory(teachers=[cast["other_teacher"]], students=[cast["student"]])
    timed = _set(other, release_prompt, Release.HIDDEN, time_limit_minutes=30)
    assert "WEAK-ANSWER-TEXT" not in _write_page(client, cast["student"], shown).content.decode()
    Submission.start(timed, cast["student"])
    assert "WEAK-ANSWER-TEXT" in _write_page(client, cast["student"], shown).content.decode()


def test_a_timed_essay_past_its_cut_off_no_longer_seals_the_question(client, cast, school_class, release_prompt):
    now = timezone.now()
    _set(
        school_class,
        release_prompt,
        Release.HIDDEN,
        time_limit_minutes=30,
        opens_at=now - datetime.timedelta(days=3),
        due_at=now - datetime.timedelta(days=2),
        late_cutoff=now - datetime.timedelta(days=1),
    )
    shown = _set(school_class, release_prompt, Release.ALWAYS)
    assert "WEAK-ANSWER-TEXT" in _write_page(client, cast["student"], shown).content.decode()


@pytest.mark.parametrize("size", [1, 6])
def test_the_pupil_s_page_query_budget_with_model_answers(client, cast, school_class, django_assert_num_queries, size):
    prompt = EssayPromptFactory(mark_scheme=marking_scheme())
    for order in range(size):
        ModelAnswerFactory(prompt=prompt, order=order, spag=1)
    hidden, shown = (_set(school_class, prompt, release) for release in (Release.HIDDEN, Release.ALWAYS))
    for assignment in (hidden, shown):
        hand_in(assignment, cast["student"])
    client.force_login(cast["student"])
    with CaptureQueriesContext(connection) as without:
        assert client.get(reverse("classroom:write", args=[hidden.pk])).status_code == 200
    # The same page, then: the pupil's sealed questions, the model answers, and the scheme
    # with its criteria and levels (for what the marks are out of)
    with django_assert_num_queries(len(without) + 5):
        assert client.get(reverse("classroom:write", args=[shown.pk])).status_code == 200


# --- setting it on the assignment ----------------------------------------------------------


def test_a_new_assignment_keeps_model_answers_hidden_by_default(school_class, release_prompt):
    assert AssignmentFactory(school_class=school_class, prompt=release_prompt).model_answers == Release.HIDDEN


def test_the_teacher_chooses_on_the_assignment_form(client, teacher, school_class, release_prompt):
    client.force_login(teacher)
    url = reverse("classroom:assignment_create", args=[school_class.pk])
    due = (timezone.localtime() + datetime.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "prompt": release_prompt.pk,
        "title": "Practice",
        "opens_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "due_at": due,
        "feedback_release": "manual",
        "model_answers": "after_submit",
    }
    assert "Show pupils the model answers" in client.get(url).content.decode()
    response = client.post(url, {**data, "model_answers": "everyone"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert client.post(url, data).status_code == 302
    assert Assignment.objects.get(title="Practice").model_answers == Release.AFTER_SUBMIT


# --- the shipped unit ----------------------------------------------------------------------

# Words a pupil writes in the time, by the question's total marks (issue 12 spec).
LENGTHS = {4: (60, 150), 8: (150, 350), 12: (250, 450), 16: (350, 750), 25: (400, 1000), 30: (400, 1000)}


def test_every_shipped_prompt_has_an_answer_at_every_level():
    data = read_unit(CONTENT_DIR / "cuban_missile_crisis")
    for prompt in data.prompts:
        content = [c for c in prompt["mark_scheme"]["criteria"] if not c["is_spag"]]
        levels = sorted({lv["number"] for c in content for lv in c["levels"] if lv["number"]})
        answers = prompt["model_answers"]
        assert [a["level"] for a in answers] == levels, prompt["slug"]
        total = sum(max(lv["max_marks"] for lv in c["levels"]) for c in content)
        low, high = LENGTHS.get(total, (1, 10_000))
        for a in answers:
            words = count_words(a["text"])
            assert low <= words <= high, f"{prompt['slug']} level {a['level']}: {words} words, not {low}–{high}"
        # Top answers are the longest.
        assert count_words(answers[-1]["text"]) >= count_words(answers[0]["text"]), prompt["slug"]


def test_after_opening_the_teacher_can_still_choose_when_pupils_see_them(client, cast, school_class, release_prompt):
    assignment = _set(school_class, release_prompt, Release.HIDDEN)
    hand_in(assignment, cast["student"])
    assert "WEAK-ANSWER-TEXT" not in _write_page(client, cast["student"], assignment).content.decode()
    client.force_login(cast["teacher"])
    url = reverse("classroom:assignment_edit", args=[assignment.pk])
    due = timezone.localtime(assignment.due_at + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"due_at": due, "late_cutoff": "", "model_answers": "no-such-choice"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert client.post(url, {"due_at": due, "late_cutoff": "", "model_answers": "after_submit"}).status_code == 302
    assignment.refresh_from_db()
    assert assignment.model_answers == Release.AFTER_SUBMIT
    assert "WEAK-ANSWER-TEXT" in _write_page(client, cast["student"], assignment).content.decode()
    # Left out of the form (an older page): unchanged.
    client.force_login(cast["teacher"])
    assert client.post(url, {"due_at": due, "late_cutoff": ""}).status_code == 302
    assignment.refresh_from_db()
    assert assignment.model_answers == Release.AFTER_SUBMIT


def test_after_opening_the_setting_changes_without_touching_a_due_date_that_has_seconds(
    client, cast, school_class, release_prompt
):
    """The form shows dates to the minute; posting them back unchanged is not "moving the due
    date earlier", even when the stored time has seconds (as assignments set in code do)."""
    now = timezone.now()
    due = now.replace(microsecond=0) + datetime.timedelta(days=2, seconds=37)
    assignment = _set(
        school_class, release_prompt, Release.HIDDEN, opens_at=now - datetime.timedelta(hours=1), due_at=due
    )
    assert not assignment.is_editable()
    client.force_login(cast["teacher"])
    url = reverse("classroom:assignment_edit", args=[assignment.pk])
    shown = timezone.localtime(due).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"due_at": shown, "late_cutoff": "", "model_answers": "after_submit"})
    assert response.status_code == 302, response.content.decode()
    assignment.refresh_from_db()
    assert assignment.model_answers == Release.AFTER_SUBMIT and assignment.due_at == due
    # A genuinely earlier time is still refused, and nothing changes.
    earlier = timezone.localtime(due - datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"due_at": earlier, "late_cutoff": "", "model_answers": "always"})
    assert response.status_code == 200 and "can only move later" in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.model_answers == Release.AFTER_SUBMIT and assignment.due_at == due


@pytest.mark.parametrize(("who", "status"), [("student", 403), ("other_teacher", 404), ("outsider", 403)])
def test_only_the_class_s_teachers_choose_when_pupils_see_them(client, cast, school_class, release_prompt, who, status):
    assignment = _set(school_class, release_prompt, Release.HIDDEN)
    client.force_login(cast[who])
    due = timezone.localtime(assignment.due_at + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("classroom:assignment_edit", args=[assignment.pk]),
        {"due_at": due, "late_cutoff": "", "model_answers": "always"},
    )
    assert response.status_code == status
    assignment.refresh_from_db()
    assert assignment.model_answers == Release.HIDDEN
