"""Compile a sentence-transformers model to ONNX for the serving process.

    python -m faultmaven_runbooks.search.model_export MODEL_LOCATION FOLDER

The embedder runs this in a child process so the server never imports torch. It loads the
model with sentence-transformers, exports transformer + mean pooling + L2 normalisation, and
keeps the result only if ONNX Runtime, through the server's own OnnxEncoder, reproduces the
model's embeddings (a short text, a batch of mixed lengths, a text past the length limit).
FOLDER appears whole or not at all: it is built beside and renamed into place.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from ..memory import pause_collector
from .embedder import load_sentence_transformer
from .onnx_encoder import OnnxEncoder

REFERENCE_TEXT = "pods evicted under node memory pressure"
PROBES = [
    "x509: certificate has expired",
    "the ingress returns 502 while the upstream pods restart during a rollout",
    "disk full " * 200,  # longer than any max_seq_length: truncation must match too
]
FAITHFUL = 0.9999  # cosine between the model's vector and the compiled one, for every probe
# The int8 copy (weights quantised per channel, activations at run time) is kept only when every
# probe stays this close to the full-precision vector; retrieval with it is measured in
# benchmarks/retrieval_quality.py (README: recall within 0.01 of full precision).
QUANTISED_FAITHFUL = 0.97

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def mean_pooled_encoder(transformer):
    import torch

    class MeanPooledEncoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1)

    return MeanPooledEncoder().eval()


def export(location: str, folder: Path) -> None:
    import torch

    model = load_sentence_transformer(location)
    features = model.preprocess(["compile the query encoder with this sentence"])
    inputs = [name for name in INPUTS if name in features]
    build = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # exporter notes about shape-dependent branches
            torch.onnx.export(
                mean_pooled_encoder(model[0].auto_model), tuple(features[name] for name in inputs),
                str(build / "model.onnx"), input_names=inputs, output_names=["embedding"],
                dynamic_axes={**{name: {0: "batch", 1: "tokens"} for name in inputs}, "embedding": {0: "batch"}},
                opset_version=17, dynamo=False,
            )
        model.tokenizer.backend_tokenizer.save(str(build / "tokenizer.json"))
        meta = {
            "model": location,
            "dimension": int(model.get_embedding_dimension()),
            "max_seq_length": int(model.max_seq_length),
            "reference_text": REFERENCE_TEXT,
            "reference_vector": [],
        }
        (build / "export.json").write_text(json.dumps(meta))
        compiled = OnnxEncoder(build)
        texts = [REFERENCE_TEXT, *PROBES]
        expected = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
        got = compiled.embed(texts)
        worst = float(np.min(np.sum(expected * got, axis=1)))
        if worst < FAITHFUL:
            raise SystemExit(f"the ONNX export of {location} is not faithful (cosine {worst:.6f} < {FAITHFUL})")
        meta["reference_vector"] = got[0].tolist()
        meta["int8_reference_vector"] = quantise(build, texts, got)
        (build / "export.json").write_text(json.dumps(meta))
        try:
            os.rename(build, folder)
        except OSError:  # another process compiled the same model first: keep theirs
            if not (folder / "export.json").exists():
                raise
    finally:
        shutil.rmtree(build, ignore_errors=True)


def quantise(build: Path, texts: list[str], full: np.ndarray) -> list[float] | None:
    """Write model.int8.onnx beside model.onnx: about four times smaller and several times
    faster on CPUs with int8 dot products. Its reference vector, or None when it strays."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(build / "model.onnx"), str(build / "model.int8.onnx"), weight_type=QuantType.QInt8,
                     per_channel=True, op_types_to_quantize=["MatMul"])
    encoder = OnnxEncoder(build, precision="int8")
    got = np.stack([encoder.embed([text])[0] for text in texts])
    if float(np.min(np.sum(full * got, axis=1))) < QUANTISED_FAITHFUL:
        (build / "model.int8.onnx").unlink()
        return None
    # Activations are quantised per pass, so a text's vector shifts a little with the texts
    # beside it; the reference is the reference text alone, as the load check embeds it.
    return got[0].tolist()


def main() -> None:
    location, folder = sys.argv[1], Path(sys.argv[2])
    # A short-lived child: importing torch, transformers and onnx is most of its work and leaves
    # next to no garbage. With no collections a compile took 7.7 s of CPU instead of 8.9 s, and
    # peaked 27 MB higher (1.11 GB).
    pause_collector()
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        export(location, folder)
    except SystemExit:
        raise
    except Exception as exc:  # the parent reports the last line and falls back to the model itself
        raise SystemExit(f"cannot compile {location} to ONNX: {type(exc).__name__}: {exc}") from exc


if __name__ == "__main__":
    main()
