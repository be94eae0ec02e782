"""The demo coursework (classroom/demo/essays/*.yaml, seeded by seed_demo) is believable: essays of
a length pupils write in the time, a real spread of levels, every mark inside its level's band and
justified in its comment, individual feedback, and the same marks on every run."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import pytest
import yaml
from django.core.management import call_command

from classroom import demo
from classroom.comment_bank import CODE_PATTERN, read_bank
from classroom.demo.coursework import (
    ASSIGNMENTS,
    BANK_FILE,
    EARLIER_TITLE,
    OPEN_TITLE,
    PAST_TITLE,
    bank_lookup,
    create_demo_coursework,
    expand,
    read_scripts,
)
from classroom.models import Assignment, Mark, SchoolClass, StrandTick, Submission, User, count_words
from crisis.content.loader import CONTENT_DIR

PROMPTS_FILE = CONTENT_DIR / "cuban_missile_crisis" / "prompts.yaml"
ESSAY, ACCOUNT, CONSEQUENCES = "crisis-improved-relations", "account-agreements-1963", "two-consequences"
MARKED = (ESSAY, ACCOUNT)
WORD_RANGES = {ESSAY: (350, 700), ACCOUNT: (150, 350), CONSEQUENCES: (150, 350)}
USERNAMES = [demo.student_username(given, family) for given, family in demo.STUDENTS]


def scheme(slug: str) -> dict:
    """The shipped prompt's mark scheme, as written in prompts.yaml."""
    prompts = yaml.safe_load(PROMPTS_FILE.read_text(encoding="utf-8"))
    return next(prompt for prompt in prompts if prompt["slug"] == slug)["mark_scheme"]


def marked(slug: str):
    return [script for script in read_scripts(slug) if script.state == "marked"]


# --- The data ------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", [ESSAY, ACCOUNT, CONSEQUENCES])
def test_essays_are_as_long_as_pupils_write_in_the_time(slug):
    low, high = WORD_RANGES[slug]
    handed_in = [script for script in read_scripts(slug) if script.state != "draft"]
    assert handed_in
    lengths = {script.pupil: count_words(script.text) for script in handed_in}
    assert {pupil: n for pupil, n in lengths.items() if not low <= n <= high} == {}


@pytest.mark.parametrize("slug", MARKED)
def test_every_mark_lies_in_its_levels_band_and_the_comment_justifies_it(slug):
    criterion = scheme(slug)["criteria"][0]
    bands = {level["number"]: (level["min_marks"], level["max_marks"]) for level in criterion["levels"]}
    total = max(high for _low, high in bands.values())
    spag = scheme(slug).get("spag")
    for script in marked(slug):
        low, high = bands[script.level]
        assert script.level >= 1 and low <= script.marks <= high, script.pupil
        # The comment names the level, its band and the mark, then says why.
        assert script.comment.startswith(f"Level {script.level} ({low}–{high}), {script.marks}/{total}."), script.pupil
        assert count_words(script.comment) >= 25, script.pupil
        if spag:
            assert script.spag is not None and 0 <= script.spag <= spag["max_marks"], script.pupil
            assert f"SPaG {script.spag}/{spag['max_marks']}" in script.comment, script.pupil
        else:
            assert script.spag is None, script.pupil


@pytest.mark.parametrize("slug", MARKED)
def test_the_class_shows_a_real_spread_of_levels(slug):
    levels = Counter(script.level for script in marked(slug))
    assert set(levels) == {1, 2, 3, 4}
    assert all(count >= 3 for count in levels.values()), levels
    # Most of a Year 10 class sits in the middle levels.
    assert levels[2] + levels[3] > levels[1] + levels[4]
    # Marks spread within the levels too, not one mark per level.
    assert len({script.marks for script in marked(slug)}) >= 7


def test_stronger_essays_are_longer_on_average():
    by_level = defaultdict(list)
    for script in marked(ESSAY):
        by_level[script.level].append(count_words(script.text))
    means = [sum(by_level[level]) / len(by_level[level]) for level in (1, 2, 3, 4)]
    assert means[0] < means[3] and means[1] < means[3]


