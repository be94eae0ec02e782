"""WSGI entry point: `gunicorn crisis.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisis.settings")

application = get_wsgi_application()

# Every view imported now rather than on a worker's first request: gunicorn loads this module
# once in its master (deploy/gunicorn.conf.py, preload_app) and its workers start as copies.
# Importing opens no database or cache connection (tests/test_gunicorn_config.py).
get_resolver().url_patterns  # noqa: B018 - loads the URLconf
