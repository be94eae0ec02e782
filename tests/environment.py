"""Loaded by pytest before Django's settings (see pyproject.toml `addopts`).

The tests run with development defaults; production settings are tested in
subprocesses with their own environment (tests/test_settings.py).
"""

import os

os.environ.setdefault("DEBUG", "True")
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
