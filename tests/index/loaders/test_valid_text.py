"""Text is made valid once, at the loader boundary: no Document holds a lone surrogate, NUL,
another control character or a non-character, in its text or its title (issue 14, finding 1)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from index.loaders import load_document, valid_text
from tests.support.hostile_files import surrogate_pdf

# Controls, lone surrogates and Unicode's 66 non-characters (U+FDD0..FDEF, and the last two
# code points of each of the 17 planes: U+FFFE, U+1FFFE, ... U+10FFFF).
INVALID = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef" + "".join(
    chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17)) + "]")


def encodable(text: str) -> bool:
    """What SQLite, the tokenizers and Telegram need: text that encodes as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def test_pdf_text_mapped_to_a_lone_surrogate_is_made_valid() -> None:
    doc = load_document("surrogate.pdf", surrogate_pdf())
    assert encodable(doc.text) and not INVALID.search(doc.text)
    # PDFium drops the glyphs its ToUnicode maps to a lone surrogate (pypdf kept them, made
    # U+FFFD here): what is left is the valid text around them.
    assert doc.text.replace("\ufffd", "") == "B"


def test_a_title_taken_from_surrogate_text_is_made_valid() -> None:
    doc = load_document("surrogate.pdf", surrogate_pdf())  # no /Title: the first line
    assert doc.title and encodable(doc.title) and not INVALID.search(doc.title)


def test_a_pdf_title_of_utf16_surrogate_bytes_is_made_valid() -> None:
    doc = load_document("surrogate.pdf", surrogate_pdf(title_hex="FEFFD800"))
    assert encodable(doc.title) and not INVALID.search(doc.title)


def test_controls_nul_and_noncharacters_in_a_text_file_are_replaced_one_for_one() -> None:
    raw = "Bell\x07 and\x1b escape; \ufdd0 and \U0010ffff end.\n"
    doc = load_document("odd.txt", raw.encode("utf-8"))
    assert len(doc.text) == len(raw) and not INVALID.search(doc.text)


@given(st.text())
def test_valid_text_keeps_length_and_leaves_nothing_invalid(text: str) -> None:
    cleaned = valid_text(text)
    assert len(cleaned) == len(text)
    assert encodable(cleaned) and not INVALID.search(cleaned)
    assert all(a == b for a, b in zip(text, cleaned, strict=True) if not INVALID.match(a))
