"""Sign-in with the school's accounts: which OpenID Connect providers are on, read from the
environment (README, "Connect your school"). Nothing is on unless its client id is set.

Every provider goes through django-allauth's standard `openid_connect` provider: discovery
from the issuer, the authorisation-code flow with PKCE, the ID token's issuer, audience and
expiry checked by allauth (its signature is not, when the token comes straight from the
provider's token endpoint over TLS, as OpenID Connect allows). What each kind of provider must also prove (Google:
the hosted domain; Microsoft: the tenant; any: a verified email) is checked by
classroom.signin from the ID token, with the settings kept here on each app.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from crisis.env import env_str

GOOGLE = "google"
MICROSOFT = "microsoft"
OIDC = "oidc"

GOOGLE_ISSUER = "https://accounts.google.com"
MICROSOFT_ISSUER = "https://login.microsoftonline.com/{tenant}/v2.0"


def _required(name: str, environ: Mapping[str, str] | None, needed_by: str) -> str:
    value = env_str(name, None, environ)
    if value is None:
        raise ImproperlyConfigured(f"{name} must be set when {needed_by} is set (README, Connect your school).")
    return value.strip()


def _app(
    provider_id: str,
    name: str,
    issuer: str,
    client_id: str,
    secret: str,
    checks: dict[str, str],
) -> dict:
    return {
        "provider_id": provider_id,
        "name": name,
        "client_id": client_id,
        "secret": secret,
        "settings": {
            "server_url": issuer,
            "oauth_pkce_enabled": True,
            # Everything the app decides on comes from the ID token; no userinfo call.
            "fetch_userinfo": False,
            "issuer": issuer,
            "kind": provider_id,
            **checks,
        },
    }


def signin_apps(environ: Mapping[str, str] | None = None) -> list[dict]:
    """allauth `openid_connect` APPS for the providers the environment switches on."""
    apps = []
    google_id = env_str("SIGNIN_GOOGLE_CLIENT_ID", None, environ)
    if google_id:
        needed = "SIGNIN_GOOGLE_CLIENT_ID"
        domain = _required("SIGNIN_GOOGLE_HOSTED_DOMAIN", environ, needed).lower()
        apps.append(
            _app(
                GOOGLE,
                "Google",
                env_str("SIGNIN_GOOGLE_ISSUER", GOOGLE_ISSUER, environ),
                google_id.strip(),
                _required("SIGNIN_GOOGLE_CLIENT_SECRET", environ, needed),
                {
                    "hosted_domain": domain,
                    "roster_id_claim": env_str("SIGNIN_GOOGLE_ROSTER_ID_CLAIM", "", environ).strip(),
                },
            )
        )
        # Google's account chooser then offers only the school's accounts: a convenience,
        # not a check (the `hd` claim of the ID token is checked).
        apps[-1]["settings"]["auth_params"] = {"hd": domain}
    microsoft_id = env_str("SIGNIN_MICROSOFT_CLIENT_ID", None, environ)
    if microsoft_id:
        needed = "SIGNIN_MICROSOFT_CLIENT_ID"
        tenant = _required("SIGNIN_MICROSOFT_TENANT_ID", environ, needed).lower()
        if tenant in {"common", "organizations", "consumers"}:
            raise ImproperlyConfigured(
                "SIGNIN_MICROSOFT_TENANT_ID must be the school's own tenant (directory) ID, not "
                f"{tenant!r}: only the school's own accounts may sign in."
            )
        apps.append(
            _app(
                MICROSOFT,
                "Microsoft",
                env_str("SIGNIN_MICROSOFT_ISSUER", MICROSOFT_ISSUER.format(tenant=tenant), environ),
                microsoft_id.strip(),
                _required("SIGNIN_MICROSOFT_CLIENT_SECRET", environ, needed),
                {
                    "tenant_id": tenant,
                    "roster_id_claim": env_str("SIGNIN_MICROSOFT_ROSTER_ID_CLAIM", "", environ).strip(),
                },
            )
        )
    oidc_id = env_str("SIGNIN_OIDC_CLIENT_ID", None, environ)
    if oidc_id:
        needed = "SIGNIN_OIDC_CLIENT_ID"
        apps.append(
            _app(
                OIDC,
                _required("SIGNIN_OIDC_NAME", environ, needed),
                _required("SIGNIN_OIDC_ISSUER", environ, needed),
                oidc_id.strip(),
                _required("SIGNIN_OIDC_CLIENT_SECRET", environ, needed),
                {"roster_id_claim": env_str("SIGNIN_OIDC_ROSTER_ID_CLAIM", "", environ).strip()},
            )
        )
    return apps


def signin_origins(apps: list[dict]) -> list[str]:
    """The providers' origins: the log-in page's sign-in buttons post to the app, which
    redirects to the provider, and the content security policy's form-action must allow it."""
    origins = set()
    for app in apps:
        parts = urlsplit(app["settings"]["server_url"])
        origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)
