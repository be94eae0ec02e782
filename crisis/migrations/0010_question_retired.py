from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crisis", "0009_glossary"),
    ]

    operations = [
        migrations.AddField(
            model_name="knowledgequestion",
            name="retired",
            field=models.BooleanField(
                default=False, help_text="No longer asked; kept for the attempts that answered it."
            ),
        ),
    ]
