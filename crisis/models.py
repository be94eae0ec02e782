"""Subject content: what is taught. Content is data, editable in the app.

Shipped rows (`owner` is null) come from `crisis/content/<unit>/` through `load_unit` and
are read-only in the app; a teacher edits a shipped item by making their own copy
(`owner` set, `copied_from` pointing at the original), which a reload never touches.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, Count, Q, When
from django.utils import timezone

from classroom.compiled import CompiledQuery
from crisis.markdown import LESSON_TEXT_MAX, SHORT_TEXT_MAX, MarkdownLengthValidator, RenderedHTMLField, RendersMarkdown
from crisis.wording import plural

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

_M = TypeVar("_M", bound=models.Model)
_A = TypeVar("_A", bound="Authored")


class AuthoredQuerySet(models.QuerySet[_A]):
    def visible_to(self, user: AbstractBaseUser | AnonymousUser) -> AuthoredQuerySet[_A]:
        """Content anyone signed in may read: shipped items and every teacher's items and copies.

        Content is shared school-wide (a department's resources, not anyone's private work);
        what differs by role is indicative content and authoring, decided in permissions.py.
        """
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self.all()

    def shipped(self) -> AuthoredQuerySet[_A]:
        return self.filter(owner__isnull=True)

    def owned(self) -> AuthoredQuerySet[_A]:
        return self.filter(owner__isnull=False)


def _copy_row(obj: _M, **changes: Any) -> _M:
    """A new, saved row with obj's field values and `changes` applied (no related rows)."""
    values = {
        field.attname: getattr(obj, field.attname)
        for field in obj._meta.concrete_fields
        if not field.primary_key and field.attname not in ("created_at", "updated_at")
    }
    values.update(changes)
    return type(obj)._default_manager.create(**values)


