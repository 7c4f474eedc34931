"""The records indexing produces live in `quotebot.documents` (the bottom layer, so that
the store can take them); imported from here for the loaders' convenience."""

from quotebot.documents import Block, Chunk, Document, doc_id_for

__all__ = ["Block", "Chunk", "Document", "doc_id_for"]
