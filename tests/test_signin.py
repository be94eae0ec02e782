"""Sign-in with the school's accounts, against a real OpenID Connect provider on 127.0.0.1
(tests/oidc.py): the whole authorisation-code flow with PKCE through the Django test
client, and every refusal: wrong Google domain, wrong Microsoft tenant or a guest, an
unverified email, a replayed, expired or unknown state, nobody with that account, a
switched-off account; access requests and the head's decision; password sign-in per role.
"""

from __future__ import annotations

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from allauth.socialaccount.models import SocialAccount
from axes.models import AccessAttempt
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from classroom.models import AccessRequest, AccessRequestError, User
from classroom.signin import free_username
from crisis.signin_config import signin_apps, signin_origins
from tests.conftest import PASSWORD
from tests.factories import HeadFactory, StudentFactory, TeacherFactory
from tests.oidc import (
    ANN,
    ROSTER_CLAIM,
    local_path,
    oidc_provider,  # noqa: F401 - the session's provider
    sign_in,
    sign_in_at_provider,
    start_sign_in,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(oidc_provider, settings):  # noqa: F811
    oidc_provider.configure(settings)
    return oidc_provider


@pytest.fixture
def ann(db):
    # Her address as the school typed it: matched whatever the letter case.
    return TeacherFactory(username="ann", email="Ann.Teacher@School.example")


def signed_in_as(client) -> User | None:
    response = client.get(reverse("home"))
    return response.wsgi_request.user if response.wsgi_request.user.is_authenticated else None


def refusal(response) -> str:
    assert response.status_code in (400, 403), response.status_code
    return response.content.decode()


# --- the flow that works -------------------------------------------------------------------


@pytest.mark.parametrize("provider_id", ["google", "microsoft", "oidc"])
def test_the_whole_flow_signs_in_the_matched_account(provider, ann, provider_id):
    client = Client()
    authorize = start_sign_in(client, provider_id)
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(provider.issuer + "/auth")
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["response_type"] == ["code"] and query["state"][0]

    response = client.get(local_path(sign_in_at_provider(authorize, "ann")))
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert signed_in_as(client) == ann
    assert SocialAccount.objects.get(provider=provider_id, uid="ann").user == ann


def test_a_connected_account_signs_in_again_and_keeps_its_role(provider, ann):
    assert sign_in(Client(), "google", "ann").status_code == 302
    client = Client()
    assert sign_in(client, "google", "ann").status_code == 302
    assert signed_in_as(client) == ann
    ann.refresh_from_db()
    assert ann.role == User.Role.TEACHER and not ann.is_superuser
    assert SocialAccount.objects.filter(user=ann).count() == 1


def test_a_pupil_is_matched_by_roster_id_when_the_email_is_not_verified(provider):
    pupil = StudentFactory(username="pupil42", roster_id="OR-PUPIL-42", email="")
    client = Client()
    assert sign_in(client, "google", "pupil-by-roster").status_code == 302
    assert signed_in_as(client) == pupil


def test_microsoft_sign_in_name_is_used_when_there_is_no_email_claim(provider, ann):
    client = Client()
    assert sign_in(client, "microsoft", "ann-microsoft-name").status_code == 302
    assert signed_in_as(client) == ann


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["ann-elsewhere", "ann-personal"])
def test_google_account_outside_the_schools_domain_is_refused(provider, ann, login):
    client = Client()
    text = refusal(sign_in(client, "google", login))
    assert "only accounts in school.example can sign in" in text
    assert signed_in_as(client) is None
    assert not SocialAccount.objects.exists()


def test_the_hd_hint_is_not_trusted_the_id_token_is(provider, ann):
    """The request asks for hd=school.example, but an elsewhere account is refused."""
    client = Client()
    authorize = start_sign_in(client, "google")
    assert parse_qs(urlsplit(authorize).query)["hd"] == ["school.example"]
    text = refusal(client.get(local_path(sign_in_at_provider(authorize, "ann-elsewhere"))))
    assert "only accounts in school.example" in text and signed_in_as(client) is None


