"""The address a request came from, for login throttling (django-axes asks this module).

With nothing in front of the app (PROXY_COUNT=0) it is REMOTE_ADDR and X-Forwarded-For is
ignored. Behind PROXY_COUNT proxies we trust, it is the X-Forwarded-For entry the outermost
of them wrote: counted from the right, because each trusted proxy writes (or appends) only
on the right. The shipped nginx config overwrites the header with the one address it saw
(`X-Forwarded-For $remote_addr`), a one-entry chain, so with PROXY_COUNT=1 that entry is the
pupil's. Entries a client puts in the header itself sit further left and are never read, so
a spoofed header cannot make up new addresses to dodge the lock-out.

(python-ipware is not used for this: it counts proxies inside the header chain, so a proxy
that overwrites the header looks like zero proxies and no address was recorded at all.)
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = int(getattr(settings, "PROXY_COUNT", 0))
    if proxies <= 0:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(chain) < proxies:
        return remote  # not through the expected proxies (e.g. a health check on the socket)
    candidate = chain[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
