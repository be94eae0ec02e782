"""Teachers' copies save (issue 12 item 10): every shipped lesson, source, question and mark scheme,
copied with "Make my copy" and saved unchanged from its edit page as a browser sends it (dates,
timeline rows, levels, line breaks), comes back identical; a copied mark scheme is always named
apart from every scheme the teacher can choose. tests/e2e/test_authoring_browser.py does the same
in a real browser."""

from __future__ import annotations

import pytest
from django.db import models
from django.urls import reverse

from crisis.content.loader import CONTENT_DIR, load_unit
from crisis.models import EssayPrompt, Lesson, MarkScheme, Source, Unit
from tests.htmlforms import form_data

pytestmark = pytest.mark.django_db

SKIP = {"id", "created_at", "updated_at"}


def values(obj: models.Model, *parents: str) -> dict:
    """Every stored field of a row but its id, timestamps and the link to its parent."""
    return {
        f.attname: getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if f.attname not in SKIP and f.attname not in parents
    }


def rows(queryset, *parents: str) -> list[dict]:
    return [values(obj, *parents) for obj in queryset.order_by("pk")]


def scheme_snapshot(scheme: MarkScheme) -> dict:
    return {
        "scheme": values(scheme),
        "criteria": [
            {**values(c, "scheme_id"), "levels": rows(c.levels.all(), "criterion_id")}
            for c in scheme.criteria.order_by("pk")
        ],
    }


def snapshot(obj: models.Model) -> dict:
    """The item and everything the edit pages save with it."""
    obj = type(obj).objects.get(pk=obj.pk)
    data = {"item": values(obj)}
    if isinstance(obj, Lesson):
        data |= {
            "terms": rows(obj.key_terms.all(), "lesson_id"),
            "timeline": rows(obj.timeline.all(), "lesson_id"),
            "questions": rows(obj.questions.all(), "lesson_id"),
            "sources": sorted(obj.sources.values_list("pk", flat=True)),
            "reviews": sorted(obj.review_questions.values_list("pk", flat=True)),
        }
    elif isinstance(obj, EssayPrompt):
        data |= {
            "sources": rows(obj.source_links.all(), "prompt_id"),
            "points": rows(obj.indicative_points.all(), "prompt_id"),
            "scheme": scheme_snapshot(obj.mark_scheme),
        }
        if hasattr(obj, "model_answers"):
            data["answers"] = rows(obj.model_answers.all(), "prompt_id")
    elif isinstance(obj, MarkScheme):
        data |= scheme_snapshot(obj)
    return data


def save_unchanged(client, url: str, done: str | None = None) -> None:
    """Open the edit page, send its form back as the browser would, and expect it saved."""
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, form_data(page.text))
    errors = response.context and [
        str(e) for key in ("form", "formset") if response.context.get(key) for e in [response.context[key].errors]
    ]
    assert response.status_code == 302, f"{url} was not saved: {errors}"
    if done is not None:
        assert response["Location"] == done


@pytest.fixture
def shipped(db) -> Unit:
    load_unit(CONTENT_DIR / "cuban_missile_crisis")
    return Unit.objects.shipped().get()


def make_copy(client, kind: str, item) -> models.Model:
    response = client.post(reverse(f"content:{kind}_copy", args=[item.pk]))
    assert response.status_code == 302
    model = {"lesson": Lesson, "source": Source, "prompt": EssayPrompt, "markscheme": MarkScheme}[kind]
    return model.objects.filter(copied_from=item).latest("pk")


@pytest.mark.parametrize(
    ("kind", "model", "detail"),
    [
        ("lesson", Lesson, "content:lesson"),
        ("source", Source, "content:source"),
        ("prompt", EssayPrompt, "content:prompt"),
    ],
)
def test_every_shipped_item_s_copy_saves_unchanged_from_its_edit_page(client, teacher, shipped, kind, model, detail):
    client.force_login(teacher)
    items = list(model.objects.shipped().filter(unit=shipped))
    assert items
    for item in items:
        copy = make_copy(client, kind, item)
        before = snapshot(copy)
        save_unchanged(client, reverse(f"content:{kind}_edit", args=[copy.pk]), reverse(detail, args=[copy.pk]))
        assert snapshot(copy) == before, f"{kind} {item}"


