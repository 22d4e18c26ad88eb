"""Queries in a busy server: concurrent searches share forward passes, and a search never waits
for a model that is still loading."""

from __future__ import annotations

import logging
import threading

import numpy as np

from .embedder import Embedder

log = logging.getLogger(__name__)


_loading: set[int] = set()
_loading_lock = threading.Lock()


def ready_or_loading(embedder: Embedder) -> bool:
    """True when the model is loaded; else starts loading it in the background (once) and says
    False, so a search can answer from keywords instead of waiting for a model to compile."""
    if getattr(embedder, "loaded", True):
        return True
    with _loading_lock:
        if id(embedder) not in _loading:
            _loading.add(id(embedder))

            def load() -> None:
                try:
                    embedder.embed(["load the model"])
                except Exception:  # searches keep answering from keywords; indexing reports it
                    log.exception("loading the embedding model failed")
                finally:
                    with _loading_lock:
                        _loading.discard(id(embedder))

            threading.Thread(target=load, name="model-load", daemon=True).start()
    return False


class QueryBatcher:
    """Concurrent searches share forward passes: while one batch of queries runs through the
    model, the queries that arrive wait together and go through as the next batch. A batch of
    eight short queries costs little more than one, so throughput grows with concurrency
    instead of queueing behind one query at a time. No query waits for a batch to fill."""

    MAX_BATCH = 32

    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._busy = False

    def embed_one(self, text: str) -> np.ndarray:
        mine = _Pending(text)
        with self._cond:
            self._queue.append(mine)
            while not mine.done:
                if self._busy:
                    self._cond.wait()
                    continue
                self._busy = True
                batch, self._queue = self._queue[: self.MAX_BATCH], self._queue[self.MAX_BATCH:]
                self._cond.release()
                try:
                    self._run(batch)
                finally:
                    self._cond.acquire()
                    self._busy = False
                    self._cond.notify_all()
        if mine.error is not None:
            raise mine.error
        assert mine.vector is not None  # the batch that took it set its vector or its error
        return mine.vector

    def _run(self, batch: list[_Pending]) -> None:
        try:
            # Queries do not queue behind indexing passes for a core (see OnnxEncoder.embed).
            embed = getattr(self.embedder, "embed_urgent", self.embedder.embed)
            vectors = embed([p.text for p in batch])
            for pending, vector in zip(batch, vectors, strict=True):
                pending.vector = vector
        except Exception as exc:  # every caller in the batch gets the error, none hangs
            for pending in batch:
                pending.error = exc
        for pending in batch:
            pending.done = True


class _Pending:
    __slots__ = ("text", "vector", "error", "done")

    def __init__(self, text: str):
        self.text = text
        self.vector: np.ndarray | None = None
        self.error: Exception | None = None
        self.done = False
