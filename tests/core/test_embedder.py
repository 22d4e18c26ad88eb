"""The default embedder: the real model compiled to ONNX, checked against sentence-transformers."""

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from faultmaven_runbooks.search.embedder import (
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    compiled_dir,
    load_sentence_transformer,
    model_location,
)
from faultmaven_runbooks.search.onnx_encoder import OnnxEncoder
from faultmaven_runbooks.settings import BUNDLED_MODEL

pytestmark = [pytest.mark.real_model, pytest.mark.long]  # long: it compiles the model, first

TEXTS = [
    "OOMKilled",
    "node disk pressure evicting pods",
    "the ingress returns 502 while upstream pods restart during a rollout, " * 3,
    "certificate expired " * 150,  # past the model's 256-token limit
]


@pytest.fixture(scope="module")
def compiled() -> OnnxEmbedder:
    embedder = OnnxEmbedder(BUNDLED_MODEL, Path(os.environ["FAULTMAVEN_RUNBOOKS_MODEL_CACHE"]), precision="fp32")
    embedder.embed(["compile or load"])
    return embedder


@pytest.fixture(scope="module")
def reference():
    return load_sentence_transformer(BUNDLED_MODEL)


def test_compiled_model_gives_the_models_own_vectors(compiled, reference):
    assert isinstance(compiled.backend, OnnxEncoder)
    expected = reference.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    one_by_one = np.stack([compiled.embed([text])[0] for text in TEXTS])
    batched = compiled.embed(TEXTS)  # padded to the longest text, in another order inside
    for got in (one_by_one, batched):
        assert got.dtype == np.float32 and got.shape == (len(TEXTS), 384)
        assert np.min(np.sum(expected * got, axis=1)) > 0.9999


def test_the_serving_side_never_imports_torch(compiled):
    probe = (
        "import sys; from pathlib import Path; from faultmaven_runbooks.search.embedder import OnnxEmbedder;"
        f"e = OnnxEmbedder({BUNDLED_MODEL!r}, Path({str(compiled.cache)!r})); e.embed(['hello']);"
        "print(type(e.backend).__name__, 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["OnnxEncoder", "False", "False"]


def test_a_damaged_compiled_model_is_compiled_again_once_by_processes_starting_together(compiled, tmp_path):
    folder = compiled_dir(BUNDLED_MODEL, tmp_path)
    shutil.copytree(compiled_dir(BUNDLED_MODEL, compiled.cache), folder)
    meta = json.loads((folder / "export.json").read_text())
    meta["reference_vector"] = [-x for x in meta["reference_vector"]]  # as if model.onnx had changed
    (folder / "export.json").write_text(json.dumps(meta))

    # Two servers starting at once on this cache (replicas, or `index` beside `serve`).
    probe = (
        "import logging, sys; from pathlib import Path; from faultmaven_runbooks.search.embedder import OnnxEmbedder;"
        "logging.basicConfig(level=logging.INFO, stream=sys.stderr);"
        f"e = OnnxEmbedder({BUNDLED_MODEL!r}, Path({str(tmp_path)!r}), precision='fp32');"
        "print(type(e.backend).__name__, *e.embed(['OOMKilled'])[0].tolist())"
    )
    starts = [subprocess.Popen([sys.executable, "-c", probe], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(2)]
    outputs = [process.communicate(timeout=300) for process in starts]
    assert all(process.returncode == 0 for process in starts), [err[-2000:] for _, err in outputs]
    assert sum(err.count("compiling embedding model") for _, err in outputs) == 1, [err for _, err in outputs]
    expected = compiled.embed(["OOMKilled"])[0]
    for out, _ in outputs:
        backend, *vector = out.split()
        assert backend == "OnnxEncoder" and float(np.asarray(vector, dtype=np.float32) @ expected) > 0.9999
    assert json.loads((folder / "export.json").read_text())["reference_vector"][0] != meta["reference_vector"][0]


def test_a_model_the_export_cannot_reproduce_runs_on_sentence_transformers(tmp_path, caplog):
    # The same weights pooled on the [CLS] token: the export (mean pooling) must notice it differs.
    model = tmp_path / "cls-pooled"
    shutil.copytree(model_location(BUNDLED_MODEL), model)
    pooling = model / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    pooling.write_text(json.dumps(config))

    embedder = OnnxEmbedder(str(model), tmp_path / "cache")
    with caplog.at_level(logging.WARNING):
        got = embedder.embed(["OOMKilled"])[0]
    assert isinstance(embedder.backend, SentenceTransformerEmbedder)
    assert "not faithful" in caplog.text
    expected = embedder.backend.model.encode(["OOMKilled"], normalize_embeddings=True)[0]
    assert float(got @ expected) > 0.9999
    assert not any((tmp_path / "cache").glob("*/export.json"))  # nothing half-made is left to be trusted


def test_the_default_int8_copy_stays_close_to_full_precision(compiled):
    """The served model is the int8 copy; the index records it as another model than fp32."""
    quantised = OnnxEmbedder(BUNDLED_MODEL, compiled.cache)
    assert quantised.name == f"{BUNDLED_MODEL}:int8" and compiled.name == BUNDLED_MODEL
    got = quantised.embed(TEXTS)
    assert quantised.backend.precision == "int8"
    assert np.min(np.sum(got * compiled.embed(TEXTS), axis=1)) > 0.97
    assert np.allclose(np.linalg.norm(got, axis=1), 1, atol=1e-4)


def test_a_bulk_embed_spread_over_cores_gives_the_same_vectors(compiled):
    texts = [f"pod {i} restarts with exit code {i % 7} " * (1 + i % 5) for i in range(70)]
    together = compiled.embed(texts)  # several batches, run side by side
    alone = np.stack([compiled.embed([t])[0] for t in texts[:10]])
    assert np.min(np.sum(together[:10] * alone, axis=1)) > 0.9999