@pytest.mark.parametrize("login", ["ann-elsewhere", "ann-personal"])
def test_microsoft_account_of_another_tenant_is_refused(provider, ann, login):
    client = Client()
    text = refusal(sign_in(client, "microsoft", login))
    assert "belongs to another organisation" in text
    assert signed_in_as(client) is None


def test_microsoft_guest_in_the_schools_tenant_is_refused(provider, ann):
    client = Client()
    text = refusal(sign_in(client, "microsoft", "ann-guest"))
    assert "is a guest" in text and signed_in_as(client) is None


@pytest.mark.parametrize("provider_id", ["google", "oidc"])
def test_unverified_email_is_not_matched(provider, ann, provider_id):
    client = Client()
    text = refusal(sign_in(client, provider_id, "ann-unverified"))
    assert "has not confirmed your email address" in text
    assert signed_in_as(client) is None


def test_replayed_callback_is_refused(provider, ann):
    """The same callback URL twice: the state was used up by the first."""
    client = Client()
    callback = local_path(sign_in_at_provider(start_sign_in(client, "google"), "ann"))
    assert client.get(callback).status_code == 302
    text = refusal(client.get(callback))  # the same browser session
    assert "had expired or had already been used" in text


def test_replayed_state_in_the_same_session_is_refused(provider, ann):
    client = Client()
    authorize = start_sign_in(client, "google")
    first = local_path(sign_in_at_provider(authorize, "ann-elsewhere"))
    refusal(client.get(first))
    # A second code, but the state of the first sign-in: used up.
    second = local_path(sign_in_at_provider(authorize, "ann"))
    text = refusal(client.get(second))
    assert "had expired or had already been used" in text
    assert signed_in_as(client) is None


def test_expired_state_is_refused(provider, ann):
    client = Client()
    callback = local_path(sign_in_at_provider(start_sign_in(client, "google"), "ann"))
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=11)):
        text = refusal(client.get(callback))
    assert "had expired or had already been used" in text
    assert signed_in_as(client) is None


def test_unknown_state_is_refused(provider, ann):
    client = Client()
    callback = sign_in_at_provider(start_sign_in(client, "google"), "ann")
    forged = local_path(callback).replace("state=", "state=x", 1)
    text = refusal(client.get(forged))
    assert "had expired or had already been used" in text
    assert signed_in_as(client) is None


def test_state_from_another_browser_is_refused(provider, ann):
    """Login CSRF: the victim's browser given the attacker's callback URL."""
    attacker, victim = Client(), Client()
    callback = local_path(sign_in_at_provider(start_sign_in(attacker, "google"), "ann"))
    refusal(victim.get(callback))
    assert signed_in_as(victim) is None


def test_nobody_with_that_account_is_refused_and_nothing_made(provider, settings):
    settings.SIGNIN_REQUEST_ACCESS = False
    client = Client()
    text = refusal(sign_in(client, "google", "newcomer"))
    assert "There is no account here for you yet" in text
    assert not User.objects.filter(email="new.teacher@school.example").exists()
    assert not AccessRequest.objects.exists() and not SocialAccount.objects.exists()


def test_switched_off_account_is_refused(provider):
    TeacherFactory(username="left", email="left.school@school.example", is_active=False)
    client = Client()
    text = refusal(sign_in(client, "google", "switched-off"))
    assert "has been switched off" in text and signed_in_as(client) is None


def test_switched_off_after_connecting_is_refused(provider, ann):
    assert sign_in(Client(), "google", "ann").status_code == 302
    ann.is_active = False
    ann.save()
    client = Client()
    assert "has been switched off" in refusal(sign_in(client, "google", "ann"))


