"""ASGI entry point (the app is served over WSGI by gunicorn; this is for completeness)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisis.settings")

application = get_asgi_application()
