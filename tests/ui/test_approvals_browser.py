"""Approving in a real browser: headless Chromium signs in with an approver credential, approves
one pending change (the fake Kubernetes API receives it exactly once) and rejects another; the
requester's own credential is refused; the API token cannot sign in; a cross-site form post and
a same-origin post without the CSRF token change nothing."""

from __future__ import annotations

import http.server
import threading

import pytest

from tests.executor.fake_kube import NS, POD

from .conftest import API_TOKEN

pytestmark = pytest.mark.long


def _card(web, execution_id: str):
    return web.find(f"article#{execution_id}")


def test_sign_in_approve_one_change_once_and_reject_another(console, web):
    first, second = console.plan_change(), console.plan_change()
    web.sign_in(console.url, console.tokens["alice"])
    assert web.path() == "/ui/executions"
    assert "Signed in as alice" in web.text("header")
    assert "Waiting for approval (2)" in web.text("main")
    card = _card(web, first)
    assert "mcp-client" in card.find_element("css selector", ".requester").text
    assert console.kube.url.replace("https://", "").replace("http://", "") in card.find_element(
        "css selector", ".cluster").text
    diff = card.find_element("css selector", "pre.diff").text
    assert f"- pod/{POD} in production (deleted" in diff  # the change, as the server's dry run saw it

    card.find_element("css selector", "textarea").send_keys("pod is wedged; checked with the team")
    card.find_element("css selector", "button.approve").click()
    web.wait(lambda: web.all("#outcome"))
    assert "Approved by alice" in web.text("#outcome")
    assert "completed" in web.text(f"article#{first} h2")
    assert "pod is wedged" in web.text(f"article#{first} .facts")
    assert len(console.kube.changes()) == 1 and console.kube.get("pods", POD, NS) is None
    assert not web.all("button.approve")  # decided: nothing left to press on this page

    web.open(f"{console.url}/ui/executions/{second}")
    web.find("textarea").send_keys("not during the release freeze")
    web.find("button.danger").click()
    web.wait(lambda: web.all("#outcome"))
    assert "Rejected by alice" in web.text("#outcome") and "rejected" in web.text("article h2")
    assert len(console.kube.changes()) == 1  # the rejection sent nothing

    web.open(f"{console.url}/ui/executions")
    assert "No plan is waiting for a person." in web.text("main")
    recent = web.text("#recent")
    assert first in recent and second in recent and "completed" in recent and "rejected" in recent
    assert console.service.get_execution(first).approval.via == "console"


def test_the_requesters_own_credential_is_refused(console, web):
    mine = console.plan_change(requester="bob")
    web.sign_in(console.url, console.tokens["bob"], start=f"/ui/executions/{mine}")
    assert web.path() == f"/ui/executions/{mine}"  # sign-in returns to the page asked for
    assert "You requested this execution" in web.text("article")
    web.find("button.approve").click()
    web.wait(lambda: web.all("#refusal"))
    assert "'bob' requested this execution and cannot approve it" in web.text("#refusal")
    assert "awaiting approval" in web.text("article h2")
    assert console.kube.changes() == []


def test_the_api_token_and_strangers_cannot_sign_in(console, web):
    for token, said in ((API_TOKEN, "The API token cannot sign in"),
                        ("fmra_" + "x" * 43, "not an approver credential")):
        web.driver.delete_all_cookies()
        web.sign_in(console.url, token)
        assert web.path().startswith("/ui/login") and said in web.text("#login-error")
    web.open(f"{console.url}/ui/dashboards")
    assert web.path().startswith("/ui/login")


@pytest.fixture
def hostile_site():
    """A page on another loopback port (same site for the browser, another origin) that posts an
    approval to the console as soon as it loads."""
    pages: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body = pages.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    yield pages, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_cross_site_post_and_a_post_without_the_csrf_token_change_nothing(console, web, hostile_site):
    pages, origin = hostile_site
    target = console.plan_change()
    web.sign_in(console.url, console.tokens["alice"])
    pages["/"] = (f'<form id="f" method="post" action="{console.url}/ui/executions/{target}/approve">'
                  '<input name="reason" value="free prizes"></form>'
                  '<script>document.getElementById("f").submit()</script>').encode()
    web.open(origin + "/")
    web.wait(lambda: web.path().startswith(f"/ui/executions/{target}"))
    assert "Refused" in web.text("h1") and "must be sent from the console itself" in web.text("main")

    # Same origin, signed in, but without the token a page of ours would carry: refused too.
    web.open(f"{console.url}/ui/executions/{target}")
    status = web.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"fetch('/ui/executions/{target}/approve', {{method: 'POST', body: new URLSearchParams({{reason: 'x'}})}})"
        ".then(r => r.text().then(t => done([r.status, t])));")
    assert status[0] == 403 and "security token is missing or stale" in status[1]
    assert console.kube.changes() == []
    assert console.service.get_execution(target).status == "awaiting_approval"


def test_a_session_ends_when_it_expires_or_the_approver_is_removed(console, web, clock):
    web.sign_in(console.url, console.tokens["alice"])
    assert web.path() == "/ui/executions"
    clock.advance(seconds=console.service.settings.ui.session_ttl_seconds + 1)
    web.open(f"{console.url}/ui/drafts")
    assert web.path().startswith("/ui/login?next=%2Fui%2Fdrafts")

    web.sign_in(console.url, console.tokens["alice"])
    assert web.path() == "/ui/executions"
    console.service.executions.approvers.remove("alice")
    web.open(f"{console.url}/ui/library")
    assert web.path().startswith("/ui/login") and "no longer holds an approver credential" in web.text("main")
