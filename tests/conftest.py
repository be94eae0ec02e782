"""The fixed cast every test file shares.

- `teacher` teaches `school_class`; `student` is in it.
- `other_teacher` teaches `other_class`; `outsider` is a student in that class only.
- `co` also teaches `school_class`; `stranger` is a teacher with no class.
- `head` is the head of department (sees every class).
- `school` adds one of everything a URL can point at, for tests that walk every URL.
"""

from __future__ import annotations

import pytest

from tests.factories import HeadFactory, SchoolClassFactory, StudentFactory, TeacherFactory

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _no_compiled_sql_from_earlier_tests():
    # Compiled SQL follows the code as it was when first run; some tests change that code.
    from classroom.compiled import forget_all

    forget_all()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is deliberately slow; tests that check the production hasher set it back.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def teacher(db):
    return TeacherFactory(username="ms.teacher", first_name="Tess", last_name="Teacher")


@pytest.fixture
def other_teacher(db):
    return TeacherFactory(username="mr.other", first_name="Otto", last_name="Other")


@pytest.fixture
def head(db):
    return HeadFactory(username="head.of.dept", first_name="Hana", last_name="Head")


@pytest.fixture
def student(db):
    return StudentFactory(username="sam.student", first_name="Sam", last_name="Student")


@pytest.fixture
def outsider(db):
    return StudentFactory(username="olly.outsider", first_name="Olly", last_name="Outsider")


@pytest.fixture
def school_class(teacher, student):
    return SchoolClassFactory(name="10H History", teachers=[teacher], students=[student])


@pytest.fixture
def other_class(other_teacher, outsider):
    return SchoolClassFactory(name="11E History", teachers=[other_teacher], students=[outsider])


@pytest.fixture
def co(school_class):
    """A second teacher of `school_class`."""
    co = TeacherFactory(username="ms.co", first_name="Cora", last_name="Co")
    school_class.teachers.add(co)
    return co


@pytest.fixture
def stranger(db):
    """A teacher with no class in any test's story."""
    return TeacherFactory(username="mr.stranger", first_name="Stan", last_name="Stranger")


@pytest.fixture
def cast(school_class, other_class, head):
    """Everyone at once, for access matrices."""
    return {
        "teacher": school_class.teachers.get(),
        "student": school_class.active_students().get(),
        "other_teacher": other_class.teachers.get(),
        "outsider": other_class.active_students().get(),
        "head": head,
    }


# --- marking: an essay submitted by `student` for an assignment set by `teacher` -----------
@pytest.fixture
def marking_assignment(school_class):
    from tests.factories import AssignmentFactory, EssayPromptFactory, IndicativePointFactory, marking_scheme

    prompt = EssayPromptFactory(mark_scheme=marking_scheme())
    IndicativePointFactory(prompt=prompt, text="The Hotline was a teleprinter link.", key_terms="hotline, teleprinter")
    IndicativePointFactory(prompt=prompt, side="challenges", text="The arms race went on.", key_terms="arms race, ICBM")
    return AssignmentFactory(school_class=school_class, prompt=prompt, title="How far essay")


@pytest.fixture
def essay(marking_assignment, student):
    from tests.factories import SubmissionFactory

    text = "The crisis led to the Hotline in June 1963.\n\nIt was a teleprinter link, not a telephone."
    return SubmissionFactory(assignment=marking_assignment, student=student, text=text, submitted=True)


def _department_work(teacher, second_marker, released) -> dict:
    """One of each department object (issue 14) from the released essay: a standardisation
    with an agreed script, a moderation sample second-marked by `second_marker`, an exemplar
    shared with the essay's assignment, and a judging session on it (issue 15); keyed like
    the `school` fixture."""
    from classroom import department, judging
    from classroom.models import Standardisation

    assignment = released.assignment
    scheme = assignment.prompt.mark_scheme
    scores = {row.criterion_id: (row.level_id, row.marks) for row in released.mark.criterion_marks.all()}
    standardisation = Standardisation.objects.create(prompt=assignment.prompt, title="Autumn standardisation")
    script = department.add_script(standardisation, released, released.text)
    department.set_agreed_mark(script, teacher, scores, "Secure level 2.")
    sample = department.draw_sample(assignment, teacher, 1, second_marker)
    item = sample.items.get()
    exemplar = department.promote_exemplar(
        by=teacher,
        prompt=assignment.prompt,
        title="A level 2 answer",
        text=released.text,
        level_name="Level 2",
        total=released.mark.total,
        max_total=scheme.total_marks,
        commentary="Judgement not sustained.",
        notes=[],
        pupils=[],
        submission=released,
    )
    department.share_exemplar(exemplar, assignment, "always", teacher)
    # A judging session (issue 15) on the same essays: one choice made, one pair waiting.
    session = judging.create_session(teacher, "Judged side by side", [assignment], target=2)
    judging.decide(judging.pair_for(session, teacher), teacher, "left")
    judging.pair_for(session, teacher)
    return {
        "classroom/department/standardisation/<int:pk>/": [standardisation.pk],
        "classroom/department/standardisation/scripts/<int:pk>/": [script.pk],
        "classroom/department/moderation/assignments/<int:pk>/": [assignment.pk],
        "classroom/department/moderation/samples/<int:pk>/": [sample.pk],
        "classroom/department/moderation/scripts/<int:pk>/": [item.pk],
        "classroom/department/exemplars/<int:pk>/": [exemplar.pk],
        "classroom/department/exemplars/questions/<int:prompt_pk>/": [assignment.prompt_id],
        "classroom/department/exemplars/promote/<int:submission_pk>/": [released.pk],
        "classroom/department/exemplars/promote/script/<int:script_pk>/": [script.pk],
        "classroom/department/exemplars/for/<int:assignment_pk>/": [assignment.pk],
        "classroom/judging/<int:pk>/": [session.pk],
        "classroom/judging/scripts/<int:pk>/": [session.scripts.first().pk],
        # the second object of a route naming two (route_urls): the exemplar shared above
        "pk": exemplar.pk,
        "assignment_pk": assignment.pk,
        "second_marker_pk": second_marker.pk,
    }


