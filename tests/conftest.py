"""The fixed cast every test file shares.

- `teacher` teaches `school_class`; `student` is in it.
- `other_teacher` teaches `other_class`; `outsider` is a student in that class only.
- `head` is the head of department (sees every class).
"""

from __future__ import annotations

import pytest

from tests.factories import HeadFactory, SchoolClassFactory, StudentFactory, TeacherFactory

PASSWORD = "correct-horse-battery"


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