@pytest.mark.parametrize("slug", [ESSAY, ACCOUNT, CONSEQUENCES])
def test_every_script_is_a_different_pupils_own(slug):
    scripts = read_scripts(slug)
    pupils = [script.pupil for script in scripts]
    assert len(set(pupils)) == len(pupils)
    assert set(pupils) <= set(USERNAMES)
    assert len({script.text for script in scripts}) == len(scripts)


@pytest.mark.parametrize("slug", MARKED)
def test_feedback_is_individual(slug):
    bank = bank_lookup()
    scripts = marked(slug)
    for name in ("comment", "www", "ebi", "task"):
        assert all(getattr(script, name) for script in scripts), name
    # Each pupil's feedback as a whole is their own...
    whole = {
        (script.comment, expand(script.www, bank), expand(script.ebi, bank), expand(script.task, bank))
        for script in scripts
    }
    assert len(whole) == len(scripts)
    # ...and so is every marker's comment and every "what went well".
    assert len({script.comment for script in scripts}) == len(scripts)
    assert len({expand(script.www, bank) for script in scripts}) == len(scripts)


def test_feedback_uses_the_comment_bank_and_every_code_exists():
    codes = {str(item["code"]).lower() for item in read_bank(BANK_FILE)}
    used = Counter()
    for slug in MARKED:
        for script in marked(slug):
            for text in (script.www, script.ebi, script.task, *(note.comment for note in script.notes)):
                for match in CODE_PATTERN.finditer(text):
                    assert match.group(1).lower() in codes, (script.pupil, match.group(0))
                    used[match.group(1).lower()] += 1
    assert len(used) >= 15  # the bank is used where it fits, across its range
    bank = bank_lookup()
    assert "#" not in expand("#phone and #ptbt", bank)


@pytest.mark.parametrize("slug", MARKED)
def test_anchored_comments_quote_the_essay(slug):
    for script in marked(slug):
        for note in script.notes:
            assert note.quote in script.text, (script.pupil, note.quote)
            assert note.comment.strip(), script.pupil


@pytest.mark.parametrize("slug", MARKED)
def test_strand_ticks_are_valid_and_fit_the_level(slug):
    for script in marked(slug):
        strands = dict(script.strands)
        assert set(strands) <= set(StrandTick.Strand.values), script.pupil
        assert {"knowledge", "analysis"} <= set(strands), script.pupil
        assert set(strands.values()) <= set(StrandTick.Rating.values), script.pupil
        if script.level == 4:
            assert StrandTick.Rating.NOT_YET not in strands.values(), script.pupil
        if script.level == 1:
            assert StrandTick.Rating.SECURE not in strands.values(), script.pupil
    if slug == ESSAY:  # the 16-mark essay is judged, so every script gets a judgement tick
        assert all("judgement" in dict(script.strands) for script in marked(slug))


PHONE_MYTH = re.compile(r"\b(?:was|is) a (?:red )?(?:tele)?phone\b", re.I)


@pytest.mark.parametrize("slug", MARKED)
def test_weaker_essays_carry_the_errors_pupils_make_and_the_feedback_names_them(slug):
    bank = bank_lookup()
    believers = [script for script in marked(slug) if PHONE_MYTH.search(script.text)]
    assert believers  # the commonest misconception is in the set, as in any real class...
    for script in believers:
        assert script.level <= 2, script.pupil  # ...only in weaker answers...
        feedback = " ".join([*(expand(n.comment, bank) for n in script.notes), expand(script.ebi, bank)])
        assert "was not a telephone" in feedback, script.pupil  # ...and the feedback corrects it.
    # A pupil who corrects the myth is not taken for one who believes it.
    assert not PHONE_MYTH.search("It was a teleprinter link and not a red phone like people think.")


# --- Seeding -----------------------------------------------------------------------------


