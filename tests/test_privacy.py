"""The privacy registry, the subject-access export, erasure, retention and the access log
(classroom/privacy.py), with the export_pupil, erase_pupil and apply_retention commands."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from axes.models import AccessLog
from django.apps import apps
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models
from django.test.utils import CaptureQueriesContext, isolate_apps
from django.urls import reverse
from django.utils import timezone

from classroom import privacy
from classroom.management.commands.backup_fingerprint import fingerprinted_models, table_digest
from classroom.models import (
    AccessLogEntry,
    AccessRequest,
    Assignment,
    DirtResponse,
    EmailKind,
    EmailPreference,
    Enrolment,
    ErasureRecord,
    Exemplar,
    ExemplarShare,
    Exemption,
    Extension,
    JoinCodeFailure,
    Judgement,
    JudgingScript,
    JudgingSession,
    Mark,
    MarkChange,
    ModerationItem,
    ModerationSample,
    QueuedEmail,
    ReviewCriterionMark,
    ReviewMark,
    Standardisation,
    StandardisationScript,
    StrandTick,
    Submission,
    User,
)
from crisis.models import KnowledgeCheckAttempt
from tests.factories import AssignmentFactory, EssayPromptFactory, LessonFactory, StudentFactory, marking_scheme
from tests.helpers import give_mark, hand_in

pytestmark = pytest.mark.django_db


# --- planting a full set of records for a pupil --------------------------------------------


class Shared:
    """The class-wide things both pupils' records hang on."""

    def __init__(self, school_class, teacher):
        self.teacher = teacher
        self.prompt = EssayPromptFactory(mark_scheme=marking_scheme())
        self.assignment = AssignmentFactory(school_class=school_class, prompt=self.prompt, title="Hotline essay")
        self.second = AssignmentFactory(school_class=school_class, prompt=self.prompt, title="Second essay")
        self.lesson = LessonFactory()
        self.standardisation = Standardisation.objects.create(prompt=self.prompt, title="Autumn standardisation")
        self.sample = ModerationSample.objects.create(assignment=self.assignment, size=2, created_by=teacher)
        self.session = JudgingSession.objects.create(title="Side by side", prompt=self.prompt, created_by=teacher)


