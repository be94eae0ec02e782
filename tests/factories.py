from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from classroom.models import Assignment, SchoolClass, Submission, User, count_words
from crisis.models import (
    Criterion,
    EssayPrompt,
    IndicativePoint,
    KeyTerm,
    KnowledgeQuestion,
    Lesson,
    Level,
    MarkScheme,
    PromptSource,
    Source,
    TimelineEvent,
    Unit,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = User.Role.STUDENT
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StudentFactory(UserFactory):
    username = factory.Sequence(lambda n: f"student{n}")
    role = User.Role.STUDENT


class TeacherFactory(UserFactory):
    username = factory.Sequence(lambda n: f"teacher{n}")
    role = User.Role.TEACHER


class HeadFactory(UserFactory):
    username = factory.Sequence(lambda n: f"head{n}")
    role = User.Role.HEAD


class SchoolClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SchoolClass
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"10{chr(65 + n % 26)} History")
    year_group = 10

    @factory.post_generation
    def teachers(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.teachers.add(*extracted)

    @factory.post_generation
    def students(obj, create, extracted, **kwargs):
        """Pupils given here have been in the class for a year: before any assignment a test
        sets (a pupil who joins after a due date is never "missing" for it)."""
        if create and extracted:
            for student in extracted:
                obj.enrol(student)
            obj.enrolments.update(joined_at=timezone.now() - datetime.timedelta(days=365))


# --- content (crisis): units, lessons, sources, prompts, mark schemes -----------------------


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    slug = factory.Sequence(lambda n: f"unit-{n}")
    title = factory.Sequence(lambda n: f"Unit {n}")
    overview = "What this unit is about."
    key_question = "How far did things change?"


class LessonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lesson

    unit = factory.SubFactory(UnitFactory)
    slug = factory.Sequence(lambda n: f"lesson-{n}")
    order = factory.Sequence(lambda n: n)
    title = factory.Sequence(lambda n: f"Lesson {n}")
    body = "## What happened\n\nThe Hotline was a **teleprinter** link."
    objectives = "Explain what happened.\nJudge how far it mattered."


class KeyTermFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KeyTerm

    lesson = factory.SubFactory(LessonFactory)
    order = factory.Sequence(lambda n: n)
    term = factory.Sequence(lambda n: f"Term {n}")
    definition = "What the term means."


class TimelineEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimelineEvent

    lesson = factory.SubFactory(LessonFactory)
    sort_date = datetime.date(1963, 6, 20)
    when = "20 June 1963"
    event = "The Hotline agreement is signed in Geneva."


class KnowledgeQuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KnowledgeQuestion

    lesson = factory.SubFactory(LessonFactory)
    order = factory.Sequence(lambda n: n)
    question = factory.Sequence(lambda n: f"Question {n}?")
    choices = factory.LazyFunction(lambda: ["A telephone", "A teleprinter link", "A radio"])
    answer = 1
    explanation = "It was a telegraph-teleprinter link, not a telephone."


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    unit = factory.SubFactory(UnitFactory)
    label = factory.Sequence(lambda n: f"S{n}")
    slug = factory.Sequence(lambda n: f"source-{n}")
    title = factory.Sequence(lambda n: f"Source title {n}")
    kind = Source.Kind.LETTER
    author = "President John F. Kennedy"
    date = datetime.date(1962, 10, 27)
    date_label = "27 October 1962"
    origin = "A letter."
    purpose = "To end the crisis."
    audience = "Khrushchev."
    excerpt = "First paragraph of the source.\n\nSecond paragraph."
    citation = "FRUS 1961–1963, vol. VI."
    licence = "Public domain"


class MarkSchemeFactory(factory.django.DjangoModelFactory):
    """A scheme with `criteria` criteria (default 4) of four one-mark levels each (4 marks per criterion)."""

    class Meta:
        model = MarkScheme
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Mark scheme {n}")

    @factory.post_generation
    def criteria(obj, create, extracted, **kwargs):
        if not create:
            return
        for order in range(4 if extracted is None else extracted):
            criterion = Criterion.objects.create(
                scheme=obj, order=order, code=f"AO{order + 1}", name=f"Skill {order + 1}"
            )
            for number in range(1, 5):
                Level.objects.create(
                    criterion=criterion, number=number, min_marks=number, max_marks=number, descriptor=f"Level {number}"
                )


class EssayPromptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EssayPrompt

    unit = factory.SubFactory(UnitFactory)
    slug = factory.Sequence(lambda n: f"prompt-{n}")
    question = factory.Sequence(lambda n: f"How far did event {n} change diplomacy?")
    instructions = "Use the sources and your own knowledge."
    mark_scheme = factory.SubFactory(MarkSchemeFactory)


def link_sources(prompt: EssayPrompt, sources: list[Source]) -> None:
    """Attach sources to a prompt in the given order."""
    for order, source in enumerate(sources):
        PromptSource.objects.create(prompt=prompt, source=source, order=order)


# --- assignments and essay writing (classroom) ----------------------------------------------


class AssignmentFactory(factory.django.DjangoModelFactory):
    """Open since yesterday, due in a week, no cut-off, untimed."""

    class Meta:
        model = Assignment

    school_class = factory.SubFactory(SchoolClassFactory)
    prompt = factory.SubFactory(EssayPromptFactory)
    title = factory.Sequence(lambda n: f"Essay {n}")
    opens_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))
    due_at = factory.LazyAttribute(lambda o: o.opens_at + datetime.timedelta(days=8))