def _snapshot() -> list[tuple]:
    rows = []
    for mark in Mark.objects.select_related("submission__assignment", "submission__student").prefetch_related(
        "annotations", "strand_ticks", "criterion_marks__level"
    ):
        rows.append(
            (
                mark.submission.assignment.title,
                mark.submission.student.username,
                mark.submission.text_sha256,
                mark.total,
                mark.spag,
                tuple(sorted((cm.criterion.code, cm.level.number, cm.marks) for cm in mark.criterion_marks.all())),
                mark.www,
                mark.ebi,
                mark.improvement_task,
                tuple((a.number, a.quote, a.comment) for a in mark.annotations.all()),
                tuple(sorted((t.strand, t.rating) for t in mark.strand_ticks.all())),
            )
        )
    return sorted(rows)


def _seed(settings):
    settings.DEBUG = True
    call_command("load_unit")
    call_command("seed_demo")


@pytest.mark.django_db
def test_seeded_marks_are_the_marks_in_the_data(settings):
    _seed(settings)
    for title, slug, *_rest in ASSIGNMENTS:
        assignment = Assignment.objects.get(title=title)
        assert assignment.prompt.slug == slug
    for slug, title in ((ESSAY, PAST_TITLE), (ACCOUNT, EARLIER_TITLE)):
        for script in marked(slug):
            submission = Submission.objects.get(assignment__title=title, student__username=script.pupil)
            mark = submission.mark
            assert submission.state == Submission.State.RELEASED
            assert submission.word_count == count_words(script.text)
            assert (mark.total, mark.spag) == (script.marks, script.spag), script.pupil
            content = [cm for cm in mark.criterion_marks.all() if not cm.criterion.is_spag]
            assert [(cm.level.number, cm.marks) for cm in content] == [(script.level, script.marks)]
            assert dict(mark.strand_ticks.values_list("strand", "rating")) == dict(script.strands)
            comments = list(mark.annotations.order_by("number"))
            assert len(comments) == len(script.notes) + 1
            assert comments[-1].start is None and comments[-1].comment == script.comment
            assert all(c.start is not None for c in comments[:-1]), "every note is anchored to its quotation"


@pytest.mark.django_db
def test_the_demo_class_has_progress_over_time_and_work_to_mark(settings):
    _seed(settings)
    released = Mark.objects.filter(released_at__isnull=False)
    per_pupil = Counter(released.values_list("submission__student__username", flat=True))
    assert per_pupil["amelia.brown"] == 2
    assert sum(1 for n in per_pupil.values() if n == 2) >= 20  # most pupils have two marked pieces to compare
    assert StrandTick.objects.filter(mark__in=released).values("mark").distinct().count() == released.count()
    earlier = Assignment.objects.get(title=EARLIER_TITLE)
    past = Assignment.objects.get(title=PAST_TITLE)
    assert earlier.due_at < past.due_at
    current = Assignment.objects.get(title=OPEN_TITLE)
    assert current.is_open()
    assert current.submissions.filter(state=Submission.State.SUBMITTED).count() == 6
    assert not Mark.objects.filter(submission__assignment=current).exists()
    # A pupil who handed in the first piece but not the second, for the attention list.
    assert past.submissions.count() == 22 and earlier.submissions.count() == 23


@pytest.mark.django_db
def test_the_same_marks_on_every_seed(settings):
    _seed(settings)
    first = _snapshot()
    assert len(first) == len(marked(ESSAY)) + len(marked(ACCOUNT))
    # Throw the coursework away and seed it again: nothing may differ.
    Submission.objects.all().delete()
    Assignment.objects.all().delete()
    school_class = SchoolClass.objects.get(name=demo.CLASS_NAME)
    students = [User.objects.get(username=username) for username in USERNAMES]
    create_demo_coursework(school_class, User.objects.get(username="ms.khan"), students)
    assert _snapshot() == first


@pytest.mark.django_db
def test_identical_scripts_never_get_different_marks(settings):
    _seed(settings)
    marks_by_text = defaultdict(set)
    for sha, total, spag in Mark.objects.values_list("submission__text_sha256", "total", "spag"):
        marks_by_text[sha].add((total, spag))
    assert marks_by_text and all(len(marks) == 1 for marks in marks_by_text.values())
