"""A compiled model (see model_export.py) run by ONNX Runtime.

Each forward pass runs on its caller's thread, at most one per core at a time: a bulk embed
spreads its length-sorted batches over the cores (independent passes scale better than one
pass split across threads), and a query never waits behind a whole indexing batch.
"""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

BATCH = 32  # texts per forward pass at most; sorted by length, so padding stays small
# A pass's activations grow with texts x tokens^2 (attention): four texts of 256 tokens take
# about 90 MB, sixteen about 400. Long texts go a few at a time, short ones many.
PASS_BUDGET = 4 * 256 * 256
CORES = max(1, os.cpu_count() or 1)


class OnnxEncoder:
    """A compiled model (model.onnx or model.int8.onnx, tokenizer.json, export.json) run by ONNX
    Runtime."""

    def __init__(self, folder: Path, precision: str = "fp32"):
        import onnxruntime
        from tokenizers import Tokenizer

        self.meta = json.loads((folder / "export.json").read_text())
        self.precision = precision
        self.dimension = int(self.meta["dimension"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()  # each batch is padded to its own longest text below
        self.tokenizer.enable_truncation(int(self.meta["max_seq_length"]))
        options = onnxruntime.SessionOptions()
        options.enable_cpu_mem_arena = False  # give activations back after a big batch
        options.intra_op_num_threads = 1  # a pass runs on its caller's thread; passes run side by side
        options.inter_op_num_threads = 1
        model = folder / ("model.int8.onnx" if precision == "int8" else "model.onnx")
        self.session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self._slots = threading.BoundedSemaphore(CORES)  # forward passes at once: one per core
        self._pool: ThreadPoolExecutor | None = None

    def embed(self, texts: list[str], urgent: bool = False) -> np.ndarray:
        """`urgent`: queries, a few short texts, run at once beside indexing passes instead of
        waiting for a core slot (they take a millisecond or two; a pass of long chunks, seconds)."""
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        batches: list[list[int]] = [[]]
        for i in order:
            width = len(encodings[i].ids)
            if batches[-1] and (len(batches[-1]) >= BATCH or (len(batches[-1]) + 1) * width * width > PASS_BUDGET):
                batches.append([])
            batches[-1].append(i)

        def run(rows: list[int]) -> None:
            width = max(len(encodings[i].ids) for i in rows)
            feeds = {name: np.zeros((len(rows), width), dtype=np.int64) for name in self.inputs}
            for row, i in enumerate(rows):
                enc, n = encodings[i], len(encodings[i].ids)
                feeds["input_ids"][row, :n] = enc.ids
                feeds["attention_mask"][row, :n] = 1
                if "token_type_ids" in feeds:
                    feeds["token_type_ids"][row, :n] = enc.type_ids
            if urgent:
                out[rows] = self.session.run(None, feeds)[0]
                return
            with self._slots:
                out[rows] = self.session.run(None, feeds)[0]

        if len(batches) == 1 or CORES == 1:
            for rows in batches:
                run(rows)
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=CORES, thread_name_prefix="embed")
            for _ in self._pool.map(run, batches):
                pass
        return out

    def reproduces_its_reference(self) -> bool:
        """Does this file still give the vector the export checked against the model?"""
        reference = self.meta.get("int8_reference_vector" if self.precision == "int8" else "reference_vector")
        if not reference:
            return False
        got = self.embed([self.meta["reference_text"]])[0]
        return float(got @ np.asarray(reference, dtype=np.float32)) > 0.9999