class SubmissionFactory(factory.django.DjangoModelFactory):
    """A student's draft; `SubmissionFactory(submitted=True)` hands it in through submit()."""

    class Meta:
        model = Submission
        skip_postgeneration_save = True

    assignment = factory.SubFactory(AssignmentFactory)
    student = factory.SubFactory(StudentFactory)
    text = "The crisis led to the Hotline in June 1963."
    word_count = factory.LazyAttribute(lambda o: count_words(o.text))
    state = factory.LazyAttribute(lambda o: Submission.State.DRAFT if o.text else Submission.State.NOT_STARTED)
    revision = factory.LazyAttribute(lambda o: 1 if o.text else 0)
    started_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def submitted(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.submit(by=obj.student)


class IndicativePointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IndicativePoint

    prompt = factory.SubFactory(EssayPromptFactory)
    side = IndicativePoint.Side.SUPPORTS
    order = factory.Sequence(lambda n: n)
    text = factory.Sequence(lambda n: f"Indicative point {n}: the Hotline was a teleprinter link.")
    key_terms = "hotline, teleprinter"


# --- marking (classroom): a scheme with wider bands and SPaG, marks ----------------------------
def marking_scheme() -> MarkScheme:
    """AO1 (levels 1–2, 3–4), AO2 (1–3, 4–6) and SPaG (1–2, 3–4): 10 marks + 4 SPaG."""
    scheme = MarkScheme.objects.create(name="Marking test scheme")
    for order, (code, bands, spag) in enumerate(
        [("AO1", [(1, 2), (3, 4)], False), ("AO2", [(1, 3), (4, 6)], False), ("SPAG", [(1, 2), (3, 4)], True)]
    ):
        criterion = Criterion.objects.create(scheme=scheme, order=order, code=code, name=f"Skill {code}", is_spag=spag)
        for number, (low, high) in enumerate(bands, start=1):
            Level.objects.create(
                criterion=criterion,
                number=number,
                min_marks=low,
                max_marks=high,
                descriptor=f"{code} level {number} descriptor",
            )
    return scheme


# --- department: exemplars (issue 14) ---------------------------------------------------------


class ExemplarFactory(factory.django.DjangoModelFactory):
    """A department exemplar of a prompt (no source essay), with one anchored note."""

    class Meta:
        model = "classroom.Exemplar"

    prompt = factory.SubFactory(EssayPromptFactory)
    title = factory.Sequence(lambda n: f"EXEMPLAR-TITLE-{n}")
    text = "The Hotline was a teleprinter link set up in 1963."
    level_name = "Level 2"
    total = 7
    max_total = 10
    notes = factory.LazyFunction(
        lambda: [{"number": 1, "start": 4, "end": 11, "quote": "Hotline", "comment": "EXEMPLAR-NOTE: precise."}]
    )
    commentary = "EXEMPLAR-COMMENTARY: level 2, not 3, because the judgement is not sustained."