class Authored(models.Model):
    """Fields every editable content item shares."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for shipped content; the teacher for a teacher's own item or copy.",
    )
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuthoredQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_shipped(self) -> bool:
        return self.owner_id is None


class Unit(RendersMarkdown, Authored):
    MARKDOWN_FIELDS = ("overview",)

    slug = models.SlugField(max_length=100)
    title = models.CharField(max_length=200)
    overview = models.TextField(
        blank=True,
        validators=[MarkdownLengthValidator(SHORT_TEXT_MAX)],
        help_text=f"Markdown, up to {SHORT_TEXT_MAX:,} characters.",
    )
    overview_html = RenderedHTMLField()
    key_question = models.CharField(max_length=300, blank=True)
    organiser_selection = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            'What the knowledge organiser picks from the lessons: {"key_dates": [YYYY-MM-DD, …], '
            '"key_terms": [term, …]} (no key_terms: every key term).'
        ),
    )

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["slug"], condition=Q(owner__isnull=True), name="unique_shipped_unit_slug")
        ]

    def __str__(self) -> str:
        return self.title

    def organiser(self) -> dict[str, Any]:
        """What the unit's one-page knowledge organiser lists, in two queries.

        From the unit's own lessons (its shipped lessons, for a shipped unit; never teachers'
        copies): every person and agreement among the key terms, and the other key terms named
        in `organiser_selection["key_terms"]` (all of them if it names none), each once, in
        lesson order; and for each date in `organiser_selection["key_dates"]` one timeline
        event on that date, from the earliest lesson that has one.
        """
        selection = self.organiser_selection if isinstance(self.organiser_selection, dict) else {}
        chosen = {_term_key(name) for name in selection.get("key_terms") or [] if isinstance(name, str)}
        lessons = Lesson.objects.filter(unit=self, owner_id=self.owner_id)
        filed: dict[str, list[KeyTerm]] = {kind: [] for kind in KeyTerm.Kind.values}
        seen: set[str] = set()
        for term in KeyTerm.objects.filter(lesson__in=lessons).order_by("lesson__order", "lesson_id", "order", "pk"):
            name = _term_key(term.term)
            if name in seen or (term.kind == KeyTerm.Kind.TERM and chosen and name not in chosen):
                continue
            seen.add(name)
            filed[term.kind].append(term)
        dates = set()
        for value in selection.get("key_dates") or []:
            try:
                dates.add(datetime.date.fromisoformat(str(value)))
            except ValueError:
                continue
        events: dict[datetime.date, TimelineEvent] = {}
        timeline = TimelineEvent.objects.filter(lesson__in=lessons, sort_date__in=dates)
        for event in timeline.order_by("sort_date", "lesson__order", "lesson_id", "pk"):
            events.setdefault(event.sort_date, event)
        return {
            "dates": list(events.values()),
            "people": filed[KeyTerm.Kind.PERSON],
            "agreements": filed[KeyTerm.Kind.AGREEMENT],
            "terms": filed[KeyTerm.Kind.TERM],
        }


def _term_key(term: str) -> str:
    """A key term as compared across lessons: spacing and capitals ignored."""
    return " ".join(term.split()).casefold()


class Lesson(RendersMarkdown, Authored):
    MARKDOWN_FIELDS = ("body",)

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="lessons")
    slug = models.SlugField(max_length=100)
    order = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField(
        validators=[MarkdownLengthValidator(LESSON_TEXT_MAX)],
        help_text=(
            f"Markdown. Headings with ##, lists, **bold**, > quotations. No HTML. Up to {LESSON_TEXT_MAX:,} characters."
        ),
    )
    body_html = RenderedHTMLField()
    objectives = models.TextField(blank=True, help_text="One learning objective per line.")
    sources: models.ManyToManyField[Source] = models.ManyToManyField(
        "Source", blank=True, related_name="lessons", help_text="Sources from the pack this lesson uses."
    )

    class Meta:
        ordering = ["unit", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "slug"], condition=Q(owner__isnull=True), name="unique_shipped_lesson_slug"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def objective_list(self) -> list[str]:
        return [line.strip() for line in self.objectives.splitlines() if line.strip()]

    def make_copy(self, owner) -> Lesson:
        """The owner's own editable copy, with its key terms, timeline, questions and sources."""
        with transaction.atomic():
            copy = _copy_row(self, owner_id=owner.pk, copied_from_id=self.pk)
            copy.sources.set(self.sources.all())
            for term in self.key_terms.all():
                _copy_row(term, lesson_id=copy.pk)
            for event in self.timeline.all():
                _copy_row(event, lesson_id=copy.pk)
            for question in self.questions.filter(retired=False):
                _copy_row(question, lesson_id=copy.pk)
            copy.review_questions.set(self.review_questions.filter(retired=False))
        return copy

    def check_questions(self) -> list[KnowledgeQuestion]:
        """The knowledge check, in one query (compiled to SQL once: every pupil opening the
        lesson asks it): this lesson's own questions, then review questions from earlier
        lessons (spaced retrieval: `KnowledgeQuestion.review_in`), each with `is_review` set
        and its lesson loaded for the "From an earlier lesson" label. Retired questions (no
        longer in the unit's files) are not asked."""
        return self._marked_review(_check_questions.objects(lesson=self.pk))

    def questions_asked(self, attempt: KnowledgeCheckAttempt) -> list[KnowledgeQuestion]:
        """The questions an attempt answered, as they were asked, in the check's order: a question
        added since is not shown against it, and a retired one still is (the loader keeps a
        shipped question's text and choices fixed once pupils have answered it)."""
        keys = (str(key) for key in attempt.answers)
        ids = {int(key) for key in keys if key.isascii() and key.isdigit() and len(key) < 19}
        return self._ordered_questions(Q(pk__in=ids))

    def _ordered_questions(self, which: Q) -> list[KnowledgeQuestion]:
        return self._marked_review(list(_questions_in_order(self.pk, which)))

    def _marked_review(self, questions: list[KnowledgeQuestion]) -> list[KnowledgeQuestion]:
        for question in questions:
            question.is_review = question.lesson_id != self.pk
        return questions

    def mark_answers(
        self, answers: dict[int, int], questions: list[KnowledgeQuestion] | None = None
    ) -> tuple[int, list[dict]]:
        """Score chosen answers ({question id: choice index}) against this lesson's knowledge
        check (`check_questions`, or the same list already loaded), review questions included.

        Returns the score and, per question in order, what was chosen and what was right.
        """
        results = []
        for question in self.check_questions() if questions is None else questions:
            chosen = answers.get(question.pk)
            # A stored attempt may predate an edit that removed a choice: show it as unanswered.
            if not isinstance(chosen, int) or not 0 <= chosen < len(question.choices):
                chosen = None
            results.append(
                {
                    "question": question,
                    "chosen": chosen,
                    "correct": chosen == question.answer,
                    "chosen_text": question.choices[chosen] if chosen is not None else "",
                    "answer_text": question.choices[question.answer] if question.answer < len(question.choices) else "",
                }
            )
        return sum(1 for r in results if r["correct"]), results

    def record_attempt(
        self, student, answers: dict[int, int], questions: list[KnowledgeQuestion] | None = None
    ) -> KnowledgeCheckAttempt:
        """Mark a student's answers and keep the attempt for their progress."""
        score, results = self.mark_answers(answers, questions)
        return KnowledgeCheckAttempt.objects.create(
            student=student,
            lesson=self,
            score=score,
            total=len(results),
            answers={str(r["question"].pk): r["chosen"] for r in results},
        )


