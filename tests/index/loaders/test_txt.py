"""Plain text is read as a reader reads its layout: headings, definitions and wrapped
paragraphs from indentation (man pages, RFCs), while poems, addresses and code keep their
lines."""

from __future__ import annotations

from support.documents import block_texts, load_bytes, source_line_of
from support.plain_texts import ADDRESS, CODE, FRAMED, POEM, frob_man_page, rfc

from index.chunking import chunk_document
from index.sentences import split_sentences
from quotebot.documents import Block, Document


def _block_at(doc: Document, needle: str) -> Block:
    offset = doc.text.index(needle)
    return next(b for b in doc.blocks if b.start <= offset < b.end)


def _headings(doc: Document) -> list[tuple[str, int]]:
    return [(doc.text[b.start:b.end], b.level) for b in doc.blocks if b.kind == "heading"]


def _collapsed(text: str) -> str:
    return " ".join(text.split())


# --- man pages ---------------------------------------------------------------------------------

def test_man_section_heading_above_indented_text_is_a_heading() -> None:
    doc = load_bytes("man-frob.txt", frob_man_page())
    assert ("EXIT STATUS", 1) in _headings(doc)


def test_man_wrapped_text_under_a_heading_is_one_block() -> None:
    doc = load_bytes("man-frob.txt", frob_man_page())
    block = _block_at(doc, "Normally the exit status")
    assert block.kind == "para"
    assert _collapsed(doc.text[block.start:block.end]).endswith("even if an error occurred.")


def test_man_sentence_is_not_cut_at_the_line_end() -> None:
    doc = load_bytes("man-frob.txt", frob_man_page())
    block = _block_at(doc, "Normally the exit status")
    first = split_sentences(doc.text, block.start, block.end)[0]
    assert _collapsed(doc.text[slice(*first)]) == (
        "Normally the exit status is 0 if a line is selected, 1 if no lines were selected, "
        "and 2 if an error occurred.")


def test_man_option_line_and_its_description_are_one_item() -> None:
    doc = load_bytes("man-frob.txt", frob_man_page())
    block = _block_at(doc, "-L, --location")
    text = doc.text[block.start:block.end]
    assert block.kind == "item"
    assert text.startswith("-L, --location\n")
    assert _collapsed(text).endswith("frob only sends its credentials to the initial host.")


def test_man_subsection_heading_nests_under_its_section() -> None:
    doc = load_bytes("man-frob.txt", frob_man_page())
    assert ("Matching Control", 2) in _headings(doc)
    assert doc.heading_path_at(doc.text.index("Ignore case")) == ["OPTIONS", "Matching Control"]


def test_man_running_header_and_footer_are_not_text() -> None:
    doc = load_bytes("man-frob.txt", frob_man_page())
    texts = block_texts(doc)
    assert not any("FROB(1)" in t for t in texts)
    assert texts[0] == "NAME"


def test_a_title_framed_by_marks_is_text_and_title_not_a_running_header() -> None:
    doc = load_bytes("rules.txt", FRAMED)
    texts = block_texts(doc)
    assert any("Harbour Rules" in t for t in texts)
    assert any("End of the Rules" in t for t in texts)
    assert "Harbour Rules" in doc.title


def test_man_page_title_is_its_name_and_section() -> None:
    assert load_bytes("man-frob.txt", frob_man_page()).title == "frob(1)"


def test_man_chunks_are_exact_spans_with_source_lines() -> None:
    source = frob_man_page()
    doc = load_bytes("man-frob.txt", source)
    chunks = chunk_document(doc, lambda text: len(text.split()), max_tokens=40)
    assert chunks
    for chunk in chunks:
        assert doc.text[chunk.start:chunk.end] == chunk.text
    lines = source.split("\n")
    wanted = next(i for i, line in enumerate(lines) if "selected, and 2 if" in line) + 1
    assert source_line_of(doc, "selected, and 2 if") == wanted


# --- RFCs --------------------------------------------------------------------------------------

def test_rfc_numbered_section_headings_nest_by_their_numbers() -> None:
    doc = load_bytes("rfc9999.txt", rfc())
    assert _headings(doc) == [("Abstract", 1), ("1.  Introduction", 1),
                              ("1.1.  Terminology", 2), ("2.  Protocol Overview", 1)]
    assert doc.heading_path_at(doc.text.index("A host that listens")) == [
        "1.  Introduction", "1.1.  Terminology"]


def test_rfc_term_and_its_definition_are_one_item() -> None:
    doc = load_bytes("rfc9999.txt", rfc())
    block = _block_at(doc, "widget\n      An opaque")
    assert block.kind == "item"
    assert _collapsed(doc.text[block.start:block.end]) == (
        "widget An opaque byte string that a server holds under a name and hands out to any "
        "client that asks for it by that name.")


def test_rfc_indented_paragraph_is_one_block() -> None:
    doc = load_bytes("rfc9999.txt", rfc())
    block = _block_at(doc, "The Example Widget Protocol lets")
    assert _collapsed(doc.text[block.start:block.end]).endswith("exactly one widget or one error.")


# --- text that keeps its lines -----------------------------------------------------------------

def test_poem_lines_stay_separate_blocks() -> None:
    doc = load_bytes("poem.txt", POEM)
    lines = [line.strip() for line in POEM.split("\n") if line.strip()]
    assert block_texts(doc) == lines


def test_address_lines_under_a_name_stay_separate_blocks() -> None:
    doc = load_bytes("address.txt", ADDRESS)
    lines = [line.strip() for line in ADDRESS.split("\n") if line.strip()]
    assert block_texts(doc) == lines


def test_code_under_a_line_that_opens_it_is_not_joined() -> None:
    doc = load_bytes("code.txt", CODE)
    lines = [line.strip() for line in CODE.split("\n") if line.strip()]
    assert block_texts(doc) == lines


# --- headings without indentation --------------------------------------------------------------

def test_underlined_line_is_a_heading() -> None:
    doc = load_bytes("readme.txt", "Installation\n============\n\nRun make, then make install.\n")
    assert _headings(doc) == [("Installation", 1)]
    assert doc.heading_path_at(doc.text.index("Run make")) == ["Installation"]


def test_all_caps_line_alone_is_a_heading() -> None:
    text = ("Six games reviewed\n\nThe first game is a racer.\n\n"
            " FAST LANE (EXAMPLE GAMES) \n\nIt runs well on old phones.\n")
    doc = load_bytes("reviews.txt", text)
    assert _headings(doc) == [("FAST LANE (EXAMPLE GAMES)", 1)]
