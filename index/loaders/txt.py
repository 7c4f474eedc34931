"""Plain text: the file's lines one for one, blocks by the plain-text rules."""

from __future__ import annotations

from index.loaders.common import (
    TXT_ITEM,
    Loaded,
    decode_text,
    line_spans,
    normalise,
    paragraph_blocks,
    paragraphs,
)


def load_txt(data: bytes) -> Loaded:
    """Plain text: the file's lines, blocks by the paragraph rules."""
    text = normalise(decode_text(data))
    blocks = [block for paragraph in paragraphs(text, line_spans(text))
              for block in paragraph_blocks(text, paragraph, TXT_ITEM)]
    return Loaded(text, blocks)

