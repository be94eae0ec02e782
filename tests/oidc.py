"""A real OpenID Connect provider for the sign-in tests (tests/oidc_provider: npm's
oidc-provider, installed by `make install-dev`), started on 127.0.0.1 once per session.

Without node or the installed package the tests that use it are skipped, unless
REQUIRE_BROWSER=1 (as CI sets), which turns the skip into a failure.
Import the `oidc_provider` fixture into a test module to use it.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from crisis.signin_config import signin_apps, signin_origins

PROVIDER_DIR = Path(__file__).parent / "oidc_provider"
CLIENT_ID = "crisis-classroom"
CLIENT_SECRET = "a-secret-only-the-tests-know"
DOMAIN = "school.example"
TENANT = "6f1c4d1e-0b8a-4c55-9d2e-2a8f5b3c7e10"
OTHER_TENANT = "0a9b8c7d-1111-4222-8333-944455556666"
ROSTER_CLAIM = "employee_id"

ANN = "ann.teacher@school.example"
# Login name at the provider -> the claims of that person's ID token.
ACCOUNTS: dict[str, dict] = {
    "ann": {"email": ANN, "email_verified": True, "hd": DOMAIN, "tid": TENANT, "name": "Ann Teacher"},
    # The same address, but an account outside the school's domain or tenant.
    "ann-elsewhere": {"email": ANN, "email_verified": True, "hd": "elsewhere.example", "tid": OTHER_TENANT},
    "ann-personal": {"email": ANN, "email_verified": True},
    "ann-guest": {"email": ANN, "tid": TENANT, "idp": "https://sts.windows.net/" + OTHER_TENANT + "/"},
    "ann-unverified": {"email": ANN, "email_verified": False, "hd": DOMAIN, "tid": TENANT},
    "ann-microsoft-name": {"preferred_username": ANN, "tid": TENANT},
    "pupil-by-roster": {
        "email": "someone.else@school.example",
        "email_verified": False,
        "hd": DOMAIN,
        "tid": TENANT,
        ROSTER_CLAIM: "OR-PUPIL-42",
    },
    "ann-with-roster": {
        "email": ANN,
        "email_verified": True,
        "hd": DOMAIN,
        "tid": TENANT,
        ROSTER_CLAIM: "OR-PUPIL-42",
    },
    "switched-off": {"email": "left.school@school.example", "email_verified": True, "hd": DOMAIN, "tid": TENANT},
    "newcomer": {
        "email": "new.teacher@school.example",
        "email_verified": True,
        "hd": DOMAIN,
        "tid": TENANT,
        "name": "Nia Newcomer",
        "given_name": "Nia",
        "family_name": "Newcomer",
    },
}


@dataclass
class OidcProvider:
    issuer: str

    def environ(self) -> dict[str, str]:
        """The app's environment for all three kinds of provider, each pointed at this one."""
        return {
            "SIGNIN_GOOGLE_CLIENT_ID": CLIENT_ID,
            "SIGNIN_GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
            "SIGNIN_GOOGLE_HOSTED_DOMAIN": DOMAIN,
            "SIGNIN_GOOGLE_ISSUER": self.issuer,
            "SIGNIN_GOOGLE_ROSTER_ID_CLAIM": ROSTER_CLAIM,
            "SIGNIN_MICROSOFT_CLIENT_ID": CLIENT_ID,
            "SIGNIN_MICROSOFT_CLIENT_SECRET": CLIENT_SECRET,
            "SIGNIN_MICROSOFT_TENANT_ID": TENANT,
            "SIGNIN_MICROSOFT_ISSUER": self.issuer,
            "SIGNIN_OIDC_NAME": "the school portal",
            "SIGNIN_OIDC_ISSUER": self.issuer,
            "SIGNIN_OIDC_CLIENT_ID": CLIENT_ID,
            "SIGNIN_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        }

    def configure(self, settings) -> None:
        """Switch the app's sign-in on against this provider (pytest-django's `settings`)."""
        apps = signin_apps(self.environ())
        settings.SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": apps}}
        # The sign-in button's redirect to the provider, as settings.py allows it.
        policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
        policy["DIRECTIVES"]["form-action"] = ["'self'", *signin_origins(apps)]
        settings.CONTENT_SECURITY_POLICY = policy


def _skip_or_fail(message: str) -> None:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OidcProvider]:
    node = shutil.which("node")
    if node is None:
        _skip_or_fail("node not found: the sign-in tests need it for the OpenID provider (apt-get install nodejs)")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        _skip_or_fail("tests/oidc_provider is not installed (make install-dev runs npm ci there)")
    env = {
        **os.environ,
        "OIDC_TEST_CLIENTS": json.dumps([{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}]),
        "OIDC_TEST_ACCOUNTS": json.dumps(ACCOUNTS),
    }
    process = subprocess.Popen(  # noqa: S603 - the system's node on our own script
        [str(node), "server.mjs"],
        cwd=PROVIDER_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready: list[str] = []
        reader = threading.Thread(target=lambda: ready.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout=30)
        line = ready[0] if ready else ""
        if not line.startswith("READY "):
            process.kill()
            _, errors = process.communicate(timeout=10)
            pytest.fail(f"The OpenID provider did not start: {line!r} {errors[-2000:]}")
        yield OidcProvider(issuer=line.split()[1])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"[^>]*method="post"', re.IGNORECASE)


def sign_in_at_provider(authorize_url: str, login: str) -> str:
    """What a person does at the provider: open the authorisation URL, type their login name on
    the provider's sign-in page. Returns the URL the provider sends the browser back to."""
    session = requests.Session()
    url = authorize_url
    for _ in range(10):
        response = session.get(url, allow_redirects=False, timeout=10)
        if response.is_redirect:
            url = urljoin(url, response.headers["Location"])
            if not url.startswith(authorize_url.split("/auth")[0]):
                return url
            continue
        match = FORM_ACTION.search(response.text)
        assert match, f"no sign-in form at the provider: {response.status_code} {response.text[:500]}"
        form_url = urljoin(url, unescape(match.group(1)))
        response = session.post(
            form_url, data={"prompt": "login", "login": login, "password": "any"}, allow_redirects=False, timeout=10
        )
        assert response.is_redirect, response.text[:500]
        url = urljoin(form_url, response.headers["Location"])
        if not url.startswith(authorize_url.split("/auth")[0]):
            return url
    raise AssertionError("the provider never sent the browser back to the app")


def start_sign_in(client, provider_id: str, next_url: str = "") -> str:
    """Press the log-in page's button: the app's redirect to the provider."""
    data = {"next": next_url} if next_url else {}
    response = client.post(f"/accounts/oidc/{provider_id}/login/", data)
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def sign_in(client, provider_id: str, login: str):
    """The whole flow through the Django test client; the response to the app's callback."""
    callback = sign_in_at_provider(start_sign_in(client, provider_id), login)
    return client.get(local_path(callback))
