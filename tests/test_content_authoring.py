"""Teachers' authoring: copies of shipped items, editing, the mark-scheme band check, and
the access rules (students 403, other teachers 403 on someone else's copy, heads may edit)."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import ProtectedError
from django.urls import reverse

from crisis.content.loader import CONTENT_DIR, load_unit
from crisis.models import Criterion, EssayPrompt, Lesson, Level, MarkScheme, Source, Unit
from tests.factories import SourceFactory

EVERYONE = ["teacher", "student", "other_teacher", "outsider", "head"]


@pytest.fixture
def shipped(db) -> Unit:
    load_unit(CONTENT_DIR / "cuban_missile_crisis")
    return Unit.objects.shipped().get()


@pytest.fixture
def copies(shipped, teacher) -> dict:
    """The teacher's own copy of one of each kind of item."""
    prompt = EssayPrompt.objects.shipped().get(slug="crisis-improved-relations").make_copy(teacher)
    return {
        "lesson": Lesson.objects.shipped().get(slug="thirteen-days").make_copy(teacher),
        "source": Source.objects.shipped().get(label="G").make_copy(teacher),
        "prompt": prompt,
        "scheme": prompt.mark_scheme,
        "criterion": prompt.mark_scheme.criteria.get(code="AO1+AO2"),
    }


def edit_urls(copies: dict) -> dict[str, str]:
    return {
        "lesson": reverse("content:lesson_edit", args=[copies["lesson"].pk]),
        "source": reverse("content:source_edit", args=[copies["source"].pk]),
        "prompt": reverse("content:prompt_edit", args=[copies["prompt"].pk]),
        "scheme": reverse("content:markscheme_edit", args=[copies["scheme"].pk]),
        "criterion": reverse("content:criterion_levels", args=[copies["criterion"].pk]),
    }


def create_urls(unit: Unit) -> dict[str, str]:
    return {
        "lesson": reverse("content:lesson_create", args=[unit.pk]),
        "source": reverse("content:source_create", args=[unit.pk]),
        "prompt": reverse("content:prompt_create", args=[unit.pk]),
        "scheme": reverse("content:markscheme_create"),
    }


def post_data(context) -> dict:
    """The POST a browser would send for the page's form and formsets, unchanged."""
    data: dict = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            if value is True:
                data[form.add_prefix(name)] = "on"
            elif isinstance(value, list | tuple):
                data[form.add_prefix(name)] = [str(v) for v in value]
            else:
                data[form.add_prefix(name)] = str(value)

    forms = [context["form"]] if "form" in context else []
    formsets = list(context["formsets"].values()) if "formsets" in context else []
    if context.get("formset") is not None:
        formsets.append(context["formset"])
    for form in forms:
        add(form)
    for formset in formsets:
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


# --- access matrix -------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["lesson", "source", "prompt", "scheme"])
@pytest.mark.parametrize(
    ("who", "status"), [("teacher", 200), ("other_teacher", 200), ("head", 200), ("student", 403), ("outsider", 403)]
)
def test_create_pages_are_for_teachers_only(client, cast, shipped, page, who, status):
    client.force_login(cast[who])
    assert client.get(create_urls(shipped)[page]).status_code == status


@pytest.mark.parametrize("page", ["lesson", "source", "prompt"])
def test_create_pages_404_for_a_missing_unit(client, teacher, page):
    client.force_login(teacher)
    url = reverse(f"content:{page}_create", args=[999999])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("page", ["lesson", "source", "prompt", "scheme"])
