"""What several app nodes must share, read from the environment by settings.py.

Every app node (a gunicorn on its own machine or port) keeps nothing of its own between
requests: sessions, login throttling, join-code failures and essays live in the database,
and Django's cache is either per process (one node, the default) or a Redis server that
all nodes use (CACHE_URL). docs/scaling.md says how to run several nodes.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from django.core.exceptions import ImproperlyConfigured

CACHE_SCHEMES = ("redis", "rediss", "unix")
# Keys start with this, so a Redis server shared with other software keeps them apart.
CACHE_KEY_PREFIX = "crisis-classroom"
# A Redis that does not answer costs a request at most this long, not a hung worker.
CACHE_SOCKET_TIMEOUT_SECONDS = 2


def caches(url: str | None) -> dict[str, dict[str, Any]]:
    """The CACHES setting: Redis at `url` (redis://, rediss:// or unix://), or per-process
    memory when `url` is None (one node, nothing to install)."""
    if url is None:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": checked_cache_url(url),
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {
                "socket_connect_timeout": CACHE_SOCKET_TIMEOUT_SECONDS,
                "socket_timeout": CACHE_SOCKET_TIMEOUT_SECONDS,
            },
        }
    }


def checked_cache_url(url: str) -> str:
    """`url` if Redis can be reached at it as written; else ImproperlyConfigured saying why
    (the password, if any, is never repeated in the message)."""
    url = url.strip()
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"CACHE_URL is not a URL: {_shown(url)}.") from None
    if parts.scheme not in CACHE_SCHEMES:
        raise ImproperlyConfigured(
            f"CACHE_URL must start with redis://, rediss:// or unix:// (a Redis server), not {_shown(url)}."
        )
    if parts.scheme == "unix":
        if parts.netloc or not parts.path.startswith("/"):
            raise ImproperlyConfigured(
                f"CACHE_URL {_shown(url)} names no socket: write unix:///run/redis/redis.sock (three slashes)."
            )
        return url
    if not parts.hostname:
        raise ImproperlyConfigured(f"CACHE_URL {_shown(url)} names no host: e.g. redis://127.0.0.1:6379/0.")
    if port == 0:
        raise ImproperlyConfigured(f"CACHE_URL {_shown(url)} has port 0.")
    database = parts.path.strip("/")
    if database and not database.isdigit():
        raise ImproperlyConfigured(
            f"CACHE_URL {_shown(url)} ends in /{database}: after the port comes a database number, e.g. /0."
        )
    return url


def _shown(url: str) -> str:
    """The URL as it may appear in a message: any password replaced by ***."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "(a value that cannot be read as a URL)"
    if parts.password is None:
        return repr(url)
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return repr(urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{host}")))


def database_pool(
    max_size: int, *, min_size: int, timeout: int, conn_max_age: int | None, engine: str
) -> dict[str, int] | None:
    """OPTIONS["pool"] for psycopg's connection pool (one pool per gunicorn worker, shared by
    its threads), or None when `max_size` is 0 (off: CONN_MAX_AGE keeps one connection per
    thread instead). `conn_max_age`: CONN_MAX_AGE as set, None when unset."""
    if max_size == 0:
        return None
    if engine != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DB_POOL_MAX_SIZE needs PostgreSQL (a postgres:// DATABASE_URL); leave it unset.")
    if conn_max_age:
        raise ImproperlyConfigured(
            f"DB_POOL_MAX_SIZE and CONN_MAX_AGE={conn_max_age} cannot go together: a pooled connection goes back "
            "to the pool after every request. Remove CONN_MAX_AGE (or set it to 0)."
        )
    if min_size > max_size:
        raise ImproperlyConfigured(f"DB_POOL_MIN_SIZE ({min_size}) cannot be more than DB_POOL_MAX_SIZE ({max_size}).")
    return {"min_size": min_size, "max_size": max_size, "timeout": timeout}
