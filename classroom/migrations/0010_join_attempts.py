# The join-code guess limit counted in the database (security review L6); a timed essay's
# clock starts when the pupil presses Start (L9).
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("classroom", "0009_one_time_code_expiry")]

    operations = [
        migrations.CreateModel(
            name="JoinCodeFailure",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "student",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["student", "at"], name="join_failure_student_at")],
            },
        ),
        migrations.AlterField(
            model_name="assignment",
            name="time_limit_minutes",
            field=models.PositiveSmallIntegerField(
                blank=True, help_text="Timed essay: minutes from when a student presses Start.", null=True
            ),
        ),
    ]