def _questions_in_order(lesson: int, which: Q) -> models.QuerySet[KnowledgeQuestion]:
    """Questions of a lesson's check in the check's order: the lesson's own first."""
    return (
        KnowledgeQuestion.objects.filter(which)
        .select_related("lesson")
        .defer("lesson__body", "lesson__body_html")  # only its title is shown: not each lesson's whole text
        .order_by(Case(When(lesson_id=lesson, then=0), default=1), "lesson__order", "order", "pk")
    )


def _check_questions_query(lesson: int) -> models.QuerySet[KnowledgeQuestion]:
    mine = Q(lesson_id=lesson) | Q(pk__in=Lesson(pk=lesson).review_questions.values("pk"))
    return _questions_in_order(lesson, mine & Q(retired=False))


_check_questions = CompiledQuery(_check_questions_query)


class KeyTerm(models.Model):
    class Kind(models.TextChoices):
        """What the unit's knowledge organiser files it under."""

        TERM = "term", "Key term"
        PERSON = "person", "Person"
        AGREEMENT = "agreement", "Treaty or agreement"

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="key_terms")
    order = models.PositiveSmallIntegerField(default=0)
    term = models.CharField(max_length=120)
    definition = models.TextField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TERM)
    pronunciation = models.CharField(
        max_length=80,
        blank=True,
        help_text='How to say it: plain respelling, stressed part in capitals, e.g. "kroosh-CHOF".',
    )

    class Meta:
        ordering = ["lesson", "order", "pk"]

    def __str__(self) -> str:
        return self.term


class TimelineEvent(models.Model):
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="timeline")
    sort_date = models.DateField(help_text="Used for ordering.")
    when = models.CharField(max_length=60, help_text='As displayed, e.g. "16 October 1962" or "November 1962".')
    event = models.TextField()

    class Meta:
        ordering = ["lesson", "sort_date", "pk"]

    def __str__(self) -> str:
        return f"{self.when}: {self.event[:40]}"


class Source(Authored):
    class Kind(models.TextChoices):
        SPEECH = "speech", "Speech"
        LETTER = "letter", "Letter"
        BROADCAST = "broadcast", "Broadcast"
        MEMORANDUM = "memorandum", "Memorandum"
        TREATY = "treaty", "Treaty"
        AGREEMENT = "agreement", "Agreement"
        INTERPRETATION = "interpretation", "Historian's interpretation"
        MESSAGE = "message", "Message"
        DIAGRAM = "diagram", "Diagram"
        OTHER = "other", "Other"

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="sources")
    label = models.CharField(max_length=4, help_text="A, B, C …")
    slug = models.SlugField(max_length=100)
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    author = models.CharField(max_length=200)
    date = models.DateField()
    date_label = models.CharField(max_length=60, blank=True)
    origin = models.TextField(blank=True, help_text="Provenance: who made it, what it is.")
    purpose = models.TextField(blank=True, help_text="Provenance: why it was made.")
    audience = models.TextField(blank=True, help_text="Provenance: who it was for.")
    excerpt = models.TextField(help_text="The exact words of the source; trim only with an ellipsis (…).")
    citation = models.TextField(help_text="Where it is published.")
    licence = models.CharField(max_length=200, blank=True)
    shows = models.TextField(blank=True, help_text="What the source is useful for (teacher notes).")
    # A picture shipped with the unit (a diagram drawn for it); only the unit's files set these,
    # because the path must name a file under static/.
    image = models.CharField(
        max_length=200,
        blank=True,
        help_text="Path of the picture under static/, e.g. img/missile-ranges-from-cuba.svg.",
    )
    image_alt = models.CharField(max_length=500, blank=True, help_text="Text alternative for the picture.")

    class Meta:
        ordering = ["unit", "label", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "label"], condition=Q(owner__isnull=True), name="unique_shipped_source_label"
            )
        ]

    def __str__(self) -> str:
        return f"Source {self.label}: {self.title}"

    @property
    def excerpt_paragraphs(self) -> list[str]:
        """The excerpt split at blank lines, each paragraph exactly as stored."""
        return [part.strip("\n") for part in self.excerpt.replace("\r\n", "\n").split("\n\n") if part.strip()]

    def make_copy(self, owner) -> Source:
        return _copy_row(self, owner_id=owner.pk, copied_from_id=self.pk)