def test_two_accounts_with_the_email_are_refused(provider, ann):
    TeacherFactory(username="ann2", email=ANN)
    client = Client()
    assert "More than one account" in refusal(sign_in(client, "google", "ann"))
    assert signed_in_as(client) is None


@pytest.mark.parametrize("corrected", ["email", "email-to-another", "roster_id"])
def test_a_connection_whose_account_no_longer_matches_is_refused_and_removed(provider, corrected, caplog):
    # Connected by the email (or the roster id) the school first typed; the head corrects it.
    pupil = StudentFactory(username="pupil42", roster_id="OR-PUPIL-42", email="")
    login = "pupil-by-roster"
    if corrected != "roster_id":
        pupil = TeacherFactory(username="annwrong", email=ANN)
        login = "ann"
    assert sign_in(Client(), "google", login).status_code == 302
    assert SocialAccount.objects.filter(user=pupil, provider="google", uid=login).exists()
    if corrected == "roster_id":
        pupil.roster_id = "OR-PUPIL-43"
    else:
        pupil.email = "ann.wrong@school.example"
    pupil.save()
    if corrected == "email-to-another":  # the address was really someone else's
        TeacherFactory(username="ann", email=ANN)
    client = Client()
    with caplog.at_level("WARNING", logger="classroom.signin"):
        text = refusal(sign_in(client, "google", login))
    # The email corrected: it now matches nobody. The roster id corrected: the token's
    # unverified email cannot match anyone either.
    reason = "has not confirmed your email" if corrected == "roster_id" else "no longer matches the account"
    assert reason in text and signed_in_as(client) is None
    assert not SocialAccount.objects.filter(user=pupil).exists()
    assert "connection of" in caplog.text and login in caplog.text


def test_a_connection_that_still_matches_after_an_email_correction_is_kept(provider, ann):
    # The address corrected to one the token still carries (letter case only): still her.
    assert sign_in(Client(), "google", "ann").status_code == 302
    ann.email = ANN.upper()
    ann.save()
    client = Client()
    assert sign_in(client, "google", "ann").status_code == 302 and signed_in_as(client) == ann
    assert SocialAccount.objects.filter(user=ann).count() == 1


@pytest.mark.parametrize("kind", ["head", "superuser"])
def test_a_roster_id_alone_never_opens_a_heads_or_superusers_account(provider, kind):
    if kind == "head":
        account = HeadFactory(username="boss", roster_id="OR-PUPIL-42", email="")
    else:
        account = TeacherFactory(username="root", roster_id="OR-PUPIL-42", email="", is_superuser=True)
    client = Client()
    text = refusal(sign_in(client, "google", "pupil-by-roster"))
    assert "school id alone cannot open this account" in text and signed_in_as(client) is None
    assert not SocialAccount.objects.filter(user=account).exists()


def test_a_heads_account_opens_with_roster_id_and_verified_email_together(provider):
    head = HeadFactory(username="boss", roster_id="OR-PUPIL-42", email=ANN)
    client = Client()
    assert sign_in(client, "google", "ann-with-roster").status_code == 302 and signed_in_as(client) == head


def test_roster_id_and_email_of_different_accounts_are_refused(provider, ann):
    StudentFactory(username="pupil42", roster_id="OR-PUPIL-42", email="")
    client = Client()
    assert "belong to different accounts" in refusal(sign_in(client, "google", "ann-with-roster"))
    assert signed_in_as(client) is None and not SocialAccount.objects.exists()


def test_unknown_provider_is_not_found(provider):
    assert Client().post("/accounts/oidc/facebook/login/").status_code == 404


def test_sign_in_start_needs_a_post(provider):
    response = Client().get("/accounts/oidc/google/login/")
    assert response.status_code == 200 and b"Sign in with Google" in response.content  # asks to continue
    assert not response.has_header("Location")


# --- access requests ----------------------------------------------------------------------


