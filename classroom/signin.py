"""Sign-in with the school's accounts (OpenID Connect through django-allauth).

django-allauth runs the authorisation-code flow with PKCE, keeps the one-use `state` in the
session (refused when unknown, reused or older than ten minutes) and checks the ID token's
issuer, audience and expiry. The token comes straight from the provider's token endpoint
over TLS, so allauth does not check its signature then (OpenID Connect Core 3.1.3.7 allows
this; the TLS connection proves who sent it). This module decides, from the ID token's claims,
whether that person may come in:

- Google: the `hd` claim must be the school's domain (the `hd` hint in the request is only
  a hint; anyone can remove it).
- Microsoft: the `tid` claim must be the school's tenant, and the account must be the
  tenant's own, not a guest. Microsoft's ID tokens carry no `email_verified`; the address
  (`email`, or the sign-in name `preferred_username`) of a member of the school's own tenant
  is trusted as the school's administrators set it.
- Any other provider, and Google: the email counts only with `email_verified` true.

The person is matched to an existing account by the roster id claim (when one is configured)
or by the verified email, case-insensitively; a head's or superuser's account needs the
verified email, never the roster id alone. A sign-in connected earlier is matched again each
time: when the token no longer points at the connected account (its email was corrected, say),
the connection is removed and the sign-in refused. Nobody gets an account or a role by signing in:
with no match they are refused, or (SIGNIN_REQUEST_ACCESS) their request is recorded for the
head of department to approve or decline. A switched-off account is refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialLogin
from allauth.socialaccount.providers.base import AuthError
from django.conf import settings
from django.contrib.auth import backends as auth_backends
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.shortcuts import render

from classroom import roster
from classroom.compiled import CompiledQuery
from classroom.models import AccessRequest, User
from classroom.roster import USERNAME_MAX_LENGTH, taken_usernames, username_base
from crisis.signin_config import GOOGLE, MICROSOFT

logger = logging.getLogger(__name__)

# The app's sign-in backend (below). Accounts signed in through the school's provider are its
# ordinary users too, and their sessions name it. (Sessions from before it name Django's;
# crisis/session_store.py reads them as this one.)
MODEL_BACKEND = "classroom.signin.ModelBackend"


class ModelBackend(auth_backends.ModelBackend):
    """Django's ModelBackend (a username and password; each request's user from its session),
    finding the session's user with one query compiled to SQL once: every signed-in request
    asks for its user, and building that query with the ORM each time cost about as much as
    PostgreSQL took to answer it."""

    def get_user(self, user_id: Any) -> User | None:
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            return super().get_user(user_id)
        found = _user_by_id.objects(pk=user_id)
        return found[0] if found and self.user_can_authenticate(found[0]) else None


_user_by_id: CompiledQuery[User] = CompiledQuery(lambda pk: User.objects.filter(pk=pk))


class Refused(Exception):
    """A sign-in the app turns away, with the sentence the person sees."""


@dataclass
class Identity:
    """What the ID token proves about the person."""

    subject: str
    email: str | None  # only when verified
    roster_id: str | None
    name: str
    given_name: str
    family_name: str


def _text(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) else ""


def _is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def check_claims(app_settings: dict[str, Any], claims: dict[str, Any]) -> Identity:
    """The person the ID token describes, or Refused saying why they may not sign in."""
    issuer = str(app_settings.get("issuer", "")).rstrip("/")
    if _text(claims, "iss").rstrip("/") != issuer or not _text(claims, "sub"):
        raise Refused("The sign-in service's answer was not for this app.")
    kind = app_settings.get("kind")
    email = _text(claims, "email").lower()
    email_verified = _is_true(claims.get("email_verified"))
    if kind == GOOGLE:
        domain = app_settings["hosted_domain"]
        if _text(claims, "hd").lower() != domain:
            raise Refused(f"That Google account is not one of the school's: only accounts in {domain} can sign in.")
    elif kind == MICROSOFT:
        if _text(claims, "tid").lower() != app_settings["tenant_id"]:
            raise Refused("That Microsoft account is not one of the school's: it belongs to another organisation.")
        idp = _text(claims, "idp")
        if idp and idp.rstrip("/") != issuer:
            raise Refused("That Microsoft account is a guest in the school's organisation, not one of its own.")
        if not email and "@" in _text(claims, "preferred_username"):
            email = _text(claims, "preferred_username").lower()
        # Addresses in the school's own tenant are set by the school (see the module's notes).
        email_verified = bool(email)
    roster_claim = app_settings.get("roster_id_claim") or ""
    roster_id = _text(claims, roster_claim) if roster_claim else ""
    return Identity(
        subject=_text(claims, "sub"),
        email=email if email and email_verified else None,
        roster_id=roster_id or None,
        name=_text(claims, "name"),
        given_name=_text(claims, "given_name"),
        family_name=_text(claims, "family_name"),
    )


def find_account(identity: Identity, unverified_email: bool) -> User | None:
    """The existing account this person is, by roster id or verified email; None when none.
    Refused when the two point at different accounts, the email at several, or the account
    is switched off."""
    by_roster = User.objects.filter(roster_id=identity.roster_id).first() if identity.roster_id else None
    by_email = None
    if identity.email:
        matches = list(User.objects.filter(email__iexact=identity.email)[:2])
        if len(matches) > 1:
            raise Refused(
                "More than one account here has that email address, so the app cannot tell which is yours. "
                "Ask the head of department to sort it out."
            )
        by_email = matches[0] if matches else None
    if by_roster and by_email and by_roster != by_email:
        raise Refused(
            "Your school id and your email address belong to different accounts here. "
            "Ask the head of department to sort it out."
        )
    user = by_roster or by_email
    if user is not None and by_email is None and (user.is_superuser or user.is_head):
        # A roster id is only a number in a file: it never opens a head's or superuser's
        # account by itself.
        raise Refused(
            "Your school id alone cannot open this account: the sign-in service must also confirm the account's "
            "email address. Ask the head of department to check the address here."
        )
    if user is None:
        if unverified_email:
            raise Refused(
                "The sign-in service has not confirmed your email address, so it cannot be matched to an account "
                "here. Confirm the address with the service, or ask the head of department."
            )
        return None
    return user


def recheck_connected_account(sociallogin: SocialLogin, identity: Identity, unverified_email: bool) -> User:
    """The account an earlier sign-in connected, provided the ID token still matches it now
    (its email or roster id may have been corrected since). Otherwise the connection is
    removed and the sign-in refused, so the wrong person keeps nothing."""
    connected = cast(User, sociallogin.user)
    try:
        matched = find_account(identity, unverified_email)
    except Refused:
        _remove_connection(sociallogin)
        raise
    if matched is None or matched.pk != connected.pk:
        _remove_connection(sociallogin)
        raise Refused(
            "Your sign-in no longer matches the account it was connected to here. "
            "Ask the head of department to check the account's email address and school id."
        )
    return connected


def _remove_connection(sociallogin: SocialLogin) -> None:
    account = sociallogin.account
    SocialAccount.objects.filter(pk=account.pk).delete()
    logger.warning(
        "Sign-in with %s: the connection of %s to account %s was removed: the ID token no longer matches it.",
        account.provider,
        account.uid,
        account.user_id,
    )


def refused_page(request: HttpRequest, message: str, status: int = 403):
    return render(request, "registration/signin_refused.html", {"message": message}, status=status)


def record_access_request(provider_id: str, identity: Identity) -> AccessRequest:
    """The person's waiting request, made now or kept from an earlier sign-in (refreshed)."""
    fields = {
        "name": identity.name[:300],
        "given_name": identity.given_name[:150],
        "family_name": identity.family_name[:150],
        "email": (identity.email or "")[:254],
        "roster_id": (identity.roster_id or "")[:255],
    }
    waiting = {"provider": provider_id, "subject": identity.subject, "outcome": AccessRequest.Outcome.PENDING}
    try:
        with transaction.atomic():
            request, created = AccessRequest.objects.get_or_create(**waiting, defaults=fields)
    except IntegrityError:  # the same person's two sign-ins at once: the other made it
        request, created = AccessRequest.objects.get(**waiting), False
    if not created:
        for name, value in fields.items():
            setattr(request, name, value)
        request.save(update_fields=list(fields))
    return request


