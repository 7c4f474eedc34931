"""docx text as Word shows it: what python-docx's `Paragraph.text` misses is read too, what
Word hides (deleted text, field codes) is not, and chunks stay exact slices of the text."""

from __future__ import annotations

import pytest

from index.chunking import TokenCounter, chunk_document, load_token_counter
from index.embedding import resolve_model
from tests.support.documents import load_bytes
from tests.support.hostile_files import docx_with_body

W_DATE = b'w:author="A" w:date="2024-01-01T00:00:00Z"'


def run(text: str) -> bytes:
    return b'<w:r><w:t xml:space="preserve">' + text.encode() + b"</w:t></w:r>"


def paragraph(*parts: bytes) -> bytes:
    return b"<w:p>" + b"".join(parts) + b"</w:p>"


def text_box(text: str) -> bytes:
    """A run holding a text box as Word writes it: a drawing and its VML fallback, both
    holding the same paragraph."""
    box = b"<w:txbxContent>" + paragraph(run(text)) + b"</w:txbxContent>"
    return (b"<w:r><mc:AlternateContent><mc:Choice Requires=\"wps\"><w:drawing><wp:anchor>"
            b'<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
            b'<a:graphicData uri="http://schemas.microsoft.com/office/word/2010/'
            b'wordprocessingShape"><wps:wsp><wps:txbx>' + box + b"</wps:txbx></wps:wsp>"
            b"</a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice><mc:Fallback>"
            b"<w:pict><v:shape><v:textbox>" + box + b"</v:textbox></v:shape></w:pict>"
            b"</mc:Fallback></mc:AlternateContent></w:r>")


def test_a_tracked_insertion_is_read_and_a_tracked_deletion_is_not() -> None:
    body = paragraph(run("The ships were "),
                     b'<w:ins w:id="1" ' + W_DATE + b">" + run("newly ") + b"</w:ins>",
                     b'<w:del w:id="2" ' + W_DATE + b'><w:r><w:delText xml:space="preserve">'
                     b"badly </w:delText></w:r></w:del>",
                     run("painted."))
    doc = load_bytes("a.docx", docx_with_body(body))
    assert doc.text.startswith("The ships were newly painted.\n\n")
    assert "badly" not in doc.text


def test_moved_text_is_read_once_at_its_destination() -> None:
    body = (paragraph(b'<w:moveFrom w:id="1" ' + W_DATE + b">" + run("Tides turn.")
                      + b"</w:moveFrom>", run("Ships wait.")),
            paragraph(b'<w:moveTo w:id="2" ' + W_DATE + b">" + run("Tides turn.")
                      + b"</w:moveTo>"))
    doc = load_bytes("a.docx", docx_with_body(b"".join(body)))
    assert doc.text.startswith("Ships wait.\n\nTides turn.\n\n")


def test_content_controls_smart_tags_and_simple_fields_are_read() -> None:
    body = (b"<w:sdt><w:sdtPr><w:alias w:val=\"Summary\"/></w:sdtPr><w:sdtContent>"
            + paragraph(run("A paragraph in a content control.")) + b"</w:sdtContent></w:sdt>"
            + paragraph(run("Ships from "),
                        b'<w:smartTag w:uri="urn:places" w:element="place">' + run("Dover")
                        + b"</w:smartTag>",
                        run(" arrive on "),
                        b"<w:sdt><w:sdtContent>" + run("Monday") + b"</w:sdtContent></w:sdt>",
                        run(" at "),
                        b'<w:fldSimple w:instr=" TIME ">' + run("noon") + b"</w:fldSimple>",
                        run(".")))
    doc = load_bytes("a.docx", docx_with_body(body))
    assert doc.text.startswith("A paragraph in a content control.\n\n"
                               "Ships from Dover arrive on Monday at noon.\n\n")
    assert doc.line_at(doc.text.index("Ships")) == 2


def test_field_codes_are_not_text_and_a_page_break_separates_words() -> None:
    body = paragraph(run("Printed"),
                     b'<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
                     b'<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
                     b'<w:r><w:fldChar w:fldCharType="separate"/></w:r>',
                     run(" 7"),
                     b'<w:r><w:fldChar w:fldCharType="end"/></w:r>',
                     run(" times."), b'<w:r><w:br w:type="page"/></w:r>', run("Next page."))
    doc = load_bytes("a.docx", docx_with_body(body))
    assert doc.text.startswith("Printed 7 times.\nNext page.\n\n")


def test_a_text_box_is_read_once_after_its_paragraph() -> None:
    body = paragraph(run("Before the box. "), text_box("Inside the box."), run("After it."))
    doc = load_bytes("a.docx", docx_with_body(body))
    assert doc.text.startswith("Before the box. After it.\n\nInside the box.\n\n")
    assert doc.text.count("Inside the box.") == 1
    assert doc.line_at(doc.text.index("Inside")) == 2
    assert doc.line_at(doc.text.index("A real paragraph")) == 3


def test_a_nested_table_is_read() -> None:
    inner = b"<w:tbl><w:tr><w:tc>" + paragraph(run("Inner cell.")) + b"</w:tc></w:tr></w:tbl>"
    body = (b"<w:tbl><w:tr><w:tc>" + paragraph(run("Outer cell.")) + inner
            + paragraph(b"") + b"</w:tc></w:tr></w:tbl>")
    doc = load_bytes("a.docx", docx_with_body(body))
    assert doc.text.startswith("Outer cell.\n\nInner cell.\n\n")


@pytest.fixture(scope="module")
def count() -> TokenCounter:
    return load_token_counter(resolve_model("all-MiniLM-L6-v2").location)


def test_chunks_of_a_realistic_docx_are_exact_slices(count: TokenCounter) -> None:
    words = " ".join(f"Harbour fact {i} is written down here." for i in range(40))
    body = (paragraph(run("This is an impor"), b"<w:r><w:rPr><w:b/></w:rPr><w:t>tant</w:t></w:r>",
                      run(" finding.")),
            paragraph(run("Soft\u00adhyphen, non\u00a0breaking\tand tabbed.")),
            paragraph(run("Line one"), b"<w:r><w:br/></w:r>", run("line two.")),
            paragraph(b'<w:ins w:id="1" ' + W_DATE + b">" + run(words) + b"</w:ins>"),
            paragraph(run("Before. "), text_box(words), run("After.")))
    doc = load_bytes("a.docx", docx_with_body(b"".join(body)))
    assert "This is an important finding." in doc.text
    for max_tokens in (30, 256):
        chunks = chunk_document(doc, count, max_tokens=max_tokens)
        assert chunks
        for chunk in chunks:
            assert doc.text[chunk.start:chunk.end] == chunk.text
    assert doc.line_at(doc.text.index("line two")) == 3
    assert doc.line_at(doc.text.rindex("Harbour fact 39")) == 6
