"""OneRoster 1.1 CSV import: reading the set (zip or folder, BOM, quoted commas, empty and
unknown columns), the plan (create / update / deactivate / unchanged per class and person),
applying it in one transaction, errors with file, line and column, and the upload pages."""

from __future__ import annotations

import datetime
import io
import shutil
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from classroom import oneroster, permissions
from classroom.models import EmailKind, Enrolment, OneRosterImport, QueuedEmail, SchoolClass, Submission, User
from tests.factories import AssignmentFactory, HeadFactory, StudentFactory, SubmissionFactory, TeacherFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data" / "oneroster"
BULK = DATA / "bulk"
DELTA = DATA / "delta"


def files_of(folder: Path, **replace: str) -> dict[str, bytes]:
    """The set in `folder`, with some files replaced by text (name without .csv)."""
    files = oneroster.read_source(folder)
    for name, text in replace.items():
        files[f"{name}.csv"] = text.encode("utf-8")
    return files


def zipped(files: dict[str, bytes], folder: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(folder + name, data)
    return buffer.getvalue()


def text_of(name: str, folder: Path = BULK) -> str:
    return (folder / f"{name}.csv").read_text(encoding="utf-8-sig")


def run(files: dict[str, bytes], only: str = "") -> oneroster.Plan:
    plan = oneroster.make_plan(files, only=only)
    oneroster.apply_plan(plan)
    return plan


def snapshot() -> tuple:
    """Everything an import may change, to prove that nothing did."""
    return (
        sorted(
            User.objects.values_list("pk", "username", "first_name", "last_name", "email", "is_active", "roster_id")
        ),
        sorted(SchoolClass.objects.values_list("pk", "name", "archived", "roster_id")),
        sorted(Enrolment.objects.values_list("pk", "school_class_id", "student_id", "removed_at")),
        sorted(SchoolClass.teachers.through.objects.values_list("schoolclass_id", "user_id")),
    )


def by_roster(roster_id: str) -> User:
    return User.objects.get(roster_id=roster_id)


def active_pupils(class_roster_id: str) -> set[str]:
    school_class = SchoolClass.objects.get(roster_id=class_roster_id)
    return set(school_class.active_students().values_list("roster_id", flat=True))


# --- a clean bulk set ------------------------------------------------------------------------


def test_a_bulk_folder_creates_classes_pupils_and_teachers():
    plan = run(oneroster.read_source(BULK))
    counts = plan.counts()
    assert counts["classes"]["create"] == 3
    assert counts["pupils"]["create"] == 4  # the parent is not imported
    assert counts["teachers"]["create"] == 1
    tudors = SchoolClass.objects.get(roster_id="class-10h1")
    # The quoted comma stays in the title; the BOM does not end up in the first column.
    assert tudors.name == "10H1 History, Tudors"
    assert active_pupils("class-10h1") == {"p-1", "p-2"}
    assert active_pupils("class-10h2") == {"p-3"}
    teacher = by_roster("t-1")
    assert teacher.role == User.Role.TEACHER and teacher.email == "H.Patel@Hillside.example"
    assert set(tudors.teachers.all()) == {teacher}
    oliver = by_roster("p-2")
    assert (oliver.first_name, oliver.last_name) == ("Oliver, Jr", "O'Brien")
    assert oliver.username == "oliver-jr.obrien"  # no username in the file: made from the name
    amelia = by_roster("p-1")
    assert amelia.username == "amelia.brown" and amelia.role == User.Role.STUDENT
    assert not amelia.has_usable_password()  # a one-time code from a teacher, or the school's accounts
    assert not User.objects.filter(username="parent.brown").exists()


def test_a_zip_reads_the_same_as_the_folder_even_inside_a_folder(tmp_path):
    path = tmp_path / "roster.zip"
    path.write_bytes(zipped(oneroster.read_source(BULK), folder="export-2026/"))
    assert oneroster.read_source(path) == oneroster.read_source(BULK)


def test_running_the_same_file_again_changes_nothing():
    run(oneroster.read_source(BULK))
    before = snapshot()
    plan = oneroster.make_plan(oneroster.read_source(BULK))
    assert plan.changes == 0
    assert all(item.action == "unchanged" for item in [*plan.classes, *plan.people])
    with CaptureQueriesContext(connection) as queries:
        oneroster.apply_plan(plan)
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []
    assert snapshot() == before


def test_the_only_filter_takes_classes_by_subject_or_course():
    plan = run(oneroster.read_source(BULK), only="history")
    assert set(SchoolClass.objects.values_list("roster_id", flat=True)) == {"class-10h1", "class-10h2"}
    assert plan.skipped_classes == 1
    assert not User.objects.filter(roster_id="p-4").exists()  # only in the maths class


def test_a_teacher_is_matched_by_email_and_a_head_is_never_demoted():
    head = HeadFactory(email="h.patel@hillside.example", username="head")
    plan = run(oneroster.read_source(BULK))
    head.refresh_from_db()
    assert head.role == User.Role.HEAD and head.roster_id == "t-1"
    assert plan.counts()["teachers"]["update"] == 1
    assert head in SchoolClass.objects.get(roster_id="class-10h1").teachers.all()
    # Absent from the next file: a head is not deactivated.
    users = "\n".join(line for line in text_of("users").splitlines() if not line.startswith("t-1,"))
    enrolments = "\n".join(line for line in text_of("enrollments").splitlines() if ",t-1," not in line)
    run(files_of(BULK, users=users, enrollments=enrolments))
    head.refresh_from_db()
    assert head.is_active and head.role == User.Role.HEAD


# --- changes between files ----------------------------------------------------------------


def test_a_renamed_class_keeps_its_pupils_and_their_essays():
    run(oneroster.read_source(BULK))
    school_class = SchoolClass.objects.get(roster_id="class-10h1")
    amelia = by_roster("p-1")
    essay = SubmissionFactory(assignment=AssignmentFactory(school_class=school_class), student=amelia, text="Mine.")
    classes = text_of("classes").replace('"10H1 History, Tudors"', "10H1 History (Stuarts)")
    plan = run(files_of(BULK, classes=classes))
    [renamed] = [item for item in plan.classes if item.sourced_id == "class-10h1"]
    assert renamed.action == "update" and "renamed" in renamed.changes[0]
    school_class.refresh_from_db()
    assert school_class.name == "10H1 History (Stuarts)"
    assert SchoolClass.objects.get(roster_id="class-10h1").pk == school_class.pk
    assert active_pupils("class-10h1") == {"p-1", "p-2"}
    essay.refresh_from_db()
    assert essay.student == amelia and essay.assignment.school_class == school_class


def test_people_absent_from_a_bulk_file_are_deactivated_and_leave_but_keep_their_work():
    run(oneroster.read_source(BULK))
    amelia = by_roster("p-1")
    school_class = SchoolClass.objects.get(roster_id="class-10h1")
    SubmissionFactory(assignment=AssignmentFactory(school_class=school_class), student=amelia, text="Kept.")
    manual = StudentFactory(username="added.by.hand")
    school_class.enrol(manual)
    users = "\n".join(line for line in text_of("users").splitlines() if not line.startswith("p-1,"))
    enrolments = "\n".join(line for line in text_of("enrollments").splitlines() if ",p-1," not in line)
    plan = run(files_of(BULK, users=users, enrollments=enrolments))
    [gone] = [person for person in plan.people if person.sourced_id == "p-1"]
    assert gone.action == "deactivate"
    amelia.refresh_from_db()
    assert not amelia.is_active
    assert User.objects.filter(pk=amelia.pk).exists()
    assert Enrolment.objects.get(student=amelia).removed_at is not None
    assert Submission.objects.filter(student=amelia, text="Kept.").exists()
    assert active_pupils("class-10h1") == {"p-2", None}  # the pupil added by hand stays
    # Back in the next file: active again and back in the class, same account.
    plan = run(oneroster.read_source(BULK))
    amelia.refresh_from_db()
    assert amelia.is_active and "p-1" in active_pupils("class-10h1")
    assert Enrolment.objects.filter(student=amelia).count() == 1


def test_a_class_gone_from_a_bulk_file_is_archived_not_deleted():
    run(oneroster.read_source(BULK))
    classes = "\n".join(line for line in text_of("classes").splitlines() if not line.startswith("class-10m1"))
    enrolments = "\n".join(line for line in text_of("enrollments").splitlines() if "class-10m1" not in line)
    plan = run(files_of(BULK, classes=classes, enrollments=enrolments))
    assert [(item.sourced_id, item.action) for item in plan.classes if item.action != "unchanged"] == [
        ("class-10m1", "deactivate")
    ]
    assert SchoolClass.objects.get(roster_id="class-10m1").archived


def test_a_delta_file_ends_an_enrolment_removes_a_pupil_and_adds_one():
    run(oneroster.read_source(BULK))
    zoe = by_roster("p-3")
    plan = run(oneroster.read_source(DELTA))
    assert plan.modes["users"] == "delta"
    zoe.refresh_from_db()
    assert not zoe.is_active  # tobedeleted
    assert active_pupils("class-10h2") == {"p-6"}
    assert active_pupils("class-10h1") == {"p-2"}  # p-1's enrolment tobedeleted
    assert by_roster("p-1").is_active  # only their enrolment ended
    # A delta does not deactivate people it does not mention.
    assert by_roster("p-4").is_active and by_roster("t-1").is_active
    assert oneroster.make_plan(oneroster.read_source(DELTA)).changes == 0


def test_the_command_prints_a_dry_run_and_changes_nothing(tmp_path):
    out = io.StringIO()
    call_command("import_oneroster", str(BULK), "--dry-run", stdout=out)
    assert "classes: 3 create" in out.getvalue()
    assert "Dry run" in out.getvalue()
    assert not SchoolClass.objects.exists() and not User.objects.exists()
    path = tmp_path / "set.zip"
    path.write_bytes(zipped(oneroster.read_source(BULK)))
    out = io.StringIO()
    call_command("import_oneroster", str(path), "--only", "History", "-v", "2", stdout=out)
    assert "class class-10h2 “10H2 History”: create" in out.getvalue()
    assert SchoolClass.objects.count() == 2


# --- errors: where, why, and nothing changed ---------------------------------------------


@pytest.mark.parametrize(
    ("replace", "expected"),
    [
        (
            {"users": text_of("users").replace(",role,", ",rôle,", 1)},
            "users.csv, line 1, column role: This required column is missing.",
        ),
        (
            {"users": text_of("users").replace(",student,zoe.smith", ",pupil,zoe.smith")},
            "users.csv, line 5, column role: “pupil” is not a OneRoster role",
        ),
        (
            {"enrollments": text_of("enrollments") + "e-9,,,class-nope,org-1,p-1,student,,,\n"},
            "enrollments.csv, line 8, column classSourcedId: There is no class “class-nope”.",
        ),
        (
            {"users": text_of("users") + "p-2,,,true,org-1,student,again,,Al,Again,,,,,,,,\n"},
            "users.csv, line 8, column sourcedId: “p-2” is also on line 4.",
        ),
        (
            {"users": text_of("users") + "t-2,,,true,org-1,teacher,,,Hal,Patel,,,h.patel@hillside.example,,,,,\n"},
            "users.csv, line 8, column email: h.patel@hillside.example is also a teacher's on line 2.",
        ),
        (
            {"users": text_of("users").replace("zoe@pupils.example", "zoe@@pupils.example")},
            "users.csv, line 5, column email: “zoe@@pupils.example” is not an email address.",
        ),
        (
            {"users": text_of("users").replace("zoe@pupils.example", "zoe@pupils")},
            "users.csv, line 5, column email: “zoe@pupils” is not an email address.",
        ),
        (
            {"manifest": text_of("manifest").replace("file.users,bulk", "file.users,full")},
            "manifest.csv, line 16, column value: file.users is “full”; it must be bulk, delta or absent.",
        ),
        (
            {"manifest": text_of("manifest").replace("oneroster.version,1.1", "oneroster.version,1.2")},
            "manifest.csv, line 3, column value: oneroster.version is “1.2”",
        ),
        (
            {"classes": text_of("classes") + "class-x,maybe,,X History,,,,,,,,,,,\n"},
            "classes.csv, line 5, column status: “maybe” is not a status",
        ),
    ],
    ids=[
        "missing column",
        "bad role",
        "unknown class",
        "duplicate sourcedId",
        "teacher email twice",
        "email with two @s",
        "email without a domain",
        "bad manifest mode",
        "bad version",
        "bad status",
    ],
)
def test_a_bad_file_says_where_and_changes_nothing(replace, expected):
    run(oneroster.read_source(BULK))
    before = snapshot()
    with pytest.raises(oneroster.OneRosterInvalid) as caught:
        oneroster.make_plan(files_of(BULK, **replace))
    assert any(str(error).startswith(expected) for error in caught.value.errors), caught.value.errors
    assert snapshot() == before


def test_a_missing_manifest_and_a_file_it_promises_are_reported(tmp_path):
    folder = tmp_path / "set"
    shutil.copytree(BULK, folder)
    (folder / "users.csv").unlink()
    with pytest.raises(oneroster.OneRosterInvalid, match="file.users is bulk but users.csv is missing"):
        oneroster.make_plan(oneroster.read_source(folder))
    (folder / "manifest.csv").unlink()
    with pytest.raises(oneroster.OneRosterInvalid, match="The set has no manifest.csv"):
        oneroster.make_plan(oneroster.read_source(folder))


def test_not_a_zip_is_refused_by_the_command(tmp_path):
    path = tmp_path / "set.zip"
    path.write_bytes(b"not a zip")
    with pytest.raises(CommandError, match="not a zip file"):
        call_command("import_oneroster", str(path))


def test_a_failure_late_in_applying_leaves_nothing_applied(monkeypatch):
    """Accounts are written first and enrolments last: an error at the end undoes it all."""
    real = Enrolment.objects.bulk_create

    def fail(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(Enrolment.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        run(oneroster.read_source(BULK))
    assert not User.objects.exists() and not SchoolClass.objects.exists() and not Enrolment.objects.exists()


def test_the_command_applies_nothing_when_a_late_step_fails(monkeypatch, tmp_path):
    """The same through the command, on a database holding an earlier import: the renamed
    class and the changed name are not kept when adding a teacher fails at the end."""
    run(oneroster.read_source(BULK))
    before = snapshot()
    folder = tmp_path / "set"
    shutil.copytree(BULK, folder)
    (folder / "classes.csv").write_text(text_of("classes").replace("10H2 History", "10H2 Renamed"), encoding="utf-8")
    users = (
        text_of("users").replace("Amelia,Brown", "Amelia,Browne")
        + "t-2,,,true,org-1,teacher,,,Tom,New,,,tom@x.example,,,,,\n"
    )
    (folder / "users.csv").write_text(users, encoding="utf-8")
    (folder / "enrollments.csv").write_text(
        text_of("enrollments") + "e-8,,,class-10h2,org-1,t-2,teacher,,,\n", encoding="utf-8"
    )
    monkeypatch.setattr(SchoolClass.teachers.through.objects, "bulk_create", _raise)
    with pytest.raises(RuntimeError):
        call_command("import_oneroster", str(folder), stdout=io.StringIO())
    assert snapshot() == before


def _raise(*args, **kwargs):
    raise RuntimeError("late failure")


# --- the upload pages ---------------------------------------------------------------------


def upload(client, files: dict[str, bytes] | None = None, only: str = ""):
    data = zipped(files if files is not None else oneroster.read_source(BULK))
    return client.post(
        reverse("classroom:oneroster_imports"),
        {"file": SimpleUploadedFile("roster.zip", data, content_type="application/zip"), "only": only},
    )


def record_for(head) -> OneRosterImport:
    return OneRosterImport.objects.create(
        uploaded_by=head, file_name="roster.zip", data=zipped(oneroster.read_source(BULK))
    )


@pytest.fixture
def superuser(db):
    return TeacherFactory(username="root", is_superuser=True, is_staff=True)


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("anonymous", 302), ("student", 403), ("teacher", 403), ("other_teacher", 403), ("head", 200), ("superuser", 200)],
)
def test_only_heads_open_the_import_pages(client, cast, superuser, actor, expected):
    record = record_for(cast["head"])
    if actor == "superuser":
        client.force_login(superuser)
    elif actor != "anonymous":
        client.force_login(cast[actor])
    for url in (reverse("classroom:oneroster_imports"), reverse("classroom:oneroster_preview", args=[record.pk])):
        response = client.get(url)
        assert response.status_code == expected, url
        if actor == "anonymous":
            assert response["Location"].startswith(reverse("login"))
        if expected == 200:
            assert "no-store" in response["Cache-Control"]
    # Uploading and applying are refused alike, and change nothing.
    response = upload(client)
    assert response.status_code == (302 if expected == 200 else expected)
    response = apply_as_shown(client, record)
    assert response.status_code == (302 if expected == 200 else expected)
    if expected != 200:
        assert OneRosterImport.objects.count() == 1
        assert not SchoolClass.objects.filter(roster_id__isnull=False).exists()


def test_the_access_helper_refuses_everyone_but_heads(cast):
    record = record_for(cast["head"])
    assert permissions.oneroster_import_for(cast["head"], record.pk) == record
    for actor in ("teacher", "student"):
        with pytest.raises(PermissionDenied):
            permissions.oneroster_import_for(cast[actor], record.pk)
    with pytest.raises(Http404):
        permissions.oneroster_import_for(cast["head"], record.pk + 1)


def test_upload_preview_then_apply(client, head):
    client.force_login(head)
    response = upload(client, only="History")
    record = OneRosterImport.objects.get()
    assert response["Location"] == reverse("classroom:oneroster_preview", args=[record.pk])
    page = client.get(response["Location"]).content.decode()
    assert "10H1 History, Tudors" in page and "10M1 Maths" not in page
    assert "1 class in the file does not match “History”" in page
    assert "2 pupils join: Amelia Brown, Oliver, Jr O&#x27;Brien; 1 teacher added: Hina Patel" in page
    assert not SchoolClass.objects.filter(roster_id__isnull=False).exists()  # the preview changes nothing
    response = apply_as_shown(client, record)
    assert response["Location"] == reverse("classroom:oneroster_imports")
    assert set(SchoolClass.objects.values_list("roster_id", flat=True)) == {"class-10h1", "class-10h2"}
    record.refresh_from_db()
    assert record.applied_by == head and record.result["counts"]["pupils"]["create"] == 3
    assert bytes(record.data) == b""  # the file's personal data goes once it is applied
    # Applying twice does nothing more.
    before = snapshot()
    client.post(reverse("classroom:oneroster_apply", args=[record.pk]))
    assert snapshot() == before
    assert "roster.zip" in client.get(reverse("classroom:oneroster_imports")).content.decode()


def apply_as_shown(client, record):
    """Press Import on the preview page as it is drawn now."""
    page = client.get(reverse("classroom:oneroster_preview", args=[record.pk]))
    fingerprint = page.context["plan"].fingerprint if page.status_code == 200 and page.context.get("plan") else ""
    return client.post(reverse("classroom:oneroster_apply", args=[record.pk]), {"fingerprint": fingerprint})


def test_a_preview_seen_before_someone_else_looked_again_is_not_applied(client, head):
    """The page a head pressed Import on is what gets applied: another look at the preview
    (a second head, another tab) after the accounts changed does not make an old page current."""
    client.force_login(head)
    upload(client)
    record = OneRosterImport.objects.get()
    seen = client.get(reverse("classroom:oneroster_preview", args=[record.pk])).context["plan"].fingerprint
    StudentFactory(username="zz.already", roster_id="p-2")  # meanwhile an account gets a pupil's id
    client.get(reverse("classroom:oneroster_preview", args=[record.pk]))  # a second look, same counts or not
    before = snapshot()
    response = client.post(reverse("classroom:oneroster_apply", args=[record.pk]), {"fingerprint": seen})
    assert response.status_code == 200 and "have changed since you looked" in response.content.decode()
    assert snapshot() == before


def test_a_stale_preview_is_worked_out_again_not_applied(client, head):
    client.force_login(head)
    upload(client)
    record = OneRosterImport.objects.get()
    seen = client.get(reverse("classroom:oneroster_preview", args=[record.pk])).context["plan"].fingerprint
    run(oneroster.read_source(BULK))  # meanwhile, the same file arrives by the command
    before = snapshot()
    response = client.post(reverse("classroom:oneroster_apply", args=[record.pk]), {"fingerprint": seen})
    assert response.status_code == 200
    assert "have changed since you looked" in response.content.decode()
    assert snapshot() == before
    record.refresh_from_db()
    assert record.applied_at is None and record.preview["changes"] == 0


def test_a_bad_upload_shows_where_and_changes_nothing(client, head):
    client.force_login(head)
    users = text_of("users").replace(",student,zoe.smith", ",pupil,zoe.smith")
    upload(client, files_of(BULK, users=users))
    record = OneRosterImport.objects.get()
    page = client.get(reverse("classroom:oneroster_preview", args=[record.pk])).content.decode()
    assert "users.csv, line 5, column role: “pupil” is not a OneRoster role for a user." in page
    assert "cannot be imported" in page
    client.post(reverse("classroom:oneroster_apply", args=[record.pk]))
    assert not SchoolClass.objects.exists() and User.objects.count() == 1
    response = client.post(
        reverse("classroom:oneroster_imports"),
        {"file": SimpleUploadedFile("roster.zip", b"no zip", content_type="application/zip")},
    )
    preview = client.get(reverse("classroom:oneroster_preview", args=[OneRosterImport.objects.first().pk]))
    assert response.status_code == 302 and "not a zip file" in preview.content.decode()


def bigger_set(classes: int, pupils_per_class: int) -> dict[str, bytes]:
    files = oneroster.read_source(BULK)
    classes_text = text_of("classes") + "".join(f"c-{c},,,Class {c} History,,,,,,,,,,,\n" for c in range(classes))
    users_text = text_of("users") + "".join(
        f"q-{c}-{p},,,true,org-1,student,,,Pupil,N{c}x{p},,,,,,,,,\n"
        for c in range(classes)
        for p in range(pupils_per_class)
    )
    enrol_text = text_of("enrollments") + "".join(
        f"eq-{c}-{p},,,c-{c},org-1,q-{c}-{p},student,,,\n" for c in range(classes) for p in range(pupils_per_class)
    )
    files.update(
        {"classes.csv": classes_text.encode(), "users.csv": users_text.encode(), "enrollments.csv": enrol_text.encode()}
    )
    return files


@pytest.mark.parametrize(("classes", "pupils"), [(1, 2), (12, 10)])
def test_the_pages_queries_do_not_grow_with_the_file(client, head, django_assert_num_queries, classes, pupils):
    client.force_login(head)
    run(bigger_set(classes, pupils))
    for _ in range(3):
        record_for(head)
    record = OneRosterImport.objects.create(
        uploaded_by=head, file_name="big.zip", data=zipped(bigger_set(classes, pupils))
    )
    with django_assert_num_queries(3):
        assert client.get(reverse("classroom:oneroster_imports")).status_code == 200
    with django_assert_num_queries(10):
        assert client.get(reverse("classroom:oneroster_preview", args=[record.pk])).status_code == 200


def test_an_imported_pupil_cannot_log_in_until_their_teacher_gives_a_one_time_code(client):
    run(oneroster.read_source(BULK))
    teacher, amelia = by_roster("t-1"), by_roster("p-1")
    school_class = SchoolClass.objects.get(roster_id="class-10h1")
    response = client.post(reverse("login"), {"username": "amelia.brown", "password": "anything"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    client.force_login(teacher)
    response = client.post(reverse("classroom:student_reset_password", args=[school_class.pk, amelia.pk]))
    assert response.status_code == 200
    amelia.refresh_from_db()
    assert amelia.has_usable_password() and amelia.must_change_password
    # The next import leaves the password alone.
    assert oneroster.make_plan(oneroster.read_source(BULK)).changes == 0


def test_a_disabled_user_is_deactivated_and_a_teacher_gone_from_a_class_is_taken_off():
    run(oneroster.read_source(BULK))
    second = TeacherFactory(username="second", email="second@hillside.example")
    users = text_of("users").replace("p-2,,,true,", "p-2,,,false,")
    users += "t-2,,,true,org-1,teacher,,,Sam,Second,,,SECOND@hillside.example,,,,,\n"
    # t-2 takes over 10H2 from t-1; 10H1 keeps t-1.
    enrolments = text_of("enrollments").replace("e-4,,,class-10h2,org-1,t-1,", "e-4,,,class-10h2,org-1,t-2,")
    plan = run(files_of(BULK, users=users, enrollments=enrolments))
    assert not by_roster("p-2").is_active and active_pupils("class-10h1") == {"p-1"}
    second.refresh_from_db()
    assert second.roster_id == "t-2"  # matched by email, any case
    assert set(SchoolClass.objects.get(roster_id="class-10h2").teachers.all()) == {second}
    assert set(SchoolClass.objects.get(roster_id="class-10h1").teachers.all()) == {by_roster("t-1")}
    [item] = [item for item in plan.classes if item.sourced_id == "class-10h2"]
    assert item.changes == ["1 teacher added: Sam Second", "1 teacher taken off: Hina Patel"]
    # A class whose only teacher leaves keeps them: a class always has one teacher.
    enrolments = enrolments.replace("e-4,,,class-10h2,org-1,t-2,teacher,false,,\r\n", "").replace(
        "e-4,,,class-10h2,org-1,t-2,teacher,false,,\n", ""
    )
    run(files_of(BULK, users=users, enrollments=enrolments))
    assert set(SchoolClass.objects.get(roster_id="class-10h2").teachers.all()) == {second}
    assert oneroster.make_plan(files_of(BULK, users=users, enrollments=enrolments)).changes == 0


# --- the department's managers, deactivated staff, email addresses, essays already set -------


def without(name: str, *pieces: str) -> str:
    return "\n".join(line for line in text_of(name).splitlines() if not any(piece in line for piece in pieces))


@pytest.mark.parametrize("kind", ["head", "superuser"])
def test_a_heads_or_superusers_names_and_email_are_kept(kind):
    if kind == "head":
        manager = HeadFactory(
            username="the.head", first_name="Harriet", last_name="Hall", email="h.patel@hillside.example"
        )
    else:
        manager = TeacherFactory(
            username="the.admin", first_name="Harriet", last_name="Hall", email="h.patel@hillside.example"
        )
        manager.is_superuser = True
        manager.save()
    plan = run(oneroster.read_source(BULK))
    manager.refresh_from_db()
    assert (manager.first_name, manager.last_name, manager.email) == ("Harriet", "Hall", "h.patel@hillside.example")
    assert manager.roster_id == "t-1" and manager.is_active
    assert any("kept: managed on the Staff page" in note and "Hina" in note for note in plan.notes), plan.notes
    [person] = [p for p in plan.people if p.sourced_id == "t-1"]
    assert not any("name" in change for change in person.changes)
    # A later file with another address changes nothing either.
    plan = run(files_of(BULK, users=text_of("users").replace("H.Patel@Hillside.example", "hp@elsewhere.example")))
    manager.refresh_from_db()
    assert manager.email == "h.patel@hillside.example" and manager.first_name == "Harriet"


def test_a_deactivated_teacher_is_not_reactivated_by_the_file():
    run(oneroster.read_source(BULK))
    teacher = by_roster("t-1")
    teacher.is_active = False
    teacher.save()
    tudors = SchoolClass.objects.get(roster_id="class-10h1")
    tudors.teachers.clear()
    plan = run(oneroster.read_source(BULK))
    teacher.refresh_from_db()
    assert not teacher.is_active
    assert teacher not in tudors.teachers.all()
    assert any("deactivated here: reactivate on the Staff page" in note for note in plan.notes), plan.notes


def test_a_deactivated_head_matched_by_email_stays_deactivated():
    head = HeadFactory(username="old.head", email="h.patel@hillside.example", is_active=False)
    HeadFactory(username="current.head")
    run(oneroster.read_source(BULK))
    head.refresh_from_db()
    assert not head.is_active and head.first_name != "Hina"


def test_a_teacher_line_with_only_a_pupils_address_is_an_error():
    StudentFactory(username="pupil.with.address", email="h.patel@hillside.example")
    before = snapshot()
    with pytest.raises(oneroster.OneRosterInvalid) as caught:
        oneroster.make_plan(oneroster.read_source(BULK))
    assert [str(error) for error in caught.value.errors] == [
        "users.csv, line 2, column email: H.Patel@Hillside.example is a pupil's email address here and no "
        "teacher's: a teacher's account needs their own address."
    ]
    assert snapshot() == before


def test_a_pupil_and_a_teacher_sharing_an_address_match_the_teacher():
    pupil = StudentFactory(username="shared.pupil", email="h.patel@hillside.example")  # the lower id
    teacher = TeacherFactory(username="shared.teacher", email="H.PATEL@hillside.example")
    run(oneroster.read_source(BULK))
    teacher.refresh_from_db()
    pupil.refresh_from_db()
    assert teacher.roster_id == "t-1" and pupil.roster_id is None and pupil.is_student
    assert teacher in SchoolClass.objects.get(roster_id="class-10h2").teachers.all()
    assert User.objects.filter(role=User.Role.TEACHER).count() == 1


def test_pupils_who_join_hear_of_the_classes_essays_not_yet_open():
    run(files_of(BULK, enrollments=without("enrollments", ",p-3,")))  # Zoë is not in 10H2 yet
    assert not User.objects.filter(roster_id="p-3").exists()
    history = SchoolClass.objects.get(roster_id="class-10h2")
    soon = timezone.now() + datetime.timedelta(days=2)
    coming = AssignmentFactory(school_class=history, opens_at=soon)
    AssignmentFactory(school_class=history)  # already open: announced when it opened
    AssignmentFactory(school_class=SchoolClass.objects.get(roster_id="class-10h1"), opens_at=soon)  # not her class
    run(oneroster.read_source(BULK))
    zoe = by_roster("p-3")
    queued = QueuedEmail.objects.filter(kind=EmailKind.ESSAY_SET)
    assert list(queued.values_list("recipient_id", "assignment_id")) == [(zoe.pk, coming.pk)]
    assert queued.get().due_at == coming.opens_at
    # Applying the same file again queues nothing more.
    run(oneroster.read_source(BULK))
    assert queued.count() == 1
