"""HTTP checks against a running production-style server (started by scripts/prod_smoke.sh).

    python scripts/prod_smoke_checks.py http://127.0.0.1:PORT

Requests are sent as nginx would forward them: X-Forwarded-Proto: https and the pupil's
address in X-Forwarded-For. Standard library only. Prints one line per check and exits
non-zero if any failed.
"""

from __future__ import annotations

import argparse
import gzip
import html
import http.client
import re
import sys
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

ONE_YEAR = 365 * 24 * 60 * 60
BOOTSTRAP_CSS = re.compile(r'href="(/static/vendor/bootstrap/bootstrap\.min\.[0-9a-f]{12}\.css)"')
STATIC_REFERENCE = re.compile(r'(?:href|src)="(/static/[^"]+)"')
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class CheckFailed(Exception):
    pass


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    set_cookies: list[str]

    def header(self, name: str) -> str:
        return self.headers.get(name, "")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class Browser:
    """Just enough of a browser: a cookie jar and the headers a proxy adds."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)
    address: str = "203.0.113.7"  # the visitor's own address, as nginx writes it

    def request(
        self, method: str, path: str, *, https: bool = True, headers: dict[str, str] | None = None, body: str = ""
    ) -> Response:
        parts = urllib.parse.urlsplit(self.base)
        sent = {"Host": parts.netloc, "User-Agent": "crisis-classroom-prod-smoke", "X-Forwarded-For": self.address}
        if https:
            sent["X-Forwarded-Proto"] = "https"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        sent.update(headers or {})
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
        try:
            connection.request(method, path, body=body.encode("utf-8") if body else None, headers=sent)
            raw = connection.getresponse()
            response = Response(raw.status, raw.headers, raw.read(), raw.headers.get_all("Set-Cookie") or [])
        finally:
            connection.close()
        for cookie in response.set_cookies:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return response

    def https_origin(self) -> str:
        return "https://" + urllib.parse.urlsplit(self.base).netloc


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def max_age(cache_control: str) -> int:
    match = re.search(r"max-age=(\d+)", cache_control)
    return int(match[1]) if match else 0


def check_healthz(browser: Browser, state: dict) -> str:
    response = browser.request("GET", "/healthz", https=False)
    expect(response.status == 200, f"status {response.status}")
    expect(response.body == b"ok\n", f"body {response.body[:40]!r}")
    return "200 over plain HTTP (monitoring from localhost)"


def check_readyz(browser: Browser, state: dict) -> str:
    response = browser.request("GET", "/readyz", https=False)
    expect(response.status == 200, f"status {response.status}")
    return "200: database answers, no migration waiting"


def check_https_redirect(browser: Browser, state: dict) -> str:
    response = browser.request("GET", "/accounts/login/", https=False)
    location = response.header("Location")
    expect(response.status == 301, f"status {response.status}, expected 301")
    expect(location.startswith("https://"), f"Location {location!r}")
    return f"plain HTTP is redirected to {location}"


def check_security_headers(browser: Browser, state: dict) -> str:
    response = browser.request("GET", "/accounts/login/")
    expect(response.status == 200, f"login page status {response.status}")
    state["login_html"] = response.text
    csp = response.header("Content-Security-Policy")
    expect("default-src 'self'" in csp, f"CSP {csp!r}")
    expect("unsafe-inline" not in csp, "CSP allows unsafe-inline")
    hsts = response.header("Strict-Transport-Security")
    expect(max_age(hsts) >= ONE_YEAR, f"HSTS {hsts!r}")
    expect(response.header("X-Frame-Options") == "DENY", f"X-Frame-Options {response.header('X-Frame-Options')!r}")
    expect(response.header("X-Content-Type-Options") == "nosniff", "X-Content-Type-Options is not nosniff")
    referrer = response.header("Referrer-Policy")
    expect(referrer != "", "no Referrer-Policy")
    return (
        f"CSP default-src 'self', HSTS max-age={max_age(hsts)}, X-Frame-Options DENY, nosniff, "
        f"Referrer-Policy {referrer}"
    )


def check_static_file(browser: Browser, state: dict) -> str:
    match = BOOTSTRAP_CSS.search(state.get("login_html", ""))
    expect(match is not None, "the login page links no manifest-hashed bootstrap.min.<hash>.css")
    path = match[1]
    compressed = browser.request("GET", path, headers={"Accept-Encoding": "gzip"})
    expect(compressed.status == 200, f"{path}: status {compressed.status}")
    cache_control = compressed.header("Cache-Control")
    expect(max_age(cache_control) >= ONE_YEAR, f"Cache-Control {cache_control!r}")
    encoding = compressed.header("Content-Encoding")
    expect(encoding == "gzip", f"Content-Encoding {encoding!r} when gzip was asked for")
    css = gzip.decompress(compressed.body)
    expect(b"Bootstrap" in css[:400], "the decompressed file is not Bootstrap's stylesheet")
    plain = browser.request("GET", path)
    expect(plain.status == 200 and plain.header("Content-Encoding") == "", "uncompressed request not served plain")
    expect(plain.body == css, "gzip and plain bodies differ")
    return f"{path}: Cache-Control {cache_control}; gzip {len(compressed.body)} of {len(css)} bytes"


def check_page_assets(browser: Browser, state: dict) -> str:
    paths = sorted({html.unescape(path) for path in STATIC_REFERENCE.findall(state.get("login_html", ""))})
    expect(bool(paths), "the login page references no static files")
    missing = [path for path in paths if browser.request("GET", path).status != 200]
    expect(not missing, f"not served: {', '.join(missing)}")
    return f"all {len(paths)} static files the login page uses are served"


def log_in(visitor: Browser, username: str, password: str) -> Response:
    """Fetch the login form and post it, as a browser would; the response to the POST."""
    page = visitor.request("GET", "/accounts/login/")
    token = CSRF_FIELD.search(page.text)
    expect(page.status == 200 and token is not None, "no CSRF token on the login page")
    expect("csrftoken" in visitor.cookies, "no csrftoken cookie")
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token[1], "username": username, "password": password})
    return visitor.request(
        "POST",
        "/accounts/login/",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": visitor.https_origin(),
            "Referer": visitor.https_origin() + "/accounts/login/",
        },
    )


def check_login(browser: Browser, state: dict) -> str:
    visitor = Browser(browser.base)
    posted = log_in(visitor, state["username"], state["password"])
    expect(posted.status == 302, f"login POST status {posted.status} (wrong password or CSRF failure)")
    session_cookie = next((c for c in posted.set_cookies if c.startswith("sessionid=")), "")
    flags = session_cookie.lower()
    expect("secure" in flags and "httponly" in flags, f"session cookie flags: {session_cookie!r}")
    home_path = urllib.parse.urlsplit(posted.header("Location")).path or "/"
    home = visitor.request("GET", home_path)
    expect(home.status == 200, f"{home_path}: status {home.status}")
    expect("My classes" in home.text, f"{home_path} does not show 'My classes'")
    expect("max-age" not in flags and "expires" not in flags, f"not a browser-session cookie: {session_cookie!r}")
    state["home"] = home
    return (
        f"{state['username']} logged in (Secure, HttpOnly, browser-session cookie) and sees My classes at {home_path}"
    )


def check_private_pages(browser: Browser, state: dict) -> str:
    home = state.get("home")
    expect(home is not None, "no logged-in page to check (the login check failed)")
    cache_control = home.header("Cache-Control")
    expect("no-store" in cache_control and "private" in cache_control, f"Cache-Control {cache_control!r}")
    return f"a logged-in page says Cache-Control: {cache_control}"


def check_gzip_pages(browser: Browser, state: dict) -> str:
    sizes = set()
    for _ in range(3):
        response = browser.request("GET", "/accounts/login/", headers={"Accept-Encoding": "gzip"})
        encoding = response.header("Content-Encoding")
        expect(response.status == 200 and encoding == "gzip", f"{response.status}, Content-Encoding {encoding!r}")
        expect("Accept-Encoding" in response.header("Vary"), f"Vary {response.header('Vary')!r}")
        page = gzip.decompress(response.body)
        expect(b"csrfmiddlewaretoken" in page, "the decompressed login page has no form")
        sizes.add(len(response.body))
    plain = browser.request("GET", "/accounts/login/")
    expect(plain.header("Content-Encoding") == "", "a page was compressed for a client that did not ask")
    return f"HTML is gzipped ({min(sizes)}–{max(sizes)} bytes of {len(plain.body)}; sizes vary: BREACH padding)"


def check_lockout_per_address(browser: Browser, state: dict) -> str:
    # A stranger guesses a pupil's password from one address, sent exactly as nginx writes the
    # header (one address); the pupil, at school, must still get in.
    pupil = state["pupil"]
    attacker = Browser(browser.base, address="198.51.100.66")
    statuses = []
    for _ in range(7):
        attacker.cookies.clear()
        statuses.append(log_in(attacker, pupil, "not-the-password").status)
    expect(statuses[-1] == 429, f"wrong passwords from one address gave {statuses}, never locked")
    attacker.cookies.clear()
    locked = log_in(attacker, pupil, state["password"]).status
    expect(locked == 429, f"the locked address logged in with the right password ({locked})")
    posted = log_in(Browser(browser.base, address="203.0.113.50"), pupil, state["password"])
    expect(posted.status == 302, f"the pupil at another address was refused ({posted.status}): a global lock-out")
    return f"{pupil}: 7 wrong passwords from 198.51.100.66 gave {statuses}; from 203.0.113.50 the pupil logs in"


def check_not_found(browser: Browser, state: dict) -> str:
    response = browser.request("GET", "/prod-smoke/no-such-page/")
    expect(response.status == 404, f"status {response.status}")
    expect("Page not found" in response.text, "not the friendly 404 template")
    expect("Traceback" not in response.text and "DEBUG" not in response.text, "debug output in the 404 page")
    return "404 with the friendly template, no debug page"


CHECKS: list[tuple[str, Callable[[Browser, dict], str]]] = [
    ("healthz", check_healthz),
    ("readyz", check_readyz),
    ("https redirect", check_https_redirect),
    ("security headers", check_security_headers),
    ("static file", check_static_file),
    ("page assets", check_page_assets),
    ("login", check_login),
    ("private pages", check_private_pages),
    ("gzip pages", check_gzip_pages),
    ("lock-out", check_lockout_per_address),
    ("404 page", check_not_found),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="e.g. http://127.0.0.1:8000")
    parser.add_argument("--username", default="ms.khan")
    parser.add_argument("--pupil", default="amelia.brown", help="a pupil with the same password, for the lock-out")
    parser.add_argument("--password", default="cuba-1962")
    args = parser.parse_args()
    browser = Browser(args.base.rstrip("/"))
    state = {"username": args.username, "pupil": args.pupil, "password": args.password}
    failures = 0
    for name, check in CHECKS:
        try:
            detail = check(browser, state)
        except (CheckFailed, OSError, http.client.HTTPException) as exc:
            failures += 1
            print(f"FAIL  {name:<17} {type(exc).__name__ + ': ' if not isinstance(exc, CheckFailed) else ''}{exc}")
        else:
            print(f"ok    {name:<17} {detail}")
    print(f"prod-smoke: {len(CHECKS) - failures} of {len(CHECKS)} checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