def test_request_access_is_recorded_and_the_head_approves_it(provider, settings):
    settings.SIGNIN_REQUEST_ACCESS = True
    head = HeadFactory(username="hod")
    response = sign_in(Client(), "google", "newcomer")
    assert response.status_code == 200 and b"Access requested" in response.content
    again = sign_in(Client(), "google", "newcomer")  # asking twice makes one request
    assert again.status_code == 200
    request = AccessRequest.objects.get()
    assert (request.email, request.name, request.provider, request.subject) == (
        "new.teacher@school.example",
        "Nia Newcomer",
        "google",
        "newcomer",
    )
    assert request.outcome == AccessRequest.Outcome.PENDING
    assert not User.objects.filter(email="new.teacher@school.example").exists()

    hod = Client()
    hod.force_login(head)
    page = hod.get(reverse("classroom:access_requests"))
    assert page.status_code == 200 and b"Nia Newcomer" in page.content
    url = reverse("classroom:access_request_decide", args=[request.pk])
    response = hod.post(url, {"action": "approve", "role": "teacher"})
    assert response.status_code == 302
    user = User.objects.get(email="new.teacher@school.example")
    assert user.role == User.Role.TEACHER and not user.has_usable_password() and user.username == "nia.newcomer"
    request.refresh_from_db()
    assert (request.outcome, request.decided_by, request.account) == ("approved", head, user)

    client = Client()
    assert sign_in(client, "google", "newcomer").status_code == 302
    assert signed_in_as(client) == user


def test_head_declines_a_request_and_nothing_is_made(provider, settings, head):
    settings.SIGNIN_REQUEST_ACCESS = True
    sign_in(Client(), "google", "newcomer")
    request = AccessRequest.objects.get()
    hod = Client()
    hod.force_login(head)
    hod.post(reverse("classroom:access_request_decide", args=[request.pk]), {"action": "decline"})
    request.refresh_from_db()
    assert request.outcome == "declined" and request.decided_by == head
    assert not User.objects.filter(email="new.teacher@school.example").exists()
    # Declined: signing in again asks afresh, still without an account.
    assert sign_in(Client(), "google", "newcomer").status_code == 200
    assert AccessRequest.objects.filter(outcome="pending").count() == 1


@pytest.mark.parametrize(
    "data, message",
    [
        ({"action": "approve", "role": "head"}, "Choose whether the account is a pupil"),
        ({"action": "approve"}, "Choose whether the account is a pupil"),
        ({"action": "explode"}, "Choose Approve or Decline"),
    ],
)
def test_bad_decisions_change_nothing(head, data, message):
    request = AccessRequest.objects.create(name="Nia", email="n@school.example", provider="google", subject="n")
    hod = Client()
    hod.force_login(head)
    response = hod.post(reverse("classroom:access_request_decide", args=[request.pk]), data, follow=True)
    assert message in response.content.decode()
    request.refresh_from_db()
    assert request.outcome == "pending" and User.objects.count() == 1


def test_a_decided_request_cannot_be_decided_again(head):
    request = AccessRequest.objects.create(name="Nia", provider="google", subject="n", outcome="declined")
    hod = Client()
    hod.force_login(head)
    url = reverse("classroom:access_request_decide", args=[request.pk])
    response = hod.post(url, {"action": "approve", "role": "student"}, follow=True)
    assert "already been decided" in response.content.decode()
    assert User.objects.count() == 1


# --- who may open the access requests ------------------------------------------------------


