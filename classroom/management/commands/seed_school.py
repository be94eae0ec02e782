"""Generate a whole school's worth of history essays and marks, for benchmarks and trials.

    python manage.py seed_school --students 1500 --classes 60 --assignments 12 --seed 42

Deterministic: the same seed gives the same people, essays and marks (dates are relative
to today). Every seeded account's username starts with "seed." and shares one password
(hashed once). Marks respect the mark scheme's bands; some work is late, some missing,
some marks unreleased, some improvement tasks answered. Bulk inserts, so a 1,500-student
school takes a minute or two. Refuses to run with DEBUG off unless --force; --reset
removes a previous seeded school first.
"""

from __future__ import annotations

import hashlib
import random
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from classroom.models import (
    Assignment,
    CriterionMark,
    DirtResponse,
    Enrolment,
    Mark,
    SchoolClass,
    Submission,
    User,
    count_words,
)
from classroom.status import State
from crisis.models import EssayPrompt

PASSWORD = "seed-school-1962"  # noqa: S105 - published on purpose, like seed_demo
PREFIX = "seed."
BATCH = 1000

GIVEN = [
    "Aisha",
    "Alfie",
    "Amelia",
    "Archie",
    "Ava",
    "Ben",
    "Charlie",
    "Chloe",
    "Daniel",
    "Ella",
    "Emily",
    "Ethan",
    "Evie",
    "Freddie",
    "Grace",
    "Harry",
    "Isla",
    "Jack",
    "Jacob",
    "James",
    "Jessica",
    "Leo",
    "Lily",
    "Logan",
    "Lucy",
    "Mia",
    "Mohammed",
    "Noah",
    "Olivia",
    "Oscar",
    "Poppy",
    "Priya",
    "Ruby",
    "Sam",
    "Sophie",
    "Theo",
    "Thomas",
    "Yusuf",
    "Zara",
    "Zainab",
]
FAMILY = [
    "Ahmed",
    "Ali",
    "Baker",
    "Bennett",
    "Brown",
    "Campbell",
    "Chen",
    "Clarke",
    "Davies",
    "Edwards",
    "Evans",
    "Green",
    "Hall",
    "Harris",
    "Hughes",
    "Hussain",
    "Jackson",
    "James",
    "Johnson",
    "Jones",
    "Khan",
    "King",
    "Lewis",
    "Martin",
    "Morris",
    "Murphy",
    "Nowak",
    "Patel",
    "Roberts",
    "Robinson",
    "Shah",
    "Singh",
    "Smith",
    "Taylor",
    "Thomas",
    "Thompson",
    "Walker",
    "White",
    "Williams",
    "Wilson",
    "Wood",
    "Wright",
    "Young",
]

OPENINGS = [
    "The Cuban Missile Crisis of October 1962 changed how the superpowers spoke to each other.",
    "In October 1962 the world came closer to nuclear war than ever before.",
    "To a large extent the crisis improved US–Soviet diplomacy, but only for a time.",
    "Historians still argue about how far the crisis made relations better.",
]
SENTENCES = [
    "Source A shows that Kennedy wanted to avoid a war he could not control.",
    "Khrushchev's letter of 26 October suggests he was looking for a way out.",
    "The Hotline agreement of June 1963 meant the leaders could send messages within minutes.",
    "The Limited Test Ban Treaty of August 1963 was the first real arms control agreement.",
    "However, the arms race continued and the Soviet Union built many more missiles.",
    "The provenance of the source matters because it was written for a public audience.",
    "This supports the view that both sides had learned the danger of brinkmanship.",
    "On the other hand, the war in Vietnam kept the superpowers suspicious of each other.",
    "Detente in the 1970s built on the contacts that began after the crisis.",
    "The removal of the Jupiter missiles from Turkey was kept secret at the time.",
    "Robert Kennedy met Ambassador Dobrynin in private, which shows back-channel diplomacy working.",
    "The naval quarantine gave both leaders time to think rather than act at once.",
    "Source C is useful because it was written by someone who was in the room.",
    "Yet the source is limited because it was published years later to defend a reputation.",
    "The Outer Space Treaty of 1967 and the Non-Proliferation Treaty of 1968 followed.",
    "Therefore the crisis was a turning point in how the superpowers managed their rivalry.",
    "The Soviet leadership saw the outcome as a humiliation and removed Khrushchev in 1964.",
    "Communication improved, but trust did not grow as quickly.",
    "Castro felt betrayed because he had not been consulted about the deal.",
    "This evidence suggests that the improvement in diplomacy was real but limited.",
]
CLOSINGS = [
    "Overall, the crisis improved diplomacy in the short term, but rivalry continued.",
    "In conclusion, the crisis was a warning that led to practical steps such as the Hotline.",
    "To conclude, both sides learned to talk, even if they did not stop competing.",
]
WWW = [
    "Clear line of argument from start to finish.",
    "Good use of precise dates and treaties.",
    "You question the provenance of the sources well.",
    "A balanced judgement that weighs both sides.",
]
EBI = [
    "Explain how each source's provenance affects its usefulness.",
    "Link your own knowledge directly to the question.",
    "Reach a judgement in every paragraph, not only at the end.",
    "Use more precise evidence from after 1963.",
]
TASKS = [
    "Rewrite your second paragraph, adding the provenance of Source B.",
    "Add one piece of evidence from 1963–1972 to your conclusion.",
    "Write a new opening sentence that answers the question directly.",
]
RESPONSES = [
    "I have rewritten the paragraph and explained who wrote Source B and why.",
    "I added the Test Ban Treaty of 1963 to my conclusion.",
    "My new opening: the crisis improved diplomacy to a large extent, but only for a time.",
]


