"""axe-core WCAG 2.2 A/AA checks on the shell pages, for both roles and anonymous."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_login_page_has_no_serious_violations(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    assert_accessible(page, "login")


@pytest.mark.parametrize("username", ["sam.student", "ms.teacher"])
def test_home_and_password_pages_have_no_serious_violations(page, live_server, school_class, username):
    log_in(page, live_server, username, PASSWORD)
    assert_accessible(page, f"home ({username})")
    page.goto(f"{live_server.url}/accounts/password/")
    assert_accessible(page, f"password change ({username})")


@pytest.mark.parametrize(
    "preference",
    [
        {"text_size": "larger", "line_spacing": "wider", "readable_font": True},
        *({"tint": tint} for tint in ("cream", "blue", "green", "rose", "yellow")),
    ],
    ids=lambda preference: "-".join(f"{key}={value}" for key, value in preference.items()),
)
def test_shell_pages_have_no_violations_with_reading_preferences(page, live_server, school_class, preference):
    # Reading preferences (User.reading_classes) tint and resize every page: none may lose contrast.
    from classroom.models import User

    User.objects.filter(username__in=["sam.student", "ms.teacher"]).update(**preference)
    for username in ("sam.student", "ms.teacher"):
        page.context.clear_cookies()
        log_in(page, live_server, username, PASSWORD)
        for path in ("/", "/accounts/password/", "/classroom/settings/reading/"):
            page.goto(f"{live_server.url}{path}")
            report = assert_accessible(page, f"{path} ({username}, {preference})")
            assert report["counts"] == {}, report["found"]


def test_axe_really_finds_problems(page, live_server):
    # Guard against a checker that silently checks nothing: an unlabelled field is caught.
    page.goto(f"{live_server.url}/accounts/login/")
    page.evaluate("document.querySelector('label[for=id_username]').remove()")
    with pytest.raises(AssertionError, match="label"):
        assert_accessible(page, "login without a label")


def test_data_protection_pages_have_no_serious_violations(page, live_server, head, school_class, essay):
    from classroom import privacy

    pupil = school_class.active_students().get()
    privacy.log_access(school_class.teachers.get(), pupil, "Marking page", essay)
    log_in(page, live_server, head.username, PASSWORD)
    for path, label in (
        (f"/department/privacy/?q={pupil.last_name}", "data protection"),
        (f"/department/privacy/pupils/{pupil.pk}/", "a pupil's data"),
        (f"/department/privacy/pupils/{pupil.pk}/erase/", "erase confirmation"),
        (f"/department/privacy/log/?pupil={pupil.pk}", "access log"),
    ):
        page.goto(f"{live_server.url}{path}")
        assert_accessible(page, label)
