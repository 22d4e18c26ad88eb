"""The console as users install it: a wheel built from this tree carries the templates, the
stylesheet, the scripts and the vendored htmx and Chart.js with their licences, and the console
served from the installed wheel (not this source tree) answers its pages and assets."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from tests.core.test_wheel import build_wheel

pytestmark = pytest.mark.long

PROBE = """
import sys
import faultmaven_runbooks
from starlette.testclient import TestClient
from faultmaven_runbooks.adapters.http import build_app
from faultmaven_runbooks.service import RunbookService
from faultmaven_runbooks.settings import Settings
assert faultmaven_runbooks.__file__.startswith(sys.argv[1]), faultmaven_runbooks.__file__
settings = Settings(library_dir=sys.argv[2], data_dir=sys.argv[3], embedding_model="hash:64")
web = TestClient(build_app(RunbookService(settings), None, settings), base_url="http://127.0.0.1")
login = web.get("/ui/login")
assert login.status_code == 200 and "Approver credential" in login.text, login.text[:500]
for asset in ("console.css", "charts.js", "vendor/htmx.min.js", "vendor/chart.umd.min.js"):
    answer = web.get("/ui/static/" + asset)
    assert answer.status_code == 200 and len(answer.content) > 1000, asset
print("ok")
"""


def test_an_installed_wheel_serves_the_console(tmp_path):
    wheel = build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    ui = "faultmaven_runbooks/adapters/ui/"
    assert {ui + f"templates/{t}.html" for t in ("base", "login", "execution", "draft", "dashboard")} <= names
    assert {ui + f"static/vendor/{f}" for f in ("htmx.min.js", "htmx.LICENSE", "chart.umd.min.js",
                                                 "chart.js.LICENSE.md")} <= names
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(site),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    library = tmp_path / "library"
    library.mkdir()
    run = subprocess.run([sys.executable, "-c", PROBE, str(site), str(library), str(tmp_path / "data")],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path,
                         env={"PYTHONPATH": f"{site}:{':'.join(p for p in sys.path if 'site-packages' in p)}",
                              "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stderr[-2000:]
