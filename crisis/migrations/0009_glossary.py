from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crisis", "0008_model_answers"),
    ]

    operations = [
        migrations.AddField(
            model_name="keyterm",
            name="pronunciation",
            field=models.CharField(
                blank=True,
                help_text='How to say it: plain respelling, stressed part in capitals, e.g. "kroosh-CHOF".',
                max_length=80,
            ),
        ),
        migrations.AddField(
            model_name="keyterm",
            name="kind",
            field=models.CharField(
                choices=[("term", "Key term"), ("person", "Person"), ("agreement", "Treaty or agreement")],
                default="term",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="unit",
            name="organiser_selection",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text=(
                    'What the knowledge organiser picks from the lessons: {"key_dates": [YYYY-MM-DD, …], '
                    '"key_terms": [term, …]} (no key_terms: every key term).'
                ),
            ),
        ),
    ]
