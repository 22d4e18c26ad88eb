"""Retrieval: embeddings, the Chroma + keyword index, hybrid ranking."""