def plant(pupil: User, shared: Shared, tag: str) -> dict:
    """One of every kind of record concerning `pupil`, every text carrying `tag`. Returns
    {model label: set of primary keys} of what was planted, plus the essay and its script."""
    teacher = shared.teacher
    planted: dict[str, set] = {}

    def note(obj):
        planted.setdefault(obj._meta.label_lower, set()).add(obj.pk)
        return obj

    pupil.email = f"{tag.lower()}@pupils.example"
    pupil.roster_id = f"MIS-{tag}"
    pupil.save()
    note(pupil)
    note(Enrolment.objects.get(student=pupil))
    essay = hand_in(shared.assignment, pupil, text=f"{tag} argues that the Hotline of 1963 mattered most.")
    note(essay)
    for revision in essay.revisions.all():
        note(revision)
    mark = note(
        give_mark(
            essay,
            teacher,
            3,
            4,
            release=False,
            www=f"{tag} used Source A",
            ebi=f"{tag} should weigh",
            improvement_task=f"{tag} task",
        )
    )
    for row in mark.criterion_marks.all():
        note(row)
    note(StrandTick.objects.create(mark=mark, strand="knowledge", rating=2))
    note(mark.add_annotation(by=teacher, comment=f"{tag} which source?", start=0, end=len(tag), quote=tag))
    mark.release(by=teacher)
    note(DirtResponse.objects.create(mark=mark, text=f"{tag} answers the feedback"))
    note(
        MarkChange.objects.create(
            mark=mark, source="marking", changed_by=teacher, total_before=1, total_after=7, reason=f"{tag} remarked"
        )
    )
    note(
        Extension.objects.create(
            assignment=shared.assignment, student=pupil, due_at=timezone.now() + timedelta(days=3), granted_by=teacher
        )
    )
    note(Exemption.objects.create(assignment=shared.second, student=pupil, granted_by=teacher))
    note(KnowledgeCheckAttempt.objects.create(student=pupil, lesson=shared.lesson, score=2, total=3, answers={"1": 0}))
    script = note(
        StandardisationScript.objects.create(
            standardisation=shared.standardisation, submission=essay, label=f"Script {pupil.pk}", text=essay.text
        )
    )
    criterion = shared.prompt.mark_scheme.criteria.first()
    agreed = note(
        ReviewMark.objects.create(
            kind="agreed_standard", script=script, marker=teacher, max_total=10, note=f"{tag} agreed"
        )
    )
    note(ReviewCriterionMark.objects.create(review_mark=agreed, criterion=criterion, marks=1, max_marks=4))
    item = note(
        ModerationItem.objects.create(
            sample=shared.sample,
            submission=essay,
            label=f"Item {pupil.pk}",
            stratum="top",
            first_marker=teacher,
            reason=f"{tag} moderated",
        )
    )
    note(ReviewMark.objects.create(kind="second", item=item, marker=teacher, max_total=10, note=f"{tag} second"))
    exemplar = note(
        Exemplar.objects.create(
            prompt=shared.prompt,
            submission=essay,
            title="A level 2 answer",
            text=essay.text,
            level_name="Level 2",
            total=7,
            max_total=10,
        )
    )
    note(ExemplarShare.objects.create(assignment=shared.second, exemplar=exemplar, shared_by=teacher))
    judging_script = note(
        JudgingScript.objects.create(session=shared.session, submission=essay, number=pupil.pk, text=essay.text)
    )
    shared.session.left_out_judges.add(pupil)
    through = JudgingSession.left_out_judges.through
    note(through.objects.get(judgingsession=shared.session, user=pupil))
    note(
        QueuedEmail.objects.create(
            recipient=pupil,
            to=pupil.email,
            kind=EmailKind.FEEDBACK_RELEASED,
            subject="Feedback",
            body=f"Dear {pupil.first_name}",
            dedupe_key=f"feedback:{tag}",
            mark=mark,
        )
    )
    note(EmailPreference.objects.create(user=pupil))
    note(
        AccessRequest.objects.create(
            name=pupil.get_full_name(),
            email=pupil.email,
            provider="google",
            subject=tag,
            outcome="approved",
            account=pupil,
        )
    )
    note(JoinCodeFailure.objects.create(student=pupil))
    privacy.log_access(teacher, pupil, "Marking page", essay)
    note(AccessLogEntry.objects.latest("pk"))
    note(EmailAddress.objects.create(user=pupil, email=pupil.email, verified=True, primary=True))
    note(
        SocialAccount.objects.create(user=pupil, provider="google", uid=tag, extra_data={"name": pupil.get_full_name()})
    )
    note(
        AccessLog.objects.create(
            username=pupil.username, ip_address="127.0.0.1", user_agent="test", http_accept="*/*", path_info="/login/"
        )
    )
    session = SessionStore()
    session["_auth_user_id"] = str(pupil.pk)
    session.create()
    planted["sessions.session"] = {session.session_key}
    return {"planted": planted, "essay": essay, "script": judging_script}


@pytest.fixture
def two_pupils(school_class, teacher):
    """Xanthe (the pupil exported or erased) and Bram, in the same class, each with a full set;
    each judged the other's script against their own."""
    xanthe = StudentFactory(username="xanthe.q", first_name="Xanthe", last_name="Quillfeather")
    bram = StudentFactory(username="bram.o", first_name="Bram", last_name="Oakenshaw")
    school_class.enrol(xanthe)
    school_class.enrol(bram)
    shared = Shared(school_class, teacher)
    x = plant(xanthe, shared, "XANTHEWROTE")
    b = plant(bram, shared, "BRAMWROTE")
    for judge, mine, theirs, tag in ((xanthe, x, b, "XANTHEJUDGED"), (bram, b, x, "BRAMJUDGED")):
        judgement = Judgement.objects.create(
            session=shared.session,
            judge=judge,
            by_pupil=True,
            left=mine["script"],
            right=theirs["script"],
            winner=theirs["script"],
            note=f"{tag} the other was clearer",
            decided_at=timezone.now(),
        )
        mine["planted"].setdefault("classroom.judgement", set()).add(judgement.pk)
    return {"xanthe": xanthe, "bram": bram, "x": x, "b": b, "shared": shared}


