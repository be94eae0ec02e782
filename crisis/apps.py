from django.apps import AppConfig


class CrisisConfig(AppConfig):
    """The project package doubles as the subject-content app (units, lessons, sources)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "crisis"
    verbose_name = "Subject content"