def validate_bands(bands: Iterable[tuple[int, int, int]], what: str = "Levels") -> None:
    """Check a criterion's levels as the boards write them.

    `bands` holds (level number, min marks, max marks). Any number of levels, numbered 1, 2,
    3… without gaps, with an optional level 0 (the "no rewardable material" band), which must
    be 0–0; the bands are contiguous and do not overlap. Raises ValidationError with messages
    a teacher can act on.
    """
    ordered = sorted(bands)
    if not [band for band in ordered if band[0] != 0]:
        raise ValidationError(f"{what}: add at least one level above level 0.")
    errors = []
    first = ordered[0][0]
    if first == 0 and ordered[0][1:] != (0, 0):
        errors.append(f"{what}: level 0 is the band for no rewardable material, so it must be 0 marks (0–0).")
    numbers = [number for number, _low, _high in ordered]
    if len(set(numbers)) != len(numbers):
        repeated = next(number for number in numbers if numbers.count(number) > 1)
        errors.append(f"{what}: there are two levels numbered {repeated}.")
    else:
        start = 0 if first == 0 else 1
        for expected, number in enumerate(numbers, start=start):
            if number != expected:
                errors.append(
                    f"{what}: levels must be numbered 1, 2, 3… (after an optional level 0) without gaps "
                    f"(found level {number} where level {expected} should be)."
                )
                break
    for number, low, high in ordered:
        if low > high:
            errors.append(f"{what}: level {number} has a minimum mark ({low}) above its maximum ({high}).")
    if ordered[0][1] < 0:
        errors.append(f"{what}: marks cannot be negative.")
    for (n1, _lo1, hi1), (n2, lo2, _hi2) in zip(ordered, ordered[1:], strict=False):
        if n1 == n2:
            continue
        if lo2 <= hi1:
            errors.append(f"{what}: level {n1} ({hi1}) and level {n2} ({lo2}) overlap.")
        elif lo2 != hi1 + 1:
            errors.append(f"{what}: there is a gap between level {n1} (up to {hi1}) and level {n2} (from {lo2}).")
    if errors:
        raise ValidationError(errors)


class SchemeInUse(Exception):
    """A change that essays already marked depend on was refused: a used mark scheme's criteria,
    levels or bands, or a marked question's choice of scheme. The message is for the teacher;
    nothing changed."""


def _essays(n: int) -> str:
    return plural(n, "essay")


def _marked_essays(schemes: Q) -> int:
    """Essays marked (a Mark exists) with any scheme matching `schemes`, through its questions'
    assignments."""
    counted = MarkScheme.objects.filter(schemes).aggregate(
        n=Count("prompts__assignments__submissions__mark", distinct=True)
    )
    return counted["n"] or 0


def _refuse_if_marked(schemes: Q) -> None:
    """SchemeInUse once an essay has been marked with a scheme matching `schemes`."""
    used = _marked_essays(schemes)
    if used:
        raise SchemeInUse(
            f"Nothing was saved: this mark scheme has been used to mark {_essays(used)}, so its criteria, "
            "levels and mark bands are fixed (you can still correct their wording). "
            "Make an editable copy to change them."
        )


def _structure_changed(obj: models.Model, fields: tuple[str, ...], update_fields: Iterable[str] | None) -> dict | None:
    """Whether saving obj changes any of `fields`: {} for a new row, the stored values when one
    of them changed, None when none did."""
    if update_fields is not None and not {*fields, *(f.removesuffix("_id") for f in fields)} & set(update_fields):
        return None
    if obj.pk is None:
        return {}
    stored = type(obj)._default_manager.filter(pk=obj.pk).values(*fields).first()
    if stored is None:
        return {}
    return stored if any(stored[f] != getattr(obj, f) for f in fields) else None


_COPY_SUFFIX = re.compile(r" \(copy(?: \d+)?\)$")


NAME_MAX_LENGTH = 200  # a mark scheme's name


