"""Django admin and a used mark scheme: a change to its structure (criteria, codes, SPaG, levels,
bands) or to a marked question's scheme is refused with a clear message, nothing saved; never
a server error. The same rule the authoring pages follow (tests/test_hardening_schemes.py)."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.urls import reverse

from crisis.models import Criterion, EssayPrompt, Level, MarkScheme
from tests.factories import MarkSchemeFactory
from tests.helpers import hand_in, mark_fully
from tests.htmlforms import form_data

pytestmark = pytest.mark.django_db

REFUSED = "Nothing was saved: this mark scheme has been used to mark 1 essay"


@pytest.fixture
def used(marking_assignment, student, teacher) -> MarkScheme:
    """marking_scheme() (AO1, AO2, SPaG), with one essay marked."""
    mark_fully(hand_in(marking_assignment, student), teacher)
    return marking_assignment.prompt.mark_scheme


def structure(scheme: MarkScheme) -> list:
    return [
        (
            c.pk,
            c.code,
            c.name,
            c.is_spag,
            [(lv.number, lv.min_marks, lv.max_marks, lv.descriptor) for lv in c.levels.all()],
        )
        for c in scheme.criteria.prefetch_related("levels").order_by("pk")
    ]


def refused(client, url: str, data: dict) -> str:
    """POST the admin form; expect the page back with the refusal, not a 500."""
    response = client.post(url, data)
    assert response.status_code == 302, response.status_code
    assert response["Location"] == url
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(texts) == 1 and texts[0].startswith(REFUSED), texts
    page = client.get(url)
    assert page.status_code == 200
    return texts[0]


def test_m6_changing_a_used_criterion_s_bands_in_the_admin_is_refused_with_nothing_saved(client, admin_user, used):
    before = structure(used)
    ao1 = used.criteria.get(code="AO1")
    url = reverse("admin:crisis_criterion_change", args=[ao1.pk])
    client.force_login(admin_user)
    data = form_data(client.get(url).text)
    data["name"] = "Knowledge (renamed)"  # wording alone could change, but not in the same save as bands
    data["levels-0-max_marks"] = "3"
    data["levels-1-min_marks"] = "4"

    message = refused(client, url, data)

    assert "Make an editable copy" in message
    assert structure(used) == before
    assert not LogEntry.objects.exists()


def test_m6_adding_a_level_or_deleting_one_in_the_admin_is_refused(client, admin_user, used):
    before = structure(used)
    ao1 = used.criteria.get(code="AO1")
    url = reverse("admin:crisis_criterion_change", args=[ao1.pk])
    client.force_login(admin_user)
    data = form_data(client.get(url).text)
    data["levels-0-DELETE"] = "on"
    refused(client, url, data)

    data = form_data(client.get(url).text)
    total = int(data["levels-TOTAL_FORMS"])
    data["levels-TOTAL_FORMS"] = str(total + 1)
    data |= {
        f"levels-{total}-number": "3",
        f"levels-{total}-min_marks": "5",
        f"levels-{total}-max_marks": "6",
        f"levels-{total}-descriptor": "More",
        f"levels-{total}-criterion": str(ao1.pk),
    }
    refused(client, url, data)
    assert structure(used) == before


def test_m6_changing_a_used_scheme_s_criteria_in_the_admin_is_refused(client, admin_user, used):
    before = structure(used)
    url = reverse("admin:crisis_markscheme_change", args=[used.pk])
    client.force_login(admin_user)
    data = form_data(client.get(url).text)
    codes = {data[f"criteria-{i}-code"]: i for i in range(int(data["criteria-TOTAL_FORMS"]))}
    data[f"criteria-{codes['AO2']}-code"] = "AO3"
    data["name"] = "Renamed in the same save"

    refused(client, url, data)

    assert structure(used) == before
    assert MarkScheme.objects.get(pk=used.pk).name == used.name

    # Deleting a criterion marks point at: the admin's own check refuses it on the form.
    data = form_data(client.get(url).text)
    data[f"criteria-{codes['SPAG']}-DELETE"] = "on"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "would require deleting the following protected related objects" in response.text
    assert structure(used) == before


def test_m6_the_wording_of_a_used_scheme_can_still_be_corrected_in_the_admin(client, admin_user, used):
    ao1 = used.criteria.get(code="AO1")
    url = reverse("admin:crisis_criterion_change", args=[ao1.pk])
    client.force_login(admin_user)
    data = form_data(client.get(url).text)
    data["levels-0-descriptor"] = "Some accurate knowledge (typo fixed)"

    response = client.post(url, data)

    assert response.status_code == 302 and response["Location"] == reverse("admin:crisis_criterion_changelist")
    assert Level.objects.get(criterion=ao1, number=1).descriptor == "Some accurate knowledge (typo fixed)"


def test_m6_giving_a_marked_question_another_scheme_in_the_admin_is_refused(client, admin_user, used):
    prompt = EssayPrompt.objects.get(mark_scheme=used)
    other = MarkSchemeFactory()
    url = reverse("admin:crisis_essayprompt_change", args=[prompt.pk])
    client.force_login(admin_user)
    data = form_data(client.get(url).text)
    data["mark_scheme"] = str(other.pk)

    response = client.post(url, data)

    assert response.status_code == 302 and response["Location"] == url
    assert [str(m) for m in get_messages(response.wsgi_request)][0].startswith("Nothing was saved")
    assert EssayPrompt.objects.get(pk=prompt.pk).mark_scheme_id == used.pk


def test_m6_deleting_a_used_criterion_in_the_admin_deletes_nothing_and_is_no_server_error(client, admin_user, used):
    ao1 = used.criteria.get(code="AO1")
    url = reverse("admin:crisis_criterion_delete", args=[ao1.pk])
    client.force_login(admin_user)

    response = client.post(url, {"post": "yes"})

    assert response.status_code in (200, 302)
    assert Criterion.objects.filter(pk=ao1.pk).exists()