@pytest.fixture
def school(cast, school_class, essay, marking_assignment):
    """A class with work in every state, content of the teacher's own, a co-teacher, and one
    of everything a URL can point at. Returns {route prefix: [primary keys]} plus the
    `student_pk` and `teacher_pk` (the co-teacher) of the routes that name two objects;
    tests.helpers.route_urls turns a route into its URLs."""
    from classroom.models import AccessRequest, CommentBankEntry, EmailKind, Submission, unsubscribe_token
    from crisis.content.loader import CONTENT_DIR, load_unit
    from crisis.models import EssayPrompt, Lesson, Source, Unit
    from tests.helpers import build_class, mark_fully

    teacher, student = cast["teacher"], cast["student"]
    unit = Unit.objects.get(slug=load_unit(CONTENT_DIR / "cuban_missile_crisis").slug)
    prompt = EssayPrompt.objects.shipped().get(slug="crisis-improved-relations").make_copy(teacher)
    lesson = Lesson.objects.shipped().get(slug="thirteen-days").make_copy(teacher)
    source = Source.objects.shipped().get(label="G").make_copy(teacher)
    progress = build_class(school_class, teacher, student)  # released, marked, late, missing, draft
    mark = mark_fully(essay, teacher, complete=False)
    annotation = mark.add_annotation(
        by=teacher, comment="Which source says so?", start=4, end=10, quote=essay.text[4:10]
    )
    bank_entry = CommentBankEntry.objects.create(owner=teacher, code="prov", text="Use the provenance.")
    released = Submission.objects.get(assignment=progress["a1"], student=student)
    co_teacher = TeacherFactory(username="ms.co", first_name="Cora", last_name="Co")
    school_class.teachers.add(co_teacher)  # a co-teacher, with a "remove" button
    second_marker = TeacherFactory(username="mr.second", first_name="Sid", last_name="Second")
    access_request = AccessRequest.objects.create(
        name="Nia Newcomer", email="nia@school.example", provider="google", subject="nia"
    )
    department = _department_work(teacher, second_marker, released)
    return {
        **department,
        "classroom/classes/<int:pk>/": [school_class.pk],
        "classroom/assignments/<int:pk>/": [marking_assignment.pk, progress["a1"].pk, progress["a3"].pk],
        "classroom/submissions/<int:pk>/": [essay.pk, released.pk],
        # a signed token, not a key: the pupil's link to stop "essay set" emails
        "classroom/email/unsubscribe/<str:token>/": [unsubscribe_token(student, EmailKind.ESSAY_SET)],
        "classroom/comments/<int:pk>/": [annotation.pk],
        "classroom/comment-bank/<int:pk>/": [bank_entry.pk],
        "classroom/students/<int:pk>/": [student.pk],
        "classroom/department/privacy/pupils/<int:pk>/": [student.pk],
        "classroom/department/staff/<int:pk>/": [co_teacher.pk],
        "classroom/access-requests/<int:pk>/": [access_request.pk],
        "accounts/oidc/<str:provider_id>/": ["google"],
        "learn/units/<int:pk>/": [unit.pk],
        "learn/units/<int:unit_pk>/": [unit.pk],
        "learn/lessons/<int:pk>/": [lesson.pk],
        "learn/sources/<int:pk>/": [source.pk],
        "learn/prompts/<int:pk>/": [prompt.pk, progress["prompt"].pk],
        "learn/mark-schemes/<int:pk>/": [prompt.mark_scheme.pk],
        "learn/criteria/<int:pk>/": [prompt.mark_scheme.criteria.get(code="AO1+AO2").pk],
        "classroom/department/class-lists/<int:pk>/": _oneroster_imports(cast["head"]),
        "student_pk": student.pk,
        "teacher_pk": co_teacher.pk,
    }


def _oneroster_imports(head) -> list[int]:
    """A OneRoster upload waiting for its preview, one already imported, one that is not a zip."""
    import io
    import zipfile
    from pathlib import Path

    from django.utils import timezone

    from classroom.models import OneRosterImport

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((Path(__file__).parent / "data" / "oneroster" / "bulk").glob("*.csv")):
            archive.writestr(path.name, path.read_bytes())
    waiting = OneRosterImport.objects.create(uploaded_by=head, file_name="roster.zip", data=buffer.getvalue())
    done = OneRosterImport.objects.create(
        uploaded_by=head,
        file_name="last-term.zip",
        data=buffer.getvalue(),
        applied_at=timezone.now(),
        applied_by=head,
        result={"changes": 1, "counts": {"classes": {"create": 1, "update": 0, "deactivate": 0, "unchanged": 0}}},
    )
    broken = OneRosterImport.objects.create(uploaded_by=head, file_name="broken.zip", data=b"not a zip")
    return [waiting.pk, done.pk, broken.pk]