@pytest.mark.parametrize(
    "actor, status",
    [("anonymous", 302), ("student", 403), ("teacher", 403), ("other_teacher", 403), ("head", 200), ("superuser", 200)],
)
def test_access_requests_page_access(cast, actor, status, django_user_model):
    AccessRequest.objects.create(name="Nia", provider="google", subject="n")
    client = Client()
    if actor == "superuser":
        client.force_login(django_user_model.objects.create_superuser("root", "root@school.example", PASSWORD))
    elif actor != "anonymous":
        client.force_login(cast[actor])
    response = client.get(reverse("classroom:access_requests"))
    assert response.status_code == status
    if status == 200:
        assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    "actor, status",
    [("anonymous", 302), ("student", 403), ("teacher", 403), ("other_teacher", 403), ("head", 302), ("superuser", 302)],
)
def test_access_request_decision_access(cast, actor, status, django_user_model):
    request = AccessRequest.objects.create(name="Nia", provider="google", subject="n")
    client = Client()
    if actor == "superuser":
        client.force_login(django_user_model.objects.create_superuser("root", "root@school.example", PASSWORD))
    elif actor != "anonymous":
        client.force_login(cast[actor])
    response = client.post(reverse("classroom:access_request_decide", args=[request.pk]), {"action": "decline"})
    assert response.status_code == status
    request.refresh_from_db()
    assert (request.outcome == "declined") == (actor in ("head", "superuser"))
    if status == 302 and actor == "anonymous":
        assert response["Location"].startswith(reverse("login"))


def test_decision_needs_a_post(head):
    request = AccessRequest.objects.create(name="Nia", provider="google", subject="n")
    client = Client()
    client.force_login(head)
    assert client.get(reverse("classroom:access_request_decide", args=[request.pk])).status_code == 405


def test_unknown_request_is_not_found(head):
    client = Client()
    client.force_login(head)
    assert client.post(reverse("classroom:access_request_decide", args=[999]), {"action": "decline"}).status_code == 404


def test_access_requests_page_queries_do_not_grow(head, django_assert_max_num_queries):
    decider = HeadFactory(username="decider")
    for number in range(30):
        made = TeacherFactory(username=f"made{number}")
        AccessRequest.objects.create(name=f"P{number}", provider="google", subject=f"p{number}")
        AccessRequest.objects.create(
            name=f"D{number}",
            provider="google",
            subject=f"d{number}",
            outcome="approved",
            decided_by=decider,
            account=made,
        )
    client = Client()
    client.force_login(head)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("classroom:access_requests"))
    assert response.content.count(b"data-request=") == 60


def test_the_access_requests_page_says_when_nobody_can_ask(head, settings):
    client = Client()
    client.force_login(head)
    notice = "Nobody can ask for an account at the moment"
    settings.SIGNIN_REQUEST_ACCESS, settings.SIGNIN_APPS = False, []
    assert notice in client.get(reverse("classroom:access_requests")).content.decode()
    settings.SIGNIN_REQUEST_ACCESS = True  # on, but no provider set up: still nobody
    assert notice in client.get(reverse("classroom:access_requests")).content.decode()
    settings.SIGNIN_APPS = [{"provider_id": "google"}]
    assert notice not in client.get(reverse("classroom:access_requests")).content.decode()


# --- password sign-in per role -----------------------------------------------------------


def password_login(username: str):
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    return client, response


def test_password_sign_in_switched_off_for_a_role_is_refused(settings, teacher, student):
    settings.PASSWORD_SIGNIN_ROLES = ["student"]
    client, response = password_login(teacher.username)
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert signed_in_as(client) is None
    client, response = password_login(student.username)
    assert response.status_code == 302 and signed_in_as(client) == student


def test_a_right_and_a_wrong_password_get_the_same_answer_when_the_role_is_off(settings, teacher):
    settings.PASSWORD_SIGNIN_ROLES = ["student"]
    answers = []
    for password in (PASSWORD, "nope-nope-nope"):
        client = Client()
        response = client.post(reverse("login"), {"username": teacher.username, "password": password})
        assert response.status_code == 200 and signed_in_as(client) is None
        answers.append(response.context["form"].errors.get_json_data())
    assert answers[0] == answers[1] and answers[0]
    # Both counted by django-axes as failed attempts: the lockout comes no later either way.
    assert AccessAttempt.objects.get(username=teacher.username).failures_since_start == 2


