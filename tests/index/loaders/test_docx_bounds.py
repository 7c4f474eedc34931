"""A .docx is a zip: bombs are refused from its directory before python-docx unpacks them."""

from __future__ import annotations

import time

import pytest

from index.loaders import SkipFile, load_document
from index.loaders.docx import MAX_PARAGRAPHS
from tests.support.hostile_files import (
    docx_paragraph_bomb,
    docx_with_body,
    docx_with_part,
    zip_bomb,
)

# Before the bounds, 200k empty paragraphs (a 38 KB file) took 95 s to over 10 minutes.
GENEROUS_SECONDS = 10.0


def _load_timed(data: bytes) -> tuple[str, float]:
    started = time.perf_counter()
    try:
        outcome = load_document("bomb.docx", data).text
    except SkipFile as exc:
        outcome = f"skipped: {exc}"
    return outcome, time.perf_counter() - started


def test_a_docx_of_200k_empty_paragraphs_is_refused_quickly() -> None:
    outcome, seconds = _load_timed(docx_paragraph_bomb(200_000))
    assert outcome.startswith("skipped: ") and ("bomb" in outcome or "paragraphs" in outcome)
    assert seconds < GENEROUS_SECONDS


def test_a_zip_bomb_named_docx_is_refused_by_its_unpacked_size() -> None:
    outcome, seconds = _load_timed(zip_bomb(300))
    assert outcome.startswith("skipped: docx unpacks to 314,572,800 bytes")
    assert seconds < GENEROUS_SECONDS


def test_paragraphs_past_the_cap_are_refused_even_when_they_compress_modestly() -> None:
    # Paragraphs with distinct text compress ~10 times: only the count catches them.
    body = b"".join(b"<w:p><w:r><w:t>%d</w:t></w:r></w:p>" % i for i in range(MAX_PARAGRAPHS + 1))
    with pytest.raises(SkipFile, match="paragraphs"):
        load_document("many.docx", docx_with_body(body))


def test_many_empty_paragraphs_under_the_cap_still_load() -> None:
    # 20k paragraphs of the default style took 68 s before (a style lookup per paragraph).
    outcome, seconds = _load_timed(docx_with_body(b"<w:p/>" * 20_000, "The harbour is deep."))
    assert outcome == "The harbour is deep."
    assert seconds < GENEROUS_SECONDS


def test_xml_entities_in_a_docx_read_no_local_file_and_do_not_expand() -> None:
    # python-docx parses with resolve_entities=False; lxml caps entity amplification.
    external = (b'<!DOCTYPE w:document [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/'
                b'main"><w:body><w:p><w:r><w:t>Secret &e; here</w:t></w:r></w:p></w:body>'
                b"</w:document>")
    billion = b'<!ENTITY a "lol">' + b"".join(  # &j; is 10^9 lol
        b'<!ENTITY %c "%s">' % (98 + i, b"&%c;" % (97 + i) * 10) for i in range(9))
    laughs = external.replace(b'<!ENTITY e SYSTEM "file:///etc/passwd">', billion)
    laughs = laughs.replace(b"&e;", b"&j;")
    for document_xml in (external, laughs):
        outcome, seconds = _load_timed(docx_with_part("word/document.xml", document_xml))
        assert "root:" not in outcome and "lollol" not in outcome
        assert seconds < GENEROUS_SECONDS
