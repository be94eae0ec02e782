import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crisis", "0007_board_schemes"),
    ]

    operations = [
        migrations.CreateModel(
            name="ModelAnswer",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("order", models.PositiveSmallIntegerField(default=0)),
                (
                    "level",
                    models.PositiveSmallIntegerField(help_text="The level of the mark scheme this answer reaches."),
                ),
                ("marks", models.PositiveSmallIntegerField(help_text="Its content mark, out of the question's total.")),
                (
                    "spag",
                    models.PositiveSmallIntegerField(
                        blank=True, help_text="Its SPaG mark, when the mark scheme has SPaG.", null=True
                    ),
                ),
                (
                    "text",
                    models.TextField(
                        help_text="The answer as a pupil would write it. Plain text, up to 12,000 characters.",
                        max_length=12000,
                    ),
                ),
                (
                    "commentary",
                    models.TextField(
                        help_text=(
                            "Why it reaches this level and what would take it higher. "
                            "Plain text, up to 4,000 characters."
                        ),
                        max_length=4000,
                    ),
                ),
                (
                    "prompt",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="model_answers",
                        to="crisis.essayprompt",
                    ),
                ),
            ],
            options={
                "ordering": ["prompt", "order", "level", "pk"],
            },
        ),
    ]
