"""One Settings object: flat FAULTMAVEN_RUNBOOKS_* names for every field whatever its group,
read once (environment over .env, arguments over both), reaching every feature; and the README
documents every one of them."""

from __future__ import annotations

import re
from pathlib import Path

from faultmaven_runbooks.adapters.cli.main import build_parser, read_settings
from faultmaven_runbooks.service import RunbookService
from faultmaven_runbooks.settings import GROUPS, Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_grouped_fields_keep_their_flat_variable_names(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("FAULTMAVEN_RUNBOOKS_STALE_DAYS=9\nFAULTMAVEN_RUNBOOKS_PORT=9000\n")
    monkeypatch.setenv("FAULTMAVEN_RUNBOOKS_WEBHOOK_DRY_RUN", "true")
    monkeypatch.setenv("FAULTMAVEN_RUNBOOKS_ALLOWED_HOSTS", "runbooks.internal:*, other:8080")
    monkeypatch.setenv("FAULTMAVEN_RUNBOOKS_PORT", "9100")  # the environment wins over .env
    settings = Settings()
    assert settings.alerts.webhook_dry_run is True
    assert settings.http.allowed_hosts == ["runbooks.internal:*", "other:8080"]
    assert settings.learning.stale_days == 9 and settings.http.port == 9100
    assert Settings(port=9200, stale_days=2).http.port == 9200  # arguments win over both


def test_cli_flags_and_the_environment_reach_every_feature(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FAULTMAVEN_RUNBOOKS_STALE_DAYS", "3")
    monkeypatch.setenv("FAULTMAVEN_RUNBOOKS_KEEP_DAILY", "2")
    monkeypatch.setenv("FAULTMAVEN_RUNBOOKS_EMBEDDING_MODEL", "hash:64")
    args = build_parser().parse_args(["serve", "--library", str(tmp_path / "lib"), "--data", str(tmp_path / "data"),
                                      "--port", "9300"])
    settings = read_settings(args)
    assert settings.library_dir == tmp_path / "lib" and settings.http.port == 9300
    service = RunbookService(settings)
    assert service.analytics.features.stale_days == 3 and service.backups.keep["daily"] == 2
    # the case thresholds live with the case flow (learning/case_runbooks.py), which authoring calls
    assert service.learning.features is settings.learning and service.cases.features is settings.learning


def test_the_readme_lists_every_setting():
    text = README.read_text()
    table = text[text.index("## Settings"):text.index("## State and the database")]
    documented = {name.lower() for row in table.splitlines() if row.startswith("| `")
                  for name in re.findall(r"`([A-Z_]+)`", row.split("|")[1])}
    fields = {name for name in Settings.model_fields if name not in GROUPS}
    fields |= {name for group in GROUPS.values() for name in group.model_fields}
    assert fields == documented, (sorted(fields - documented), sorted(documented - fields))