class MarkScheme(Authored):
    """Criteria, each with levels and mark bands.

    Once an essay has been marked with it (`marked_essays`), the structure marks depend on is
    fixed: criteria cannot be added or removed, nor their code or SPaG flag changed, and levels
    cannot be added, removed, renumbered or re-banded (Criterion.save, Level.save and their
    delete() refuse with SchemeInUse). Wording (the scheme's name, criteria names and
    descriptions, level descriptors) and the order criteria are shown in may still change. To
    change the marks, make a copy (`make_copy`). Each mark also keeps the maxima it was given
    against (classroom's Mark.max_total, Mark.max_spag, CriterionMark.max_marks).
    """

    name = models.CharField(max_length=NAME_MAX_LENGTH)
    qualification = models.CharField(
        max_length=200,
        blank=True,
        help_text="The board, specification and paper the scheme follows, e.g. AQA GCSE History (8145), Paper 1.",
    )
    guidance = models.TextField(
        blank=True,
        help_text="Best-fit marking guidance: read the whole answer, decide the level, then place it within the level.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def content_criteria(self) -> list[Criterion]:
        return [c for c in self.criteria.all() if not c.is_spag]

    def spag_criterion(self) -> Criterion | None:
        return next((c for c in self.criteria.all() if c.is_spag), None)

    @property
    def total_marks(self) -> int:
        return sum(c.max_marks for c in self.content_criteria())

    @property
    def spag_marks(self) -> int:
        spag = self.spag_criterion()
        return spag.max_marks if spag else 0

    def marked_essays(self) -> int:
        """How many essays have been marked with this scheme: once there is one, it is fixed."""
        return _marked_essays(Q(pk=self.pk)) if self.pk else 0

    def answer_bands(self) -> tuple[list[Bands], int | None]:
        """The bands of each content criterion and the SPaG marks (None: no SPaG), for
        `model_answer_problems` (`answer_bands`). Prefetch criteria__levels to read them in
        two queries."""
        return answer_bands(
            (c.is_spag, [(lv.number, lv.min_marks, lv.max_marks) for lv in c.levels.all()]) for c in self.criteria.all()
        )

    def copy_name(self, owner) -> str:
        """A name for the owner's copy that no scheme they can choose (shipped ones and their
        own) already has: "<name> (copy)", then "(copy 2)", "(copy 3)"…; a copy of a copy
        counts on from its original's name rather than adding "(copy) (copy)"."""
        base = _COPY_SUFFIX.sub("", self.name)
        taken = set(MarkScheme.objects.filter(Q(owner__isnull=True) | Q(owner=owner)).values_list("name", flat=True))
        number = 1
        while True:
            suffix = " (copy)" if number == 1 else f" (copy {number})"
            name = base[: NAME_MAX_LENGTH - len(suffix)] + suffix
            if name not in taken:
                return name
            number += 1

    def make_copy(self, owner) -> MarkScheme:
        """The owner's own copy with every criterion and level, named apart (`copy_name`)."""
        with transaction.atomic():
            copy = _copy_row(self, owner_id=owner.pk, copied_from_id=self.pk, name=self.copy_name(owner))
            for criterion in self.criteria.prefetch_related("levels"):
                new_criterion = _copy_row(criterion, scheme_id=copy.pk)
                for level in criterion.levels.all():
                    _copy_row(level, criterion_id=new_criterion.pk)
        return copy


class Criterion(models.Model):
    """One part of a scheme's mark: a holistic level grid (e.g. AQA's "AO1+AO2"), one strand
    of an analytic scheme, or SPaG."""

    scheme = models.ForeignKey(MarkScheme, on_delete=models.CASCADE, related_name="criteria")
    order = models.PositiveSmallIntegerField(default=0)
    code = models.CharField(max_length=20, help_text="e.g. AO1+AO2, C1, or SPAG.")
    assessment_objectives = models.CharField(
        max_length=60, blank=True, help_text="The board's AO labels for this criterion, e.g. AO1, AO2."
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    is_spag = models.BooleanField(default=False, help_text="Spelling, punctuation and grammar: marked separately.")

    class Meta:
        ordering = ["scheme", "order", "pk"]
        verbose_name_plural = "criteria"
        constraints = [models.UniqueConstraint(fields=["scheme", "code"], name="unique_criterion_code_per_scheme")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    # What marks depend on (matching by code across classes, SPaG totalled apart): fixed once used.
    FIXED_ONCE_USED = ("scheme_id", "code", "is_spag")

    def save(self, *args, **kwargs) -> None:
        stored = _structure_changed(self, self.FIXED_ONCE_USED, kwargs.get("update_fields"))
        if stored is not None:
            _refuse_if_marked(Q(pk__in={self.scheme_id, stored.get("scheme_id", self.scheme_id)}))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs) -> tuple[int, dict[str, int]]:
        _refuse_if_marked(Q(pk=self.scheme_id))
        return super().delete(*args, **kwargs)

    @property
    def max_marks(self) -> int:
        return max((level.max_marks for level in self.levels.all()), default=0)

    def level_for_mark(self, mark: int) -> Level | None:
        return next((lv for lv in self.levels.all() if lv.min_marks <= mark <= lv.max_marks), None)


class Level(models.Model):
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="levels")
    number = models.PositiveSmallIntegerField()
    descriptor = models.TextField()
    min_marks = models.PositiveSmallIntegerField()
    max_marks = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["criterion", "number"]
        constraints = [
            models.UniqueConstraint(fields=["criterion", "number"], name="unique_level_number_per_criterion"),
            models.CheckConstraint(condition=Q(min_marks__lte=models.F("max_marks")), name="level_band_min_le_max"),
        ]

    def __str__(self) -> str:
        return f"Level {self.number} ({self.band})"

    # The band a mark is given in and the maximum it is out of: fixed once the scheme is used.
    FIXED_ONCE_USED = ("criterion_id", "number", "min_marks", "max_marks")

    def save(self, *args, **kwargs) -> None:
        stored = _structure_changed(self, self.FIXED_ONCE_USED, kwargs.get("update_fields"))
        if stored is not None:
            _refuse_if_marked(Q(criteria__in={self.criterion_id, stored.get("criterion_id", self.criterion_id)}))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs) -> tuple[int, dict[str, int]]:
        _refuse_if_marked(Q(criteria=self.criterion_id))
        return super().delete(*args, **kwargs)

    @property
    def band(self) -> str:
        if self.min_marks == self.max_marks:
            return plural(self.min_marks, "mark")
        return f"{self.min_marks}–{self.max_marks} marks"


