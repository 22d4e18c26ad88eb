"""The console's guards over plain HTTP: cookie flags, security headers, the session key, forged
and tampered cookies, open redirects, login CSRF, read-only servers, and the API's bearer rules
left as they were."""

from __future__ import annotations

import contextlib
import re
import stat
from collections.abc import Iterator

import httpx
from itsdangerous import URLSafeSerializer

from faultmaven_runbooks.adapters.http import build_app
from faultmaven_runbooks.service import RunbookService
from tests.http.http_support import LiveServer

from .conftest import API_TOKEN, ConsoleServer


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@contextlib.contextmanager
def _signed_in(console: ConsoleServer, name: str = "alice") -> Iterator[httpx.Client]:
    web = httpx.Client(base_url=console.url, timeout=30)
    page = web.get("/ui/login")
    answer = web.post("/ui/login", data={"token": console.tokens[name], "csrf_token": _csrf(page.text),
                                         "next": "/ui/drafts"})
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/drafts"
    try:
        yield web
    finally:
        web.close()


def test_session_cookie_flags_over_http_and_behind_https(console):
    plain = httpx.get(f"{console.url}/ui/login").headers["set-cookie"].lower()
    assert plain.startswith("fm_console=") and "httponly" in plain and "samesite=strict" in plain
    assert "path=/ui" in plain and "secure" not in plain.replace("__secure", "")
    proxied = httpx.get(f"{console.url}/ui/login", headers={"X-Forwarded-Proto": "https"}).headers["set-cookie"]
    assert proxied.startswith("__Secure-fm_console=") and "; secure" in proxied.lower()


def test_pages_carry_a_strict_content_security_policy(console):
    with _signed_in(console) as web:
        for path in ("/ui/drafts", "/ui/executions", "/ui/library/exec-sampler", "/ui/dashboards/storage"):
            answer = web.get(path)
            csp = answer.headers["content-security-policy"]
            assert answer.status_code == 200 and "script-src 'self'" in csp and "unsafe" not in csp, path
            assert answer.headers["cache-control"] == "no-store" and answer.headers["x-frame-options"] == "DENY"
        assert "script-src 'self'" in httpx.get(f"{console.url}/ui/login").headers["content-security-policy"]
        asset = web.get("/ui/static/vendor/htmx.min.js")
        assert asset.status_code == 200 and "no-store" not in asset.headers.get("cache-control", "")


def test_the_api_keeps_its_bearer_token_and_the_guard_covers_the_console(console):
    with _signed_in(console) as web:
        assert web.get("/runbooks/executions").status_code == 401  # a console session is no API credential
        assert web.get("/runbooks/executions", headers={"Authorization": f"Bearer {API_TOKEN}"}).status_code == 200
        assert web.get("/ui/executions", headers={"Host": "evil.example"}).status_code == 421  # DNS rebinding
        refused = web.post("/ui/logout", data={"csrf_token": "x"}, headers={"Origin": "https://evil.example"})
        assert refused.status_code == 403


def test_login_needs_its_csrf_token_and_never_redirects_off_site(console):
    with httpx.Client(base_url=console.url, timeout=30) as web:
        page = web.get("/ui/login")
        missing = web.post("/ui/login", data={"token": console.tokens["alice"]})
        assert missing.status_code == 403 and "security token" in missing.text
        away = web.post("/ui/login", data={"token": console.tokens["alice"], "csrf_token": _csrf(page.text),
                                           "next": "https://evil.example/ui/x"})
        assert away.headers["location"] == "/ui/executions"


def test_forged_tampered_and_foreign_cookies_sign_nobody_in(console, tmp_path):
    with _signed_in(console) as web:
        cookie = web.cookies["fm_console"]
    key = (console.service.settings.data_dir / "console.key")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    forged = URLSafeSerializer("another-key-of-at-least-32-characters!!", salt="faultmaven-console-session").dumps(
        {"sid": "s", "who": "alice", "exp": "2099-01-01T00:00:00+00:00"})
    body, _, signature = cookie.rpartition(".")
    tampered = body.replace("a", "b", 1) + "." + signature
    for value in (forged, tampered, "garbage"):
        answer = httpx.get(f"{console.url}/ui/executions", cookies={"fm_console": value})
        assert answer.status_code == 303 and answer.headers["location"].startswith("/ui/login")
    # The key lives in the data dir: a restarted server (or a replica on the same data dir) accepts it.
    again = RunbookService(console.service.settings, clock=console.service.clock)
    live = LiveServer(build_app(again, None, again.settings)).start()
    try:
        assert httpx.get(f"{live.url}/ui/executions", cookies={"fm_console": cookie}).status_code == 200
    finally:
        live.stop()


def test_a_read_only_server_shows_plans_but_approves_nothing(console):
    execution_id = console.plan_change()
    app = build_app(console.service, None, console.service.settings, read_only=True)
    live = LiveServer(app).start()
    try:
        console.url, original = live.url, console.url
        with _signed_in(console) as web:
            page = web.get(f"/ui/executions/{execution_id}")
            assert "--read-only" in page.text and "button" in page.text and 'class="approve"' not in page.text
            refused = web.post(f"/ui/executions/{execution_id}/approve", data={"csrf_token": _csrf(page.text)},
                               headers={"Origin": live.url})
            assert refused.status_code == 403 and "read-only" in refused.text
        console.url = original
    finally:
        live.stop()
    assert console.kube.changes() == []


def test_the_console_can_be_turned_off(console):
    settings = console.service.settings.replace(console=False)
    live = LiveServer(build_app(console.service, None, settings)).start()
    try:
        assert httpx.get(f"{live.url}/ui/login").status_code == 401  # no exemption: the API's token rule
        assert httpx.get(f"{live.url}/ui/login", headers={"Authorization": f"Bearer {API_TOKEN}"}).status_code == 404
    finally:
        live.stop()


def test_bad_input_gets_a_page_that_says_what_to_fix_never_a_500(console):
    with _signed_in(console) as web:
        cases = {
            "/ui/library?q=oom&type=bogus": (400, "type"),
            "/ui/library/container-oom-killed/diff?from_version=0": (400, "from_version"),
            "/ui/library/container-oom-killed/diff?from_version=7": (400, "does not exist"),
            "/ui/library/no-such-runbook": (404, "no runbook"),
            "/ui/executions/not-an-id": (404, "not an execution id"),
            "/ui/executions/exec-000000000000": (404, "exec-000000000000"),
            "/ui/dashboards/nope": (404, "Runbook Performance"),
            "/ui/nowhere": (404, "no console page"),
        }
        for path, (status, said) in cases.items():
            answer = web.get(path)
            assert answer.status_code == status and said.lower() in answer.text.lower(), (path, answer.status_code)
        page = web.get("/ui/drafts/draft-oom-after-cache-growth")
        short = web.post("/ui/drafts/draft-oom-after-cache-growth/edit", headers={"Origin": console.url},
                         data={"csrf_token": _csrf(page.text), "title": "x", "content": "too short"})
        assert short.status_code == 400 and "title" in short.text and 'id="review-error"' in short.text
        stale = web.post("/ui/drafts/draft-oom-after-cache-growth/publish", headers={"Origin": console.url},
                         data={"csrf_token": _csrf(page.text), "version": "9"})
        assert stale.status_code == 409 and "not 9" in stale.text  # someone else changed it meanwhile
    assert console.service.get_runbook("draft-oom-after-cache-growth").metadata["status"] == "draft"
