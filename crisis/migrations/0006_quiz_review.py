# Spaced retrieval: a knowledge question may also be asked in later lessons' checks.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("crisis", "0005_source_diagram"),
    ]

    operations = [
        migrations.AddField(
            model_name="knowledgequestion",
            name="review_in",
            field=models.ManyToManyField(
                blank=True,
                help_text="Later lessons whose knowledge check also asks this question (spaced retrieval).",
                related_name="review_questions",
                to="crisis.lesson",
            ),
        ),
    ]