def read_zip(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


# --- the registry ----------------------------------------------------------------------------


def test_every_model_with_a_link_to_a_person_is_declared():
    assert privacy.undeclared_models() == []


def test_every_declared_model_exists_and_every_kept_table_says_why():
    declared = {d.label for d in privacy.declarations()}
    assert {"classroom.user", "classroom.submission", "crisis.knowledgecheckattempt"} <= declared
    for declaration in privacy.REGISTRY.values():
        apps.get_model(declaration.label)
        if declaration.is_pupil_data:
            assert declaration.erase is not None and (declaration.paths or declaration.select)
            if declaration.erase.action == "keep":
                assert declaration.erase.reason
        else:
            assert declaration.exempt


@isolate_apps("classroom")
def test_the_registry_check_names_a_model_it_does_not_know():
    class PasteEvent(models.Model):  # noqa: DJ008  # linked to an essay: pupil data through Submission
        submission = models.ForeignKey(Submission, on_delete=models.CASCADE)

        class Meta:
            app_label = "classroom"

    class Arrangement(models.Model):  # noqa: DJ008  # linked to the pupil directly
        pupil = models.OneToOneField(User, on_delete=models.CASCADE)

        class Meta:
            app_label = "classroom"

    class Reading(models.Model):  # noqa: DJ008  # many-to-many to people
        readers = models.ManyToManyField(User)

        class Meta:
            app_label = "classroom"

    class AssignmentNote(models.Model):  # noqa: DJ008  # linked only to an exempt, teacher-only table
        assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE)

        class Meta:
            app_label = "classroom"

    problems = privacy.undeclared_models([PasteEvent, Arrangement, Reading, AssignmentNote])
    assert problems == [
        "classroom.Arrangement (pupil)",
        "classroom.PasteEvent (submission)",
        "classroom.Reading (readers)",
    ]
    privacy.pupil_data("classroom.PasteEvent", "submission__student", erase=privacy.delete())
    try:
        assert privacy.undeclared_models([PasteEvent]) == []
    finally:
        del privacy.REGISTRY["classroom.pasteevent"]


# --- the export ------------------------------------------------------------------------------


def test_export_holds_every_record_of_the_pupil_and_nothing_of_another(two_pupils, tmp_path):
    xanthe = two_pupils["xanthe"]
    out = privacy.write_export(xanthe, tmp_path / "xanthe.zip")
    files = read_zip(out.read_bytes())
    tables = json.loads(files["data.json"])["tables"]
    exported = {
        label: {row["id"] if "id" in row else row.get("session_key") for row in rows} for label, rows in tables.items()
    }
    planted_x, planted_b = two_pupils["x"]["planted"], two_pupils["b"]["planted"]
    for label, pks in planted_x.items():
        if label == "sessions.session":
            assert len(tables[label]) == 1 and tables[label][0]["session_key"].startswith("(not exported")
            continue
        assert pks <= exported[label], f"{label}: {pks - exported[label]} not exported"
    for label, pks in planted_b.items():
        if label != "sessions.session":
            assert not pks & exported.get(label, set()), f"{label}: another pupil's rows exported"
    # Every row of every table is the pupil's own (ids of the class's shared rows aside).
    assert exported["classroom.user"] == {xanthe.pk}
    assert tables["classroom.user"][0]["password"].startswith("(not exported")
    everything = "\n".join(files.values())
    for text in ("Bram", "Oakenshaw", "bram.o", "BRAMWROTE", "BRAMJUDGED", "bramwrote@"):
        assert text not in everything, f"{text!r} of another pupil is in the export"
    for text in (
        "Xanthe",
        "Quillfeather",
        "XANTHEWROTE argues",
        "XANTHEWROTE used Source A",
        "XANTHEJUDGED",
        "MIS-XANTHEWROTE",
    ):
        assert text in everything
    essay = two_pupils["x"]["essay"]
    page = files[f"essays/essay-{essay.pk}.html"]
    assert "XANTHEWROTE argues" in page and "XANTHEWROTE which source?" in page and "XANTHEWROTE answers" in page
    assert "index.html" in files and "style.css" in files
    assert not any("<script" in text.lower() for name, text in files.items() if name.endswith(".html"))
    assert not list(tmp_path.glob(".export-*")), "the temporary file was left behind"


