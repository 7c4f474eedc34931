"""Page pictures: a PNG of a PDF hit's page with the quote highlighted over its boxes; none
for other formats; OCR'd pages highlighted from Tesseract's word boxes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from support.pdfs import PdfSpec, pdf_bytes, scanned_pdf

from index.loaders import ocr
from retrieval.pictures import SCALE, page_picture, picture_png

PNG = b"\x89PNG\r\n\x1a\n"


def first_hit(retriever: Any, question: str, suffix: str) -> Any:
    answer = retriever.ask(question, k=5, abstain=False)
    return next(h for h in answer.hits if h.citation.path.endswith(suffix))


def pixel(image: Image.Image, crop: tuple, x: float, y: float, page_height: float) -> tuple:
    """The picture's colour at PDF point (x, y)."""
    left, _, _, top = crop
    return image.getpixel((int((x - left) * SCALE), int((top - y) * SCALE)))[:3]


def test_pdf_hit_picture_highlights_the_quote_boxes(retriever: Any, session_config: Any) -> None:
    import pypdfium2 as pdfium

    hit = first_hit(retriever, "How tall is the Eiffel Tower?", "eiffel.pdf")
    picture = page_picture(session_config, hit)
    assert picture is not None and picture.png.startswith(PNG) and picture.page == 2
    document = pdfium.PdfDocument(Path(session_config.corpus) / hit.citation.path)
    textpage = document[1].get_textpage()
    at = textpage.get_text_range().index("330 metres")
    left, bottom, right, top = textpage.get_charbox(at, loose=True)
    height = document[1].get_height()
    assert any(b[0] <= left and right <= b[2] and b[1] <= bottom and top <= b[3]
               for b in picture.boxes)
    image = Image.open(io.BytesIO(picture.png)).convert("RGB")
    inside = [pixel(image, picture.crop, left + (right - left) * f, top - 0.5, height)
              for f in (0.2, 0.5, 0.8)]
    assert any(r > 200 and g > 150 and b < 150 for r, g, b in inside)  # yellow over white
    below = min(b[1] for b in picture.boxes) - 30
    assert pixel(image, picture.crop, left, below, height) == (255, 255, 255)


def test_text_file_hit_has_no_picture(retriever: Any, session_config: Any) -> None:
    hit = first_hit(retriever, "Which towns did Vesuvius bury?", ".txt")
    assert picture_png(session_config, hit) is None


def test_scanned_pdf_is_answered_with_its_page_and_pictured(fresh_copy: Any) -> None:
    if ocr.unavailable():
        pytest.skip(f"OCR test needs Tesseract: {ocr.unavailable()}")
    from index.build import build_index
    from retrieval import Retriever

    config = fresh_copy()
    pages = [["The first page is about the weather in the mountains."],
             ["The lighthouse keeper rings the brass bell at noon every day."]]
    (Path(config.corpus) / "scan.pdf").write_bytes(scanned_pdf(pdf_bytes(PdfSpec(pages))))
    report = build_index(config, progress=False)
    assert any("scan.pdf" in note and "OCR" in note for note in report.notes)
    with Retriever.open(config) as retriever:
        hit = first_hit(retriever, "When does the lighthouse keeper ring the bell?", "scan.pdf")
    assert hit.citation.page == 2 and "brass bell" in hit.excerpt
    picture = page_picture(config, hit)
    assert picture is not None and picture.boxes  # from Tesseract's word boxes


PICTURE_IN_A_CHILD = """
import pickle, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GB of address space
from retrieval.pictures import page_picture
config, hit = pickle.load(sys.stdin.buffer)
picture = page_picture(config, hit)
print(len(picture.png), len(picture.boxes))
"""


def test_a_huge_page_is_pictured_within_bounded_memory(fresh_copy: Any) -> None:
    """A page 200 inches square (the largest PDF allows) is 3.3 GB as a bitmap at SCALE,
    and pictures are made in the bot's own process: only the region shown is rendered."""
    import pickle
    import subprocess
    import sys

    from reportlab.pdfgen import canvas

    from index.build import build_index
    from retrieval import Retriever

    config = fresh_copy()
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(14400, 14400))
    c.setFont("Helvetica", 11)
    c.drawString(60, 14300, "The lighthouse keeper rings the brass bell at noon every day.")
    c.showPage()
    c.save()
    (Path(config.corpus) / "poster.pdf").write_bytes(out.getvalue())
    build_index(config, progress=False)
    with Retriever.open(config) as retriever:
        hit = first_hit(retriever, "When does the lighthouse keeper ring the bell?", "poster.pdf")
    child = subprocess.run([sys.executable, "-c", PICTURE_IN_A_CHILD],
                           input=pickle.dumps((config, hit)), capture_output=True, timeout=120,
                           cwd=Path(__file__).resolve().parents[2])
    assert child.returncode == 0, child.stderr.decode()[-2000:]
    size, boxes = map(int, child.stdout.split())
    assert size > 0 and boxes >= 1  # the quote is found and highlighted


def test_a_pdf_replaced_since_the_answer_is_not_pictured_under_its_citation(
        fresh_copy: Any) -> None:
    import shutil

    from quotebot.errors import DocumentChanged
    from retrieval import Retriever

    config = fresh_copy()
    with Retriever.open(config) as opened:
        hit = first_hit(opened, "How tall is the Eiffel Tower?", "eiffel.pdf")
    assert picture_png(config, hit) is not None  # the file quoted: its page
    other = next(p for p in Path(config.corpus).rglob("*.pdf") if p.name != "eiffel.pdf")
    shutil.copy(other, Path(config.corpus) / hit.citation.path)  # another PDF, same path
    with pytest.raises(DocumentChanged, match="has changed since it was quoted"):
        picture_png(config, hit)


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_a_turned_page_is_highlighted_where_it_shows_the_quote(tmp_path: Path,
                                                               rotation: int) -> None:
    import pypdfium2 as pdfium

    from quotebot.config import Config
    from retrieval.answer import Citation, Hit

    quote = "Ferries to the island leave at seven every morning."
    document = pdfium.PdfDocument(pdf_bytes(PdfSpec([[
        "The harbour office opens at six.", quote, "Tickets are sold on board."]])))
    document[0].set_rotation(rotation)  # a landscape scan, or a page set sideways
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    document.save(str(corpus / "ferries.pdf"))
    document.close()
    config = Config()
    config.corpus = corpus
    hit = Hit(rank=1, score=1.0, text=quote, excerpt=quote, excerpt_start=0,
              excerpt_end=len(quote), citation=Citation("d", "Ferries", "ferries.pdf", 2, 2,
                                                        page=1))
    picture = page_picture(config, hit)
    assert picture is not None
    image = Image.open(io.BytesIO(picture.png)).convert("RGB")
    pixels = list(image.getdata())
    yellow = [i for i, (r, g, b) in enumerate(pixels) if r > 200 and g > 150 and b < 150]
    inked = [i for i, (r, g, b) in enumerate(pixels) if r < 120 and g < 120]
    assert yellow and inked
    width = image.width
    xs, ys = [i % width for i in yellow], [i // width for i in yellow]
    under = [i for i in inked
             if min(xs) <= i % width <= max(xs) and min(ys) <= i // width <= max(ys)]
    assert len(under) > 0.2 * len(inked)  # the quoted line of the three shown lies under it
