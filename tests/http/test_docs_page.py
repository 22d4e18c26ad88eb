"""The interactive API docs in a real headless Chromium with the internet cut off: the page
loads its scripts and styles from this server alone and renders every operation."""

from __future__ import annotations

import json
import shutil
import time
from urllib.parse import urlparse

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

pytestmark = pytest.mark.long

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 # Offline: every name but loopback fails to resolve, so a CDN fetch could not succeed.
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    yield driver
    driver.quit()


def _requested_hosts(driver) -> set[str]:
    hosts = set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url.startswith("http"):
                hosts.add(urlparse(url).hostname)
    return hosts


def test_docs_render_every_operation_offline(start_server, browser):
    live = start_server(auth_token=None, mcp=False)  # a loopback server without a token, as `make run` starts
    paths = set(__import__("httpx").get(f"{live.url}/openapi.json").json()["paths"])
    browser.get(f"{live.url}/docs")
    deadline = time.time() + 30
    shown: set[str] = set()
    while time.time() < deadline and len(shown) < len(paths):
        shown = {el.get_attribute("data-path") for el in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
        time.sleep(0.2)
    assert shown == paths, paths - shown
    assert "FaultMaven runbooks" in browser.find_element(By.CSS_SELECTOR, ".info .title").text
    assert _requested_hosts(browser) == {"127.0.0.1"}  # scripts, styles, the document: all from here
