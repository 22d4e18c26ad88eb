"""Headless Chromium for the console tests: the system browser and driver, a fresh profile, no
network beyond loopback, and the browser console (CSP violations, script errors) kept for asserts."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
AXE = Path(__file__).resolve().parents[2] / ".axe" / "node_modules" / "axe-core" / "axe.min.js"


class Browser:
    def __init__(self) -> None:
        self.profile = tempfile.TemporaryDirectory(prefix="console-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
                     f"--user-data-dir={self.profile.name}", "--window-size=1280,1000",
                     # Offline: every name but loopback fails to resolve, so nothing could come from a CDN.
                     "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(DRIVER))
        self.driver.set_page_load_timeout(60)

    def quit(self) -> None:
        self.driver.quit()
        self.profile.cleanup()

    # -- reading the page -----------------------------------------------------------------------
    def open(self, url: str) -> None:
        self.driver.get(url)

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str = "main") -> str:
        return self.find(css).text

    def path(self) -> str:
        return re.sub(r"^https?://[^/]+", "", self.driver.current_url)

    def wait(self, predicate: Callable[[], object], timeout: float = 20.0) -> object:
        deadline = time.time() + timeout
        while True:
            try:
                value = predicate()
            except Exception:  # the page may be between two documents
                value = None
            if value:
                return value
            if time.time() > deadline:
                raise AssertionError(f"timed out waiting on {self.driver.current_url}: {self.text('body')[:500]}")
            time.sleep(0.1)

    def console_errors(self) -> list[str]:
        """Messages the browser console logged at SEVERE since the last call (CSP violations,
        script errors, failed loads)."""
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    # -- acting ---------------------------------------------------------------------------------
    def sign_in(self, base: str, token: str, start: str = "/ui/executions") -> None:
        self.open(base + start)
        self.wait(lambda: self.path().startswith("/ui/login"))
        self.find("#token").send_keys(token)
        self.find("form.stack button[type=submit]").click()
        self.wait(lambda: not self.path().startswith("/ui/login") or self.all("#login-error"))

    def axe(self) -> list[dict]:
        """axe-core's serious and critical violations on the current page (WCAG 2 A and AA)."""
        self.driver.execute_script(AXE.read_text())
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']}).then(r => done(r.violations.map("
            "v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))));")
        return [v for v in result if v["impact"] in ("serious", "critical")]
