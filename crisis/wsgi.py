"""WSGI entry point: `gunicorn crisis.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisis.settings")

application = get_wsgi_application()
