"""Sign-in with the school's accounts in a real browser, against a real OpenID Connect
provider on 127.0.0.1 (tests/oidc.py): the log-in page's button, the provider's own sign-in
page, the authorisation-code flow with PKCE, back signed in as the matched account; and a
refusal shown as a page, not an error."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.factories import TeacherFactory
from tests.oidc import (
    ANN,
    oidc_provider,  # noqa: F401 - the session's provider
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def provider(oidc_provider, settings):  # noqa: F811
    oidc_provider.configure(settings)
    return oidc_provider


def sign_in_with(page, live_server, provider, button: str, login: str) -> str:
    """Press the button, sign in on the provider's page; the authorisation request's URL."""
    page.goto(f"{live_server.url}/accounts/login/?next=/classroom/judging/")
    with page.expect_request(lambda request: request.url.startswith(provider.issuer + "/auth")) as authorize:
        page.get_by_role("button", name=button).click()
    page.wait_for_url(f"{provider.issuer}/**")
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")  # the provider asks; any will do
    page.get_by_role("button", name="Sign-in").click()
    return authorize.value.url


def test_teacher_signs_in_with_the_schools_google_account(page, live_server, provider):
    ann = TeacherFactory(username="ann", email=ANN, first_name="Ann", last_name="Teacher")
    authorize = sign_in_with(page, live_server, provider, "Sign in with Google", "ann")
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["redirect_uri"] == [f"{live_server.url}/accounts/oidc/google/login/callback/"]
    # Back in the app, signed in as Ann, on the page she was going to.
    page.wait_for_url(f"{live_server.url}/classroom/judging/")
    expect(page.get_by_role("button", name="Ann Teacher")).to_be_visible()
    # (The provider's own page, not ours, asks for a web font it cannot reach.)
    page.js_errors.clear()
    page.reload()
    expect(page.get_by_role("button", name="Ann Teacher")).to_be_visible()
    assert page.js_errors == []
    assert ann.socialaccount_set.get().provider == "google"


def test_microsoft_account_of_another_organisation_is_refused(page, live_server, provider):
    TeacherFactory(username="ann", email=ANN)
    sign_in_with(page, live_server, provider, "Sign in with Microsoft", "ann-elsewhere")
    expect(page.get_by_role("heading", name="Could not sign you in")).to_be_visible()
    expect(page.get_by_text("it belongs to another organisation")).to_be_visible()
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