class SchoolAccountAdapter(DefaultSocialAccountAdapter):
    """allauth's hooks: every sign-in checked as above; never an account made by signing in."""

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return False

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        app: SocialApp = sociallogin.provider.app
        claims = sociallogin.account.extra_data.get("id_token")
        try:
            if not isinstance(claims, dict):
                raise Refused("The sign-in service sent no ID token.")
            identity = check_claims(app.settings, claims)
            unverified = bool(_text(claims, "email")) and identity.email is None
            user: User | None
            if sociallogin.is_existing:  # connected earlier: matched again, every time
                user = recheck_connected_account(sociallogin, identity, unverified)
            else:
                user = find_account(identity, unverified)
            if user is None:
                if settings.SIGNIN_REQUEST_ACCESS:
                    record_access_request(app.provider_id, identity)
                    response = render(request, "registration/signin_request_recorded.html", {"provider": app.name})
                    raise ImmediateHttpResponse(response)
                raise Refused(
                    "There is no account here for you yet. Ask the head of department to add you, then sign in again."
                )
            if not user.is_active:
                raise Refused("Your account here has been switched off. Ask the head of department.")
        except Refused as refusal:
            logger.info("Sign-in with %s refused: %s", app.provider_id, refusal)
            raise ImmediateHttpResponse(refused_page(request, str(refusal))) from None
        if not sociallogin.is_existing:
            sociallogin.connect(request, user)
        sociallogin.user.backend = MODEL_BACKEND

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: BaseException | None = None,
        extra_context: dict | None = None,
    ) -> None:
        extra_context = extra_context or {}
        if "state_id" in extra_context:
            message = "That sign-in had expired or had already been used. Please start again from the log-in page."
        elif error == AuthError.CANCELLED:
            message = "Signing in was cancelled."
        else:
            message = "The school's sign-in service did not confirm who you are. Please try again."
        logger.info("Sign-in with %s failed: %s (%r)", getattr(provider, "id", "?"), message, exception)
        raise ImmediateHttpResponse(refused_page(request, message, status=400))


