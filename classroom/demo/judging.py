"""The demo's comparative-judgement session for `seed_demo`, so a school trying the
app sees the judging screen, a scale with its reliability and marks suggested from anchors:

- a session on 10H's 16 + 4 essay (all marked), judged by the head and both teachers;
- the judges follow the Bradley–Terry model on a quality taken from each essay's given mark
  (a mark apart is about 0.7 logits), drawn from a seeded random generator; the script numbers
  are drawn at random as in any session, so the figures differ a little from run to run; each
  choice is given a plausible time (40 s to 3 min);
- about ten judgements a script are made, short of the session's target of twelve, so a demo
  judge still gets pairs to judge;
- the standardisation's scripts (the department's agreed marks) and two more marks anchor the
  scale; the other essays' marks are left out as anchors, so their suggested marks can be
  set beside the marks the teacher gave.

Everything goes through classroom/judging.py. Made once: a second run leaves it alone.
"""

from __future__ import annotations

import math
import random
from datetime import timedelta

from django.utils import timezone

from classroom import judging
from classroom.models import Assignment, Judgement, JudgingSession, Mark, SchoolClass, User

SESSION_TITLE = "10H essays judged side by side"
SEED = 1962
LOGITS_PER_MARK = 0.7
TARGET = 12
JUDGED_PER_SCRIPT = 10  # the research's figure; the last two a script are left for whoever tries the demo


def create_demo_judging(judges: list[User], school_class: SchoolClass, essay_title: str) -> str:
    """Create the demo judging session on the class's assignment called `essay_title`, judged
    by `judges` in turn (the first sets it up); a line for seed_demo's output."""
    assignment = Assignment.objects.filter(school_class=school_class, title=essay_title).first()
    if assignment is None:
        return "No demo judging: the demo coursework is missing."
    if JudgingSession.objects.filter(title=SESSION_TITLE).exists():
        return "Demo judging session already present."
    session = judging.create_session(judges[1], SESSION_TITLE, [assignment], target=TARGET)
    scripts = list(session.scripts.all())
    totals = dict(
        Mark.objects.filter(submission__judging_scripts__session=session).values_list("submission_id", "total")
    )
    mean = sum(totals.values()) / max(1, len(totals))
    quality = {s.pk: (totals.get(s.submission_id, mean) - mean) * LOGITS_PER_MARK for s in scripts}
    rng = random.Random(SEED)
    stop = len(scripts) * JUDGED_PER_SCRIPT // 2
    start = timezone.now() - timedelta(days=2)
    made = 0
    while made < stop:
        judge = judges[made % len(judges)]
        pair = judging.pair_for(session, judge, rng=rng)
        if pair is None:
            break
        chance = 1 / (1 + math.exp(quality[pair.right_id] - quality[pair.left_id]))
        judging.decide(pair, judge, "left" if rng.random() < chance else "right")
        shown = start + timedelta(minutes=3 * made)
        Judgement.objects.filter(pk=pair.pk).update(
            shown_at=shown, decided_at=shown + timedelta(seconds=rng.randint(40, 180))
        )
        made += 1
    # Anchors: the department's agreed scripts plus the class's highest and lowest marks.
    result = judging.results(session, split_half=False)
    agreed = [row for row in result.scripts if row.agreed is not None]
    keep = {row.script.pk for row in agreed if row.agreed is not None and row.agreed.source == "standardisation"}
    by_mark = sorted(agreed, key=lambda row: row.agreed.total if row.agreed else 0)
    if by_mark:
        keep |= {by_mark[0].script.pk, by_mark[-1].script.pk}
    session.scripts.exclude(pk__in=keep).update(anchor=False)
    return f"Demo judging: {made} judgements of {len(scripts)} scripts, {len(keep)} anchors."
