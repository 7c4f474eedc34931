"""Loaders: each format becomes a Document whose blocks, lines and pages point into its text."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.pdfgen import canvas

from index.loaders import SUPPORTED_SUFFIXES, SkipFile, load_document, read_file
from quotebot.documents import Document, doc_id_for

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_88f3b2186c936a7a.txt"
WRAPPED = (
    "The committee met on Tuesday to discuss the proposal that had been\n"
    "circulated among members the week before, and after a long debate\n"
    "it agreed to send the draft back to the working group for changes.\n"
)


def load(tmp_path: Path, name: str, data: bytes) -> Document:
    """Write `data` to a real file, read it back as the build does, and load it."""
    path = tmp_path / name
    path.write_bytes(data)
    return load_document(name, read_file(path, 1 << 20), mtime=path.stat().st_mtime)


def spans(doc: Document) -> list[str]:
    """The text of every block, checking each is a valid span on the way."""
    assert_valid_blocks(doc)
    return [doc.text[b.start:b.end] for b in doc.blocks]


def assert_valid_blocks(doc: Document) -> None:
    """Blocks are sorted, non-overlapping, non-empty spans trimmed of whitespace."""
    previous_end = 0
    for block in doc.blocks:
        span = doc.text[block.start:block.end]
        assert span and span == span.strip(), (block, span)
        assert block.start >= previous_end, block
        previous_end = block.end


def block_at(doc: Document, needle: str) -> str:
    """The text of the block that holds `needle`."""
    offset = doc.text.index(needle)
    return next(doc.text[b.start:b.end] for b in doc.blocks if b.start <= offset < b.end)


def write_pdf(path: Path, pages: list[list[str]], title: str = "", encrypt: str | None = None
              ) -> bytes:
    """A PDF with one drawn line of text per entry, a page per list."""
    pdf = canvas.Canvas(str(path), encrypt=encrypt)
    if title:
        pdf.setTitle(title)
    for lines in pages:
        for number, line in enumerate(lines):
            pdf.drawString(72, 780 - 14 * number, line)
        pdf.showPage()
    pdf.save()
    return path.read_bytes()


def docx_bytes(tmp_path: Path, title: str = "") -> bytes:
    """A docx with a heading, body paragraphs, a line break, a subheading and a table."""
    document = docx.Document()
    document.core_properties.title = title
    document.add_heading("Annual Report", 1)
    document.add_paragraph("Revenue grew by ten percent.")
    document.add_paragraph("")
    document.add_heading("Outlook", 2)
    paragraph = document.add_paragraph("First line")
    paragraph.add_run().add_break()
    paragraph.add_run("Second line")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "North office"
    table.cell(0, 1).text = "South office"
    path = tmp_path / "built.docx"
    document.save(str(path))
    return path.read_bytes()


# --- dispatch and identity ---------------------------------------------------------------------

def test_supported_suffixes_cover_every_format() -> None:
    assert {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"} == SUPPORTED_SUFFIXES


def test_document_identity_fields(tmp_path: Path) -> None:
    data = b"Hello world.\n"
    doc = load(tmp_path, "notes.TXT", data)
    assert doc.doc_id == doc_id_for("notes.TXT")
    assert (doc.path, doc.format, doc.size) == ("notes.TXT", "txt", len(data))
    assert doc.content_hash == hashlib.sha256(data).hexdigest()
    assert doc.mtime == (tmp_path / "notes.TXT").stat().st_mtime


def test_unsupported_suffix_is_skipped() -> None:
    with pytest.raises(SkipFile, match="unsupported"):
        load_document("image.png", b"data")


# --- txt -------------------------------------------------------------------------------------

def test_txt_title_is_first_nonempty_line(tmp_path: Path) -> None:
    doc = load(tmp_path, "a.txt", b"\n\n  Budget news  \n\nThe budget passed.\n")
    assert doc.title == "Budget news"
    assert spans(doc) == ["Budget news", "The budget passed."]


def test_seed_photo_credit_line_is_its_own_block() -> None:
    doc = load_document(SEED.name, SEED.read_bytes())
    assert block_at(doc, "Bulent Kilic/AFP/Getty Images") == "Bulent Kilic/AFP/Getty Images"
    assert block_at(doc, "Talks are taking place about").startswith("Talks are taking place")
    assert doc.title == "US rules out negotiated ISIS withdrawal from Syria’s Raqqa"


def test_seed_lines_are_one_block_each() -> None:
    doc = load_document(SEED.name, SEED.read_bytes())
    lines = [line.strip() for line in doc.text.split("\n") if line.strip()]
    assert spans(doc) == lines


def test_hard_wrapped_paragraph_is_one_block(tmp_path: Path) -> None:
    doc = load(tmp_path, "a.txt", WRAPPED.encode())
    assert spans(doc) == [WRAPPED.strip()]
    assert doc.blocks[0].kind == "para"


def test_lines_ending_sentences_are_separate_blocks(tmp_path: Path) -> None:
    text = ("The first sentence stands alone on its own line here.\n"
            "The second sentence also stands alone on its line.\n"
            "And a third one closes the paragraph.\n")
    doc = load(tmp_path, "a.txt", text.encode())
    assert spans(doc) == text.strip().split("\n")
    assert {b.kind for b in doc.blocks} == {"line"}


def test_short_lines_are_separate_blocks(tmp_path: Path) -> None:
    doc = load(tmp_path, "a.txt", b"Contact\nJane Doe\n12 High Street\n")
    assert spans(doc) == ["Contact", "Jane Doe", "12 High Street"]


def test_txt_list_items_start_new_blocks(tmp_path: Path) -> None:
    text = ("Things we need to buy for the trip next weekend\n"
            "- a tent that sleeps four people comfortably at night\n"
            "- two camping stoves and enough gas for three days\n")
    doc = load(tmp_path, "a.txt", text.encode())
    assert spans(doc) == ["Things we need to buy for the trip next weekend",
                          "a tent that sleeps four people comfortably at night",
                          "two camping stoves and enough gas for three days"]
    assert [b.kind for b in doc.blocks] == ["para", "item", "item"]


def test_txt_lines_opening_with_other_bullet_glyphs_are_items(tmp_path: Path) -> None:
    text = ("Things we need to buy for the trip next weekend\n"
            "◦ a tent that sleeps four people comfortably at night\n"
            "▪ two camping stoves and enough gas for three days\n")
    doc = load(tmp_path, "a.txt", text.encode())
    assert spans(doc) == ["Things we need to buy for the trip next weekend",
                          "a tent that sleeps four people comfortably at night",
                          "two camping stoves and enough gas for three days"]
    assert [b.kind for b in doc.blocks] == ["para", "item", "item"]


def test_latin1_txt_decodes(tmp_path: Path) -> None:
    doc = load(tmp_path, "a.txt", b"Caf\xe9 Zo\xeb")
    assert doc.text == "Café Zoë"


def test_western_text_prefers_cp1252(tmp_path: Path) -> None:
    doc = load(tmp_path, "a.txt", "The naïve café served “crème brûlée”.".encode("cp1252"))
    assert doc.text == "The naïve café served “crème brûlée”."


def test_non_western_legacy_encoding_is_detected(tmp_path: Path) -> None:
    text = "Привет мир, как дела? Это тест кодировки."
    assert load(tmp_path, "a.txt", text.encode("cp1251")).text == text


def test_utf8_bom_is_stripped(tmp_path: Path) -> None:
    doc = load(tmp_path, "a.txt", b"\xef\xbb\xbfTitle line\n")
    assert doc.text == "Title line\n"
    assert doc.title == "Title line"


def test_utf16_with_bom_decodes(tmp_path: Path) -> None:
    doc = load(tmp_path, "a.txt", "Grüße aus Köln.\n".encode("utf-16"))
    assert doc.text == "Grüße aus Köln.\n"


def test_crlf_and_cr_become_newlines(tmp_path: Path) -> None:
    doc = load(tmp_path, "a.txt", b"One.\r\nTwo.\rThree.\r\n\r\nFour.")
    assert doc.text == "One.\nTwo.\nThree.\n\nFour."
    assert doc.line_at(doc.text.index("Four")) == 5


def test_control_characters_become_spaces(tmp_path: Path) -> None:
    doc = load(tmp_path, "a.txt", b"Tab\there\x0cand\x07bell.")
    assert doc.text == "Tab\there and bell."


def test_txt_line_at_is_source_line(tmp_path: Path) -> None:
    doc = load(tmp_path, "a.txt", b"Title\n\nFirst para.\n\n\nSecond para.\n")
    assert [doc.line_at(b.start) for b in doc.blocks] == [1, 3, 6]


# --- markdown: tests/index/loaders/test_markdown.py -------------------------------------


# --- html ------------------------------------------------------------------------------------

HTML = b"""<!DOCTYPE html>
<html>
<head>
<title>Page Title</title>
<style>p { color: red; }</style>
<script>var hidden = "<p>not text</p>";</script>
</head>
<body>
<header><nav><a href="/">Home</a> | <a href="/about">About</a></nav></header>
<h1>Main Heading</h1>
<p>Fish &amp; chips cost
 &pound;5, write &lt;b&gt; for <b>bold</b>.</p>
