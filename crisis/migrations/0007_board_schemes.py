from django.db import migrations, models


class Migration(migrations.Migration):
    """Board-style mark schemes (issue 12): a scheme's qualification and best-fit guidance,
    each criterion's AO labels and a longer code ("AO1+AO2"), and the question type of a prompt.
    Every new field is blank or defaulted, so existing schemes, prompts and marks are untouched."""

    dependencies = [
        ("crisis", "0006_quiz_review"),
    ]

    operations = [
        migrations.AddField(
            model_name="markscheme",
            name="qualification",
            field=models.CharField(
                blank=True,
                help_text=(
                    "The board, specification and paper the scheme follows, e.g. AQA GCSE History (8145), Paper 1."
                ),
                max_length=200,
            ),
        ),
        migrations.AddField(
            model_name="markscheme",
            name="guidance",
            field=models.TextField(
                blank=True,
                help_text=(
                    "Best-fit marking guidance: read the whole answer, decide the level, "
                    "then place it within the level."
                ),
            ),
        ),
        migrations.AddField(
            model_name="criterion",
            name="assessment_objectives",
            field=models.CharField(
                blank=True, help_text="The board's AO labels for this criterion, e.g. AO1, AO2.", max_length=60
            ),
        ),
        migrations.AlterField(
            model_name="criterion",
            name="code",
            field=models.CharField(help_text="e.g. AO1+AO2, C1, or SPAG.", max_length=20),
        ),
        migrations.AddField(
            model_name="essayprompt",
            name="question_type",
            field=models.CharField(
                choices=[
                    ("how-far", "How far do you agree? (AQA GCSE, 16 + 4 SPaG)"),
                    ("utility", "How useful are the sources? (AQA GCSE, 12)"),
                    ("account", "Write an account (AQA GCSE, 8)"),
                    ("inference", "Source inference (AQA GCSE, 4)"),
                    ("consequences", "Explain two consequences (Edexcel GCSE, 8)"),
                    ("importance", "Explain the importance (Edexcel GCSE, 8)"),
                    ("assess-view", "Assess the validity of this view (AQA A-level, 25)"),
                    ("source-value", "Assess the value of these sources (AQA A-level, 30)"),
                    ("other", "Other"),
                ],
                default="other",
                max_length=20,
            ),
        ),
    ]
