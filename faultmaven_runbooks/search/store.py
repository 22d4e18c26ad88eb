"""The Chroma collection: embedded PersistentClient by default, HttpClient for a Chroma server.

The collection records which embedding model filled it. Opening it with another model
rebuilds it instead of failing later with a dimension error at query time.
"""

from __future__ import annotations

import logging
from typing import Any

from ..settings import Settings
from .embedder import Embedder

log = logging.getLogger(__name__)

# Bump when what is stored per chunk changes (chunking, metadata): an index of another format
# is rebuilt, as for another model. 2: small sections packed per top-level heading. 3: names
# spelled out in the text that is embedded.
INDEX_FORMAT = 3


def _adapter(embedder: Embedder):
    """Chroma must never fall back to its default embedding function (it downloads a model)."""
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

    class ProjectEmbeddingFunction(EmbeddingFunction[Documents]):
        def __init__(self, wrapped: Embedder | None = None, model: str = "") -> None:
            self.wrapped = wrapped
            self.model = wrapped.name if wrapped else model

        def __call__(self, input: Documents) -> Embeddings:
            if self.wrapped is None:  # rebuilt by Chroma from its stored config: no model behind it
                raise ValueError("faultmaven-runbooks passes its own embedder explicitly")
            return list(self.wrapped.embed(list(input)))

        @staticmethod
        def name() -> str:
            return "faultmaven-runbooks"

        def get_config(self) -> dict[str, Any]:
            return {"model": self.model}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> ProjectEmbeddingFunction:
            return ProjectEmbeddingFunction(model=config.get("model", ""))

        def is_legacy(self) -> bool:
            return False

    return ProjectEmbeddingFunction(embedder)


def connect(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
    path = settings.data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def stored_metadata(client, name: str, embedder: Embedder) -> dict[str, Any]:
    """The collection's metadata as the store holds it now (a Collection object keeps the
    metadata it was opened with, so another replica's changes do not show there)."""
    return dict(client.get_collection(name, embedding_function=_adapter(embedder)).metadata or {})


def open_collection(client, name: str, embedder: Embedder, dimension: int | None = None):
    """(collection, rebuilt): get or create the collection for this model; a collection filled
    by another model is dropped and made anew (rebuilt=True), to be refilled by the next sync.

    `dimension` is checked when known; it is left out when knowing it would mean loading the
    model just to find that nothing needs embedding.
    """
    wanted: dict[str, Any] = {"embedding_model": embedder.name, "index_format": INDEX_FORMAT}
    if dimension is not None:
        wanted["dimension"] = dimension
    existing = {c.name if hasattr(c, "name") else c for c in client.list_collections()}
    if name in existing:
        collection = client.get_collection(name, embedding_function=_adapter(embedder))
        meta = collection.metadata or {}
        same_model = meta.get("embedding_model") == embedder.name
        same_dim = dimension is None or meta.get("dimension") in (None, dimension)
        same_format = meta.get("index_format", 1) == INDEX_FORMAT
        if same_model and same_dim and same_format:
            return collection, False
        log.warning(
            "index %r was built with %s (dimension %s, format %s); rebuilding it for %s (dimension %s, format %s)",
            name, meta.get("embedding_model"), meta.get("dimension"), meta.get("index_format", 1), embedder.name,
            dimension, INDEX_FORMAT,
        )
        client.delete_collection(name)
        rebuilt = True
    else:
        rebuilt = False
    # get_or_create: another replica sharing the Chroma server may create it at the same moment
    collection = client.get_or_create_collection(
        name,
        metadata=wanted,
        configuration={"hnsw": {"space": "cosine"}},
        embedding_function=_adapter(embedder),
    )
    return collection, rebuilt
