"""Never block: indexing runs in the background, searches answer from what is indexed so far,
a large write does not stall searching, and concurrent queries share forward passes."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from faultmaven_runbooks.search.batching import QueryBatcher
from faultmaven_runbooks.search.embedder import HashingEmbedder
from faultmaven_runbooks.search.text import MAX_CHUNKS_PER_FILE
from faultmaven_runbooks.service import RunbookService
from faultmaven_runbooks.settings import Settings
from tests.conftest import FIXTURES

pytestmark = pytest.mark.long


class SlowEmbedder(HashingEmbedder):
    """The test embedder at the pace of a real model on a busy machine: time per text."""

    def __init__(self, seconds_per_text: float):
        super().__init__(256)
        self.name = "hash:256"
        self.seconds_per_text = seconds_per_text
        self.batches: list[int] = []

    def embed(self, texts):
        self.batches.append(len(texts))
        time.sleep(self.seconds_per_text * len(texts))
        return super().embed(texts)


def big_library(root: Path, copies: int) -> Path:
    for n in range(copies):
        shutil.copytree(FIXTURES / "library" / "static", root / f"team-{n}")
    return root


def test_a_search_on_a_fresh_data_dir_answers_at_once_and_says_it_is_indexing(tmp_path):
    library = big_library(tmp_path / "library", 12)  # 60 runbooks, ~10 s to embed at this pace
    embedder = SlowEmbedder(0.02)
    svc = RunbookService(Settings(library_dir=library, data_dir=tmp_path / "data"), embedder=embedder)
    started = time.perf_counter()
    first = svc.search("pod keeps restarting CrashLoopBackOff")
    assert time.perf_counter() - started < 3.0
    assert first.index.indexing and first.index.indexed_runbooks < 60
    assert first.message.startswith("Indexing ") and "results cover what is indexed so far" in first.message
    deadline = time.monotonic() + 10
    while svc.index.status.total == 0 and time.monotonic() < deadline:  # planned: the total is known
        time.sleep(0.05)
    assert svc.health()["indexing"]["total"] == 60
    assert " of 60 runbooks" in svc.search("pod keeps restarting").message
    svc._indexer.join(60)  # the background pass finishes on its own
    done = svc.search("pod keeps restarting CrashLoopBackOff")
    assert not done.index.indexing and done.index.indexed_runbooks == 60
    assert done.results[0].title == "Pod stuck in CrashLoopBackOff"
    assert done.message is None


def test_a_large_write_never_blocks_searches(tmp_path):
    library = big_library(tmp_path / "library", 1)
    embedder = SlowEmbedder(0.02)
    svc = RunbookService(Settings(library_dir=library, data_dir=tmp_path / "data"), embedder=embedder)
    svc.reindex()
    sections = "\n\n".join(f"## Step {i}\n\n" + "Check the replica lag and the WAL sender state. " * 15
                           for i in range(150))
    (library / "huge.md").write_text(f"# Replication handbook\n\n{sections}\n")
    writer = threading.Thread(target=svc.reindex, args=(["huge.md"],))
    writer.start()
    time.sleep(0.3)  # the write is embedding now (150 chunks at 20 ms each)
    latencies = []
    while writer.is_alive() and len(latencies) < 5:
        started = time.perf_counter()
        result = svc.search("OOMKilled exit code 137")
        latencies.append(time.perf_counter() - started)
        assert result.results[0].id == "container-oom-killed"
    writer.join(60)
    assert latencies and max(latencies) < 1.0, latencies
    assert svc.search("Replication handbook replica lag WAL sender").results[0].id == "huge"


def test_a_file_past_the_chunk_cap_is_cut_with_a_warning(tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    body = "\n\n".join(f"# Part {i}\n\n" + "Words about the part. " * 50 for i in range(MAX_CHUNKS_PER_FILE + 40))
    (library / "dump.md").write_text(body)
    svc = RunbookService(Settings(library_dir=library, data_dir=tmp_path / "data", embedding_model="hash:256"))
    report = svc.reindex()
    assert any(f"more than {MAX_CHUNKS_PER_FILE} chunks" in w for w in report.warnings)
    assert svc.index.mirror().count == MAX_CHUNKS_PER_FILE


def test_concurrent_queries_share_forward_passes():
    embedder = SlowEmbedder(0.05)
    batcher = QueryBatcher(embedder)
    texts = [f"query number {i} about pods" for i in range(8)]
    out: dict[int, np.ndarray] = {}
    threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, batcher.embed_one(texts[i]))) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(embedder.batches) < 8 and sum(embedder.batches) == 8
    for i, text in enumerate(texts):  # each caller gets its own vector, not a neighbour's
        assert np.allclose(out[i], HashingEmbedder(256).embed([text])[0])


def test_a_failing_forward_pass_fails_every_caller_in_it_and_nobody_hangs():
    class Broken(HashingEmbedder):
        def embed(self, texts):
            time.sleep(0.05)
            raise RuntimeError("model file damaged")

    batcher = QueryBatcher(Broken())
    errors = []

    def call():
        try:
            batcher.embed_one("x")
        except RuntimeError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert errors == ["model file damaged"] * 4


def test_while_the_model_loads_searches_answer_from_keywords(tmp_path):
    """A model compiled on first use (minutes on a new machine) must not hold up a search of an
    index that already exists."""

    class LoadingEmbedder(HashingEmbedder):
        def __init__(self):
            super().__init__(256)
            self.loaded = False

        def embed(self, texts):
            if not self.loaded:
                time.sleep(3)
                self.loaded = True
            return super().embed(texts)

    library = big_library(tmp_path / "library", 1)
    settings = Settings(library_dir=library, data_dir=tmp_path / "data", embedding_model="hash:256")
    RunbookService(settings).reindex()
    svc = RunbookService(settings, embedder=LoadingEmbedder())
    started = time.perf_counter()
    result = svc.search("OOMKilled exit code 137")
    assert time.perf_counter() - started < 2.0
    assert result.results[0].id == "container-oom-killed"
    assert "still loading" in result.message
    deadline = time.monotonic() + 10
    while not svc.embedder.loaded and time.monotonic() < deadline:
        time.sleep(0.1)
    later = svc.search("OOMKilled exit code 137")
    assert later.results[0].why.semantic_similarity > 0 and later.message is None


def test_while_a_large_index_loads_searches_answer_at_once(tmp_path):
    """A warm data dir of 100k chunks takes seconds to load into memory: a search meanwhile says
    so at once instead of hanging (the load is slowed here as a large one would be)."""
    library = big_library(tmp_path / "library", 1)
    settings = Settings(library_dir=library, data_dir=tmp_path / "data", embedding_model="hash:256")
    RunbookService(settings).reindex()
    svc = RunbookService(settings)
    svc.reindex()  # nothing to do, and the mirror is not loaded yet
    original = svc.index._load_mirror

    def slow_load(*args):
        time.sleep(4)
        return original(*args)

    svc.index._load_mirror = slow_load
    loader = threading.Thread(target=svc.index.mirror)
    loader.start()
    time.sleep(0.2)
    started = time.perf_counter()
    result = svc.search("OOMKilled exit code 137")
    assert time.perf_counter() - started < 2.5
    assert result.results == [] and "still loading" in result.message
    loader.join(10)
    assert svc.search("OOMKilled exit code 137").results[0].id == "container-oom-killed"
