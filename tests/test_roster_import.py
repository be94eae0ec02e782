"""CSV import of student accounts: parsing, per-row errors, unique usernames, preview
then confirm, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from classroom import oneroster, roster
from classroom.models import Enrolment, User
from tests.factories import StudentFactory, TeacherFactory

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example","click")'


def rows_of(text: str, encoding: str = "utf-8") -> list[roster.RosterRow]:
    return roster.validate_rows(roster.parse_csv(text.encode(encoding)))


def by_line(rows: list[roster.RosterRow]) -> dict[int, roster.RosterRow]:
    return {row.line: row for row in rows}


# --- parsing ---------------------------------------------------------------------------


def test_utf8_with_byte_order_mark_and_semicolons_is_read():
    data = "\ufeffgiven_name;family_name;username\r\nZoë;Ångström;\r\nLuis;García;luis.g\r\n".encode()
    rows = roster.validate_rows(roster.parse_csv(data))
    assert [(row.given_name, row.family_name, row.username) for row in rows] == [
        ("Zoë", "Ångström", "zoe.angstrom"),
        ("Luis", "García", "luis.g"),
    ]


def test_username_column_is_optional_and_blank_lines_are_skipped():
    rows = rows_of("Given Name,Family Name\n\nAmelia,Brown\n,\nOliver,Smith\n")
    assert [(row.line, row.username) for row in rows] == [(3, "amelia.brown"), (5, "oliver.smith")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"name,surname\nAmelia,Brown\n", "Missing: given_name"),
        (b"given_name,family_name\n", "no students"),
        ("given_name,family_name\nZoë,Brown\n".encode("latin-1"), "not UTF-8"),
        (b"given_name,family_name\nBrown, Jr,Amelia\n", "Line 2 has 3 values"),
    ],
)
def test_problems_with_the_whole_file_are_explained(data, message):
    with pytest.raises(roster.RosterError, match=message):
        roster.parse_csv(data)


def test_more_than_100_rows_is_refused():
    text = "given_name,family_name\n" + "".join(f"Pupil,Number{n}\n" for n in range(101))
    with pytest.raises(roster.RosterError, match="101 students; at most 100"):
        roster.parse_csv(text.encode())
    assert len(roster.parse_csv(text.rsplit("Pupil", 1)[0].encode())) == 100


# --- per-row checks --------------------------------------------------------------------


def test_each_bad_row_is_reported_with_its_line_number():
    StudentFactory(username="taken.name")
    rows = by_line(
        rows_of(
            "given_name,family_name,username\n"
            "Amelia,Brown,\n"  # 2: fine
            ",Smith,\n"  # 3: no given name
            "Isla,,\n"  # 4: no family name
            "Noah,Taylor,Taken.Name\n"  # 5: taken (whatever the case)
            "Ava,Williams,ava\n"  # 6: fine
            "Ava,Walker,ava\n"  # 7: duplicate of line 6
            f"Leo,Davies,{'x' * 41}\n"  # 8: too long
            "Mia,Evans,mia evans!\n"  # 9: invalid characters
            f"{'A' * 151},Long,\n"  # 10: name too long
        )
    )
    assert rows[2].errors == [] and rows[6].errors == []
    assert rows[3].messages == ["Given name is missing."]
    assert rows[4].messages == ["Family name is missing."]
    assert rows[5].messages == ["Username “taken.name” is already taken."]
    assert rows[7].messages == ["Username “ava” is also on line 6."]
    assert rows[8].messages == ["Username is longer than 40 characters."]
    assert "may use only lower-case letters" in rows[9].messages[0]
    assert rows[10].messages == ["Given name is longer than 150 characters."]
    assert roster.has_errors(list(rows.values()))


def test_generated_usernames_are_unique_against_existing_users_and_the_file():
    StudentFactory(username="amelia.brown")
    TeacherFactory(username="Amelia.Brown2")  # case does not make a username different
    rows = rows_of(
        "given_name,family_name,username\nAmelia,Brown,\nAmelia,Brown,\nOliver,Smith,\nAnyone,Else,oliver.smith\n"
    )
    assert [row.username for row in rows] == ["amelia.brown3", "amelia.brown4", "oliver.smith2", "oliver.smith"]
    assert not roster.has_errors(rows)


@pytest.mark.parametrize(
    ("given", "family", "expected"),
    [
        ("Zoë", "O'Brien", "zoe.obrien"),
        ("Mary Jane", "Smith-Jones", "mary-jane.smith-jones"),
        ("Łukasz", "Groß", "lukasz.gross"),
        ("Søren", "Kierkegaard", "soren.kierkegaard"),
        ("明", "王", "student"),
        ("=cmd", "+1", "cmd.1"),
        ("A" * 60, "B", "a" * 36),
    ],
)
def test_username_base_is_lower_case_ascii(given, family, expected):
    base = roster.username_base(given, family)
    assert base == expected
    assert roster.USERNAME_RE.match(base)


def test_formula_like_names_are_kept_exactly_as_text():
    rows = rows_of(f'given_name,family_name\n"{FORMULA.replace(chr(34), chr(34) * 2)}",@SUM(A1)\n-2+3,+44\n')
    assert [(row.given_name, row.family_name) for row in rows] == [(FORMULA, "@SUM(A1)"), ("-2+3", "+44")]
    assert not roster.has_errors(rows)


def test_control_characters_in_names_are_refused():
    [row] = roster.validate_rows([roster.RosterRow(line=2, given_name="Ann\x00", family_name="Lee")])
    assert row.messages == ["Given name contains invisible control characters."]


def test_create_students_is_all_or_nothing_when_a_username_appears_meanwhile(school_class):
    rows = rows_of("given_name,family_name\nAmelia,Brown\nOliver,Smith\n")
    StudentFactory(username="oliver.smith")  # taken after validation
    with pytest.raises(roster.RosterError, match="Nothing was imported"):
        roster.create_students(school_class, rows)
    assert not User.objects.filter(username="amelia.brown").exists()
    assert school_class.enrolments.count() == 1  # just the cast's student


# --- the views -------------------------------------------------------------------------


def upload(client, school_class, text: str, name: str = "pupils.csv", encoding: str = "utf-8"):
    file = SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")
    return client.post(reverse("classroom:student_import", args=[school_class.pk]), {"file": file})


def confirm(client, school_class, token: str):
    return client.post(reverse("classroom:student_import_confirm", args=[school_class.pk]), {"token": token})


GOOD = "given_name,family_name,username\nAmelia,Brown,\nOliver,Smith,ollie.s\n"


def test_preview_shows_final_usernames_and_creates_nothing(client, teacher, school_class):
    client.force_login(teacher)
    before = User.objects.count()
    response = upload(client, school_class, GOOD)
    html = response.content.decode()
    assert response.status_code == 200
    assert "amelia.brown" in html and "ollie.s" in html
    assert "Create 2 accounts" in html
    assert User.objects.count() == before


def test_confirm_creates_every_account_enrolled_with_one_time_codes(client, teacher, school_class):
    client.force_login(teacher)
    token = upload(client, school_class, GOOD).context["token"]
    response = confirm(client, school_class, token)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    created = {user.username: code for user, code in response.context["created"]}
    assert set(created) == {"amelia.brown", "ollie.s"}
    html = response.content.decode()
    for username, code in created.items():
        user = User.objects.get(username=username)
        assert user.is_student and user.must_change_password
        assert user.check_password(code)
        assert code in html
        assert user in school_class.active_students()
    # A second click on Confirm (or reload) creates nothing more.
    again = confirm(client, school_class, token)
    assert again.status_code == 302
    assert User.objects.filter(username__in=created).count() == 2


def test_file_with_errors_imports_nothing_and_offers_no_confirm(client, teacher, school_class):
    client.force_login(teacher)
    before = User.objects.count()
    response = upload(client, school_class, "given_name,family_name\nAmelia,Brown\n,Smith\n")
    html = response.content.decode()
    assert "1 row of 2 needs fixing" in html
    assert "Line 3: Given name is missing." in html
    assert reverse("classroom:student_import_confirm", args=[school_class.pk]) not in html
    assert User.objects.count() == before
    # Nothing waits in the session to be confirmed either.
    assert confirm(client, school_class, "anything").status_code == 302
    assert User.objects.count() == before


def test_whole_file_problem_is_shown_on_the_upload_form(client, teacher, school_class):
    client.force_login(teacher)
    response = upload(client, school_class, "name,form\nBrown,10H\n")
    assert response.status_code == 200
    assert "Missing: given_name, family_name" in response.content.decode()


def test_confirm_revalidates_data_tampered_with_after_the_preview(client, teacher, school_class):
    client.force_login(teacher)
    token = upload(client, school_class, GOOD).context["token"]
    session = client.session
    key = f"roster-import:{school_class.pk}"
    stored = session[key]
    stored["rows"].append([4, "", "Nameless", "bad name!"])
    stored["usernames"].append("")
    session[key] = stored
    session.save()
    before = User.objects.count()
    response = confirm(client, school_class, token)
    html = response.content.decode()
    assert "Line 4: Given name is missing." in html
    assert "may use only lower-case letters" in html
    assert User.objects.count() == before


def test_confirm_shows_new_usernames_if_one_was_taken_since_the_preview(client, teacher, school_class):
    client.force_login(teacher)
    token = upload(client, school_class, GOOD).context["token"]
    StudentFactory(username="amelia.brown")
    response = confirm(client, school_class, token)
    html = response.content.decode()
    assert "were taken since your preview" in html
    assert "amelia.brown2" in html
    assert not User.objects.filter(username="amelia.brown2").exists()
    # Confirming this corrected preview creates the accounts as now shown.
    confirm(client, school_class, token)
    assert User.objects.filter(username="amelia.brown2").exists()


def test_confirm_with_a_wrong_token_imports_nothing(client, teacher, school_class):
    client.force_login(teacher)
    upload(client, school_class, GOOD)
    before = User.objects.count()
    response = confirm(client, school_class, "forged")
    assert response["Location"] == reverse("classroom:student_import", args=[school_class.pk])
    assert User.objects.count() == before


def test_a_preview_for_one_class_cannot_be_confirmed_into_another(client, teacher, school_class):
    from tests.factories import SchoolClassFactory

    second = SchoolClassFactory(teachers=[teacher])
    client.force_login(teacher)
    token = upload(client, school_class, GOOD).context["token"]
    confirm(client, second, token)
    assert not Enrolment.objects.filter(school_class=second).exists()


def test_formula_names_are_stored_as_text_and_escaped_in_preview_and_class_page(client, teacher, school_class):
    client.force_login(teacher)
    text = 'given_name,family_name\n"=cmd|\'/C calc\'!A0","<b>Bold</b>"\n'
    preview = upload(client, school_class, text)
    assert "<b>Bold</b>" not in preview.content.decode()
    assert "&lt;b&gt;Bold&lt;/b&gt;" in preview.content.decode()
    confirm(client, school_class, preview.context["token"])
    user = User.objects.get(last_name="<b>Bold</b>")
    assert user.first_name == "=cmd|'/C calc'!A0"
    html = client.get(reverse("classroom:class_detail", args=[school_class.pk])).content.decode()
    assert "=cmd|&#x27;/C calc&#x27;!A0" in html
    assert "<b>Bold</b>" not in html


def test_semicolon_file_with_bom_imports_through_the_views(client, teacher, school_class):
    client.force_login(teacher)
    text = "\ufeffgiven_name;family_name\nRenée;Dubois\n"
    preview = upload(client, school_class, text)
    confirm(client, school_class, preview.context["token"])
    assert User.objects.get(username="renee.dubois").first_name == "Renée"


def test_upload_larger_than_the_limit_is_refused(client, teacher, school_class):
    client.force_login(teacher)
    text = "given_name,family_name\n" + "A,B\n" * (roster.MAX_UPLOAD_BYTES // 4 + 1)
    response = upload(client, school_class, text)
    assert "larger than 512 KB" in response.content.decode()


def test_free_username_takes_the_wanted_one_or_numbers_the_base():
    taken = {"amelia.brown", "amelia.brown2", "mr.smith"}
    assert roster.free_username("amelia.brown", taken, wanted="ab.2026") == "ab.2026"
    assert roster.free_username("amelia.brown", taken, wanted="Mr.Smith") == "amelia.brown3"  # taken
    assert roster.free_username("amelia.brown", taken, wanted="not valid!") == "amelia.brown4"
    assert roster.free_username("amelia.brown", taken) == "amelia.brown5"
    assert {"ab.2026", "amelia.brown3", "amelia.brown4", "amelia.brown5"} <= taken  # each one reserved
    assert roster.free_username("nia.new", set()) == "nia.new"


def test_the_oneroster_import_gives_usernames_the_same_way(monkeypatch):
    given = []
    real = roster.free_username

    def spy(base, taken, wanted=""):
        given.append(base)
        return real(base, taken, wanted=wanted)

    monkeypatch.setattr(oneroster, "free_username", spy)
    plan = oneroster.make_plan(oneroster.read_source(Path(__file__).parent / "data" / "oneroster" / "bulk"))
    assert "oliver-jr.obrien" in given
    assert {person.username for person in plan.people} >= {"amelia.brown", "oliver-jr.obrien"}


def test_the_old_private_name_still_finds_taken_usernames():
    StudentFactory(username="amelia.brown")
    assert roster._taken_usernames({"amelia.brown"}, set()) == roster.taken_usernames({"amelia.brown"}, set())
    assert roster.taken_usernames(set(), {"amelia"}) == {"amelia.brown"}