def test_login_page_says_which_roles_use_the_schools_account(settings, db):
    settings.PASSWORD_SIGNIN_ROLES = ["student"]
    text = Client().get(reverse("login")).content.decode()
    assert "Teachers and heads of department sign in with the school" in text


def test_superuser_may_always_use_a_password(settings, django_user_model):
    settings.PASSWORD_SIGNIN_ROLES = []
    root = django_user_model.objects.create_superuser("root", "root@school.example", PASSWORD, role="head")
    client, response = password_login("root")
    assert response.status_code == 302 and signed_in_as(client) == root


def test_admin_sign_in_follows_the_roles_too(settings, db):
    settings.PASSWORD_SIGNIN_ROLES = ["student"]
    staff = HeadFactory(username="staffhead", is_staff=True)
    answers = []
    for password in (PASSWORD, "nope-nope-nope"):
        client = Client()
        response = client.post(reverse("admin:login"), {"username": staff.username, "password": password})
        assert response.status_code == 200 and signed_in_as(client) is None
        answers.append(response.context["form"].errors.get_json_data())
    assert answers[0] == answers[1] and answers[0]


# --- configuration --------------------------------------------------------------------------


def test_nothing_is_on_by_default(db):
    assert signin_apps({}) == []
    assert b"Sign in with" not in Client().get(reverse("login")).content


def test_login_page_shows_a_button_per_configured_provider(settings, db):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": signin_apps(
                {
                    "SIGNIN_GOOGLE_CLIENT_ID": "id",
                    "SIGNIN_GOOGLE_CLIENT_SECRET": "s",
                    "SIGNIN_GOOGLE_HOSTED_DOMAIN": "School.Example",
                }
            )
        }
    }
    text = Client().get(reverse("login")).content.decode()
    assert "Sign in with Google" in text and "Sign in with Microsoft" not in text
    assert 'action="/accounts/oidc/google/login/"' in text


