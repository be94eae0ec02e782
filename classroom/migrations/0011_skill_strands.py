"""Formative skill strands (issue 12): StrandTick, and ticks derived for the marks that exist.

Before this, a scheme had one analytic criterion per skill (AO1 knowledge, AO2 explanation,
AO3 sources, AO4 judgement), so a mark's criterion marks already say how each skill went. The
data step turns those into strand ratings, so progress pages keep showing skills over time
once schemes become holistic. They are marked `derived`: the pupil's released feedback does not
show them (it reads exactly as before; a marker's own ticks are shown). Nothing else is
touched: totals, criterion marks, maxima and feedback stay exactly as they were.
"""

import django.db.models.deletion
from django.db import migrations, models

# An old criterion code → the strand it fed.
CODE_STRAND = {"AO1": "knowledge", "AO2": "analysis", "AO3": "sources", "AO4": "judgement"}


def rating_for(level_number, level_count):
    """The strand rating a level stands for, by its place among its criterion's levels 1..N:

    no level (no rewardable material) or the bottom level → 1 "Not yet"; a level in the top
    half (number > N / 2) → 3 "Secure"; anything between → 2 "Developing". With four levels:
    1 → 1, 2 → 2, 3 and 4 → 3. A level 0 counts as no level.
    """
    if not level_number or level_count <= 1 or level_number <= 1:
        return 1
    if level_number * 2 > level_count:
        return 3
    return 2


def derive_ticks(apps, schema_editor):
    CriterionMark = apps.get_model("classroom", "CriterionMark")
    StrandTick = apps.get_model("classroom", "StrandTick")
    Level = apps.get_model("crisis", "Level")
    counts = {}
    for criterion_id, number in Level.objects.filter(number__gt=0).values_list("criterion_id", "number"):
        counts[criterion_id] = max(counts.get(criterion_id, 0), number)
    rows = (
        CriterionMark.objects.filter(criterion__is_spag=False, criterion__code__in=CODE_STRAND)
        .values_list("mark_id", "criterion_id", "criterion__code", "level__number")
        .order_by("mark_id", "criterion_id")
        .iterator(chunk_size=2000)
    )
    ticks = {}
    for mark_id, criterion_id, code, number in rows:
        ticks[(mark_id, CODE_STRAND[code])] = rating_for(number, counts.get(criterion_id, 0))
    existing = set(StrandTick.objects.values_list("mark_id", "strand"))
    StrandTick.objects.bulk_create(
        (
            StrandTick(mark_id=mark_id, strand=strand, rating=rating, derived=True)
            for (mark_id, strand), rating in ticks.items()
            if (mark_id, strand) not in existing
        ),
        batch_size=1000,
    )


def drop_ticks(apps, schema_editor):
    """Going back removes the table anyway; nothing to undo in the data."""


class Migration(migrations.Migration):
    dependencies = [
        ("classroom", "0010_join_attempts"),
        ("crisis", "0007_board_schemes"),
    ]

    operations = [
        migrations.CreateModel(
            name="StrandTick",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "strand",
                    models.CharField(
                        choices=[
                            ("knowledge", "Knowledge"),
                            ("analysis", "Explanation and analysis"),
                            ("sources", "Use of sources"),
                            ("judgement", "Judgement"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "rating",
                    models.PositiveSmallIntegerField(choices=[(1, "Not yet"), (2, "Developing"), (3, "Secure")]),
                ),
                (
                    "derived",
                    models.BooleanField(
                        default=False,
                        help_text=(
            "Worked out by migration 0011 from an older mark's criterion levels, not ticked by a "
            "marker: shown on progress pages, not in the pupil's feedback."
        ),
                    ),
                ),
                (
                    "mark",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="strand_ticks",
                        to="classroom.mark",
                    ),
                ),
            ],
            options={
                "ordering": ["mark", "strand"],
                "constraints": [models.UniqueConstraint(fields=("mark", "strand"), name="one_tick_per_strand")],
            },
        ),
        migrations.RunPython(derive_ticks, drop_ticks),
    ]