def essay(rng: random.Random, words: int = 600) -> str:
    paragraphs, count = [rng.choice(OPENINGS)], 0
    while count < words:
        paragraph = " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(4, 7)))
        paragraphs.append(paragraph)
        count += len(paragraph.split())
    paragraphs.append(rng.choice(CLOSINGS))
    return "\n\n".join(paragraphs)


class Command(BaseCommand):
    help = "Generate a large seeded school (teachers, classes, essays, marks) for benchmarks and trials."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--students", type=int, default=1500)
        parser.add_argument("--classes", type=int, default=60)
        parser.add_argument("--assignments", type=int, default=12, help="Assignments per class.")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--reset", action="store_true", help="Remove a previously seeded school first.")
        parser.add_argument(
            "--force", action="store_true", help="Run even though DEBUG is off. Never on a school's live server."
        )

    def handle(
        self, *args, students: int, classes: int, assignments: int, seed: int, reset: bool, force: bool, **options
    ) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_school creates accounts with a published password, so it refuses to run with DEBUG off. "
                "Use --force only on a throwaway server."
            )
        if students < 1 or classes < 1 or assignments < 1 or classes > students:
            raise CommandError("Give at least one student, class and assignment, and no more classes than students.")
        prompts = list(EssayPrompt.objects.shipped().select_related("mark_scheme").order_by("pk"))
        schemes = {}
        for prompt in prompts:
            criteria = list(prompt.mark_scheme.criteria.prefetch_related("levels").order_by("order", "pk"))
            if criteria and all(list(c.levels.all()) for c in criteria):
                schemes[prompt.pk] = criteria
        prompts = [p for p in prompts if p.pk in schemes]
        if not prompts:
            raise CommandError("No shipped essay prompts with a mark scheme: run `python manage.py load_unit` first.")
        started = time.monotonic()
        if reset:
            self._reset()
        elif User.objects.filter(username__startswith=PREFIX).exists():
            raise CommandError("A seeded school already exists: add --reset to replace it.")
        with transaction.atomic():
            counts = self._seed(random.Random(seed), students, classes, assignments, prompts, schemes)
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {counts['students']} students and {counts['teachers']} teachers in {classes} classes: "
                f"{counts['assignments']} assignments, {counts['submissions']} essays, {counts['marks']} marks, "
                f"{counts['responses']} DIRT responses in {elapsed:.1f} s. Password for every account: {PASSWORD}"
            )
        )

    def _reset(self) -> None:
        with transaction.atomic():
            seeded = User.objects.filter(username__startswith=PREFIX)
            school_classes = SchoolClass.objects.filter(teachers__in=seeded.filter(role=User.Role.TEACHER)).distinct()
            class_ids = list(school_classes.values_list("pk", flat=True))
            Submission.objects.filter(assignment__school_class_id__in=class_ids).delete()
            Assignment.objects.filter(school_class_id__in=class_ids).delete()
            SchoolClass.objects.filter(pk__in=class_ids).delete()
            seeded.delete()

    def _seed(self, rng, n_students, n_classes, n_assignments, prompts, schemes) -> dict[str, int]:
        now = timezone.now().replace(microsecond=0)
        password = make_password(PASSWORD)  # one (slow) Argon2 hash shared by every account
        n_teachers = max(1, (n_classes + 2) // 3)
        teachers = User.objects.bulk_create(
            [
                User(
                    username=f"{PREFIX}t{i + 1:03d}",
                    first_name=rng.choice(GIVEN),
                    last_name=rng.choice(FAMILY),
                    role=User.Role.TEACHER,
                    password=password,
                )
                for i in range(n_teachers)
            ],
            batch_size=BATCH,
        )
        User.objects.create(
            username=f"{PREFIX}head",
            first_name="Hilary",
            last_name="Head",
            role=User.Role.HEAD,
            password=password,
        )
        pupils = User.objects.bulk_create(
            [
                User(
                    username=f"{PREFIX}s{i + 1:05d}",
                    first_name=rng.choice(GIVEN),
                    last_name=rng.choice(FAMILY),
                    role=User.Role.STUDENT,
                    password=password,
                )
                for i in range(n_students)
            ],
            batch_size=BATCH,
        )
        school_classes = SchoolClass.objects.bulk_create(
            [
                SchoolClass(
                    name=f"{7 + i % 5}{chr(65 + (i // 5) % 26)}{i // 130 or ''} History",
                    year_group=7 + i % 5,
                    join_code=f"SEED{i + 1:04d}",  # 0 and 1 never occur in real codes
                )
                for i in range(n_classes)
            ],
            batch_size=BATCH,
        )
        Through = SchoolClass.teachers.through
        Through.objects.bulk_create(
            [
                Through(schoolclass_id=c.pk, user_id=teachers[i // 3 % n_teachers].pk)
                for i, c in enumerate(school_classes)
            ]
        )
        roster: dict[int, list[User]] = {c.pk: [] for c in school_classes}
        enrolments = []
        for i, pupil in enumerate(pupils):
            school_class = school_classes[i % n_classes]
            roster[school_class.pk].append(pupil)
            enrolments.append(Enrolment(school_class=school_class, student=pupil, joined_at=now - timedelta(days=400)))
        Enrolment.objects.bulk_create(enrolments, batch_size=BATCH)

        # Assignments: one every two weeks, the last due three days ago.
        assignment_rows, teacher_of = [], {}
        for i, school_class in enumerate(school_classes):
            teacher_of[school_class.pk] = teachers[i // 3 % n_teachers]
            for k in range(n_assignments):
                prompt = prompts[k % len(prompts)]
                due = now - timedelta(days=3 + 14 * (n_assignments - 1 - k), hours=i % 5)
                assignment_rows.append(
                    Assignment(
                        school_class=school_class,
                        prompt=prompt,
                        title=f"Essay {k + 1}: {prompt.question[:120]}",
                        opens_at=due - timedelta(days=7),
                        due_at=due,
                        created_by=teacher_of[school_class.pk],
                        created_at=due - timedelta(days=8),
                    )
                )
        assignment_rows = Assignment.objects.bulk_create(assignment_rows, batch_size=BATCH)

        ability = {p.pk: rng.uniform(0.2, 0.95) for p in pupils}
        # A pool of essays (with their word counts and hashes), so 18,000 essays take seconds.
        texts = []
        for _ in range(40):
            text = essay(rng)
            texts.append((text, count_words(text), hashlib.sha256(text.encode()).hexdigest()))
        submissions: list[Submission] = []
        plans: list[State | None] = []
        for assignment in assignment_rows:
            last = assignment.due_at > now - timedelta(days=10)
            for pupil in roster[assignment.school_class_id]:
                roll = rng.random()
                if roll < 0.05:
                    continue  # missing: nothing at all
                text = rng.choice(texts)
                if roll < 0.08:
                    submissions.append(self._submission(assignment, pupil, text, Submission.State.DRAFT, None, now))
                    plans.append(None)
                    continue
                late = roll < 0.16
                if late:
                    at = min(assignment.due_at + timedelta(hours=rng.randint(2, 60)), now - timedelta(minutes=5))
                else:
                    at = assignment.due_at - timedelta(hours=rng.randint(1, 120))
                stage = rng.random() if last else 1.0
                state = (
                    Submission.State.SUBMITTED
                    if stage < 0.3
                    else Submission.State.MARKED
                    if stage < 0.5
                    else Submission.State.RELEASED
                )
                submissions.append(self._submission(assignment, pupil, text, state, at, now, late=late))
                plans.append(state)
        submissions = Submission.objects.bulk_create(submissions, batch_size=BATCH)

        marks, levels_for = [], []
        for submission, plan in zip(submissions, plans, strict=True):
            if plan not in (Submission.State.MARKED, Submission.State.RELEASED):
                continue
            assignment = submission.assignment
            criteria = schemes[assignment.prompt_id]
            skill = min(0.99, max(0.0, ability[submission.student_id] + rng.uniform(-0.15, 0.15)))
            chosen = []
            for criterion in criteria:
                levels = list(criterion.levels.all())
                level = levels[min(len(levels) - 1, int(skill * len(levels)))]
                chosen.append((criterion, level, rng.randint(level.min_marks, level.max_marks)))
            total = sum(m for c, _, m in chosen if not c.is_spag)
            spag = next((m for c, _, m in chosen if c.is_spag), None)
            max_spag = next((c.max_marks for c in criteria if c.is_spag), 0)
            released = plan == Submission.State.RELEASED
            assert submission.submitted_at is not None  # marked work has been handed in
            marked_at = min(submission.submitted_at + timedelta(days=rng.randint(2, 6)), now - timedelta(minutes=1))
            marks.append(
                Mark(
                    submission=submission,
                    marker=teacher_of[assignment.school_class_id],
                    www=rng.choice(WWW),
                    ebi=rng.choice(EBI),
                    improvement_task=rng.choice(TASKS) if rng.random() < 0.6 else "",
                    total=total,
                    spag=spag,
                    max_total=sum(c.max_marks for c in criteria if not c.is_spag),
                    max_spag=max_spag,
                    revision=2,
                    created_at=marked_at,
                    updated_at=marked_at,
                    completed_at=marked_at,
                    released_at=marked_at if released else None,
                    released_by=teacher_of[assignment.school_class_id] if released else None,
                    seen_at=marked_at + timedelta(days=1) if released and rng.random() < 0.8 else None,
                )
            )
            levels_for.append(chosen)
        marks = Mark.objects.bulk_create(marks, batch_size=BATCH)
        criterion_marks: list[CriterionMark] = []
        responses: list[DirtResponse] = []
        for mark, chosen in zip(marks, levels_for, strict=True):
            criterion_marks.extend(
                CriterionMark(mark=mark, criterion=criterion, level=level, marks=value, max_marks=criterion.max_marks)
                for criterion, level, value in chosen
            )
            if mark.released_at and mark.improvement_task and rng.random() < 0.6:
                answered = mark.released_at + timedelta(days=2)
                responses.append(
                    DirtResponse(
                        mark=mark,
                        text=rng.choice(RESPONSES),
                        revision=2,
                        updated_at=answered,
                        submitted_at=answered,
                        acknowledged_at=answered + timedelta(days=1) if rng.random() < 0.5 else None,
                    )
                )
        CriterionMark.objects.bulk_create(criterion_marks, batch_size=BATCH)
        DirtResponse.objects.bulk_create(responses, batch_size=BATCH)
        return {
            "students": len(pupils),
            "teachers": len(teachers),
            "assignments": len(assignment_rows),
            "submissions": len(submissions),
            "marks": len(marks),
            "responses": len(responses),
        }

    @staticmethod
    def _submission(assignment, pupil, essay_text, state, at, now, late=False) -> Submission:
        text, words, sha256 = essay_text
        handed_in = at is not None
        return Submission(
            assignment=assignment,
            student=pupil,
            text=text,
            word_count=words,
            state=state,
            revision=3 if handed_in else 1,
            started_at=assignment.opens_at + timedelta(hours=1),
            submitted_at=at,
            submitted_by=pupil if handed_in else None,
            is_late=late,
            text_sha256=sha256 if handed_in else "",
            created_at=assignment.opens_at + timedelta(hours=1),
            updated_at=at or now,
        )
