"""classroom/lookups.py: each compiled lookup gives what its queryset gives, for the row asked
for and no other, and nothing where there is none; a pupil's assignment_for_member keeps
visible_to's rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from classroom import lookups, permissions
from classroom.models import AccessArrangement, ExemplarShare, Extension
from tests.factories import (
    AssignmentFactory,
    ExemplarFactory,
    SourceFactory,
    SubmissionFactory,
    link_sources,
)

pytestmark = pytest.mark.django_db


def test_prompt_sources_in_the_questions_order_and_only_its_own(marking_assignment):
    prompt = marking_assignment.prompt
    first, second, third = SourceFactory(label="C"), SourceFactory(label="A"), SourceFactory(label="B")
    link_sources(prompt, [first, second, third])
    other = AssignmentFactory(school_class=marking_assignment.school_class)
    link_sources(other.prompt, [SourceFactory(label="Z")])
    for _ in range(2):  # compiled on the first call, reused on the second
        found = lookups.prompt_sources(prompt.pk)
        assert found == [first, second, third]
        assert [source.label for source in found] == ["C", "A", "B"]  # the sources themselves, loaded
    assert lookups.prompt_sources(other.prompt_id)[0].label == "Z"
    assert lookups.prompt_sources(-1) == []


def test_own_essay_is_the_pupils_own_or_none(marking_assignment, student, outsider):
    mine = SubmissionFactory(assignment=marking_assignment, student=student, text="Mine.")
    theirs = SubmissionFactory(assignment=marking_assignment, student=outsider, text="Theirs.")
    for _ in range(2):
        assert lookups.own_essay(marking_assignment.pk, student.pk) == mine
        assert lookups.own_essay(marking_assignment.pk, student.pk).text == "Mine."
        assert lookups.own_essay(marking_assignment.pk, outsider.pk) == theirs
    later = AssignmentFactory(school_class=marking_assignment.school_class)
    assert lookups.own_essay(later.pk, student.pk) is None


def test_arrangement_and_extension_are_the_pupils_own(marking_assignment, student, outsider):
    assert lookups.arrangement_of(student.pk) is None
    arrangement = AccessArrangement.objects.create(student=student, spell_check=True)
    assert lookups.arrangement_of(student.pk) == arrangement
    assert lookups.arrangement_of(student.pk).spell_check is True
    assert lookups.arrangement_of(outsider.pk) is None

    assert lookups.extension_of(marking_assignment.pk, student.pk) is None
    due = timezone.now() + timedelta(days=20)
    extension = Extension.objects.create(assignment=marking_assignment, student=student, due_at=due)
    assert lookups.extension_of(marking_assignment.pk, student.pk) == extension
    assert lookups.extension_of(marking_assignment.pk, student.pk).due_at == due
    assert lookups.extension_of(marking_assignment.pk, outsider.pk) is None


def test_exemplar_shares_lowest_total_first_with_their_exemplars(marking_assignment):
    prompt = marking_assignment.prompt
    high, low = ExemplarFactory(prompt=prompt, total=9), ExemplarFactory(prompt=prompt, total=3)
    shares = [ExemplarShare.objects.create(assignment=marking_assignment, exemplar=e) for e in (high, low)]
    other = AssignmentFactory(school_class=marking_assignment.school_class, prompt=prompt)
    ExemplarShare.objects.create(assignment=other, exemplar=high)
    for _ in range(2):
        found = lookups.exemplar_shares(marking_assignment.pk)
        assert found == [shares[1], shares[0]]
        assert [share.exemplar.total for share in found] == [3, 9]
    assert lookups.exemplar_shares(-1) == []


def test_a_pupils_assignment_keeps_the_rule_of_who_may_open_it(marking_assignment, student, outsider):
    for _ in range(2):
        found = permissions.assignment_for_member(student, marking_assignment.pk)
        assert found == marking_assignment
        assert found.school_class.name == marking_assignment.school_class.name
        assert found.prompt.question == marking_assignment.prompt.question
        with pytest.raises(Http404):  # not their class
            permissions.assignment_for_member(outsider, marking_assignment.pk)
    not_open = AssignmentFactory(
        school_class=marking_assignment.school_class, opens_at=timezone.now() + timedelta(days=1)
    )
    with pytest.raises(Http404):  # not open yet
        permissions.assignment_for_member(student, not_open.pk)
    enrolment = marking_assignment.school_class.enrolments.get(student=student)
    enrolment.removed_at = timezone.now()
    enrolment.save()
    with pytest.raises(Http404):  # no longer in the class
        permissions.assignment_for_member(student, marking_assignment.pk)


def test_the_lesson_with_its_parts_and_check_as_the_orm_gives_them(django_assert_num_queries):
    from crisis.models import KeyTerm, TimelineEvent
    from tests.factories import KeyTermFactory, KnowledgeQuestionFactory, LessonFactory, TimelineEventFactory

    earlier = LessonFactory(order=1)
    lesson = LessonFactory(unit=earlier.unit, order=2, copied_from=earlier)
    KeyTermFactory(lesson=lesson, order=2, term="Quarantine")
    KeyTermFactory(lesson=lesson, order=1, term="Blockade")
    KeyTermFactory(lesson=earlier, term="Elsewhere")
    TimelineEventFactory(lesson=lesson)
    TimelineEventFactory(lesson=lesson)
    lesson.sources.set([SourceFactory(label="B", unit=lesson.unit), SourceFactory(label="A", unit=lesson.unit)])
    own = KnowledgeQuestionFactory(lesson=lesson)
    review = KnowledgeQuestionFactory(lesson=earlier)
    review.review_in.add(lesson)
    KnowledgeQuestionFactory(lesson=earlier)  # not asked in this lesson
    KnowledgeQuestionFactory(lesson=lesson, retired=True)  # no longer asked
    for _ in range(2):  # compiled on the first call, reused on the second
        found = lookups.lesson(lesson.pk)
        with django_assert_num_queries(0):
            assert (found, found.unit, found.copied_from, found.owner) == (lesson, lesson.unit, earlier, None)
        parts = lookups.lesson_parts(lesson.pk)
        assert [term.term for term in parts["key_terms"]] == ["Blockade", "Quarantine"]
        assert parts["key_terms"] == list(KeyTerm.objects.filter(lesson=lesson))
        assert parts["timeline"] == list(TimelineEvent.objects.filter(lesson=lesson))
        assert [source.label for source in parts["lesson_sources"]] == ["A", "B"]
        questions = lesson.check_questions()
        assert questions == [own, review]
        assert [question.is_review for question in questions] == [False, True]
        with django_assert_num_queries(0):
            assert questions[1].lesson.title == earlier.title
    assert lookups.lesson(-1) is None
    assert lookups.lesson_parts(earlier.pk)["lesson_sources"] == []


def test_the_lesson_page_keeps_the_rule_of_who_may_read_content(student):
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import PermissionDenied

    from crisis.models import Lesson
    from tests.factories import LessonFactory

    lesson = LessonFactory()
    assert permissions.lesson_for_reader(student, lesson.pk) == lesson
    with pytest.raises(PermissionDenied):
        permissions.lesson_for_reader(AnonymousUser(), lesson.pk)
    with pytest.raises(Http404):
        permissions.lesson_for_reader(student, lesson.pk + 1000)
    student.is_active = False
    with pytest.raises(Http404):
        permissions.lesson_for_reader(student, lesson.pk)
    # lesson_for_reader relies on visible_to deciding by the account alone: for an active
    # account, every item. A rule that filtered items would have to be added to it too.
    student.is_active = True
    assert "WHERE" not in str(Lesson.objects.visible_to(student).query)


def test_the_feedback_pages_mark_results_comments_and_ticks(
    essay, teacher, student, outsider, django_assert_num_queries
):
    from classroom.models import Annotation, CriterionMark, StrandTick
    from tests.helpers import mark_fully

    mark = mark_fully(essay, teacher)
    with pytest.raises(Http404):  # marked, not released: not the pupil's to read yet
        permissions.feedback_for_student(student, essay.assignment_id)
    second = mark.add_annotation(by=teacher, comment="Second.", start=10, end=15, quote=essay.text[10:15])
    first = Annotation.objects.get(
        pk=mark.add_annotation(by=teacher, comment="First.", start=0, end=3, quote=essay.text[0:3]).pk
    )
    Annotation.objects.filter(pk=first.pk).update(number=0)  # numbered first, added last
    mark.release(by=teacher)
    StrandTick.objects.create(mark=mark, strand="sources", rating=2)
    StrandTick.objects.create(mark=mark, strand="analysis", rating=3)
    class_name, scheme_name = essay.assignment.school_class.name, essay.assignment.prompt.mark_scheme.name
    for _ in range(2):  # compiled on the first call, reused on the second
        found = permissions.feedback_for_student(student, essay.assignment_id)
        assert found == mark
        with django_assert_num_queries(0):
            assessed = found.submission.assignment
            assert (found.submission, assessed.school_class.name) == (essay, class_name)
            assert assessed.prompt.mark_scheme.name == scheme_name
        results = found.results()
        assert results == list(CriterionMark.objects.filter(mark=mark).order_by("criterion__order", "criterion_id"))
        assert len(results) == 3
        with django_assert_num_queries(0):
            assert [result.criterion.order for result in results] == sorted(r.criterion.order for r in results)
            assert all(result.mark is found for result in results)
        assert [a.pk for a in lookups.annotations_of(found)] == [first.pk, second.pk]
        assert [tick.strand for tick in lookups.strand_ticks_of(found)] == ["analysis", "sources"]
    with pytest.raises(Http404):  # not theirs
        permissions.feedback_for_student(outsider, essay.assignment_id)
    with pytest.raises(Http404):
        permissions.feedback_for_student(student, essay.assignment_id + 1000)


def test_a_teachers_assignment_keeps_the_rule_of_who_may_manage_it(marking_assignment, teacher, co, other_teacher):
    from django.core.exceptions import PermissionDenied

    for _ in range(2):  # compiled on the first call, reused on the second
        for who in (teacher, co):
            found = permissions.assignment_for_teacher(who, marking_assignment.pk)
            assert found == marking_assignment
            assert found.prompt.question == marking_assignment.prompt.question
        with pytest.raises(Http404):  # not their class
            permissions.assignment_for_teacher(other_teacher, marking_assignment.pk)
    with pytest.raises(Http404):
        permissions.assignment_for_teacher(teacher, marking_assignment.pk + 1000)
    with pytest.raises(PermissionDenied):
        permissions.assignment_for_teacher(
            marking_assignment.school_class.active_students().get(), marking_assignment.pk
        )
    marking_assignment.school_class.teachers.remove(co)
    with pytest.raises(Http404):  # no longer teaches it
        permissions.assignment_for_teacher(co, marking_assignment.pk)


def test_an_essay_for_marking_keeps_the_rule_of_who_may_mark_it(essay, teacher, co, other_teacher, head, student):
    from django.core.exceptions import PermissionDenied

    for _ in range(2):  # compiled on the first call, reused on the second
        for who in (teacher, co, head):
            found = permissions.submission_for_marker(who, essay.pk)
            assert (found, found.student, found.assignment) == (essay, student, essay.assignment)
            assert found.assignment.prompt.mark_scheme == essay.assignment.prompt.mark_scheme
        with pytest.raises(Http404):  # not their class
            permissions.submission_for_marker(other_teacher, essay.pk)
    with pytest.raises(PermissionDenied):
        permissions.submission_for_marker(student, essay.pk)
    essay.assignment.school_class.teachers.remove(co)
    with pytest.raises(Http404):  # no longer teaches it
        permissions.submission_for_marker(co, essay.pk)


def test_a_pupils_classes_are_their_active_current_ones_by_name(school_class, other_class, student, outsider):
    from tests.factories import SchoolClassFactory

    later = SchoolClassFactory(name="07A History", students=[student])
    archived = SchoolClassFactory(name="08B History", students=[student])
    archived.archived = True
    archived.save()
    left = SchoolClassFactory(name="09C History", students=[student])
    left.enrolments.filter(student=student).update(removed_at=timezone.now())
    for _ in range(2):  # compiled on the first call, reused on the second
        assert permissions.pupil_classes(student) == [later, school_class]
        assert permissions.pupil_classes(outsider) == [other_class]


@pytest.mark.parametrize("pk", [0, 2**31, 2**63 - 1, 2**63, 10**30])
def test_the_compiled_pages_answer_404_for_an_id_no_row_can_have(client, essay, teacher, head, student, pk):
    from django.urls import reverse

    from tests.factories import LessonFactory

    lesson = LessonFactory()
    client.force_login(student)
    for name in ("classroom:write", "classroom:feedback", "content:lesson"):
        assert client.get(reverse(name, args=[pk])).status_code == 404, name
    assert client.get(reverse("content:lesson", args=[lesson.pk])).status_code == 200
    for who in (teacher, head):  # a head's are the ORM's queries
        client.force_login(who)
        for name in ("classroom:marking_queue", "classroom:mark_submission"):
            assert client.get(reverse(name, args=[pk])).status_code == 404, (who, name)
