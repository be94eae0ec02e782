"""One-time codes expire (security review L10).

Codes handed out before this change get a full lifetime from the upgrade, so a pupil
holding a slip printed last week is not locked out by the upgrade itself.
"""

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def expire_outstanding_codes(apps, schema_editor):
    User = apps.get_model("classroom", "User")
    # Only pupils get one-time codes; a staff account flagged in the admin keeps no expiry.
    User.objects.filter(role="student", must_change_password=True, one_time_code_expires_at__isnull=True).update(
        one_time_code_expires_at=timezone.now() + settings.ONE_TIME_CODE_LIFETIME
    )


class Migration(migrations.Migration):
    dependencies = [("classroom", "0008_rendered_markdown")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="one_time_code_expires_at",
            field=models.DateTimeField(
                blank=True,
                help_text=(
                    "When the one-time code stops working (ONE_TIME_CODE_DAYS after it was made). Empty: no expiry."
                ),
                null=True,
            ),
        ),
        migrations.RunPython(expire_outstanding_codes, migrations.RunPython.noop),
    ]