def test_a_newly_declared_model_is_exported_with_no_further_code(two_pupils, tmp_path):
    xanthe = two_pupils["xanthe"]
    before = privacy.export_rows(xanthe)
    assert "classroom.assignmentchange" not in before
    privacy.pupil_data("classroom.AssignmentChange", "assignment__submissions__student", erase=privacy.keep("test"))
    try:
        two_pupils["shared"].assignment.changes.create(changed_by=two_pupils["shared"].teacher, fields="title")
        assert len(privacy.export_rows(xanthe)["classroom.assignmentchange"]) == 1
    finally:
        privacy.exempt("classroom.AssignmentChange", privacy.STAFF_ONLY)


def test_export_queries_do_not_grow_with_essays(school_class, teacher, tmp_path):
    pupil = StudentFactory()
    school_class.enrol(pupil)
    prompt = EssayPromptFactory(mark_scheme=marking_scheme())

    def essays(n):
        for _ in range(n):
            essay = hand_in(AssignmentFactory(school_class=school_class, prompt=prompt), pupil)
            give_mark(essay, teacher, 3, 4, www="Good")

    essays(1)
    privacy.write_export(pupil, tmp_path / "warm.zip")  # (the content-type cache fills once)
    with CaptureQueriesContext(connection) as one:
        privacy.write_export(pupil, tmp_path / "one.zip")
    essays(4)
    with CaptureQueriesContext(connection) as five:
        privacy.write_export(pupil, tmp_path / "five.zip")

    def shapes(context):
        return [q["sql"].split(" WHERE ")[0][:120] for q in context.captured_queries]

    assert len(five.captured_queries) == len(one.captured_queries), set(shapes(five)) ^ set(shapes(one))
    assert len(read_zip((tmp_path / "five.zip").read_bytes())) == len(read_zip((tmp_path / "one.zip").read_bytes())) + 4


# --- erasure ---------------------------------------------------------------------------------


def fingerprint_without(concerning: dict[str, set]) -> dict[str, tuple[int, str]]:
    """Every table's digest over the rows that do not concern the pupil (the erasure records,
    which erasure adds to, aside)."""
    prints = {}
    for model in fingerprinted_models():
        if model is ErasureRecord:
            continue
        label = model._meta.label_lower
        rows = model._base_manager.exclude(pk__in=concerning.get(label, ()))
        prints[label] = table_digest(model, rows)
    return prints


def every_text_in_the_database() -> str:
    texts = []
    for model in fingerprinted_models():
        columns = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField | models.EmailField)
        ]
        if columns:
            for row in model._base_manager.values_list(*columns):
                texts.extend(
                    json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
                    for value in row
                    if value
                )
    return "\n".join(texts)


def test_erasure_leaves_other_pupils_identical_and_no_trace_of_the_pupil(two_pupils):
    xanthe = two_pupils["xanthe"]
    essay = two_pupils["x"]["essay"]
    mark = Mark.objects.get(submission=essay)
    # Any other field of the account goes back to its default (as one added later would).
    User.objects.filter(pk=xanthe.pk).update(must_change_password=True, curates_bank=True)
    xanthe.refresh_from_db()
    concerning = privacy.rows_concerning(xanthe)
    for label, pks in two_pupils["x"]["planted"].items():
        assert pks <= concerning[label], label
    before = fingerprint_without(concerning)
    assert "Quillfeather" in every_text_in_the_database()

    record = privacy.erase_pupil(xanthe, by=two_pupils["shared"].teacher, how=ErasureRecord.How.COMMAND)

    assert fingerprint_without(concerning) == before
    texts = every_text_in_the_database()
    for text in (
        "Xanthe",
        "Quillfeather",
        "xanthe.q",
        "xanthewrote@pupils.example",
        "XANTHEWROTE",
        "XANTHEJUDGED",
        "MIS-XANTHE",
    ):
        assert text not in texts, f"{text!r} is still in the database"
    assert "BRAMWROTE argues" in texts and "Oakenshaw" in texts  # the other pupil's data is all there
    account = User.objects.get(pk=xanthe.pk)
    assert account.username == record.reference and account.username.startswith("erased-")
    assert not account.is_active and not account.has_usable_password() and account.roster_id is None
    assert (account.first_name, account.last_name, account.email) == ("", "", "")
    assert not account.must_change_password and not account.curates_bank and account.date_joined == xanthe.date_joined
    # The figures stay with the anonymised account, so class figures read the same.
    kept = Mark.objects.get(pk=mark.pk)
    assert (kept.total, kept.spag, kept.submission.student_id) == (mark.total, mark.spag, xanthe.pk)
    assert kept.criterion_marks.count() == mark.criterion_marks.count()
    assert Enrolment.objects.filter(student=xanthe, removed_at__isnull=True).exists()
    assert not essay.revisions.exists() and Submission.objects.get(pk=essay.pk).text == ""
    assert record.counts["classroom.submissionrevision"] == {
        "deleted": len(two_pupils["x"]["planted"]["classroom.submissionrevision"])
    }
    assert record.counts["classroom.exemplarshare"] == {"deleted": 1}  # (deleted by the exemplar's cascade)
    assert record.counts["classroom.mark"] == {"anonymised": 1}
    assert "Xanthe" not in json.dumps(record.counts)