class EssayPrompt(RendersMarkdown, Authored):
    MARKDOWN_FIELDS = ("instructions",)

    class QuestionType(models.TextChoices):
        """The board question forms a prompt can follow (its mark scheme has the matching bands)."""

        HOW_FAR = "how-far", "How far do you agree? (AQA GCSE, 16 + 4 SPaG)"
        UTILITY = "utility", "How useful are the sources? (AQA GCSE, 12)"
        ACCOUNT = "account", "Write an account (AQA GCSE, 8)"
        INFERENCE = "inference", "Source inference (AQA GCSE, 4)"
        CONSEQUENCES = "consequences", "Explain two consequences (Edexcel GCSE, 8)"
        IMPORTANCE = "importance", "Explain the importance (Edexcel GCSE, 8)"
        ASSESS_VIEW = "assess-view", "Assess the validity of this view (AQA A-level, 25)"
        SOURCE_VALUE = "source-value", "Assess the value of these sources (AQA A-level, 30)"
        OTHER = "other", "Other"

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="prompts")
    slug = models.SlugField(max_length=100)
    question = models.CharField(max_length=300)
    question_type = models.CharField(max_length=20, choices=QuestionType.choices, default=QuestionType.OTHER)
    instructions = models.TextField(
        blank=True,
        validators=[MarkdownLengthValidator(SHORT_TEXT_MAX)],
        help_text=f"Markdown, up to {SHORT_TEXT_MAX:,} characters.",
    )
    instructions_html = RenderedHTMLField()
    sources = models.ManyToManyField(Source, through="PromptSource", related_name="prompts")
    own_knowledge = models.BooleanField(
        default=True, help_text="Students use their own knowledge as well as the sources."
    )
    suggested_minutes = models.PositiveSmallIntegerField(default=45)
    word_min = models.PositiveIntegerField(default=0)
    word_max = models.PositiveIntegerField(default=0, help_text="0: no upper guidance.")
    mark_scheme = models.ForeignKey(MarkScheme, on_delete=models.PROTECT, related_name="prompts")

    class Meta:
        ordering = ["unit", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "slug"], condition=Q(owner__isnull=True), name="unique_shipped_prompt_slug"
            )
        ]

    def __str__(self) -> str:
        return self.question

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is None or {"mark_scheme", "mark_scheme_id"} & set(update_fields):
            self.check_scheme_change(self.mark_scheme_id)  # a marked question keeps its scheme
        super().save(*args, **kwargs)

    @property
    def total_marks(self) -> int:
        return self.mark_scheme.total_marks

    @property
    def spag_marks(self) -> int:
        return self.mark_scheme.spag_marks

    def marked_essays(self) -> int:
        """How many essays set from this question have been marked: they keep its mark scheme."""
        if self.pk is None:
            return 0
        return EssayPrompt.objects.filter(pk=self.pk).aggregate(n=Count("assignments__submissions__mark"))["n"] or 0

    def check_scheme_change(self, scheme_id: int | None) -> None:
        """SchemeInUse if `scheme_id` is not the question's stored scheme and essays set from it
        have been marked (their marks were given against that scheme)."""
        if self.pk is None:
            return
        stored = EssayPrompt.objects.filter(pk=self.pk).values_list("mark_scheme_id", flat=True).first()
        if stored is None or stored == scheme_id:
            return
        used = self.marked_essays()
        if used:
            raise SchemeInUse(
                f"This question keeps its mark scheme: {_essays(used)} set from it "
                f"{'have' if used != 1 else 'has'} been marked with it. "
                "To use a different scheme, make a copy of the question."
            )

    def ordered_sources(self) -> list[Source]:
        return [link.source for link in self.source_links.all()]

    def make_copy(self, owner) -> EssayPrompt:
        """The owner's own copy, with its own copy of the mark scheme, source links, indicative points
        and model answers."""
        with transaction.atomic():
            scheme = self.mark_scheme.make_copy(owner)
            copy = _copy_row(self, owner_id=owner.pk, copied_from_id=self.pk, mark_scheme_id=scheme.pk)
            for link in self.source_links.all():
                _copy_row(link, prompt_id=copy.pk)
            for point in self.indicative_points.all():
                _copy_row(point, prompt_id=copy.pk)
            for answer in self.model_answers.all():
                _copy_row(answer, prompt_id=copy.pk)
        return copy


