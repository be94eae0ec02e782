"""The Data protection pages: heads only; export, erasure with a typed confirmation, the
access log and its query budget."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.urls import reverse

from classroom import privacy
from classroom.models import AccessLogEntry, ErasureRecord, Submission, User
from tests.factories import StudentFactory, TeacherFactory

pytestmark = pytest.mark.django_db


def pages(student) -> dict[str, tuple[str, str]]:
    """(method, URL) of each page."""
    return {
        "home": ("get", reverse("classroom:privacy") + "?q=" + student.last_name),
        "pupil": ("get", reverse("classroom:privacy_pupil", args=[student.pk])),
        "export": ("post", reverse("classroom:privacy_export", args=[student.pk])),
        "erase": ("get", reverse("classroom:privacy_erase", args=[student.pk])),
        "log": ("get", reverse("classroom:privacy_log") + f"?pupil={student.pk}"),
    }


@pytest.mark.parametrize("page", ["home", "pupil", "export", "erase", "log"])
def test_access_matrix(client, cast, essay, page):
    method, url = pages(cast["student"])[page]
    response = getattr(client, method)(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    for who in ("student", "outsider", "teacher", "other_teacher"):
        client.force_login(cast[who])
        assert getattr(client, method)(url).status_code == 403, who
    client.force_login(cast["head"])
    response = getattr(client, method)(url)
    assert response.status_code == 200
    if method == "get":
        assert "no-store" in response["Cache-Control"]
    # Nothing was erased by looking, whoever looked.
    assert not ErasureRecord.objects.exists()
    assert User.objects.get(pk=cast["student"].pk).username == cast["student"].username


def test_a_superuser_who_is_not_a_head_may_use_the_pages(client, student):
    client.force_login(TeacherFactory(is_superuser=True, is_staff=True))
    assert client.get(reverse("classroom:privacy_pupil", args=[student.pk])).status_code == 200


@pytest.mark.parametrize("who", ["teacher", "head"])
def test_a_staff_account_is_not_found_on_the_pupil_pages(client, cast, who):
    client.force_login(cast["head"])
    for page in ("pupil", "erase"):
        _method, url = pages(cast[who])[page]
        assert client.get(url).status_code == 404
    assert client.post(reverse("classroom:privacy_export", args=[cast[who].pk])).status_code == 404
    assert client.get(reverse("classroom:privacy_pupil", args=[99999])).status_code == 404


def test_export_downloads_the_zip_and_is_logged(client, head, student, essay):
    client.force_login(head)
    response = client.post(reverse("classroom:privacy_export", args=[student.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert f"subject-access-{student.username}-" in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        data = json.loads(archive.read("data.json"))
        assert f"essays/essay-{essay.pk}.html" in archive.namelist()
    assert [row["text"] for row in data["tables"]["classroom.submission"]] == [essay.text]
    entry = AccessLogEntry.objects.get()
    assert (entry.viewer, entry.pupil, entry.what) == (head, student, "Subject-access export")


def test_export_is_post_only(client, head, student):
    client.force_login(head)
    assert client.get(reverse("classroom:privacy_export", args=[student.pk])).status_code == 405


def test_erase_needs_the_username_typed(client, head, student, essay):
    client.force_login(head)
    url = reverse("classroom:privacy_erase", args=[student.pk])
    page = client.get(url).content.decode()
    assert 'name="confirm"' in page and student.username in page
    response = client.post(url, {"confirm": "someone-else"}, follow=True)
    assert "nothing was erased" in response.content.decode()
    assert User.objects.get(pk=student.pk).username == student.username and not ErasureRecord.objects.exists()
    response = client.post(url, {"confirm": student.username.upper()})
    assert response.status_code == 302 and response["Location"] == reverse("classroom:privacy")
    record = ErasureRecord.objects.get()
    assert (record.erased_by, record.how) == (head, "page")
    assert User.objects.get(pk=student.pk).username == record.reference
    assert Submission.objects.get(pk=essay.pk).text == ""
    # A second go is refused with a message, not a 500.
    response = client.post(url, {"confirm": record.reference}, follow=True)
    assert "already been erased" in response.content.decode()
    assert ErasureRecord.objects.count() == 1


def test_the_home_page_finds_pupils_not_staff(client, cast):
    client.force_login(cast["head"])
    html = client.get(reverse("classroom:privacy") + "?q=" + cast["student"].last_name).content.decode()
    assert reverse("classroom:privacy_pupil", args=[cast["student"].pk]) in html
    html = client.get(reverse("classroom:privacy") + "?q=" + cast["teacher"].username).content.decode()
    assert reverse("classroom:privacy_pupil", args=[cast["teacher"].pk]) not in html
    assert "No pupil’s name or username contains" in html


def test_the_log_page_ignores_a_bad_pupil_filter(client, head, student):
    client.force_login(head)
    response = client.get(reverse("classroom:privacy_log") + "?pupil=abc", follow=True)
    assert response.status_code == 200 and "That is not a pupil" in response.content.decode()


@pytest.mark.parametrize("rows", [3, 60])
def test_log_and_home_query_budget(client, cast, django_assert_num_queries, rows):
    teacher = cast["teacher"]
    pupils = [StudentFactory(last_name="Budget") for _ in range(rows)]
    AccessLogEntry.objects.bulk_create(AccessLogEntry(viewer=teacher, pupil=p, what="Marking page") for p in pupils)
    for pupil in pupils[:2]:
        privacy.erase_pupil(pupil, by=cast["head"], how="page")
    client.force_login(cast["head"])
    # session, user; count, page of rows (with viewer, pupil, class)
    with django_assert_num_queries(4):
        assert client.get(reverse("classroom:privacy_log")).status_code == 200
    # session, user; pupils found; past retention (count); old log rows (count); erasures
    with django_assert_num_queries(6):
        assert client.get(reverse("classroom:privacy") + "?q=Budget").status_code == 200


def test_the_pupil_search_drops_a_nul_rather_than_failing(client, head, student):
    client.force_login(head)
    response = client.get(reverse("classroom:privacy") + "?q=" + student.username[:4] + "%00")
    assert response.status_code == 200
    assert student.username in response.content.decode()
