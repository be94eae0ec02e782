"""A bare Django "hello world": the yardstick bench/pages_bench.py serves beside the app.

It is served the same way as the app (gunicorn with deploy/gunicorn.conf.py, the same
workers and threads), so "share of hello-world" compares our code with Django's own floor
on this machine rather than with a number from elsewhere. The settings are those of a
new Django project (its middleware and apps), with one view and no database.
"""

from __future__ import annotations

import django
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="hello-world-benchmark-only",  # noqa: S106 - serves one constant page
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "django.contrib.sessions",
        "django.contrib.messages",
    ],
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
)


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Hello, world")


urlpatterns = [path("", hello)]

django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402 - after settings.configure()

application = get_wsgi_application()