class PromptSource(models.Model):
    prompt = models.ForeignKey(EssayPrompt, on_delete=models.CASCADE, related_name="source_links")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="prompt_links")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["prompt", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["prompt", "source"], name="unique_source_per_prompt")]

    def __str__(self) -> str:
        return f"{self.prompt} – {self.source.label}"


class IndicativePoint(models.Model):
    """A point a good answer might make, for markers only. Key terms let the marking page
    hint whether an essay mentions it; the hint never sets a mark."""

    class Side(models.TextChoices):
        SUPPORTS = "supports", "Supports"
        CHALLENGES = "challenges", "Challenges"
        JUDGEMENT = "judgement", "Judgement"

    prompt = models.ForeignKey(EssayPrompt, on_delete=models.CASCADE, related_name="indicative_points")
    side = models.CharField(max_length=12, choices=Side.choices)
    order = models.PositiveSmallIntegerField(default=0)
    text = models.TextField()
    key_terms = models.TextField(blank=True, help_text="Comma-separated words or phrases an essay might use.")

    class Meta:
        ordering = ["prompt", "side", "order", "pk"]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def key_term_list(self) -> list[str]:
        return [term.strip() for term in self.key_terms.split(",") if term.strip()]


# Model answers are plain text (shown with line breaks kept), sized for the longest a pupil
# writes in the time: an A-level essay of about 1,000 words is some 6,500 characters. A
# TextField's max_length is checked by forms and the loader, not the database.
MODEL_ANSWER_TEXT_MAX = 12_000
MODEL_ANSWER_COMMENTARY_MAX = 4_000


Bands = dict[int, tuple[int, int]]  # one criterion's levels: number -> (min marks, max marks)


def answer_bands(criteria: Iterable[tuple[bool, list[tuple[int, int, int]]]]) -> tuple[list[Bands], int | None]:
    """What `model_answer_problems` checks a model answer against, from a scheme's criteria in
    order, each as (is SPaG, its levels as (number, min marks, max marks)): the bands of each
    content criterion, and the SPaG marks (its top level's maximum; None: no SPaG). The one
    rule for a saved scheme (MarkScheme.answer_bands) and one still in the unit's files (the
    content loader)."""
    criteria = list(criteria)
    bands = [{number: (low, high) for number, low, high in levels} for is_spag, levels in criteria if not is_spag]
    spag = next((levels for is_spag, levels in criteria if is_spag), None)
    return bands, (None if spag is None else max((high for _, _, high in spag), default=0))