def test_every_copied_mark_scheme_and_its_levels_save_unchanged(client, teacher, shipped):
    client.force_login(teacher)
    for prompt in EssayPrompt.objects.shipped().filter(unit=shipped).select_related("mark_scheme"):
        copy = make_copy(client, "markscheme", prompt.mark_scheme)
        before = snapshot(copy)
        save_unchanged(client, reverse("content:markscheme_edit", args=[copy.pk]))
        for criterion in copy.criteria.all():
            save_unchanged(client, reverse("content:criterion_levels", args=[criterion.pk]))
        assert snapshot(copy) == before, str(prompt.mark_scheme)


def test_a_lesson_copy_s_dates_reach_the_browser_as_iso_dates(client, teacher, shipped):
    """A date input shows (and sends back) only yyyy-mm-dd; the school's locale writes 27/10/1962."""
    lesson = Lesson.objects.shipped().filter(timeline__isnull=False).first()
    client.force_login(teacher)
    copy = make_copy(client, "lesson", lesson)
    data = form_data(client.get(reverse("content:lesson_edit", args=[copy.pk])).text)
    sent = [data[f"timeline-{i}-sort_date"] for i in range(copy.timeline.count())]
    assert sent == [e.sort_date.isoformat() for e in copy.timeline.order_by("sort_date", "pk")]


# --- names of copied mark schemes ---------------------------------------------------------------


def choosable_names(teacher) -> list[str]:
    return list(
        MarkScheme.objects.filter(models.Q(owner__isnull=True) | models.Q(owner=teacher)).values_list("name", flat=True)
    )


def test_copies_of_a_mark_scheme_are_numbered_and_never_share_a_name(client, teacher, other_teacher, shipped):
    prompt = EssayPrompt.objects.shipped().filter(unit=shipped).select_related("mark_scheme").first()
    original = prompt.mark_scheme
    client.force_login(teacher)

    first = make_copy(client, "markscheme", original)
    second = make_copy(client, "markscheme", original)
    of_a_copy = make_copy(client, "markscheme", first)
    prompt_copy = make_copy(client, "prompt", prompt)  # brings its own copy of the scheme

    assert first.name == f"{original.name} (copy)"
    assert second.name == f"{original.name} (copy 2)"
    assert of_a_copy.name == f"{original.name} (copy 3)"  # not "(copy) (copy)"
    assert prompt_copy.mark_scheme.name == f"{original.name} (copy 4)"
    names = choosable_names(teacher)
    assert len(names) == len(set(names))

    # Another teacher's copies are theirs: their first copy is "(copy)" again.
    client.force_login(other_teacher)
    assert make_copy(client, "markscheme", original).name == f"{original.name} (copy)"


def test_a_long_name_is_shortened_to_fit_its_copy_suffix(client, teacher):
    original = MarkScheme.objects.create(name="x" * 200)
    client.force_login(teacher)
    assert make_copy(client, "markscheme", original).name == "x" * 193 + " (copy)"
    assert make_copy(client, "markscheme", original).name == "x" * 191 + " (copy 2)"


def test_a_teacher_cannot_give_a_scheme_a_name_they_already_use(client, teacher, shipped):
    shipped_name = MarkScheme.objects.shipped().values_list("name", flat=True).first()
    client.force_login(teacher)
    response = client.post(reverse("content:markscheme_create"), {"name": shipped_name})
    assert response.status_code == 200
    assert "You already have a mark scheme with this name" in response.text
    assert not MarkScheme.objects.filter(owner=teacher).exists()

    client.post(reverse("content:markscheme_create"), {"name": "Year 10 essay"})
    mine = MarkScheme.objects.get(owner=teacher, name="Year 10 essay")
    other = MarkScheme.objects.create(owner=teacher, name="Year 11 essay")
    url = reverse("content:markscheme_edit", args=[other.pk])
    data = form_data(client.get(url).text, containing="name")
    data["name"] = mine.name
    assert "You already have a mark scheme with this name" in client.post(url, data).text
    assert MarkScheme.objects.get(pk=other.pk).name == "Year 11 essay"
