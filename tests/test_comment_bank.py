"""The comment bank: the starter bank loader, #code insertion, owner-only changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from classroom.comment_bank import BankFileError, expand_codes, load_starter_bank
from classroom.models import Annotation, CommentBankEntry
from crisis.content.loader import CONTENT_DIR
from tests.helpers import FULL, mark_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def starter(db):
    return [
        CommentBankEntry.objects.create(code="prov", text="Use the provenance.", criterion_code="AO3"),
        CommentBankEntry.objects.create(code="date", text="Give the exact date.", criterion_code="AO1"),
    ]


def test_load_comment_bank_loads_every_starter_entry_and_is_idempotent():
    call_command("load_unit", stdout=open("/dev/null", "w"))  # noqa: SIM115 - prompt slugs must exist
    import yaml

    expected = yaml.safe_load((CONTENT_DIR / "cuban_missile_crisis" / "comment_bank.yaml").read_text())
    call_command("load_comment_bank", stdout=open("/dev/null", "w"))  # noqa: SIM115
    first = list(CommentBankEntry.objects.order_by("code").values_list("pk", "code", "text"))
    assert len(first) == len(expected) and CommentBankEntry.objects.filter(owner__isnull=False).count() == 0
    report = load_starter_bank()
    assert (report.created, report.updated, report.unchanged) == (0, 0, len(expected))
    assert list(CommentBankEntry.objects.order_by("code").values_list("pk", "code", "text")) == first


def test_the_loader_updates_in_place_and_leaves_teachers_entries_alone(tmp_path: Path, teacher):
    unit = tmp_path / "unit_a"
    unit.mkdir()
    (unit / "unit.yaml").write_text("slug: a\n")
    (unit / "comment_bank.yaml").write_text('- {code: prov, text: "Old text", criterion: AO3, prompt: null}\n')
    mine = CommentBankEntry.objects.create(owner=teacher, code="prov", text="My own version")
    load_starter_bank(tmp_path)
    starter = CommentBankEntry.objects.get(owner__isnull=True, code="prov")
    (unit / "comment_bank.yaml").write_text('- {code: prov, text: "New text", criterion: AO3, prompt: null}\n')
    report = load_starter_bank(tmp_path)
    assert report.updated == 1
    assert CommentBankEntry.objects.get(pk=starter.pk).text == "New text"
    assert CommentBankEntry.objects.get(pk=mine.pk).text == "My own version"


def test_a_bad_bank_file_loads_nothing(tmp_path: Path):
    unit = tmp_path / "unit_a"
    unit.mkdir()
    (unit / "unit.yaml").write_text("slug: a\n")
    (unit / "comment_bank.yaml").write_text(
        '- {code: ok, text: "Fine", criterion: AO1, prompt: null}\n- {code: "bad code", text: "", criterion: AO9}\n'
    )
    with pytest.raises(BankFileError) as error:
        load_starter_bank(tmp_path)
    assert "item 2" in str(error.value) and "AO9" in str(error.value) and "text is missing" in str(error.value)
    assert not CommentBankEntry.objects.exists()


def test_codes_expand_to_the_bank_text_and_the_teachers_own_wins(starter, teacher):
    mine = CommentBankEntry.objects.create(owner=teacher, code="date", text="My date comment.")
    entries = CommentBankEntry.objects.for_teacher(teacher)
    assert expand_codes("#prov", entries, 5_000) == ("Use the provenance.", starter[0])
    assert (
        expand_codes("See #DATE here, and #unknown.", entries, 5_000)[0] == "See My date comment. here, and #unknown."
    )
    assert expand_codes("#date", entries, 5_000)[1] == mine
    assert expand_codes("email me at a#prov", entries, 5_000)[0] == "email me at a#prov"


def test_typing_a_code_in_a_comment_inserts_the_bank_text(client, cast, essay, starter):
    client.force_login(cast["teacher"])
    client.post(reverse("classroom:annotation_add", args=[essay.pk]), {"comment": "#prov"})
    annotation = Annotation.objects.get()
    assert annotation.comment == "Use the provenance." and annotation.bank_entry == starter[0]


def test_codes_in_the_written_feedback_are_expanded(client, cast, essay, starter):
    client.force_login(cast["teacher"])
    client.post(reverse("classroom:mark_submission", args=[essay.pk]), mark_post(essay, FULL, ebi="#date"))
    assert essay.__class__.objects.get(pk=essay.pk).mark.ebi == "Give the exact date."


def test_other_teachers_entries_are_invisible_and_cannot_be_changed(client, cast, essay):
    theirs = CommentBankEntry.objects.create(owner=cast["other_teacher"], code="secret", text="Their comment")
    client.force_login(cast["teacher"])
    assert "Their comment" not in client.get(reverse("classroom:comment_bank")).content.decode()
    assert "Their comment" not in client.get(reverse("classroom:mark_submission", args=[essay.pk])).content.decode()
    assert client.get(reverse("classroom:bank_entry_edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("classroom:bank_entry_delete", args=[theirs.pk])).status_code == 404
    client.post(reverse("classroom:annotation_add", args=[essay.pk]), {"comment": "#secret"})
    assert Annotation.objects.get().comment == "#secret"
    assert CommentBankEntry.objects.filter(pk=theirs.pk).exists()


def test_the_starter_bank_cannot_be_changed(client, cast, starter):
    client.force_login(cast["teacher"])
    assert (
        client.post(reverse("classroom:bank_entry_edit", args=[starter[0].pk]), {"code": "x", "text": "y"}).status_code
        == 403
    )
    assert client.post(reverse("classroom:bank_entry_delete", args=[starter[0].pk])).status_code == 403
    assert CommentBankEntry.objects.get(pk=starter[0].pk).text == "Use the provenance."


@pytest.mark.parametrize("who,status", [("student", 403), ("outsider", 403)])
def test_students_have_no_comment_bank(client, cast, who, status):
    client.force_login(cast[who])
    assert client.get(reverse("classroom:comment_bank")).status_code == status


def test_owner_adds_edits_filters_and_deletes_their_entries(client, cast, starter):
    client.force_login(cast["teacher"])
    url = reverse("classroom:comment_bank")
    client.post(url, {"bank-code": "Hotline", "bank-text": "Not a telephone.", "bank-criterion_code": "AO1"})
    entry = CommentBankEntry.objects.get(owner=cast["teacher"])
    assert entry.code == "hotline"
    duplicate = client.post(url, {"bank-code": "hotline", "bank-text": "Again", "bank-criterion_code": ""})
    assert (
        duplicate.status_code == 400 and "already have a comment with the code #hotline" in duplicate.content.decode()
    )
    filtered = client.get(url + "?criterion=AO3").content.decode()
    assert "Use the provenance." in filtered and "Not a telephone." not in filtered
    client.post(
        reverse("classroom:bank_entry_edit", args=[entry.pk]),
        {"code": "hotline", "text": "Teleprinter.", "criterion_code": "AO1"},
    )
    assert CommentBankEntry.objects.get(pk=entry.pk).text == "Teleprinter."
    client.post(reverse("classroom:bank_entry_delete", args=[entry.pk]))
    assert not CommentBankEntry.objects.filter(owner=cast["teacher"]).exists()


def test_save_to_my_bank_from_the_marking_page_returns_there(client, cast, essay):
    client.force_login(cast["teacher"])
    marking = reverse("classroom:mark_submission", args=[essay.pk])
    response = client.post(
        reverse("classroom:comment_bank"),
        {
            "bank-code": "para",
            "bank-text": "Start a new paragraph.",
            "bank-criterion_code": "",
            "next": marking + "#bank",
        },
    )
    assert response["Location"] == marking + "#bank"
    assert "Start a new paragraph." in client.get(marking).content.decode()
    evil = client.post(
        reverse("classroom:comment_bank"),
        {"bank-code": "para2", "bank-text": "x", "bank-criterion_code": "", "next": "https://evil.example/"},
    )
    assert evil["Location"] == reverse("classroom:comment_bank")


@pytest.mark.parametrize("size", [3, 30])
def test_comment_bank_page_query_budget(client, cast, starter, django_assert_num_queries, size):
    for n in range(size):
        CommentBankEntry.objects.create(owner=cast["teacher"], code=f"c{n}", text=f"Comment {n}")
    client.force_login(cast["teacher"])
    # session, user, entries with their prompts
    with django_assert_num_queries(3):
        client.get(reverse("classroom:comment_bank"))
