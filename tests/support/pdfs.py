"""Real PDFs the tests generate: text pages with chosen lines, fonts and sizes, and scans.

reportlab writes them; a TrueType font with ligature glyphs (DejaVu Sans) is used when the
system has it, so a PDF can carry U+FB01 "ﬁ" the way typeset papers do.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
PAGE_WIDTH, PAGE_HEIGHT = 595.0, 842.0  # A4 in points


@dataclass
class Line:
    """A line of text at a size (points); the first page's title is the one set large."""

    text: str
    size: float = 11.0


@dataclass
class PdfSpec:
    pages: list[list[Line | str]]
    title: str = ""  # the metadata title
    header: str = ""  # a running header at the top of every page
    page_numbers: bool = False  # a page number at the bottom of every page
    font: str = "Helvetica"
    extra: dict[str, object] = field(default_factory=dict)


def ligature_font() -> str | None:
    """Register DejaVu Sans (has ﬁ/ﬂ glyphs) with reportlab; None when it is not installed."""
    if not DEJAVU.is_file():
        return None
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont("DejaVuSans", str(DEJAVU)))
    return "DejaVuSans"


def pdf_bytes(spec: PdfSpec, *, encrypt: object | None = None) -> bytes:
    """The PDF for `spec`: each page's lines from the top, 16 points apart."""
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), encrypt=encrypt)
    if spec.title:
        c.setTitle(spec.title)
    for number, lines in enumerate(spec.pages, 1):
        y = PAGE_HEIGHT - 60
        if spec.header:
            c.setFont(spec.font, 9)
            c.drawString(60, PAGE_HEIGHT - 40, spec.header)
        for line in lines:
            line = Line(line) if isinstance(line, str) else line
            c.setFont(spec.font, line.size)
            c.drawString(60, y, line.text)
            y -= max(16.0, line.size * 1.4)
        if spec.page_numbers:
            c.setFont(spec.font, 9)
            c.drawString(PAGE_WIDTH / 2, 30, str(number))
        c.showPage()
    c.save()
    return out.getvalue()


def scanned_pdf(text_pdf: bytes, dpi: int = 200) -> bytes:
    """An image-only PDF: every page of `text_pdf` rendered to a picture (no text layer)."""
    import pypdfium2 as pdfium
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    source = pdfium.PdfDocument(text_pdf)
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(PAGE_WIDTH, PAGE_HEIGHT))
    for index in range(len(source)):
        image = source[index].render(scale=dpi / 72, grayscale=True).to_pil()
        c.drawImage(ImageReader(image), 0, 0, PAGE_WIDTH, PAGE_HEIGHT)
        c.showPage()
    c.save()
    source.close()
    return out.getvalue()


def empty_pages_pdf(count: int) -> bytes:
    """A PDF of `count` empty pages (fast to make with PDFium)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument.new()
    for _ in range(count):
        document.new_page(200, 200).close()
    out = io.BytesIO()
    document.save(out)
    document.close()
    return out.getvalue()
