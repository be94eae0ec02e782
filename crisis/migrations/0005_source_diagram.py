# A source may be a picture shipped with the unit (a diagram drawn for it): its path under
# static/ and a text alternative. Two new kinds: "message" (e.g. Hotline messages) and "diagram".

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crisis", "0004_rendered_markdown"),
    ]

    operations = [
        migrations.AddField(
            model_name="source",
            name="image",
            field=models.CharField(
                blank=True,
                help_text="Path of the picture under static/, e.g. img/missile-ranges-from-cuba.svg.",
                max_length=200,
            ),
        ),
        migrations.AddField(
            model_name="source",
            name="image_alt",
            field=models.CharField(blank=True, help_text="Text alternative for the picture.", max_length=500),
        ),
        migrations.AlterField(
            model_name="source",
            name="kind",
            field=models.CharField(
                choices=[
                    ("speech", "Speech"),
                    ("letter", "Letter"),
                    ("broadcast", "Broadcast"),
                    ("memorandum", "Memorandum"),
                    ("treaty", "Treaty"),
                    ("agreement", "Agreement"),
                    ("interpretation", "Historian's interpretation"),
                    ("message", "Message"),
                    ("diagram", "Diagram"),
                    ("other", "Other"),
                ],
                max_length=20,
            ),
        ),
    ]
