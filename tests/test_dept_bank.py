"""The department comment bank (issue 14): shared entries its curators keep, below each
teacher's own and above the starter bank, in `#code` expansion and in the marking page's list."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from classroom.comment_bank import entries_by_code, expand_codes, usable_entries
from classroom.models import Annotation, CommentBankEntry, User
from tests.factories import TeacherFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator(db):
    return TeacherFactory(username="ms.curator", first_name="Cara", last_name="Curator", curates_bank=True)


@pytest.fixture
def three_provs(cast, head):
    """#prov in the starter bank, the department bank (added by the head) and the teacher's own."""
    return {
        "starter": CommentBankEntry.objects.create(code="prov", text="STARTER-PROV"),
        "department": CommentBankEntry.objects.create(owner=head, department=True, code="prov", text="DEPT-PROV"),
        "own": CommentBankEntry.objects.create(owner=cast["teacher"], code="prov", text="OWN-PROV"),
    }


def _bank(user):
    return CommentBankEntry.objects.for_teacher(user)


# --- precedence: own > department > starter -------------------------------------------------


def test_own_beats_department_beats_starter_in_expansion(cast, three_provs):
    teacher = cast["teacher"]
    assert expand_codes("#prov", _bank(teacher), 5_000) == ("OWN-PROV", three_provs["own"])
    three_provs["own"].delete()
    assert expand_codes("See #PROV.", _bank(teacher), 5_000)[0] == "See DEPT-PROV."
    assert expand_codes("#prov", _bank(teacher), 5_000)[1] == three_provs["department"]
    three_provs["department"].delete()
    assert expand_codes("#prov", _bank(teacher), 5_000) == ("STARTER-PROV", three_provs["starter"])


def test_precedence_does_not_depend_on_the_order_entries_come_in(cast, three_provs):
    entries = list(_bank(cast["teacher"]))
    for ordering in (entries, entries[::-1], entries[1:] + entries[:1]):
        assert entries_by_code(ordering)["prov"] == three_provs["own"]
        assert [e.pk for e in usable_entries(ordering)] == [three_provs["own"].pk]


def test_another_teacher_gets_the_department_entry_not_the_teachers_own(cast, three_provs):
    other = cast["other_teacher"]
    assert expand_codes("#prov", _bank(other), 5_000)[0] == "DEPT-PROV"
    assert "OWN-PROV" not in {e.text for e in _bank(other)}


def test_a_department_entry_added_by_a_teacher_ranks_as_the_department_s(cast, three_provs, curator):
    """Who added it does not make it theirs: their own #prov still wins for the curator."""
    three_provs["department"].delete()
    shared = CommentBankEntry.objects.create(owner=curator, department=True, code="prov", text="CURATED-PROV")
    mine = CommentBankEntry.objects.create(owner=curator, code="prov", text="CURATORS-OWN-PROV")
    assert entries_by_code(_bank(curator))["prov"] == mine
    mine.delete()
    assert entries_by_code(_bank(curator))["prov"] == shared


def test_the_marking_page_lists_the_winning_entry_with_its_label(client, cast, essay, three_provs):
    CommentBankEntry.objects.create(owner=cast["head"], department=True, code="date", text="DEPT-DATE")
    CommentBankEntry.objects.create(code="date", text="STARTER-DATE")
    CommentBankEntry.objects.create(code="hotline", text="STARTER-HOTLINE")
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:mark_submission", args=[essay.pk])).content.decode()
    bank = html[html.index('id="bank-list"') : html.index("</ul>", html.index('id="bank-list"'))]
    items = re.findall(r"<li[^>]*>(.*?)</li>", bank, re.S)
    labelled = {re.search(r"#(\w+)", item).group(1): item for item in items}
    assert set(labelled) == {"date", "hotline", "prov"}  # one entry per code
    assert "OWN-PROV" in labelled["prov"] and ">Mine<" in labelled["prov"]
    assert "DEPT-DATE" in labelled["date"] and ">Department<" in labelled["date"]
    assert "STARTER-HOTLINE" in labelled["hotline"] and "Mine" not in labelled["hotline"]
    assert "Department" not in labelled["hotline"]
    for hidden in ("DEPT-PROV", "STARTER-PROV", "STARTER-DATE"):
        assert hidden not in bank
    # The comment box's #code lookup follows the same rule.
    assert '"prov": "OWN-PROV"' in html and '"date": "DEPT-DATE"' in html


