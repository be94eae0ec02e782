from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("classroom", "0011_skill_strands"),
        ("crisis", "0008_model_answers"),
    ]

    operations = [
        migrations.AddField(
            model_name="assignment",
            name="model_answers",
            field=models.CharField(
                choices=[
                    ("hidden", "Hidden: teachers only"),
                    ("after_submit", "After a pupil submits"),
                    ("always", "Always: as worked examples from the start"),
                ],
                default="hidden",
                help_text="Whether pupils see the question's model answers, and when.",
                max_length=12,
                verbose_name="model answers",
            ),
        ),
    ]
