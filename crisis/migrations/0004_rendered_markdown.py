# Teachers' Markdown is rendered when saved and stored beside it (security review M3):
# Unit.overview_html, Lesson.body_html, EssayPrompt.instructions_html; the Markdown fields
# are capped in length. Existing rows are rendered here.
from django.db import migrations, models

import crisis.markdown

BATCH = 200


def render_stored_markdown(apps, schema_editor):
    for model, field in [("Unit", "overview"), ("Lesson", "body"), ("EssayPrompt", "instructions")]:
        rows = []
        for row in apps.get_model("crisis", model).objects.exclude(**{field: ""}).only("pk", field).iterator():
            setattr(row, f"{field}_html", crisis.markdown.render_html(getattr(row, field)))
            rows.append(row)
        apps.get_model("crisis", model).objects.bulk_update(rows, [f"{field}_html"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [("crisis", "0003_protect_pupils_attempts")]

    operations = [
        migrations.AddField(
            model_name="essayprompt",
            name="instructions_html",
            field=crisis.markdown.RenderedHTMLField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="lesson",
            name="body_html",
            field=crisis.markdown.RenderedHTMLField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="unit",
            name="overview_html",
            field=crisis.markdown.RenderedHTMLField(blank=True, default="", editable=False),
        ),
        migrations.AlterField(
            model_name="essayprompt",
            name="instructions",
            field=models.TextField(
                blank=True,
                help_text="Markdown, up to 4,000 characters.",
                validators=[crisis.markdown.MarkdownLengthValidator(4000)],
            ),
        ),
        migrations.AlterField(
            model_name="lesson",
            name="body",
            field=models.TextField(
                help_text=(
                    "Markdown. Headings with ##, lists, **bold**, > quotations. No HTML. Up to 15,000 characters."
                ),
                validators=[crisis.markdown.MarkdownLengthValidator(15000)],
            ),
        ),
        migrations.AlterField(
            model_name="unit",
            name="overview",
            field=models.TextField(
                blank=True,
                help_text="Markdown, up to 4,000 characters.",
                validators=[crisis.markdown.MarkdownLengthValidator(4000)],
            ),
        ),
        migrations.RunPython(render_stored_markdown, migrations.RunPython.noop),
    ]