<p>Line one<br>Line two</p>
<ul><li>Item A</li><li>Item B</li></ul>
<h2>Section</h2>
<div>Closing words.</div>
<footer>Copyright 2024</footer>
</body>
</html>
"""


def test_html_text_and_blocks(tmp_path: Path) -> None:
    doc = load(tmp_path, "page.html", HTML)
    assert spans(doc) == ["Main Heading", "Fish & chips cost £5, write <b> for bold.",
                          "Line one", "Line two", "Item A", "Item B", "Section",
                          "Closing words."]
    assert doc.format == "html"
    assert doc.title == "Main Heading"


def test_html_blocks_are_joined_by_blank_lines_and_br_by_newline(tmp_path: Path) -> None:
    doc = load(tmp_path, "page.html", HTML)
    assert "bold.\n\nLine one\nLine two\n\n• Item A\n• Item B\n\nSection" in doc.text


def test_html_entities_decode_to_literal_characters(tmp_path: Path) -> None:
    doc = load(tmp_path, "page.htm", b"<p>a &lt;b&gt; tag &amp;amp; &#8217; &nbsp;x</p>")
    assert doc.text == "a <b> tag &amp; \u2019 x"


def test_html_script_style_and_page_chrome_dropped(tmp_path: Path) -> None:
    text = load(tmp_path, "page.html", HTML).text
    for dropped in ("color", "hidden", "not text", "Home", "About", "Copyright", "Page Title"):
        assert dropped not in text


def test_html_heading_levels_and_path(tmp_path: Path) -> None:
    doc = load(tmp_path, "page.html", HTML)
    headings = [(doc.text[b.start:b.end], b.level) for b in doc.blocks if b.kind == "heading"]
    assert headings == [("Main Heading", 1), ("Section", 2)]
    assert doc.heading_path_at(doc.text.index("Closing")) == ["Main Heading", "Section"]


def test_html_line_at_is_source_line(tmp_path: Path) -> None:
    doc = load(tmp_path, "page.html", HTML)
    source = HTML.decode().split("\n")
    for needle, source_text in [("Main Heading", "<h1>"), ("Fish", "Fish"), ("£5", "&pound;5"),
                                ("Line two", "Line two"), ("Item B", "Item B"),
                                ("Closing", "Closing")]:
        line = doc.line_at(doc.text.index(needle))
        assert source_text in source[line - 1], needle


def test_html_title_tag_used_without_h1(tmp_path: Path) -> None:
    doc = load(tmp_path, "page.html", b"<title> The  Page </title><p>Body.</p>")
    assert doc.title == "The Page"
    assert spans(doc) == ["Body."]


def test_html_unclosed_head_ends_at_body_content(tmp_path: Path) -> None:
    doc = load(tmp_path, "page.html", b"<html><head><title>T</title><p>Visible text.")
    assert spans(doc) == ["Visible text."]


def test_html_article_header_is_kept(tmp_path: Path) -> None:
    page = b"<header>Site</header><article><header><h1>Story</h1></header><p>Text.</p></article>"
    assert spans(load(tmp_path, "page.html", page)) == ["Story", "Text."]


def test_html_meta_charset_is_honoured(tmp_path: Path) -> None:
    page = '<meta charset="windows-1251"><p>Привет, мир</p>'.encode("cp1251")
    assert load(tmp_path, "page.html", page).text == "Привет, мир"


def test_a_page_declaring_an_escape_codec_keeps_its_backslashes(tmp_path: Path) -> None:
    page = b'<meta charset="unicode_escape"><p>Caf\xe9 notes: \\u202e is the override.</p>'
    text = load(tmp_path, "page.html", page).text
    assert "\\u202e is the override" in text and "\u202e" not in text


def test_html_latin1_declaration_reads_as_cp1252(tmp_path: Path) -> None:
    page = '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">' \
        '<p>“Café”</p>'
    assert load(tmp_path, "page.html", page.encode("cp1252")).text == "“Café”"


def test_html_pre_keeps_lines(tmp_path: Path) -> None:
    doc = load(tmp_path, "page.html", b"<pre>first line\nsecond line</pre>")
    assert doc.text == "first line\nsecond line"


# --- pdf -------------------------------------------------------------------------------------

PDF_PAGES = [
    ["Chapter One",
     "This is a long line of body text that is wrapped in the PDF layout",
     "and it continues on the next line of the same paragraph until",
     "it ends here."],
    ["Second page text lives here.", "Another line on page two."],
]


def test_pdf_pages_and_page_at(tmp_path: Path) -> None:
    doc = load(tmp_path, "a.pdf", write_pdf(tmp_path / "src.pdf", PDF_PAGES))
    assert doc.format == "pdf"
    assert len(doc.page_starts) == 2
    assert doc.page_at(doc.text.index("Chapter One")) == 1
    assert doc.page_at(doc.text.index("Second page")) == 2
    assert_valid_blocks(doc)


def test_pdf_line_numbers_count_within_page(tmp_path: Path) -> None:
    doc = load(tmp_path, "a.pdf", write_pdf(tmp_path / "src.pdf", PDF_PAGES))
    assert doc.line_at(doc.text.index("it ends here")) == 4
    assert doc.line_at(doc.text.index("Another line")) == 2


def test_pdf_title_from_metadata(tmp_path: Path) -> None:
    doc = load(tmp_path, "a.pdf", write_pdf(tmp_path / "src.pdf", PDF_PAGES, title="Meta Title"))
    assert doc.title == "Meta Title"


def test_pdf_placeholder_title_falls_back_to_first_line(tmp_path: Path) -> None:
    # reportlab writes the placeholder title "untitled" when none is set
    assert load(tmp_path, "a.pdf", write_pdf(tmp_path / "src.pdf", PDF_PAGES)).title \
        == "Chapter One"


def test_pdf_wrapped_lines_are_one_block_and_heading_its_own(tmp_path: Path) -> None:
    doc = load(tmp_path, "a.pdf", write_pdf(tmp_path / "src.pdf", PDF_PAGES))
    assert block_at(doc, "Chapter One") == "Chapter One"
    assert block_at(doc, "and it continues").startswith("This is a long line")
    assert block_at(doc, "and it continues").endswith("it ends here.")


# --- docx ------------------------------------------------------------------------------------

def test_docx_text_headings_and_title(tmp_path: Path) -> None:
    doc = load(tmp_path, "a.docx", docx_bytes(tmp_path))
    assert doc.format == "docx"
    assert doc.title == "Annual Report"
    assert spans(doc) == ["Annual Report", "Revenue grew by ten percent.", "Outlook",
                          "First line", "Second line", "North office", "South office"]
    headings = [(doc.text[b.start:b.end], b.level) for b in doc.blocks if b.kind == "heading"]
    assert headings == [("Annual Report", 1), ("Outlook", 2)]
    assert doc.heading_path_at(doc.text.index("First")) == ["Annual Report", "Outlook"]


def test_docx_title_from_core_properties(tmp_path: Path) -> None:
    assert load(tmp_path, "a.docx", docx_bytes(tmp_path, title="Core Title")).title \
        == "Core Title"


def test_docx_line_is_paragraph_number(tmp_path: Path) -> None:
    doc = load(tmp_path, "a.docx", docx_bytes(tmp_path))
    # paragraphs: 1 heading, 2 revenue, 3 empty, 4 heading, 5 two lines, 6-7 table cells
    assert doc.line_at(doc.text.index("Revenue")) == 2
    assert doc.line_at(doc.text.index("Outlook")) == 4
    assert doc.line_at(doc.text.index("Second line")) == 5
    assert doc.line_at(doc.text.index("South")) == 7


# --- skipped files ---------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "data", "reason"), [
    ("empty.txt", b"", "empty"),
    ("blank.txt", b" \n\t\r\n  \n", "whitespace"),
    ("blank.md", b"---\n\n***\n", "no text"),
    ("nul.txt", b"text\x00with\x00nuls", "binary"),
    ("controls.md", bytes(range(1, 9)) * 20, "binary"),
    ("scripts.html", b"<script>alert(1)</script><style>p{}</style>", "no visible text"),
    ("random.pdf", os.urandom(2048), "PDF could not be parsed"),
    ("random.docx", b"PK\x03\x04 not really a zip", "corrupt docx"),
])
def test_bad_content_is_skipped(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    with pytest.raises(SkipFile, match=reason):
        load(tmp_path, name, data)


def test_truncated_pdf_is_skipped(tmp_path: Path) -> None:
    data = write_pdf(tmp_path / "src.pdf", PDF_PAGES)
    with pytest.raises(SkipFile, match="PDF could not be parsed"):
        load(tmp_path, "a.pdf", data[: len(data) // 3])


def test_encrypted_pdf_is_skipped(tmp_path: Path) -> None:
    data = write_pdf(tmp_path / "src.pdf", PDF_PAGES, encrypt="pw")
    with pytest.raises(SkipFile, match="encrypted"):
        load(tmp_path, "a.pdf", data)


def test_pdf_without_text_is_skipped(tmp_path: Path) -> None:
    data = write_pdf(tmp_path / "src.pdf", [[]])
    with pytest.raises(SkipFile, match=r"no text layer \(scanned\?\)"):
        load(tmp_path, "a.pdf", data)


def test_truncated_docx_is_skipped(tmp_path: Path) -> None:
    data = docx_bytes(tmp_path)
    with pytest.raises(SkipFile, match="corrupt docx"):
        load(tmp_path, "a.docx", data[: len(data) // 2])


# --- read_file -------------------------------------------------------------------------------

def test_read_file_returns_bytes(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"abc")
    assert read_file(tmp_path / "a.txt", 3) == b"abc"


def test_read_file_over_limit_names_size_and_limit(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"x" * 2000)
    with pytest.raises(SkipFile, match=r"too large: 2,000 bytes \(limit 1,000 bytes\)"):
        read_file(tmp_path / "a.txt", 1000)


def test_read_file_directory_is_not_regular(tmp_path: Path) -> None:
    with pytest.raises(SkipFile, match="not a regular file"):
        read_file(tmp_path, 1000)


def test_read_file_fifo_is_not_regular(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    with pytest.raises(SkipFile, match="not a regular file"):
        read_file(tmp_path / "pipe.txt", 1000)


def test_read_file_missing_is_skipped(tmp_path: Path) -> None:
    with pytest.raises(SkipFile, match="not found"):
        read_file(tmp_path / "gone.txt", 1000)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_read_file_unreadable_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_bytes(b"secret")
    path.chmod(0)
    with pytest.raises(SkipFile, match="permission denied"):
        read_file(path, 1000)


# --- properties ------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.text())
def test_txt_blocks_valid_and_line_at_counts_newlines(text: str) -> None:
    try:
        doc = load_document("p.txt", text.encode("utf-8"))
    except SkipFile:
        return
    assert_valid_blocks(doc)
    for offset in range(len(doc.text) + 1):
        assert doc.line_at(offset) == doc.text.count("\n", 0, offset) + 1


@pytest.mark.parametrize("name", ["p.md", "p.html"])
@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("ab #-*|>`=\n\t<>/&;p"))) | st.text())
def test_blocks_valid_for_any_text(name: str, text: str) -> None:
    try:
        doc = load_document(name, text.encode("utf-8"))
    except SkipFile:
        return
    assert_valid_blocks(doc)
    assert doc.line_anchors == sorted(doc.line_anchors)
    assert all(0 <= offset < len(doc.text) for offset, _ in doc.line_anchors)


def mutated(original: bytes) -> st.SearchStrategy[bytes]:
    """`original` with some bytes overwritten and maybe cut short: a damaged real file."""
    edits = st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)),
                     max_size=12)
    cut = st.integers(1, len(original))
    return st.builds(lambda e, n: bytes(_apply(original, e))[:n], edits, cut)


def _apply(data: bytes, edits: list[tuple[int, int]]) -> bytearray:
    out = bytearray(data)
    for position, value in edits:
        out[position] = value
    return out


def _real_files() -> dict[str, bytes]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        pdf = write_pdf(Path(folder) / "a.pdf", PDF_PAGES, title="A title")
        return {".pdf": pdf, ".docx": docx_bytes(Path(folder)),
                ".html": b"<html><head><title>T</title></head><body><h1>Head</h1><p>One. "
                         b"Two &amp; three.</p><ul><li>item</li></ul><pre>a\nb</pre></body>",
                ".md": b"---\ntitle: x\n---\n# H\n\nText *here*.\n\n- item\n\n```\ncode\n```\n"}


REAL_FILES = _real_files()


@settings(deadline=None)  # examples: the profile in tests/conftest.py (more in the soak)
@given(data=st.data(), suffix=st.sampled_from(sorted(SUPPORTED_SUFFIXES)))
def test_any_bytes_load_or_are_skipped_with_a_reason(data: st.DataObject, suffix: str) -> None:
    real = REAL_FILES.get(suffix)
    content = data.draw(st.binary(max_size=4096) | mutated(real) if real else st.binary())
    try:
        doc = load_document("f" + suffix, content)
    except SkipFile as exc:
        assert str(exc).strip() and "\n" not in str(exc)
        return
    assert_valid_blocks(doc)
    assert all(0 <= offset <= len(doc.text) for offset, _ in doc.line_anchors)


def test_an_extension_that_is_no_type_quotebot_reads_is_a_config_error() -> None:
    from index.loaders import indexed_suffixes
    from quotebot.config import ConfigError

    assert indexed_suffixes(["txt", ".MD"]) == {".txt", ".md"}
    with pytest.raises(ConfigError, match=r"'\*\.txt' is not a type"):
        indexed_suffixes(["*.txt", "*.md"])  # matched nothing, and emptied the index
