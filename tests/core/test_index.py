"""Indexing: incremental by content hash, deletions, model changes, bad files."""

import logging

from faultmaven_runbooks.service import RunbookService


def test_first_sync_indexes_every_readable_runbook(service):
    report = service.reindex()
    assert report.indexed == 0 and report.unchanged == 9  # second sync: nothing re-embedded
    ids = set(service.index.mirror().infos)
    assert {"pod-crashloop", "container-oom-killed", "volume-disk-full", "hugostyle", "latin1"} <= ids
    assert "_index" not in ids  # the stub


def test_unchanged_files_are_not_re_embedded_changed_and_deleted_are(service, library_dir):
    calls = []
    original = service.embedder.embed
    service.embedder.embed = lambda texts: calls.append(len(texts)) or original(texts)
    (library_dir / "static/compute/oom-killed.md").write_text(
        (library_dir / "static/compute/oom-killed.md").read_text().replace("exit code 137", "exit code 137 (SIGKILL)")
    )
    (library_dir / "static/storage/disk-full.md").unlink()
    report = service.reindex()
    assert (report.indexed, report.removed, report.unchanged) == (1, 1, 7)
    assert sum(calls) == report.chunks > 0
    infos = service.index.mirror().infos
    assert "volume-disk-full" not in infos and "container-oom-killed" in infos
    assert not service.search("ENOSPC no space left on device").results or \
        service.search("ENOSPC no space left on device").results[0].id != "volume-disk-full"


def test_reindex_of_one_path_picks_up_a_new_file(service, library_dir):
    (library_dir / "static/compute/new.md").write_text("---\nid: brand-new\ntitle: Zookeeper quorum lost\n---\n# Zookeeper quorum lost\n\nEnsemble lost quorum.\n")
    report = service.reindex(["static/compute/new.md"])
    assert report.indexed == 1
    assert service.search("Zookeeper quorum lost").results[0].id == "brand-new"


def test_opening_with_another_model_rebuilds_instead_of_failing(settings):
    first = RunbookService(settings)
    first.reindex()
    other = RunbookService(settings.model_copy(update={"embedding_model": "hash:128"}))
    report = other.reindex()
    assert report.rebuilt is True
    assert report.indexed == 9
    # Query vectors of the new dimension work: no dimension error at query time.
    assert other.search("CrashLoopBackOff").results[0].id == "pod-crashloop"


def test_one_bad_file_never_stops_the_rest(service, library_dir, caplog):
    (library_dir / "static/bad.md").write_bytes(b"\xff\xfe\x00garbage")
    with caplog.at_level(logging.WARNING):
        report = service.reindex()
    assert report.skipped == 2  # the bad file and the fixture's stub
    assert sum("static/bad.md" in r.getMessage() for r in caplog.records) == 1
    assert service.search("CrashLoopBackOff").results


def test_duplicate_ids_are_both_served(service, library_dir):
    dup = library_dir / "static/compute/copy.md"
    dup.write_text((library_dir / "static/compute/pod-crashloop.md").read_text())
    service.reindex()
    ids = set(service.index.mirror().infos)
    assert "pod-crashloop" not in ids
    assert {"static-compute-copy", "static-compute-pod-crashloop"} <= ids
    dup.unlink()  # the clash ends: the original gets its own id back
    service.reindex()
    assert "pod-crashloop" in service.index.mirror().infos


def test_dimension_is_recorded_and_a_changed_model_behind_the_same_name_rebuilds(settings):
    from faultmaven_runbooks.search.embedder import HashingEmbedder

    first = RunbookService(settings)
    first.reindex()
    assert first.index.collection.metadata["dimension"] == 256
    # Same model name, other vectors: what a model swapped on disk under one name looks like.
    swapped = HashingEmbedder(64)
    swapped.name = "hash:256"
    second = RunbookService(settings, embedder=swapped)
    assert second.search("OOMKilled").results[0].id == "container-oom-killed"
    assert second.index.collection.metadata["dimension"] == 64
