"""CACHE_URL and the database pool settings (crisis/shared_state.py): read from the
environment, and a bad value stops start-up with a clear message. scripts/two_nodes.sh
runs two real nodes on one Redis."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from crisis import shared_state
from tests.test_settings import run_manage

POSTGRES = "django.db.backends.postgresql"


def test_no_cache_url_is_the_per_process_memory_cache():
    assert shared_state.caches(None)["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "redis://cache.school.example",
        "rediss://:s3cret@cache.school.example:6380/2",
        "redis://app:s3cret@10.0.0.5:6379",
        "unix:///run/redis/redis.sock",
        "unix:///run/redis/redis.sock?db=1",
    ],
)
def test_a_redis_url_selects_djangos_redis_cache(url):
    cache = shared_state.caches(url)["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == url
    assert cache["KEY_PREFIX"] == shared_state.CACHE_KEY_PREFIX
    assert cache["OPTIONS"]["socket_timeout"] > 0


@pytest.mark.parametrize(
    "url,message",
    [
        ("memcached://127.0.0.1:11211", "must start with redis://, rediss:// or unix://"),
        ("127.0.0.1:6379", "must start with redis://"),
        ("redis://", "names no host"),
        ("redis://127.0.0.1:port/0", "is not a URL"),
        ("redis://127.0.0.1:99999/0", "is not a URL"),
        ("redis://127.0.0.1:0/0", "has port 0"),
        ("redis://127.0.0.1:6379/cache", "ends in /cache"),
        ("unix://run/redis.sock", "names no socket"),
    ],
)
def test_a_bad_cache_url_is_refused_saying_why(url, message):
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL") as raised:
        shared_state.caches(url)
    assert message in str(raised.value)


def test_the_password_in_a_bad_cache_url_is_not_repeated():
    with pytest.raises(ImproperlyConfigured) as raised:
        shared_state.caches("redis://app:hunter2-secret@cache.example:6379/main")
    assert "hunter2-secret" not in str(raised.value)
    assert "app:***@cache.example:6379" in str(raised.value)


def test_the_pool_is_off_unless_its_size_is_given():
    assert shared_state.database_pool(0, min_size=0, timeout=10, conn_max_age=600, engine=POSTGRES) is None


def test_the_pool_options_are_psycopgs():
    pool = shared_state.database_pool(8, min_size=2, timeout=5, conn_max_age=None, engine=POSTGRES)
    assert pool == {"min_size": 2, "max_size": 8, "timeout": 5}
    # CONN_MAX_AGE=0 said out loud is what the pool needs anyway.
    assert shared_state.database_pool(8, min_size=2, timeout=5, conn_max_age=0, engine=POSTGRES) is not None


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"conn_max_age": 600}, "Remove CONN_MAX_AGE"),
        ({"engine": "django.db.backends.sqlite3"}, "needs PostgreSQL"),
        ({"min_size": 9}, "DB_POOL_MIN_SIZE (9) cannot be more than DB_POOL_MAX_SIZE (8)"),
    ],
)
def test_a_pool_that_cannot_work_is_refused(kwargs, message):
    arguments = {"min_size": 2, "timeout": 10, "conn_max_age": None, "engine": POSTGRES} | kwargs
    with pytest.raises(ImproperlyConfigured) as raised:
        shared_state.database_pool(8, **arguments)  # type: ignore[arg-type]
    assert message in str(raised.value)


SHOW = (
    "import json; from django.conf import settings; db = settings.DATABASES['default']; "
    "print(json.dumps({'cache': settings.CACHES['default'], 'age': db['CONN_MAX_AGE'], "
    "'options': db['OPTIONS'], 'cursors': db.get('DISABLE_SERVER_SIDE_CURSORS', False)}))"
)


def shown(**env: str) -> dict:
    result = run_manage("shell", "-c", SHOW, DEBUG="True", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_settings_read_cache_url_and_the_pool_from_the_environment():
    plain = shown(DATABASE_URL="postgres://app@db.example:5432/crisis")
    assert plain["cache"]["BACKEND"].endswith("LocMemCache")
    assert plain["age"] == 600 and "pool" not in plain["options"]

    pooled = shown(
        DATABASE_URL="postgres://app@db.example:5432/crisis",
        CACHE_URL="redis://127.0.0.1:6379/3",
        DB_POOL_MAX_SIZE="6",
        DISABLE_SERVER_SIDE_CURSORS="True",
    )
    assert pooled["cache"]["LOCATION"] == "redis://127.0.0.1:6379/3"
    assert pooled["age"] == 0
    assert pooled["options"]["pool"] == {"min_size": 2, "max_size": 6, "timeout": 10}
    assert pooled["options"]["options"] == "-c jit=off -c random_page_cost=1.1"
    assert pooled["cursors"] is True


@pytest.mark.parametrize(
    "env,message",
    [
        ({"CACHE_URL": "memcached://127.0.0.1:11211"}, "CACHE_URL must start with redis://"),
        ({"DB_POOL_MAX_SIZE": "4"}, "DB_POOL_MAX_SIZE needs PostgreSQL"),
        (
            {"DB_POOL_MAX_SIZE": "4", "CONN_MAX_AGE": "600", "DATABASE_URL": "postgres://app@db.example/crisis"},
            "Remove CONN_MAX_AGE",
        ),
        ({"DB_POOL_MAX_SIZE": "four"}, "DB_POOL_MAX_SIZE must be a whole number"),
    ],
)
def test_bad_scaling_settings_stop_startup(env, message):
    result = run_manage("check", DEBUG="True", **env)
    assert result.returncode != 0
    assert message in result.stderr