def test_create_pages_send_anonymous_visitors_to_log_in(client, shipped, page):
    assert client.get(create_urls(shipped)[page])["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("page", ["lesson", "source", "prompt", "scheme", "criterion"])
@pytest.mark.parametrize(
    ("who", "status"),
    [("teacher", 200), ("head", 200), ("other_teacher", 403), ("student", 403), ("outsider", 403)],
)
def test_only_the_owner_or_the_head_can_open_a_copy_s_edit_page(client, cast, copies, page, who, status):
    client.force_login(cast[who])
    assert client.get(edit_urls(copies)[page]).status_code == status


@pytest.mark.parametrize("page", ["lesson", "source", "prompt", "scheme", "criterion"])
def test_edit_pages_send_anonymous_visitors_to_log_in(client, copies, page):
    assert client.get(edit_urls(copies)[page])["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["lesson_edit", "source_edit", "prompt_edit", "markscheme_edit", "criterion_levels"])
def test_edit_pages_404_for_missing_items(client, teacher, name):
    client.force_login(teacher)
    assert client.get(reverse(f"content:{name}", args=[999999])).status_code == 404


@pytest.mark.parametrize("who", ["teacher", "head"])
def test_shipped_items_are_read_only_even_for_the_head(client, cast, shipped, who):
    prompt = EssayPrompt.objects.shipped().first()
    criterion = prompt.mark_scheme.criteria.first()
    client.force_login(cast[who])
    for url in [
        reverse("content:lesson_edit", args=[shipped.lessons.first().pk]),
        reverse("content:source_edit", args=[shipped.sources.first().pk]),
        reverse("content:prompt_edit", args=[prompt.pk]),
        reverse("content:markscheme_edit", args=[prompt.mark_scheme_id]),
        reverse("content:criterion_levels", args=[criterion.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 403, url
        assert client.post(url, {"name": "Changed", "question": "Changed"}).status_code == 403


@pytest.mark.parametrize("kind", ["lesson", "source", "prompt"])
@pytest.mark.parametrize(("who", "status"), [("teacher", 302), ("head", 302), ("student", 403), ("outsider", 403)])
def test_only_teachers_can_make_a_copy(client, cast, shipped, kind, who, status):
    item = {"lesson": Lesson, "source": Source, "prompt": EssayPrompt}[kind].objects.shipped().first()
    client.force_login(cast[who])
    assert client.post(reverse(f"content:{kind}_copy", args=[item.pk])).status_code == status
    copies = type(item).objects.filter(copied_from=item)
    assert copies.count() == (1 if status == 302 else 0)


@pytest.mark.parametrize("kind", ["lesson", "source", "prompt"])
def test_copying_needs_a_login_a_post_and_an_existing_item(client, teacher, shipped, kind):
    url = reverse(f"content:{kind}_copy", args=[shipped.lessons.first().pk if kind == "lesson" else 1])
    assert client.post(url)["Location"].startswith(reverse("login"))
    client.force_login(teacher)
    assert client.get(url).status_code == 405
    assert client.post(reverse(f"content:{kind}_copy", args=[999999])).status_code == 404


def test_a_student_cannot_post_edits_to_a_copy(client, student, copies):
    lesson = copies["lesson"]
    client.force_login(student)
    response = client.post(reverse("content:lesson_edit", args=[lesson.pk]), {"title": "Hacked", "body": "x"})
    assert response.status_code == 403
    lesson.refresh_from_db()
    assert lesson.title != "Hacked"


def test_another_teacher_cannot_post_edits_to_a_copy(client, other_teacher, copies):
    source = copies["source"]
    client.force_login(other_teacher)
    response = client.post(reverse("content:source_edit", args=[source.pk]), {"title": "Changed"})
    assert response.status_code == 403
    source.refresh_from_db()
    assert source.title != "Changed"


# --- making copies -------------------------------------------------------------------------------


def test_make_my_copy_deep_copies_a_prompt_and_opens_its_edit_page(client, teacher, shipped):
    original = EssayPrompt.objects.shipped().get(slug="crisis-improved-relations")
    client.force_login(teacher)
    response = client.post(reverse("content:prompt_copy", args=[original.pk]))
    copy = EssayPrompt.objects.get(copied_from=original)
    assert response["Location"] == reverse("content:prompt_edit", args=[copy.pk])
    assert copy.owner == teacher
    assert copy.mark_scheme_id != original.mark_scheme_id
    assert copy.mark_scheme.owner == teacher and copy.mark_scheme.copied_from_id == original.mark_scheme_id
    assert [s.label for s in copy.ordered_sources()] == ["E", "G", "I", "K", "L", "M", "J"]
    assert copy.indicative_points.count() == original.indicative_points.count() > 0
    copied_levels = Level.objects.filter(criterion__scheme=copy.mark_scheme).count()
    assert copied_levels == Level.objects.filter(criterion__scheme=original.mark_scheme).count() == 5 + 4
    assert copy.total_marks == 16 and copy.spag_marks == 4


def test_a_lesson_copy_keeps_its_terms_timeline_questions_and_sources(teacher, shipped):
    original = Lesson.objects.shipped().get(slug="diplomatic-consequences")
    copy = original.make_copy(teacher)
    assert (copy.owner, copy.copied_from, copy.unit) == (teacher, original, original.unit)
    for related in ("key_terms", "timeline", "questions", "sources"):
        assert getattr(copy, related).count() == getattr(original, related).count() > 0, related
    assert set(copy.key_terms.values_list("term", flat=True)) == set(original.key_terms.values_list("term", flat=True))


# --- editing -------------------------------------------------------------------------------------


def test_a_teacher_edits_their_prompt_copy_and_the_original_stays(client, teacher, copies):
    prompt = copies["prompt"]
    url = reverse("content:prompt_edit", args=[prompt.pk])
    client.force_login(teacher)
    data = post_data(client.get(url).context)
    data["question"] = "How far did the Hotline change superpower relations?"
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    prompt.refresh_from_db()
    assert prompt.question == "How far did the Hotline change superpower relations?"
    assert prompt.copied_from.question.startswith("'The Cuban Missile Crisis improved relations between the USA")
    assert [s.label for s in prompt.ordered_sources()] == ["E", "G", "I", "K", "L", "M", "J"]


def test_the_head_can_edit_a_teacher_s_copy(client, head, copies):
    source = copies["source"]
    url = reverse("content:source_edit", args=[source.pk])
    client.force_login(head)
    data = post_data(client.get(url).context)
    data["title"] = "Hotline memorandum (department version)"
    assert client.post(url, data).status_code == 302
    source.refresh_from_db()
    assert source.title == "Hotline memorandum (department version)"
    assert source.owner.username == "ms.teacher"


def test_a_teacher_creates_a_lesson_with_a_key_term_and_an_event(client, teacher, shipped):
    url = reverse("content:lesson_create", args=[shipped.pk])
    client.force_login(teacher)
    data = post_data(client.get(url).context)
    data.update(
        {
            "title": "The Hotline in practice",
            "body": "## Use\n\nFirst used in **June 1967**.",
            "terms-0-term": "Hotline",
            "terms-0-definition": "A teleprinter link.",
            "timeline-0-sort_date": "1967-06-05",
            "timeline-0-when": "5 June 1967",
            "timeline-0-event": "First substantive message.",
        }
    )
    response = client.post(url, data)
    lesson = Lesson.objects.get(title="The Hotline in practice")
    assert response["Location"] == reverse("content:lesson", args=[lesson.pk])
    assert lesson.owner == teacher and lesson.unit == shipped
    assert list(lesson.key_terms.values_list("term", flat=True)) == ["Hotline"]
    assert lesson.timeline.get().sort_date == datetime.date(1967, 6, 5)


def test_preview_renders_sanitised_markdown_and_saves_nothing(client, teacher, copies):
    lesson = copies["lesson"]
    url = reverse("content:lesson_edit", args=[lesson.pk])
    client.force_login(teacher)
    data = post_data(client.get(url).context)
    data.update({"body": "## Draft\n\n**bold** <script>alert(1)</script>", "preview": "1"})
    response = client.post(url, data)
    assert response.status_code == 200
    assert "<h2>Draft</h2>" in response.text and "<strong>bold</strong>" in response.text
    assert "alert(1)" not in response.text.split("Preview (not saved yet)")[1].split("</section>")[0]
    lesson.refresh_from_db()
    assert "Draft" not in lesson.body


def test_a_source_form_with_missing_fields_explains_and_saves_nothing(client, teacher, shipped):
    client.force_login(teacher)
    response = client.post(reverse("content:source_create", args=[shipped.pk]), {"label": "K"})
    assert response.status_code == 200
    assert "nothing has been saved" in response.text
    assert not Source.objects.filter(owner=teacher).exists()


def test_a_prompt_cannot_use_another_teacher_s_mark_scheme(client, teacher, other_teacher, copies, shipped):
    theirs = MarkScheme.objects.create(name="Theirs", owner=other_teacher)
    url = reverse("content:prompt_edit", args=[copies["prompt"].pk])
    client.force_login(teacher)
    data = post_data(client.get(url).context)
    data["mark_scheme"] = str(theirs.pk)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert EssayPrompt.objects.get(pk=copies["prompt"].pk).mark_scheme_id != theirs.pk


def test_a_teacher_sets_their_question_s_type_and_an_older_form_without_it_keeps_it(client, teacher, copies):
    url = reverse("content:prompt_edit", args=[copies["prompt"].pk])
    client.force_login(teacher)
    data = post_data(client.get(url).context)
    assert data["question_type"] == copies["prompt"].question_type  # the copy keeps the shipped type
    data["question_type"] = "utility"
    assert client.post(url, data).status_code == 302
    assert EssayPrompt.objects.get(pk=copies["prompt"].pk).question_type == "utility"
    del data["question_type"]
    assert client.post(url, data).status_code == 302
    assert EssayPrompt.objects.get(pk=copies["prompt"].pk).question_type == "utility"
    data["question_type"] = "haiku"
    response = client.post(url, data)
    assert response.status_code == 200 and "Select a valid choice" in response.text
    assert EssayPrompt.objects.get(pk=copies["prompt"].pk).question_type == "utility"


def test_a_prompt_source_from_another_unit_is_refused(client, teacher, copies):
    stranger = SourceFactory()
    url = reverse("content:prompt_edit", args=[copies["prompt"].pk])
    client.force_login(teacher)
    data = post_data(client.get(url).context)
    data["sources-4-source"] = str(stranger.pk)
    data["sources-4-order"] = "9"
    response = client.post(url, data)
    assert response.status_code == 200
    assert not copies["prompt"].source_links.filter(source=stranger).exists()


# --- mark schemes and band validation ------------------------------------------------------------


def test_overlapping_bands_are_a_clear_form_error_and_nothing_is_saved(client, teacher, copies):
    criterion = copies["criterion"]
    url = reverse("content:criterion_levels", args=[criterion.pk])
    before = list(criterion.levels.values_list("number", "min_marks", "max_marks"))
    client.force_login(teacher)
    data = post_data(client.get(url).context)
    assert [data[f"levels-{i}-number"] for i in range(3)] == ["0", "1", "2"]  # the 0 band first
    data["levels-2-min_marks"] = "4"  # level 2 now starts inside level 1 (1–4)
    data["levels-2-descriptor"] = "Changed descriptor"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Mark bands: level 1 (4) and level 2 (4) overlap." in response.text
    assert list(criterion.levels.values_list("number", "min_marks", "max_marks")) == before
    assert not criterion.levels.filter(descriptor="Changed descriptor").exists()


def test_a_gap_between_bands_is_a_form_error(client, teacher, copies):
    criterion = copies["criterion"]
    url = reverse("content:criterion_levels", args=[criterion.pk])
    client.force_login(teacher)
    data = post_data(client.get(url).context)
    data["levels-4-min_marks"] = "14"  # level 4 was 13–16; level 3 ends at 12
    response = client.post(url, data)
    assert "there is a gap between level 3 (up to 12) and level 4 (from 14)" in response.text
    assert criterion.levels.get(number=4).min_marks == 13


def test_valid_bands_are_saved(client, teacher, copies):
    criterion = copies["criterion"]
    url = reverse("content:criterion_levels", args=[criterion.pk])
    client.force_login(teacher)
    data = post_data(client.get(url).context)
    data.update({"levels-4-max_marks": "14", "levels-5-number": "5", "levels-5-min_marks": "15"})
    data.update({"levels-5-max_marks": "16", "levels-5-descriptor": "Outstanding"})
    assert client.post(url, data).status_code == 302
    assert [lv.band for lv in criterion.levels.order_by("number")][-2:] == ["13–14 marks", "15–16 marks"]


def test_a_teacher_creates_a_mark_scheme_and_adds_a_criterion(client, teacher, db):
    client.force_login(teacher)
    response = client.post(reverse("content:markscheme_create"), {"name": "Short answer"})
    scheme = MarkScheme.objects.get(name="Short answer")
    assert scheme.owner == teacher
    url = reverse("content:markscheme_edit", args=[scheme.pk])
    assert response["Location"] == url
    data = post_data(client.get(url).context)
    data.update({"criteria-0-code": "AO1", "criteria-0-name": "Knowledge", "criteria-0-order": "0"})
    assert client.post(url, data).status_code == 302
    assert Criterion.objects.get(scheme=scheme).code == "AO1"


def test_two_spag_criteria_are_refused(client, teacher, copies):
    scheme = copies["scheme"]
    url = reverse("content:markscheme_edit", args=[scheme.pk])
    client.force_login(teacher)
    data = post_data(client.get(url).context)
    data["criteria-0-is_spag"] = "on"
    response = client.post(url, data)
    assert "only one SPaG criterion" in response.text
    assert scheme.criteria.filter(is_spag=True).count() == 1


def test_deleting_a_level_used_in_marking_is_refused_with_a_message(client, teacher, copies, monkeypatch):
    criterion = copies["criterion"]

    def used_in_marking(self, *args, **kwargs):
        raise ProtectedError("used by a mark", {self})

    monkeypatch.setattr(Level, "delete", used_in_marking)
    url = reverse("content:criterion_levels", args=[criterion.pk])
    client.force_login(teacher)
    data = post_data(client.get(url).context)
    data["levels-0-descriptor"] = "Changed"
    data["levels-4-DELETE"] = "on"  # the top level: what is left still has contiguous bands
    response = client.post(url, data)
    assert response.status_code == 200
    assert "already been used in marking" in response.text
    assert criterion.levels.count() == 5  # levels 0–4, none deleted
    assert not criterion.levels.filter(descriptor="Changed").exists()
