# Every mark keeps what it is out of (security review M6): Mark.max_total and Mark.max_spag,
# CriterionMark.max_marks. Nullable → filled → NOT NULL.
from django.db import migrations, models
from django.db.models import Max
from django.db.models.functions import Coalesce

BATCH = 500


def fill_maxima(apps, schema_editor):
    """Fill the maxima from the schemes as they are now.

    A mark is out of the scheme its criterion marks belong to, which is not always its
    question's current scheme: before this change a question with marks could switch scheme,
    so its marks are read against the scheme they were given with. A mark with no criterion
    marks yet takes its question's scheme. Bands already changed before this change cannot
    be recovered: the schemes as they stand are the best record there is.
    """
    Criterion = apps.get_model("crisis", "Criterion")
    Mark = apps.get_model("classroom", "Mark")
    CriterionMark = apps.get_model("classroom", "CriterionMark")

    top: dict[int, int] = {}
    content: dict[int, int] = {}
    spag: dict[int, int] = {}
    scheme_of: dict[int, int] = {}
    for c in Criterion.objects.annotate(top=Coalesce(Max("levels__max_marks"), 0)).values(
        "pk", "scheme_id", "is_spag", "top"
    ):
        top[c["pk"]] = c["top"]
        scheme_of[c["pk"]] = c["scheme_id"]
        totals = spag if c["is_spag"] else content
        totals[c["scheme_id"]] = totals.get(c["scheme_id"], 0) + c["top"]

    # Plain id tuples read in full first: rows are not updated while a cursor reads the table.
    given_with: dict[int, int] = {}
    criterion_marks = []
    for pk, mark_id, criterion_id in CriterionMark.objects.values_list("pk", "mark_id", "criterion_id"):
        given_with.setdefault(mark_id, scheme_of[criterion_id])
        criterion_marks.append(CriterionMark(pk=pk, max_marks=top[criterion_id]))
    CriterionMark.objects.bulk_update(criterion_marks, ["max_marks"], batch_size=BATCH)

    marks = []
    for pk, prompt_scheme in Mark.objects.values_list("pk", "submission__assignment__prompt__mark_scheme_id"):
        scheme = given_with.get(pk, prompt_scheme)
        marks.append(Mark(pk=pk, max_total=content.get(scheme, 0), max_spag=spag.get(scheme, 0)))
    Mark.objects.bulk_update(marks, ["max_total", "max_spag"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [("classroom", "0006_readiness_probe")]

    operations = [
        migrations.AddField(
            model_name="mark",
            name="max_total",
            field=models.PositiveSmallIntegerField(null=True, help_text="The content maximum the total is out of."),
        ),
        migrations.AddField(
            model_name="mark",
            name="max_spag",
            field=models.PositiveSmallIntegerField(
                null=True, help_text="The SPaG maximum (0: the scheme has no SPaG)."
            ),
        ),
        migrations.AddField(
            model_name="criterionmark",
            name="max_marks",
            field=models.PositiveSmallIntegerField(
                null=True, help_text="The criterion's top mark when this mark was given."
            ),
        ),
        migrations.RunPython(fill_maxima, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="mark",
            name="max_total",
            field=models.PositiveSmallIntegerField(help_text="The content maximum the total is out of."),
        ),
        migrations.AlterField(
            model_name="mark",
            name="max_spag",
            field=models.PositiveSmallIntegerField(help_text="The SPaG maximum (0: the scheme has no SPaG)."),
        ),
        migrations.AlterField(
            model_name="criterionmark",
            name="max_marks",
            field=models.PositiveSmallIntegerField(help_text="The criterion's top mark when this mark was given."),
        ),
    ]
