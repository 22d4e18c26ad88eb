"""Drafts, the library and the dashboards in a real browser: publish a draft (search then shows it
verified), edit and reject one, a runbook's own HTML and scripts never run in the page, search as
you type, every dashboard draws its charts or says why not; no page breaks its own CSP, and
axe-core finds no serious accessibility problem."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from faultmaven_runbooks.api.learning import LearnRequest
from faultmaven_runbooks.api.ops import BackupRequest

from .browser import AXE
from .conftest import API_TOKEN

pytestmark = pytest.mark.long

DRAFT = "draft-oom-after-cache-growth"
HOSTILE = """---
id: hostile-runbook
title: Hostile runbook
status: verified
---
# Hostile runbook

<script>window.__pwned = "script"</script>

<img src="/nothing" onerror="window.__pwned = 'onerror'">

[open me](javascript:window.__pwned='link') and [data](data:text/html,<script>alert(1)</script>)

<iframe src="javascript:window.top.__pwned='iframe'"></iframe>

## Diagnosis
`kubectl get pods -n {namespace}` shows "<b>bold</b>" as text.
"""


def test_publish_a_draft_then_search_shows_it_verified(console, web):
    web.sign_in(console.url, console.tokens["alice"], start="/ui/drafts")
    assert DRAFT in web.text("#drafts")
    web.find(f"#drafts a[href='/ui/drafts/{DRAFT}']").click()
    web.wait(lambda: web.all("#publish"))
    assert web.text("#status") == "draft"
    closest = web.find("#closest").get_attribute("href")
    assert closest.endswith("/ui/library/container-oom-killed")  # the reviewed OOMKilled runbook
    diff = web.text("pre.diff")
    assert "+# Pods OOMKilled after the session cache grew" in diff.splitlines()
    assert "-# Container OOMKilled by the kernel" in diff.splitlines()
    web.find("#publish").click()
    web.wait(lambda: web.all("#done"))
    assert "Published" in web.text("#done") and DRAFT in web.text("#done")
    assert "No draft is waiting for review." in web.text("main")

    web.open(f"{console.url}/ui/library?q=session+cache+OOMKilled")
    hit = web.wait(lambda: web.all(f"li.hit[data-id='{DRAFT}']"))[0]
    assert "verified" in hit.text
    web.open(f"{console.url}/ui/library/{DRAFT}")
    history = web.text("aside")
    assert "Version 2 is current" in history and "v1 replaced" in history and "by alice" in history
    web.find("aside a").click()
    web.wait(lambda: web.all("pre.diff"))
    assert "+status: verified" in web.text("pre.diff") and "-status: draft" in web.text("pre.diff")


def test_edit_then_reject_a_draft(console, web):
    web.sign_in(console.url, console.tokens["bob"], start=f"/ui/drafts/{DRAFT}")
    content = web.find("#content")
    content.send_keys("\n\n## Prevention\nAlert on the cache size before it reaches the limit.\n")
    web.find("form[action$='/edit'] button").click()
    web.wait(lambda: "version 2" in web.text("main"))
    assert "Alert on the cache size" in web.text(".markdown") and web.text("#status") == "draft"
    web.find("#reject-reason").send_keys("duplicates the OOMKilled runbook")
    web.find("#reject").click()
    web.wait(lambda: web.all("#done"))
    assert "Rejected" in web.text("#done")
    rejected = console.service.get_runbook(DRAFT).metadata
    assert rejected["status"] == "deprecated" and rejected["rejected_by"] == "bob"
    assert rejected["rejected_reason"] == "duplicates the OOMKilled runbook"


def test_a_runbooks_html_and_scripts_never_run(console, web):
    (console.service.settings.library_dir / "static" / "hostile.md").write_text(HOSTILE)
    console.service.reindex()
    web.sign_in(console.url, console.tokens["alice"], start="/ui/library/hostile-runbook")
    body = web.find(".markdown")
    assert web.driver.execute_script("return window.__pwned === undefined")
    assert '<script>window.__pwned = "script"</script>' in body.text  # shown as text
    assert not body.find_elements("css selector", "script, img, iframe")
    assert all(not (a.get_attribute("href") or "").startswith(("javascript:", "data:"))
               for a in body.find_elements("css selector", "a"))
    assert '"<b>bold</b>"' in body.text
    web.open(f"{console.url}/ui/library?q=Hostile+runbook")
    web.wait(lambda: web.all("li.hit"))
    assert web.driver.execute_script("return window.__pwned === undefined")
    # Nothing even tried to run: no CSP violation, no script error, nothing fetched for the <img>.
    assert [e for e in web.console_errors() if "favicon" not in e] == []


def test_search_as_you_type(console, web):
    web.sign_in(console.url, console.tokens["alice"], start="/ui/library")
    assert "runbooks. Type to search them." in web.text("#results")
    web.find("#q").send_keys("certificate expired x509")
    web.wait(lambda: web.all("li.hit"))
    assert web.path().startswith("/ui/library?q=certificate")  # the address follows, so it can be shared
    assert "certificate" in web.text("li.hit").lower()


def _alertmanager(console, status: str, *alerts: dict) -> None:
    """One Alertmanager notification through the served webhook, as Alertmanager posts it."""
    body = {"version": "4", "status": status, "receiver": "runbooks", "groupKey": "{}:{}", "alerts": list(alerts)}
    answer = httpx.post(f"{console.url}/webhooks/alertmanager", json=body, timeout=60,
                        headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert answer.status_code == 200, answer.text


def _oom(fingerprint: str, status: str = "firing") -> dict:
    return {"status": status, "fingerprint": fingerprint, "labels": {"alertname": "KubePodOOMKilled", "pod": fingerprint},
            "startsAt": "2031-05-17T09:00:00Z", "endsAt": "2031-05-17T09:30:00Z" if status == "resolved" else None}


def _activity(console, clock) -> None:
    """Something for every dashboard to show: an applied change, a learned incident, a backup, and
    alerts through the webhook (two fire, one resolves the next day after 30 minutes of firing)."""
    execution_id = console.plan_change()
    console.service.decide(execution_id, "alice", "approve", None, "console")
    console.service.learn(LearnRequest.model_validate({"incident_data": {
        "id": "inc-1", "type": "pod_oom", "success": True, "duration": "12m", "runbook_used": "container-oom-killed",
        "symptoms": ["OOMKilled"], "resolution": ["raise memory limit"]}}))
    console.service.backup(BackupRequest(kind="daily"))
    _alertmanager(console, "firing", _oom("oom-a"), _oom("oom-b"))
    _alertmanager(console, "firing", _oom("oom-a"), _oom("oom-b"))  # a re-send: no new alert
    clock.advance(days=1)
    _alertmanager(console, "resolved", _oom("oom-a", "resolved"))


@pytest.mark.parametrize("slug,title,drawn", [
    ("performance", "Runbook Performance", {"usage", "success", "resolution", "with-without", "executions-over-time"}),
    ("learning", "AI Learning Progress", {"confidence", "frequency", "fixes"}),
    ("storage", "Storage Health", {"use", "backups", "disk"}),
    ("incidents", "Incident Trends", {"alerts", "alert-resolution", "incident-types"}),
])
def test_each_dashboard_draws_its_charts(console, web, clock, slug, title, drawn):
    _activity(console, clock)
    web.sign_in(console.url, console.tokens["alice"], start=f"/ui/dashboards/{slug}")
    assert web.text("h1") == title
    shown = set(web.wait(lambda: {f.get_attribute("id").removeprefix("chart-")
                                  for f in web.all("figure.chart[data-drawn='true']")} >= drawn and
                         {f.get_attribute("id").removeprefix("chart-") for f in web.all("figure.chart[data-drawn]")}))
    assert shown >= drawn
    for figure in web.all("figure.chart:not([data-drawn])"):  # nothing to draw: it says why
        assert figure.find_element("css selector", ".empty").text
    assert [e for e in web.console_errors() if "favicon" not in e] == []  # no CSP violation, no script error
    if slug == "incidents":  # from the triage records the webhook created
        day = clock().date()
        assert _figures(web, "alerts") == [[str(day - dt.timedelta(days=1)), "2.0", "0.0"], [str(day), "0.0", "1.0"]]
        assert _figures(web, "alert-resolution") == [["with a runbook", "-"], ["without a runbook", "30.0"]]
        assert web.text(".summary").splitlines()[:6] == [
            "alerts recorded (newest shown)", "2", "firing now", "1", "resolved", "1"]
    if slug == "learning":
        assert web.text(".summary").splitlines()[:2] == ["incidents learned", "1"]


def _figures(web, chart: str) -> list[list[str]]:
    """A chart's figures table (inside a closed <details>, so read as text content)."""
    rows = web.all(f"#chart-{chart} tbody tr")
    return [[cell.get_attribute("textContent").strip() for cell in row.find_elements("css selector", "th, td")]
            for row in rows]


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core is installed by `make test` (npm, into .axe/)")
def test_pages_pass_axe_and_work_from_the_keyboard(console, web):
    console.plan_change()
    web.open(f"{console.url}/ui/login")
    assert web.axe() == []
    web.sign_in(console.url, console.tokens["alice"])
    for path in ("/ui/executions", "/ui/drafts", f"/ui/drafts/{DRAFT}", "/ui/library", "/ui/library?q=oom",
                 "/ui/library/container-oom-killed", "/ui/dashboards/performance"):
        web.open(console.url + path)
        assert web.axe() == [], path
    web.open(f"{console.url}/ui/executions")
    from selenium.webdriver.common.keys import Keys

    web.find("body").send_keys(Keys.TAB)
    skip = web.driver.switch_to.active_element
    assert skip.text == "Skip to content"
    skip.send_keys(Keys.ENTER)
    assert web.driver.switch_to.active_element.get_attribute("id") == "main"