def test_production_issuers_and_pkce(db):
    apps = signin_apps(
        {
            "SIGNIN_GOOGLE_CLIENT_ID": "g",
            "SIGNIN_GOOGLE_CLIENT_SECRET": "s",
            "SIGNIN_GOOGLE_HOSTED_DOMAIN": "School.Example",
            "SIGNIN_MICROSOFT_CLIENT_ID": "m",
            "SIGNIN_MICROSOFT_CLIENT_SECRET": "s",
            "SIGNIN_MICROSOFT_TENANT_ID": "6F1C4D1E-0B8A-4C55-9D2E-2A8F5B3C7E10",
        }
    )
    google, microsoft = apps
    assert google["settings"]["server_url"] == "https://accounts.google.com"
    assert google["settings"]["hosted_domain"] == "school.example"
    assert google["settings"]["auth_params"] == {"hd": "school.example"}  # only the hint
    assert (
        microsoft["settings"]["server_url"]
        == "https://login.microsoftonline.com/6f1c4d1e-0b8a-4c55-9d2e-2a8f5b3c7e10/v2.0"
    )
    assert all(app["settings"]["oauth_pkce_enabled"] for app in apps)
    # The sign-in buttons' redirects, allowed by the content security policy.
    assert signin_origins(apps) == ["https://accounts.google.com", "https://login.microsoftonline.com"]


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"SIGNIN_GOOGLE_CLIENT_ID": "g", "SIGNIN_GOOGLE_CLIENT_SECRET": "s"}, "SIGNIN_GOOGLE_HOSTED_DOMAIN"),
        ({"SIGNIN_MICROSOFT_CLIENT_ID": "m", "SIGNIN_MICROSOFT_CLIENT_SECRET": "s"}, "SIGNIN_MICROSOFT_TENANT_ID"),
        (
            {
                "SIGNIN_MICROSOFT_CLIENT_ID": "m",
                "SIGNIN_MICROSOFT_CLIENT_SECRET": "s",
                "SIGNIN_MICROSOFT_TENANT_ID": "common",
            },
            "the school's own tenant",
        ),
        (
            {"SIGNIN_OIDC_CLIENT_ID": "o", "SIGNIN_OIDC_CLIENT_SECRET": "s", "SIGNIN_OIDC_NAME": "X"},
            "SIGNIN_OIDC_ISSUER",
        ),
    ],
)
def test_incomplete_configuration_stops_the_app(environ, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        signin_apps(environ)


def test_roster_claim_setting_is_read(db):
    apps = signin_apps(
        {
            "SIGNIN_OIDC_CLIENT_ID": "o",
            "SIGNIN_OIDC_CLIENT_SECRET": "s",
            "SIGNIN_OIDC_NAME": "Portal",
            "SIGNIN_OIDC_ISSUER": "https://id.school.example",
            "SIGNIN_OIDC_ROSTER_ID_CLAIM": ROSTER_CLAIM,
        }
    )
    assert apps[0]["settings"]["roster_id_claim"] == ROSTER_CLAIM and apps[0]["name"] == "Portal"


def test_approving_keeps_the_roster_id(head):
    first = AccessRequest.objects.create(
        given_name="Ola", family_name="Pupil", provider="oidc", subject="o", roster_id="R1"
    )
    user = first.approve(User.Role.STUDENT, by=head, username="ola.pupil")
    assert (user.roster_id, user.role, user.username) == ("R1", "student", "ola.pupil")


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"email": "ANN.Teacher@school.example"}, "already has the email address"),
        ({"roster_id": "R1"}, "already has the school id R1"),
    ],
)
def test_approving_when_an_account_has_the_email_or_roster_id_is_refused(head, fields, message):
    TeacherFactory(username="ann", email=ANN, roster_id="R1")
    request = AccessRequest.objects.create(name="Twin", provider="oidc", subject="t", **fields)
    client = Client()
    client.force_login(head)
    url = reverse("classroom:access_request_decide", args=[request.pk])
    response = client.post(url, {"action": "approve", "role": "student"}, follow=True)
    assert response.status_code == 200 and message in response.content.decode()
    request.refresh_from_db()
    assert request.outcome == "pending" and User.objects.count() == 2
    assert not SocialAccount.objects.exists()


def test_a_username_taken_at_the_same_moment_asks_to_try_again(head):
    StudentFactory(username="ola.pupil")  # made between choosing the name and saving
    request = AccessRequest.objects.create(given_name="Ola", family_name="Pupil", provider="oidc", subject="o")
    with pytest.raises(AccessRequestError, match="Please try again"):
        request.approve(User.Role.STUDENT, by=head, username="ola.pupil")
    request.refresh_from_db()
    assert request.outcome == "pending" and not SocialAccount.objects.exists()
    # Without a username given, one is chosen inside the transaction.
    assert request.approve(User.Role.STUDENT, by=head).username == "ola.pupil2"


def test_approving_a_sign_in_already_connected_is_refused(head, teacher):
    SocialAccount.objects.create(user=teacher, provider="google", uid="dup", extra_data={})
    request = AccessRequest.objects.create(name="Dup", provider="google", subject="dup")
    with pytest.raises(AccessRequestError, match="already connected"):
        request.approve(User.Role.TEACHER, by=head, username="dup")
    request.refresh_from_db()
    assert request.outcome == "pending" and not User.objects.filter(username="dup").exists()


def test_a_new_username_never_clashes(head):
    StudentFactory(username="nia.newcomer")
    request = AccessRequest.objects.create(given_name="Nia", family_name="Newcomer", provider="google", subject="n")
    assert free_username(request) == "nia.newcomer2"
    nameless = AccessRequest.objects.create(email="x.y@school.example", provider="google", subject="x")
    assert free_username(nameless) == "xy"