def model_answer_problems(
    level: int, marks: int, spag: int | None, criteria: list[Bands], spag_max: int | None
) -> dict[str, str]:
    """What is wrong with a model answer's level and marks for its question's mark scheme,
    by field; {} when they fit. `criteria` holds the bands of each content criterion,
    `spag_max` the SPaG marks (None: no SPaG).

    The level must be one the criteria have; the marks inside that level's band when there is
    one criterion. With several (the two-consequences question) the level is that of the
    weakest part, so every part reaches at least that level and one of them stays in it: the
    total lies between the level's bottoms added up and the most one part in the level plus
    the others at full marks can reach. A SPaG mark is given exactly when the scheme has SPaG.
    The loader and the teacher's form both check with this.
    """
    problems: dict[str, str] = {}
    if not criteria:
        return problems
    if any(level not in bands for bands in criteria):
        common = ", ".join(map(str, sorted(set.intersection(*(set(bands) for bands in criteria))))) or "none"
        problems["level"] = f"The mark scheme has no level {level} (its levels: {common})."
    elif len(criteria) == 1:
        low, high = criteria[0][level]
        if not low <= marks <= high:
            problems["marks"] = f"{marks} is outside level {level}'s band of {low}–{high} marks."
    elif len(criteria) > 1:
        tops = [max((high for _low, high in bands.values()), default=0) for bands in criteria]
        low = sum(bands[level][0] for bands in criteria)
        high = max(bands[level][1] + sum(tops) - top for bands, top in zip(criteria, tops, strict=True))
        if not low <= marks <= high:
            problems["marks"] = (
                f"{marks} does not fit level {level}: with the weakest part at level {level}, "
                f"the total lies between {low} and {high} marks."
            )
    if spag_max is None:
        if spag is not None:
            problems["spag"] = "The mark scheme has no SPaG marks, so give none."
    elif spag is None:
        problems["spag"] = f"Give a SPaG mark: the mark scheme has {spag_max} SPaG marks."
    elif spag > spag_max:
        problems["spag"] = f"{spag} is more than the {spag_max} SPaG marks available."
    return problems


class ModelAnswer(models.Model):
    """An annotated answer to a question at one level of its mark scheme, with an examiner's
    commentary. Teachers always see them; pupils only as each assignment allows
    (classroom's Assignment.model_answers, decided in permissions.py)."""

    prompt = models.ForeignKey(EssayPrompt, on_delete=models.CASCADE, related_name="model_answers")
    order = models.PositiveSmallIntegerField(default=0)
    level = models.PositiveSmallIntegerField(help_text="The level of the mark scheme this answer reaches.")
    marks = models.PositiveSmallIntegerField(help_text="Its content mark, out of the question's total.")
    spag = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Its SPaG mark, when the mark scheme has SPaG."
    )
    text = models.TextField(
        max_length=MODEL_ANSWER_TEXT_MAX,
        help_text=f"The answer as a pupil would write it. Plain text, up to {MODEL_ANSWER_TEXT_MAX:,} characters.",
    )
    commentary = models.TextField(
        max_length=MODEL_ANSWER_COMMENTARY_MAX,
        help_text=(
            "Why it reaches this level and what would take it higher. "
            f"Plain text, up to {MODEL_ANSWER_COMMENTARY_MAX:,} characters."
        ),
    )

    class Meta:
        ordering = ["prompt", "order", "level", "pk"]

    def __str__(self) -> str:
        return f"Level {self.level} answer ({plural(self.marks, 'mark')})"


class KnowledgeQuestion(models.Model):
    """A multiple-choice question with one correct answer and an explanation."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField(default=0)
    question = models.TextField()
    choices = models.JSONField(help_text="A list of answer texts.")
    answer = models.PositiveSmallIntegerField(help_text="Position of the correct choice, counting from 0.")
    explanation = models.TextField()
    # A shipped question that left the unit's files but that pupils answered: kept so their
    # attempts still show it as it was asked, never asked again (crisis.content.loader).
    retired = models.BooleanField(default=False, help_text="No longer asked; kept for the attempts that answered it.")
    review_in = models.ManyToManyField(
        Lesson,
        blank=True,
        related_name="review_questions",
        help_text="Later lessons whose knowledge check also asks this question (spaced retrieval).",
    )

    # Set by Lesson.check_questions: asked in a later lesson's check, as a review question.
    is_review = False

    class Meta:
        ordering = ["lesson", "order", "pk"]

    def __str__(self) -> str:
        return self.question[:60]

    def clean(self) -> None:
        if not isinstance(self.choices, list) or len(self.choices) < 2:
            raise ValidationError({"choices": "Give at least two choices."})
        if self.answer is None or not 0 <= self.answer < len(self.choices):
            raise ValidationError({"answer": "The correct answer must be one of the choices."})


class KnowledgeCheckAttempt(models.Model):
    """One student's go at a lesson's knowledge check, kept for progress tracking."""

    # PROTECT: deleting a pupil never deletes their work silently.
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="knowledge_attempts")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="attempts")
    score = models.PositiveSmallIntegerField()
    total = models.PositiveSmallIntegerField()
    answers = models.JSONField(help_text="{question id: chosen index}")
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["student", "lesson", "submitted_at"])]

    def __str__(self) -> str:
        return f"{self.student} {self.lesson}: {self.score}/{self.total}"

    @property
    def percent(self) -> int:
        return round(100 * self.score / self.total) if self.total else 0
