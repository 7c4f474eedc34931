"""Helpers for loader tests: load bytes as a corpus file, read blocks and source lines back."""

from __future__ import annotations

from index.loaders import load_document
from quotebot.documents import Document


def load_bytes(name: str, data: bytes | str) -> Document:
    """Load `data` as the corpus file `name` (str is UTF-8 encoded)."""
    return load_document(name, data.encode() if isinstance(data, str) else data)


def block_texts(doc: Document) -> list[str]:
    """The text of every block, checking blocks are sorted, trimmed, non-empty spans."""
    previous_end = 0
    texts = []
    for block in doc.blocks:
        span = doc.text[block.start:block.end]
        assert span and span == span.strip(), (block, span)
        assert block.start >= previous_end, block
        previous_end = block.end
        texts.append(span)
    return texts


def source_line_of(doc: Document, needle: str) -> int:
    """The source line `Document.line_at` gives for the first character of `needle`."""
    return doc.line_at(doc.text.index(needle))
