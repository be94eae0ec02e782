"""Demo coursework for `seed_demo`: one past essay, marked and released, and one open essay
with work to mark, so a school trying the app sees marking, the markbook and progress at once.

The essays are short samples written for the demo; marks are drawn from a fixed seed so
every run gives the same department. Everything goes through the model methods a teacher's
and a student's clicks use (start, save_draft, submit, record_mark, complete, release).
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from classroom.models import Assignment, SchoolClass, Submission, User
from crisis.models import EssayPrompt

PAST_TITLE = "The Hotline: how important was it?"
OPEN_TITLE = "Who gained more from the crisis?"

HOTLINE_ESSAYS = [
    """The Hotline was important because the Cuban Missile Crisis showed how slow communication between Washington and Moscow was. Khrushchev's letters took hours to arrive and be translated, and on 28 October he even used Radio Moscow to reply faster.

The Memorandum of Understanding of 20 June 1963 set up a direct communications link. It was a teleprinter link, not a red telephone, and it worked from 30 August 1963. Source G shows it was meant "for use in time of emergency".

However, the Hotline was not used for a real message until 1967, during the Six-Day War, so in 1963 it was more a symbol than a tool. The Partial Test Ban Treaty of 5 August 1963 did more to limit the arms race.

Overall the Hotline was important for crisis management, but it did not end the rivalry.""",
    """In my opinion the Hotline was very important. After the crisis both leaders knew they had nearly started a nuclear war because they could not talk quickly. The Hotline fixed that.

It was agreed in June 1963 and it linked the Pentagon to Moscow by teleprinter. Kennedy's speech at American University (Source F) shows a new tone: "we all inhabit this small planet".

But the arms race carried on. The Soviet Union built many more ICBMs and by 1970 had about 1,487. So the Hotline helped communication but relations were still tense.""",
    """The Hotline was a phone line between the USA and the USSR made after the Cuban Missile Crisis. It meant the leaders could ring each other.

It was used in 1967 and in 1979 when the Soviets invaded Afghanistan. It stopped a lot of wars.

I think it was the most important thing that happened after the crisis.""",
    """How important was the Hotline? It mattered because it turned the lesson of October 1962 into something permanent. During the thirteen days messages went through embassies, and Khrushchev's public letter of 27 October (Source C) was broadcast before it reached Washington, which made the crisis harder to manage.

The Hotline, signed on 20 June 1963, was a telegraph-teleprinter circuit through London, Copenhagen, Stockholm and Helsinki. Its first substantive use came on 5 June 1967, when Kosygin contacted Johnson during the Six-Day War, and it helped stop a Middle East war drawing in the superpowers.

On the other hand, other agreements were arguably more important. The Partial Test Ban Treaty was the first real limit on nuclear weapons, and the NPT (signed 1968, in force 1970) lasted. The Hotline could not stop the war in Vietnam or the invasion of Czechoslovakia in 1968.

So the Hotline was important as a safety net for crises, but the treaties did more to change the relationship.""",
]

GAINED_ESSAYS = [
    """The United States seemed to gain more. Kennedy got the missiles out of Cuba and looked strong, and his standing rose at home. Source A shows he threatened "a full retaliatory response", and Khrushchev backed down.

But the Soviet Union also gained. The US promised not to invade Cuba and secretly removed the Jupiter missiles from Turkey by April 1963. Because that deal was secret, Khrushchev looked weak, and he was removed in October 1964.

I think the US gained more in public, but the USSR gained more than people knew at the time.""",
    """America won the Cuban Missile Crisis because the Soviets took their missiles home. Kennedy was a hero.

The Soviets got nothing except embarrassment and Khrushchev lost his job.""",
    """Both sides gained something, so the question is who gained more. Khrushchev's private letter of 26 October (Source B) offered to remove the missiles for a promise not to invade Cuba, and Kennedy's reply of 27 October (Source D) accepted those terms. Castro kept his revolution, so in that sense the Soviet aim of protecting Cuba was met.

The secret removal of the Jupiters was a second Soviet gain, but because it stayed secret it did Khrushchev no good at home. Meanwhile the USSR decided never to be out-gunned again and built up its ICBMs.

Overall the US gained more prestige, while the USSR gained more of what it had asked for.""",
]

DRAFT_TEXT = "The Cuban Missile Crisis ended in October 1962 when"


def create_demo_coursework(school_class: SchoolClass, teacher: User, students: list[User]) -> str:
    """Create the two demo assignments once; return a line for the seed_demo output."""
    if Assignment.objects.filter(school_class=school_class, title__in=[PAST_TITLE, OPEN_TITLE]).exists():
        return "Demo coursework already present."
    prompts = {p.slug: p for p in EssayPrompt.objects.filter(owner__isnull=True)}
    hotline, gained = prompts.get("hotline-importance"), prompts.get("who-gained-more")
    if hotline is None or gained is None:
        return "No demo coursework: run `python manage.py load_unit` first, then seed_demo again."
    now = timezone.now()
    rng = random.Random(1962)  # noqa: S311 - demo data, not security

    past = Assignment.objects.create(
        school_class=school_class,
        prompt=hotline,
        title=PAST_TITLE,
        opens_at=now - timedelta(days=21),
        due_at=now - timedelta(days=14),
        created_by=teacher,
    )
    criteria = list(hotline.mark_scheme.criteria.prefetch_related("levels"))
    for index, student in enumerate(students):
        if index >= len(students) - 3:
            continue  # missing work, for the markbook and the attention list
        submission = Submission.start(past, student, at=past.opens_at + timedelta(days=1))
        submission.save_draft(HOTLINE_ESSAYS[index % len(HOTLINE_ESSAYS)], submission.revision)
        late = index in (5, 11)
        submission.submit(by=student, at=past.due_at + (timedelta(hours=20) if late else -timedelta(hours=3)))
        strength = {0: 3, 1: 2, 2: 1, 3: 4}[index % len(HOTLINE_ESSAYS)]
        scores: dict[int, tuple[int | None, int]] = {}
        for criterion in criteria:
            levels = list(criterion.levels.all())
            level = levels[max(0, min(len(levels) - 1, strength - 1 + rng.choice((-1, 0, 0, 1))))]
            scores[criterion.pk] = (level.pk, rng.randint(level.min_marks, level.max_marks))
        mark = submission.record_mark(
            teacher,
            scores,
            base_revision=0,
            www="You explain what the Hotline was and use a source to support it.",
            ebi="Weigh the Hotline against the Partial Test Ban Treaty before you reach your judgement.",
            improvement_task="Write one paragraph comparing the Hotline with the Partial Test Ban Treaty: "
            "which did more to make a nuclear war less likely, and why?",
        )
        mark.complete(teacher)
        mark.release(teacher)

    current = Assignment.objects.create(
        school_class=school_class,
        prompt=gained,
        title=OPEN_TITLE,
        opens_at=now - timedelta(days=2),
        due_at=now + timedelta(days=5),
        created_by=teacher,
    )
    # The first two pupils (e.g. amelia.brown) are left to try the writing page themselves.
    for index, student in enumerate(students[2:12], start=2):
        submission = Submission.start(current, student)
        if index < 8:
            submission.save_draft(GAINED_ESSAYS[index % len(GAINED_ESSAYS)], submission.revision)
            submission.submit(by=student)
        else:
            submission.save_draft(DRAFT_TEXT, submission.revision)
    return f'Demo coursework: "{PAST_TITLE}" marked and released; "{OPEN_TITLE}" open with 6 essays to mark.'
