# An assignment's Markdown instructions are rendered when saved and stored beside them
# (security review M3), and capped in length. Existing rows are rendered here.
from django.db import migrations, models

import crisis.markdown

BATCH = 200


def render_stored_instructions(apps, schema_editor):
    Assignment = apps.get_model("classroom", "Assignment")
    rows = []
    for row in Assignment.objects.exclude(instructions="").only("pk", "instructions").iterator():
        row.instructions_html = crisis.markdown.render_html(row.instructions)
        rows.append(row)
    Assignment.objects.bulk_update(rows, ["instructions_html"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [("classroom", "0007_mark_maxima"), ("crisis", "0004_rendered_markdown")]

    operations = [
        migrations.AddField(
            model_name="assignment",
            name="instructions_html",
            field=crisis.markdown.RenderedHTMLField(blank=True, default="", editable=False),
        ),
        migrations.AlterField(
            model_name="assignment",
            name="instructions",
            field=models.TextField(
                blank=True,
                help_text="Markdown, up to 4,000 characters. Shown to students above the essay box.",
                validators=[crisis.markdown.MarkdownLengthValidator(4000)],
            ),
        ),
        migrations.RunPython(render_stored_instructions, migrations.RunPython.noop),
    ]