def test_a_department_code_typed_in_a_comment_records_the_department_entry(client, cast, essay, three_provs):
    three_provs["own"].delete()
    client.force_login(cast["teacher"])
    client.post(reverse("classroom:annotation_add", args=[essay.pk]), {"comment": "#prov"})
    annotation = Annotation.objects.get()
    assert annotation.comment == "DEPT-PROV" and annotation.bank_entry == three_provs["department"]


# --- the bank page ---------------------------------------------------------------------------


def test_every_teacher_reads_the_department_section_only_curators_get_its_buttons(client, cast, three_provs, curator):
    department = three_provs["department"]
    edit = reverse("classroom:bank_entry_edit", args=[department.pk])
    for who, curates in (("teacher", False), ("other_teacher", False), ("head", True), (curator, True)):
        client.force_login(cast[who] if isinstance(who, str) else who)
        html = client.get(reverse("classroom:comment_bank")).content.decode()
        section = html[html.index('id="department-bank"') : html.index('id="starter-heading"')]
        assert "DEPT-PROV" in section, who
        assert (edit in section) is curates, who
        assert ('name="bank" value="department"' in section) is curates, who


def test_the_bank_page_says_which_entries_a_code_no_longer_reaches(client, cast, three_provs):
    client.force_login(cast["teacher"])
    html = client.get(reverse("classroom:comment_bank")).content.decode()
    section = html[html.index('id="department-bank"') : html.index('id="starter-heading"')]
    assert "not used: your own #prov comes first" in section
    own = html[html.index('id="own-heading"') : html.index('id="department-bank"')]
    assert "OWN-PROV" in own and "not used" not in own and "DEPT-PROV" not in own


# Who may add (POST to the bank page), change and delete department entries.
CURATOR_RIGHTS = {"anonymous": 302, "student": 403, "teacher": 403, "other_teacher": 403, "curator": 200, "head": 200}


def _as(client, cast, curator, who):
    if who == "anonymous":
        return
    client.force_login(curator if who == "curator" else cast[who])


@pytest.mark.parametrize("who", list(CURATOR_RIGHTS))
def test_curator_rights_to_add_department_entries(client, cast, curator, who):
    _as(client, cast, curator, who)
    data = {"bank": "department", "dept-code": "Cause", "dept-text": "DEPT-CAUSE", "dept-criterion_code": "AO2"}
    response = client.post(reverse("classroom:comment_bank"), data)
    allowed = CURATOR_RIGHTS[who] == 200
    assert response.status_code == (302 if allowed or who == "anonymous" else 403)
    if who == "anonymous":
        assert response["Location"].startswith(reverse("login"))
    entry = CommentBankEntry.objects.filter(text="DEPT-CAUSE").first()
    assert (entry is not None) is allowed
    if allowed:
        assert (
            entry.department and entry.code == "cause" and entry.owner == (curator if who == "curator" else cast[who])
        )


@pytest.mark.parametrize("who", list(CURATOR_RIGHTS))
def test_curator_rights_to_change_and_delete_department_entries(client, cast, curator, who, three_provs):
    entry = three_provs["department"]
    _as(client, cast, curator, who)
    edit = reverse("classroom:bank_entry_edit", args=[entry.pk])
    expected = CURATOR_RIGHTS[who]
    assert client.get(edit).status_code == expected
    response = client.post(edit, {"code": "prov", "text": "CHANGED", "criterion_code": ""})
    assert response.status_code == (302 if expected in (200, 302) else expected)
    entry.refresh_from_db()
    assert (entry.text == "CHANGED") is (expected == 200)
    if expected == 200:
        assert entry.department and entry.owner == cast["head"]  # still the department's, still who added it
    response = client.post(reverse("classroom:bank_entry_delete", args=[entry.pk]))
    assert CommentBankEntry.objects.filter(pk=entry.pk).exists() is (expected != 200)


def test_a_curator_cannot_touch_another_teacher_s_own_entries_or_the_starter_bank(client, cast, curator, three_provs):
    client.force_login(curator)
    own = three_provs["own"]
    assert client.post(reverse("classroom:bank_entry_delete", args=[own.pk])).status_code == 404
    assert client.post(reverse("classroom:bank_entry_delete", args=[three_provs["starter"].pk])).status_code == 403
    assert CommentBankEntry.objects.filter(pk__in=[own.pk, three_provs["starter"].pk]).count() == 2


