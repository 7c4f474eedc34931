"""PDF loading through PDFium on PDFs the tests generate: ligatures, hyphenation, running
headers, titles, offsets and citations, limits, encryption, and OCR of scanned pages."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support.pdfs import Line, PdfSpec, empty_pages_pdf, ligature_font, pdf_bytes, scanned_pdf

from index.chunking import chunk_document
from index.loaders import SkipFile, load_document
from index.loaders import ocr as ocr_module
from index.loaders.options import LoadOptions
from index.loaders.pdf import _drop_running, load_pdf
from index.sentences import split_sentences

BODY = [
    "Chain replication keeps every replica of an object on a chain of servers.",
    "Updates enter at the head of the chain and travel down to the tail server.",
    "Queries are answered by the tail, which holds only stable values.",
]


def load(data: bytes, **options: object):
    return load_document("paper.pdf", data, options=LoadOptions(**options))


def test_ligature_glyphs_are_read_as_letters() -> None:
    font = ligature_font()
    if font is None:
        pytest.skip("DejaVu Sans (fonts-dejavu-core) is not installed: no ligature glyphs")
    data = pdf_bytes(PdfSpec([["The \ufb01le system \ufb02ushes of\ufb01ce \ufb01les daily."]],
                             font=font))
    doc = load(data)
    assert "The file system flushes office files daily." in doc.text
    assert "\ufb01" not in doc.text and "\ufb02" not in doc.text


def test_word_hyphenated_across_lines_is_joined() -> None:
    doc = load(pdf_bytes(PdfSpec([[
        "We show how the servers of a large cluster can real-",
        "ize the plan quickly, and we realize it twice.",
    ]])))
    assert "can realize the plan quickly" in " ".join(doc.text.split())
    assert "real-" not in doc.text


def test_compound_hyphenated_across_lines_keeps_its_hyphen() -> None:
    doc = load(pdf_bytes(PdfSpec([[
        "The store keeps a replica of the data that is read-",
        "only for clients, and read-only replicas are cheap.",
    ]])))
    assert "read-only for clients" in " ".join(doc.text.split())


def test_sentence_running_onto_the_next_page_is_one_sentence_with_its_word_joined() -> None:
    doc = load(pdf_bytes(PdfSpec([
        ["Raft aims at linearizable semantics for every client.",
         "However, as described so far the servers can exe-"],
        ["cute a command twice when the leader crashes early.",
         "The solution is to give every command a serial number."],
        ["Clients retry their commands with a new leader."],
    ], header="Proceedings of the Repeated Conference", page_numbers=True)))
    flat = " ".join(doc.text.split())
    assert "the servers can execute a command twice when the leader crashes early." in flat
    start = doc.text.index("However, as described")
    end = doc.text.index("crashes early.") + len("crashes early.")
    block = next(b for b in doc.blocks if b.start <= start < b.end)
    assert block.end >= end  # one block: no sentence is cut at the page break
    assert (doc.page_at(start), doc.page_at(end - 1)) == (1, 2)
    sentences = [doc.text[s:e] for s, e in split_sentences(doc.text, block.start, block.end)]
    assert any(s.startswith("However") and s.endswith("crashes early.") for s in sentences)


def test_a_page_ending_a_sentence_ends_its_block() -> None:
    doc = load(pdf_bytes(PdfSpec([["Chain replication keeps replicas on a chain."],
                                  ["queries are answered by the tail."]])))
    start = doc.text.index("queries")
    assert any(b.start == start for b in doc.blocks)


def test_running_header_and_page_numbers_are_dropped() -> None:
    topics = ["replication", "consensus", "snapshots", "caching"]
    pages = [[f"The {topic} chapter opens here.", BODY[n % 3], f"It ends on {topic}."]
             for n, topic in enumerate(topics)]
    doc = load(pdf_bytes(PdfSpec(pages, header="Journal of Repeated Headers, Vol. 7",
                                 page_numbers=True)))
    assert "Journal of Repeated Headers" not in doc.text
    assert all(line.strip() not in {"1", "2", "3", "4"} for line in doc.text.split("\n"))
    assert "The snapshots chapter opens here." in doc.text and BODY[2] in doc.text


def test_alternating_headers_are_dropped_despite_a_stray_mark_on_one_page() -> None:
    """A journal's odd pages carry the title and page number, its even pages the authors
    (FLP's JACM layout); one scanned page reads "-Impossibility of ...": still a header."""
    title, authors = "Impossibility of Distributed Consensus with One Faulty Process", \
        "M. J. FISCHER, N. A. LYNCH, AND M. S. PATERSON"
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
    pages = [["The first page.", "Its text."]]
    for number, word in zip(range(375, 383), words, strict=False):
        header = f"{title} {number}" if number % 2 else f"{number} {authors}"
        if number == 377:
            header = "-" + header
        pages.append([header, f"The {word} lemma holds.", f"So the {word} case ends."])
    dropped = _drop_running(pages)
    assert all(page[0] == "" for page in dropped[1:])
    assert dropped[0] == pages[0] and all(page[1] for page in dropped)


def test_citation_gives_page_and_source_line_after_dropped_header() -> None:
    pages = [BODY, ["Filler text on the second page for the count."] + BODY[:1],
             ["The third page explains failure of the head server."]]
    doc = load(pdf_bytes(PdfSpec(pages, header="Running Header Of Every Page")))
    at = doc.text.index("The third page explains")
    assert doc.page_at(at) == 3
    assert doc.line_at(at) == 2  # line 1 of the page is the dropped header


def test_chunk_offsets_round_trip_on_normalised_text() -> None:
    doc = load(pdf_bytes(PdfSpec([BODY + ["The tail is the last server: it real-",
                                          "izes the reply, and we realize it."], BODY])))
    chunks = chunk_document(doc, lambda text: len(text.split()), max_tokens=40,
                            overlap_sentences=0, window=256)
    assert chunks
    for chunk in chunks:
        assert doc.text[chunk.start:chunk.end] == chunk.text
        for start, end in chunk.sentences:
            assert doc.text[start:end].strip()


def test_generated_metadata_title_gives_way_to_the_largest_text() -> None:
    doc = load(pdf_bytes(PdfSpec([[Line("Replicated Chains of Servers", 20)] + BODY],
                                 title="paper.dvi")))
    assert doc.title == "Replicated Chains of Servers"


def test_metadata_title_not_on_first_page_gives_way_to_the_largest_text() -> None:
    doc = load(pdf_bytes(PdfSpec([[Line("Replicated Chains of Servers", 20)] + BODY],
                                 title="System Model")))
    assert doc.title == "Replicated Chains of Servers"


def test_title_does_not_take_the_next_line_of_a_smaller_size() -> None:
    # A running head over the first section's label, one type size apart ("fonts-conf" at
    # 12.5 pt, "Name" at 11.3): not one title set on two lines.
    doc = load(pdf_bytes(PdfSpec([[Line("fonts-conf", 14), Line("Name", 12.7)] + BODY])))
    assert doc.title == "fonts-conf"


def test_real_metadata_title_is_kept() -> None:
    doc = load(pdf_bytes(PdfSpec([[Line("Chains", 20), "Replicated Chains of Servers"] + BODY],
                                 title="Replicated Chains of Servers")))
    assert doc.title == "Replicated Chains of Servers"


def test_pdf_encrypted_with_an_empty_password_opens() -> None:
    from reportlab.lib.pdfencrypt import StandardEncryption

    data = pdf_bytes(PdfSpec([BODY]), encrypt=StandardEncryption("", ownerPassword="owner"))
    assert b"/Encrypt" in data
    assert BODY[0] in load(data).text


def test_pdf_needing_a_password_is_skipped_with_reason() -> None:
    from reportlab.lib.pdfencrypt import StandardEncryption

    data = pdf_bytes(PdfSpec([BODY]), encrypt=StandardEncryption("secret"))
    with pytest.raises(SkipFile, match="encrypted"):
        load(data)


def test_a_page_pdfium_cannot_load_is_named_not_raised() -> None:
    # Found by the hypothesis test of any bytes: a page tree whose one kid is no page.
    damaged = (b"%PDF\n1\x00+\x00obj<<///Pages\x002\x00+\x00R>>2\x00+\x00obj<</Count\x001"
               b"/Kids\x00+>>trailer<</Root\x001\x00+\x00R>>")
    with pytest.raises(SkipFile, match="pages 1 cannot be read"):
        load(damaged)


def test_broken_pdf_is_skipped_with_one_line_reason() -> None:
    data = pdf_bytes(PdfSpec([BODY]))
    with pytest.raises(SkipFile) as caught:
        load(data[:200])
    assert "\n" not in str(caught.value) and "PDF" in str(caught.value)


def test_pdf_with_ten_thousand_empty_pages_is_skipped_fast() -> None:
    data = empty_pages_pdf(10_000)
    started = time.monotonic()
    with pytest.raises(SkipFile, match="too many pages"):
        load(data)
    assert time.monotonic() - started < 5  # refused from the page count, nothing read


def test_empty_pages_within_the_limit_are_skipped_as_without_text() -> None:
    with pytest.raises(SkipFile, match="no text"):
        load(empty_pages_pdf(50))


# --- OCR ---------------------------------------------------------------------------------------

def _needs_tesseract() -> None:
    why = ocr_module.unavailable()
    if why:
        pytest.skip(f"OCR test needs Tesseract: {why}")


SCAN_PAGES = [["The first page is about the weather in the mountains."],
              ["The lighthouse keeper rings the brass bell at noon every day."]]


def test_scanned_page_is_read_by_ocr_with_its_page(tmp_path: Path) -> None:
    _needs_tesseract()
    doc = load(scanned_pdf(pdf_bytes(PdfSpec(SCAN_PAGES))), ocr_cache=tmp_path)
    at = doc.text.index("lighthouse keeper rings the brass bell")
    assert doc.page_at(at) == 2
    assert any("read by OCR" in note for note in doc.notes)


def test_ocr_results_are_cached_by_file_content(tmp_path: Path, monkeypatch) -> None:
    _needs_tesseract()
    data = scanned_pdf(pdf_bytes(PdfSpec(SCAN_PAGES)))
    first = load(data, ocr_cache=tmp_path)

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("OCR ran again despite the cache")

    monkeypatch.setattr(ocr_module, "recognise", fail)
    assert load(data, ocr_cache=tmp_path).text == first.text


def test_ocr_off_says_which_pages_were_not_read() -> None:
    data = scanned_pdf(pdf_bytes(PdfSpec(SCAN_PAGES)))
    with pytest.raises(SkipFile, match=r"pages 1-2 have no text layer.*OCR is off"):
        load(data, ocr="off")


def test_ocr_unavailable_is_reported_not_fatal(monkeypatch) -> None:
    monkeypatch.setattr(ocr_module, "unavailable", lambda: "the tesseract program is missing")
    text_page = pdf_bytes(PdfSpec([BODY]))
    loaded = load_pdf(text_page)  # a page with text needs no OCR at all
    assert not loaded.notes
    with pytest.raises(SkipFile, match="tesseract program is missing"):
        load(scanned_pdf(pdf_bytes(PdfSpec(SCAN_PAGES))))


def test_footnote_is_not_glued_to_the_sentence_above_it() -> None:
    doc = load(pdf_bytes(PdfSpec([[
        "Next we will formalize these concepts and prove the conjecture and the theorem;",
        "\u2217Laboratory for Computer Science, Massachusetts Institute of Technology.",
        "finally, we describe some real-world solutions to this practical difficulty.",
    ]])))
    blocks = [doc.text[b.start:b.end] for b in doc.blocks]
    assert not any("conjecture" in b and "Laboratory" in b for b in blocks)


def test_line_broken_at_a_raised_mark_goes_on_into_the_next() -> None:
    doc = load(pdf_bytes(PdfSpec([[
        "The long first line of this paragraph explains the setting of the whole talk.",
        "At PODC 2000, Brewer1",
        ", in an invited talk, made the following conjecture about all web services:",
        "it is impossible for a web service to provide all of these three guarantees.",
    ]])))
    blocks = [doc.text[b.start:b.end] for b in doc.blocks]
    assert any("Brewer1" in b and "invited talk" in b for b in blocks)


def test_scanned_pages_past_the_ocr_time_budget_are_named(tmp_path: Path) -> None:
    _needs_tesseract()
    data = scanned_pdf(pdf_bytes(PdfSpec(SCAN_PAGES)))
    with pytest.raises(SkipFile, match=r"pages 1-2 .*OCR ran out of time"):
        load(data, ocr_cache=tmp_path, ocr_budget_s=1e-9)