@pytest.mark.parametrize("who", ["teacher", "head"])
def test_erasure_refuses_staff(cast, who):
    with pytest.raises(privacy.ErasureError, match="member of staff"):
        privacy.erase_pupil(cast[who], by=None, how="command")
    assert User.objects.get(pk=cast[who].pk).username == cast[who].username


def test_erasure_refuses_an_account_already_erased(student):
    record = privacy.erase_pupil(student, by=None, how="command")
    with pytest.raises(privacy.ErasureError, match="already been erased"):
        privacy.erase_pupil(User.objects.get(username=record.reference), by=None, how="command")
    assert ErasureRecord.objects.count() == 1


# --- the commands ----------------------------------------------------------------------------


def test_export_pupil_command_writes_the_zip(two_pupils, tmp_path):
    out = tmp_path / "x.zip"
    call_command("export_pupil", "XANTHE.Q", "--out", str(out), stdout=io.StringIO())
    assert "XANTHEWROTE argues" in read_zip(out.read_bytes())["data.json"]
    entry = AccessLogEntry.objects.latest("pk")
    assert entry.pupil == two_pupils["xanthe"] and entry.viewer is None and "export" in entry.what


@pytest.mark.parametrize(("username", "message"), [("nobody", "No account"), ("mr.teacher", "member of staff")])
def test_commands_refuse_unknown_and_staff_usernames(cast, tmp_path, username, message):
    username = cast["teacher"].username if username == "mr.teacher" else username
    with pytest.raises(CommandError, match=message):
        call_command("export_pupil", username, "--out", str(tmp_path / "x.zip"))
    with pytest.raises(CommandError, match=message):
        call_command("erase_pupil", username, "--yes")
    assert not (tmp_path / "x.zip").exists() and not ErasureRecord.objects.exists()


def test_erase_pupil_command_asks_and_a_wrong_answer_erases_nothing(student, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "someone.else")
    with pytest.raises(CommandError, match="nothing was erased"):
        call_command("erase_pupil", student.username, stdout=io.StringIO())
    assert User.objects.get(pk=student.pk).username == student.username
    monkeypatch.setattr("builtins.input", lambda prompt: student.username)
    call_command("erase_pupil", student.username, stdout=io.StringIO())
    record = ErasureRecord.objects.get()
    assert record.how == "command" and User.objects.get(pk=student.pk).username == record.reference


# --- retention -------------------------------------------------------------------------------