def test_a_teacher_may_keep_their_own_version_of_a_department_code(client, cast, three_provs):
    three_provs["own"].delete()
    client.force_login(cast["teacher"])
    client.post(reverse("classroom:comment_bank"), {"bank-code": "prov", "bank-text": "MINE-AGAIN"})
    assert CommentBankEntry.objects.get(text="MINE-AGAIN").department is False


def test_a_department_code_is_used_once(client, cast, three_provs):
    client.force_login(cast["head"])
    data = {"bank": "department", "dept-code": "PROV", "dept-text": "AGAIN", "dept-criterion_code": ""}
    response = client.post(reverse("classroom:comment_bank"), data)
    assert response.status_code == 400
    assert "The department bank already has a comment with the code #prov." in response.content.decode()
    assert not CommentBankEntry.objects.filter(text="AGAIN").exists()


def test_the_head_s_own_entries_stay_their_own(client, cast):
    """The head's ordinary form still saves to their own bank, not the department's."""
    client.force_login(cast["head"])
    client.post(reverse("classroom:comment_bank"), {"bank-code": "mine", "bank-text": "HEADS-OWN"})
    entry = CommentBankEntry.objects.get(text="HEADS-OWN")
    assert entry.department is False and entry.owner == cast["head"]
    assert "HEADS-OWN" not in {e.text for e in _bank(cast["teacher"])}


# --- naming curators -------------------------------------------------------------------------


def test_the_head_names_and_unnames_curators(client, cast, curator):
    teacher = cast["teacher"]
    client.force_login(cast["head"])
    page = client.get(reverse("classroom:comment_bank")).content.decode()
    assert reverse("classroom:bank_curators") in page and teacher.display_name in page
    response = client.post(reverse("classroom:bank_curators"), {"curators": [teacher.pk]})
    assert response.status_code == 302 and response["Location"].endswith("#curators")
    assert set(User.objects.filter(curates_bank=True)) == {teacher}  # the curator not ticked: no longer one
    client.post(reverse("classroom:bank_curators"), {})
    assert not User.objects.filter(curates_bank=True).exists()


def test_naming_a_pupil_or_an_unknown_account_changes_nothing(client, cast, curator):
    client.force_login(cast["head"])
    for bad in ([cast["student"].pk], ["99999999999999999999"], ["x"]):
        response = client.post(reverse("classroom:bank_curators"), {"curators": bad}, follow=True)
        assert response.status_code == 200 and "Nothing changed" in response.content.decode()
    assert set(User.objects.filter(curates_bank=True)) == {curator}


@pytest.mark.parametrize(
    ("who", "status"), [("anonymous", 302), ("student", 403), ("teacher", 403), ("other_teacher", 403)]
)
def test_only_a_head_names_curators(client, cast, curator, who, status):
    if who != "anonymous":
        client.force_login(cast[who])
    response = client.post(reverse("classroom:bank_curators"), {"curators": [cast["teacher"].pk]})
    assert response.status_code == status
    assert set(User.objects.filter(curates_bank=True)) == {curator}
    if who != "anonymous":
        page = client.get(reverse("classroom:comment_bank")).content.decode()
        assert reverse("classroom:bank_curators") not in page


# --- query budget ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [3, 30])
def test_bank_page_query_budget_with_a_department_bank(client, cast, head, django_assert_num_queries, size):
    for n in range(size):
        CommentBankEntry.objects.create(owner=cast["teacher"], code=f"c{n}", text=f"Comment {n}")
        CommentBankEntry.objects.create(owner=head, department=True, code=f"d{n}", text=f"Department {n}")
        CommentBankEntry.objects.create(code=f"s{n}", text=f"Starter {n}")
    client.force_login(cast["teacher"])
    # session, user, entries (own, department, starter) with their prompts
    with django_assert_num_queries(3):
        client.get(reverse("classroom:comment_bank"))
    for _ in range(size):
        TeacherFactory()
    client.force_login(head)
    # session, user, entries, the teachers who could curate (which are now, then the boxes)
    with django_assert_num_queries(5):
        client.get(reverse("classroom:comment_bank"))