def free_username(access_request: AccessRequest) -> str:
    """A username nobody has for the person asking, given as a class list's is
    (roster.free_username): from the names, else the email's local part."""
    given_name, family_name, email = access_request.given_name, access_request.family_name, access_request.email
    base = username_base(given_name, family_name)
    if not (given_name or family_name) and email:
        base = username_base(email.split("@")[0], "")
    return roster.free_username(base, taken_usernames({base}, {base}))[:USERNAME_MAX_LENGTH]


def configured_providers() -> list[dict[str, str]]:
    """The sign-in buttons for the log-in page: each configured provider's id and name."""
    providers = cast(dict, settings.SOCIALACCOUNT_PROVIDERS)
    apps: list[dict] = providers.get("openid_connect", {}).get("APPS", [])
    return [{"id": app["provider_id"], "name": app["name"]} for app in apps]


def password_signin_allowed(user: User) -> bool:
    """Whether this account may sign in with a password (PASSWORD_SIGNIN_ROLES); superusers
    always may, so the school can never lock itself out."""
    return user.is_superuser or user.role in settings.PASSWORD_SIGNIN_ROLES


ROLE_PLURALS = {"student": "Pupils", "teacher": "Teachers", "head": "Heads of department"}


def password_off_roles_text() -> str:
    """'Teachers and heads of department' for the roles that may not use a password; '' for none."""
    off = [ROLE_PLURALS[role] for role in ROLE_PLURALS if role not in settings.PASSWORD_SIGNIN_ROLES]
    if not off:
        return ""
    words = [off[0]] + [word.lower() for word in off[1:]]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
