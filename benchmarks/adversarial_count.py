"""Run the adversarial table against the tests' fake API server and print the count.

    .venv/bin/python benchmarks/adversarial_count.py
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.executor.adversarial_run import run_cases  # noqa: E402
from tests.executor.fake_kube import FakeKube  # noqa: E402


def main() -> int:
    fake = FakeKube().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rows = run_cases(fake.url, Path(tmp), fake.requests)
    finally:
        fake.stop()
    reached = sum(r["reached_api"] for r in rows)
    unexplained = [r["id"] for r in rows if r["keyword"].lower() not in r["reason"].lower()]
    kinds = Counter(r["classification"] for r in rows)
    print(f"hostile cases: {len(rows)}   reached the API: {reached}   "
          f"refused: {kinds['refused']}   manual: {kinds['manual']}   "
          f"other: {len(rows) - kinds['refused'] - kinds['manual']}")
    print(f"requests recorded by the fake API server: {len(fake.requests)}")
    if unexplained:
        print("cases without the expected reason:", ", ".join(unexplained))
    return 0 if reached == 0 and not unexplained and len(fake.requests) == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
