"""Plain text: the file's lines one for one, blocks by the plain-text rules.

Lines are normalised in place (index/loaders/normalise.py): compatibility forms such as
ligatures folded and words hyphenated across a line break joined; each line keeps its
spacing, so line numbers and layout stay the file's.
"""

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
from index.loaders.normalise import normalise_lines


def load_txt(data: bytes) -> Loaded:
    """Plain text: the file's lines, blocks by the paragraph rules."""
    text = "\n".join(normalise_lines(normalise(decode_text(data)).split("\n"), collapse=False))
    blocks = [block for paragraph in paragraphs(text, line_spans(text))
              for block in paragraph_blocks(text, paragraph, TXT_ITEM)]
    return Loaded(text, blocks)
