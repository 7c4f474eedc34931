"""Generators of hostile files (issue 14): each is small on disk and made to hurt a parser.

Used by the tests (tests/index/) and by benchmarks/hostile_corpus.py and
benchmarks/adversarial_text.py; nothing here reads ../shared/data.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable


def surrogate_pdf(title_hex: str = "") -> bytes:
    """A ~1 KB PDF whose ToUnicode map sends the glyph "A" to U+D800 (a lone surrogate).

    It shows "ABA": pypdf extracts "\\ud800B\\ud800". `title_hex` is the /Title string's
    bytes in hex ("" for no /Title, so the title comes from the text's first line).
    """
    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
            b"/CMapName /Hostile def 1 begincodespacerange <00> <FF> endcodespacerange\n"
            b"2 beginbfchar <41> <D800> <42> <0042> endbfchar\n"
            b"endcmap CMapName currentdict /CMap defineresource pop end end\n")
    content = b"BT /F1 24 Tf 72 720 Td (ABA) Tj ET"
    info = b"<< /Title <" + title_hex.encode() + b"> >>" if title_hex else b"<< >>"
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
        _stream(cmap),
        info,
    ])


def text_pdf(text: str, title: str = "", pages: int = 1) -> bytes:
    """A PDF of `pages` pages, the first showing `text` (ASCII, one line) in Helvetica, the
    others empty; `title` goes in /Title (any length: a hostile /Title is just long)."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    content = b"BT /F1 12 Tf 72 720 Td (" + escaped.encode("latin-1") + b") Tj ET"
    empty = 5 + 1  # object number of the empty pages' shared content stream
    kids = b" ".join(b"%d 0 R" % n for n in [3] + list(range(empty + 2, empty + 1 + pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        _stream(b""),
        b"<< /Title (" + title.encode("latin-1") + b") >>",
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R >>"
                % empty] * (pages - 1)
    return _pdf(objects, info=empty + 1)


def _stream(data: bytes) -> bytes:
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def _pdf(objects: list[bytes], info: int | None = None) -> bytes:
    """A PDF file of the given objects (1-based), the last one (or `info`) the /Info dict."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, info or len(objects), xref)
    return bytes(out)


def docx_with_body(body_xml: bytes, text: str = "A real paragraph of the document.") -> bytes:
    """A valid docx (python-docx's template) with `body_xml` added at the start of its body."""
    return _edited_docx("word/document.xml",
                        lambda data: data.replace(b"<w:body>", b"<w:body>" + body_xml, 1), text)


def docx_with_part(name: str, content: bytes) -> bytes:
    """python-docx's template (one paragraph) with its part `name` replaced by `content`."""
    return _edited_docx(name, lambda _: content)


def _edited_docx(name: str, edit: Callable[[bytes], bytes],
                 text: str = "A real paragraph of the document.") -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            archive.writestr(info.filename, edit(data) if info.filename == name else data)
    return out.getvalue()


def docx_paragraph_bomb(paragraphs: int = 200_000) -> bytes:
    """A ~40 KB docx holding `paragraphs` empty `<w:p/>` (the issue's 36 KB, 95 s file)."""
    return docx_with_body(b"<w:p/>" * paragraphs)


def zip_bomb(megabytes: int = 1024, level: int = 1) -> bytes:
    """A zip holding one member of `megabytes` MB of zeros; named .docx, it is a zip bomb
    that claims to be a document. Level 1 compresses ~230 times (1 GB: 4.6 MB, in 4 s),
    level 6 ~1,000 times, 4 times slower."""
    out = io.BytesIO()
    block = b"\0" * 2**20
    with (zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive,
          archive.open("word/document.xml", "w", force_zip64=True) as member):
        for _ in range(megabytes):
            member.write(block)
    return out.getvalue()


def nav_html(count: int = 20_000) -> bytes:
    """An HTML page of `count` nested unclosed <nav> and `count` </p> (the parser's list scans)."""
    return (b"<html><body><h1>Navigation</h1><p>A sentence before the navigation.</p>"
            + b"<nav>" * count + b"</p>" * count + b"</body></html>")


def run_of_dots(size: int) -> str:
    return "." * size


def author_list(size: int) -> str:
    return ("J. Smith, " * (size // 10 + 1))[:size]


def long_line(size: int) -> str:
    """One line of prose sentences, no newline (a 1 MB line)."""
    sentence = "The lighthouse keeper wrote the weather in the log every night. "
    return (sentence * (size // len(sentence) + 1))[:size]
