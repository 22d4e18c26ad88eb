"""The OpenAPI document is the contract: schemathesis generates requests from it (boundary
values, wrong types, missing fields, unknown methods) and checks every answer against it.

Checked: no 500, only documented status codes and content types, answers that match their
schemas, schema-violating requests refused, auth required, honest Allow headers. Not checked:
that every schema-valid request is accepted (`positive_data_acceptance`): some are refused by
the state they meet, with a 400 that says why (a cursor this server never gave out, a page past
a runbook's end, a section it lacks), which no JSON schema can express.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from faultmaven_runbooks.service import RunbookService
from tests.http.http_support import TOKEN, make_settings, write_library

pytestmark = pytest.mark.long

CHECKS = ["--checks", "all", "--exclude-checks", "positive_data_acceptance"]


@pytest.fixture(scope="module")
def contract_server(start_server, tmp_path_factory):
    # Its own library and data dir: the generated requests create runbooks, learn and back up.
    library = write_library(tmp_path_factory.mktemp("contract-library"))
    service = RunbookService(make_settings(library, tmp_path_factory.mktemp("contract-data"), auth_token=TOKEN))
    return start_server(service=service, mcp=False)


def test_the_api_keeps_its_openapi_contract(contract_server, tmp_path):
    st = Path(sys.executable).parent / "schemathesis"
    # One worker: the coverage phase parses lambdas with `ast`, which CPython 3.11 does not
    # allow from two threads at once.
    run = subprocess.run(
        [str(st), "run", f"{contract_server.url}/openapi.json", "-H", f"Authorization: Bearer {TOKEN}", *CHECKS,
         "--workers", "1", "--max-examples", "10", "--phases", "examples,coverage,fuzzing", "--seed", "1",
         "--no-color"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    tail = run.stdout[-3000:]
    assert run.returncode == 0, tail
    assert " passed" in tail and "failure" not in tail.split("SUMMARY")[-1], tail