START = datetime(2024, 9, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def leavers(school_class, teacher):
    """Left in July 2025 (removed from the class), left in March 2026 (deactivated by the class
    lists), and still in the class."""
    with time_machine.travel(START, tick=False):
        early, late, staying = (StudentFactory(username=name) for name in ("early.leaver", "late.leaver", "staying"))
        for pupil in (early, late, staying):
            school_class.enrol(pupil)
        AccessLogEntry.objects.create(viewer=teacher, pupil=staying, what="Marking page")
    with time_machine.travel(datetime(2025, 7, 18, tzinfo=UTC), tick=False):
        Enrolment.objects.get(student=early).remove()
    with time_machine.travel(datetime(2026, 3, 1, tzinfo=UTC), tick=False):
        Enrolment.objects.filter(student=late).update(removed_at=timezone.now())
        User.objects.filter(pk=late.pk).update(is_active=False)
    return early, late, staying


def test_left_pupils_are_those_in_no_class(leavers):
    early, late, staying = leavers
    left = {pupil.username: pupil.left_at for pupil in privacy.left_pupils()}
    assert left == {"early.leaver": datetime(2025, 7, 18, tzinfo=UTC), "late.leaver": datetime(2026, 3, 1, tzinfo=UTC)}


def test_apply_retention_dry_run_lists_and_changes_nothing(leavers, settings):
    settings.RETENTION_YEARS_AFTER_LEAVING = 1
    settings.ACCESS_LOG_RETENTION_DAYS = 365
    out = io.StringIO()
    with time_machine.travel(datetime(2026, 8, 1, tzinfo=UTC), tick=False):
        call_command("apply_retention", stdout=out)
    text = out.getvalue()
    assert "early.leaver: left 2025-07-18" in text and "late.leaver" not in text and "staying" not in text
    assert "Access-log rows older than 365 days: 1." in text and "Dry run" in text
    assert not ErasureRecord.objects.exists() and AccessLogEntry.objects.count() == 1


def test_apply_retention_purge_erases_through_the_same_function(leavers, settings):
    settings.RETENTION_YEARS_AFTER_LEAVING = 1
    settings.ACCESS_LOG_RETENTION_DAYS = 365
    early, late, staying = leavers
    with time_machine.travel(datetime(2026, 8, 1, tzinfo=UTC), tick=False):
        call_command("apply_retention", "--purge", stdout=io.StringIO())
    record = ErasureRecord.objects.get()
    assert record.how == "retention" and User.objects.get(pk=early.pk).username == record.reference
    assert User.objects.filter(pk__in=[late.pk, staying.pk], username__in=["late.leaver", "staying"]).count() == 2
    assert not AccessLogEntry.objects.exists()
    # A second run finds nobody new: the erased account is not listed again.
    with time_machine.travel(datetime(2026, 8, 2, tzinfo=UTC), tick=False):
        call_command("apply_retention", "--purge", stdout=io.StringIO())
    assert ErasureRecord.objects.count() == 1


def test_retention_zero_years_erases_nobody(leavers, settings):
    settings.RETENTION_YEARS_AFTER_LEAVING = 0
    with time_machine.travel(datetime(2030, 1, 1, tzinfo=UTC), tick=False):
        call_command("apply_retention", "--purge", stdout=io.StringIO())
    assert not ErasureRecord.objects.exists()


# --- the access log --------------------------------------------------------------------------


def test_staff_pages_showing_a_pupils_work_write_one_row(client, teacher, student, essay, school_class):
    client.force_login(teacher)
    for url, what in (
        (reverse("classroom:mark_submission", args=[essay.pk]), "Marking page"),
        (reverse("classroom:student_progress", args=[student.pk]), "Progress page"),
        (reverse("classroom:writing_record", args=[essay.pk]), "Writing record"),
        (reverse("classroom:writing_record_print", args=[essay.pk]), "Writing record (to print)"),
    ):
        assert client.get(url).status_code == 200
        entry = AccessLogEntry.objects.latest("pk")
        assert (entry.viewer, entry.pupil, entry.what) == (teacher, student, what)
    count = AccessLogEntry.objects.count()
    client.get(reverse("classroom:markbook_export", args=[school_class.pk]) + "?shape=long")
    entry = AccessLogEntry.objects.latest("pk")
    assert AccessLogEntry.objects.count() == count + 1
    assert (entry.pupil, entry.school_class) == (None, school_class)


def test_a_pupil_looking_at_their_own_work_is_not_logged(client, student, essay):
    client.force_login(student)
    assert client.get(reverse("classroom:student_progress", args=[student.pk])).status_code == 200
    assert client.get(reverse("classroom:writing_record", args=[essay.pk])).status_code == 200
    assert not AccessLogEntry.objects.exists()
