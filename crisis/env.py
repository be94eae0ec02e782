"""Validating readers for environment variables, used by settings.py.

Every helper raises ImproperlyConfigured with the variable's name when a value is
malformed, so a typo in a school's environment file stops the app at start-up instead
of silently running with a default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import overload

from django.core.exceptions import ImproperlyConfigured

_TRUE = "true"
_FALSE = "false"


@overload
def env_str(name: str, default: str, environ: Mapping[str, str] | None = None) -> str: ...
@overload
def env_str(name: str, default: None = None, environ: Mapping[str, str] | None = None) -> str | None: ...
def env_str(name: str, default: str | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    """A string, or `default` when the variable is unset or blank.

    `NAME_FILE` may name a file holding the value (for Docker/systemd secrets); the
    file wins over `NAME` and its trailing newline is dropped.
    """
    environ = os.environ if environ is None else environ
    path = environ.get(f"{name}_FILE", "").strip()
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE points at {path!r}, which cannot be read: {exc.strerror}") from exc
    value = environ.get(name, "")
    return value if value.strip() != "" else default


def env_bool(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    """True or False (any letter case); anything else is an error, not a guess."""
    raw = env_str(name, None, environ)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered == _TRUE:
        return True
    if lowered == _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be True or False, not {raw!r}.")


def env_int(name: str, default: int, environ: Mapping[str, str] | None = None, minimum: int = 0) -> int:
    raw = env_str(name, None, environ)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_list(name: str, default: list[str], environ: Mapping[str, str] | None = None) -> list[str]:
    """A comma-separated list; blanks between commas are ignored."""
    raw = env_str(name, None, environ)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_list_or_none(name: str, default: list[str], environ: Mapping[str, str] | None = None) -> list[str]:
    """Like env_list, except that a variable set but blank (`NAME=`), or set to `none` (any
    letter case), is the empty list rather than the default: for a list where "nothing" is a
    choice a school may make. Unset is still the default."""
    environ = os.environ if environ is None else environ
    raw = env_str(name, None, environ)
    if raw is None:
        return [] if name in environ else list(default)
    if raw.strip().lower() == "none":
        return []
    return env_list(name, default, environ)
