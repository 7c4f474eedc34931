"""Page pictures: a PDF hit's page rendered with the quoted text highlighted, as PNG bytes.

The quote is found again on the page, independently of how the index normalised the
text: both are reduced to their letters and digits (NFKC, case-folded, OT1 ligature slots
resolved), so joined hyphens, dropped headers and collapsed spaces do not matter. Its
characters' boxes come from PDFium, or from Tesseract's word boxes (the OCR cache in the
store) for a scanned page. A translucent colour is drawn over them and the picture is
cropped to the quote's column with some lines above and below for context.

Only PDF hits have pictures: `page_picture` returns None for any other hit, or when the
file is no longer in the corpus folder.
"""

from __future__ import annotations

import hashlib
import io
import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from index.loaders.normalise import fold_line
from index.loaders.ocr import OcrCache, cache_key
from index.loaders.options import OCR_CACHE_FOLDER
from quotebot.config import Config
from quotebot.errors import DocumentChanged
from retrieval.answer import Hit

SCALE = 2.0  # pixels per PDF point (144 dpi): small print stays readable on a phone
HIGHLIGHT = (255, 214, 0, 110)  # translucent yellow, RGBA
CONTEXT_POINTS = 90.0  # page shown above and below the quote
SIDE_POINTS = 24.0  # page shown left and right of the quote's column
MIN_MATCH = 12  # shortest part of a quote (letters and digits) worth finding on a page
MAX_PIXELS = 16_000_000  # the most a picture renders (64 MB as RGBA); larger: lower scale

_OT1_SLOTS = {"\x0b": "ff", "\x0c": "fi", "\x0d": "fl", "\x0e": "ffi", "\x0f": "ffl"}
Box = tuple[float, float, float, float]  # left, bottom, right, top in PDF points


@dataclass
class PagePicture:
    """A rendered page region: PNG bytes, the highlighted boxes, and the crop (points)."""

    png: bytes
    boxes: list[Box]
    crop: Box
    page: int


def _key_chars(text: str) -> list[tuple[str, int]]:
    """(folded letter or digit, index in `text`) for every letter and digit of `text`."""
    out = []
    for i, char in enumerate(text):
        folded = char
        if char == "\r" and text[i + 1:i + 2] == "\n":
            continue  # PDFium's line break, not OT1's fl slot
        if char in _OT1_SLOTS:  # a ligature slot when a letter stands beside it
            beside = text[max(0, i - 1):i] + text[i + 1:i + 2]
            folded = _OT1_SLOTS[char] if any(c.isalpha() for c in beside) else ""
        elif not char.isascii():
            folded = fold_line(char)
        for c in unicodedata.normalize("NFKC", folded).casefold():
            if c.isalnum():
                out.append((c, i))
    return out


def _find(haystack: str, needle: str) -> tuple[int, int] | None:
    """Where `needle` (or its longest findable head or tail) is in `haystack`."""
    if len(needle) < 1:
        return None
    at = haystack.find(needle)
    if at >= 0:
        return at, at + len(needle)
    size = len(needle)
    while size > MIN_MATCH:  # the quote runs onto the next page, or from the previous one
        size = size * 3 // 4
        at = haystack.find(needle[:size])
        if at >= 0:
            return at, at + size
        at = haystack.find(needle[-size:])
        if at >= 0:
            return at, at + size
    return None


def _text_boxes(page: object, quote: str) -> list[Box]:
    """Boxes of the quote's characters on a page with a text layer (PDFium)."""
    textpage = page.get_textpage()  # type: ignore[attr-defined]
    try:
        count = textpage.count_chars()
        text = textpage.get_text_range(0, count) if count > 0 else ""
        keys = _key_chars(text)
        found = _find("".join(c for c, _ in keys), "".join(c for c, _ in _key_chars(quote)))
        if not found:
            return []
        first, last = keys[found[0]][1], keys[found[1] - 1][1]
        boxes = []
        for i in range(first, last + 1):
            if text[i].isspace():
                continue
            try:
                boxes.append(tuple(textpage.get_charbox(i, loose=True)))
            except Exception:
                continue
        return _merge_lines(boxes)
    finally:
        textpage.close()


def _as_shown(boxes: list[Box], rotation: int, width: float, height: float) -> list[Box]:
    """Character boxes (PDF page space) where the page shows them: PDFium renders a page
    turned by its /Rotate, and `width`, `height` are its size as shown. Unturned, a
    landscape page's highlight fell on blank space beside the quote."""
    turned = []
    for left, bottom, right, top in boxes:
        if rotation == 90:  # the page's height runs across: x as shown is y on the page
            box = (bottom, height - right, top, height - left)
        elif rotation == 180:
            box = (width - right, height - top, width - left, height - bottom)
        elif rotation == 270:
            box = (width - top, left, width - bottom, right)
        else:
            box = (left, bottom, right, top)
        turned.append(box)
    return turned


def _ocr_boxes(config: Config, path: Path, number: int, quote: str) -> list[Box]:
    """Boxes of the quote's words on an OCR'd page, from the store's OCR cache."""
    content_hash = hashlib.sha256(path.read_bytes()).hexdigest()
    cache = OcrCache(Path(config.store) / OCR_CACHE_FOLDER)
    result = cache.get(cache_key(content_hash, number, config.loading.ocr_language))
    if result is None or not result.words:
        return []
    stream: list[tuple[str, int]] = []
    for w, word in enumerate(result.words):
        stream += [(c, w) for c, _ in _key_chars(word.text)]
    found = _find("".join(c for c, _ in stream), "".join(c for c, _ in _key_chars(quote)))
    if not found:
        return []
    first, last = stream[found[0]][1], stream[found[1] - 1][1]
    return _merge_lines([result.words[w].box for w in range(first, last + 1)])


def _merge_lines(boxes: list[Box]) -> list[Box]:
    """Character boxes merged into one box per run on the same line (fewer, neater marks)."""
    merged: list[list[float]] = []
    for left, bottom, right, top in boxes:
        if merged:
            m = merged[-1]
            height = max(m[3] - m[1], top - bottom, 1.0)
            same_line = abs(m[1] - bottom) < 0.5 * height and -2.0 <= left - m[2] < 3 * height
            if same_line:
                m[0], m[1] = min(m[0], left), min(m[1], bottom)
                m[2], m[3] = max(m[2], right), max(m[3], top)
                continue
        merged.append([left, bottom, right, top])
    return [(m[0], m[1], m[2], m[3]) for m in merged]


def quote_boxes(config: Config, hit: Hit) -> tuple[Path, int, list[Box]] | None:
    """The PDF file, page number and boxes of the hit's quote; None if not a PDF hit (or
    the file is gone). DocumentChanged when the file is not the one quoted any more."""
    citation = hit.citation
    if citation.page is None or not citation.path.lower().endswith(".pdf"):
        return None
    path = Path(config.corpus) / citation.path
    if not path.is_file():
        return None
    if citation.content_hash:
        try:
            with open(path, "rb") as handle:
                now = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError:
            return None
        if now != citation.content_hash:
            raise DocumentChanged(f"{citation.path} has changed since it was quoted: index it "
                                  "again (`quotebot index`) if it has not been, then ask again")
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(path)
    except Exception:
        return None
    try:
        if not 1 <= citation.page <= len(document):
            return None
        page = document[citation.page - 1]
        boxes = _as_shown(_text_boxes(page, hit.excerpt), page.get_rotation(),
                          *page.get_size())
        page.close()
    finally:
        document.close()
    if not boxes:
        boxes = _ocr_boxes(config, path, citation.page, hit.excerpt)
    return path, citation.page, boxes


def page_picture(config: Config, hit: Hit, *, scale: float = SCALE) -> PagePicture | None:
    """The hit's page with its quote highlighted, cropped around it; None if not a PDF hit.

    DocumentChanged when the file is not the version quoted. When the quote cannot be
    found on the page (text the reader could not place), the whole page is returned
    without a highlight.
    """
    located = quote_boxes(config, hit)
    if located is None:
        return None
    path, number, boxes = located
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    document = pdfium.PdfDocument(path)
    try:
        page = document[number - 1]
        width, height = page.get_size()
        crop = _crop(boxes, width, height)
        left, bottom, right, top = crop
        # Only the region shown is rendered, and at most MAX_PIXELS of it: a page may be
        # 200 inches square (3.3 GB as a bitmap at SCALE), and this runs in the bot.
        scale = min(scale, math.sqrt(MAX_PIXELS / max(1.0, (right - left) * (top - bottom))))
        image = page.render(scale=scale, crop=(left, bottom, width - right, height - top)
                            ).to_pil().convert("RGBA")
        page.close()
    finally:
        document.close()
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for box_left, box_bottom, box_right, box_top in boxes:
        draw.rectangle([(box_left - left) * scale, (top - box_top) * scale,
                        (box_right - left) * scale, (top - box_bottom) * scale], fill=HIGHLIGHT)
    image = Image.alpha_composite(image, overlay).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return PagePicture(out.getvalue(), boxes, crop, number)


def _crop(boxes: list[Box], width: float, height: float) -> Box:
    """The region shown: the quote's column and lines, with context; the page if no boxes."""
    if not boxes:
        return 0.0, 0.0, width, height
    left = max(0.0, min(b[0] for b in boxes) - SIDE_POINTS)
    right = min(width, max(b[2] for b in boxes) + SIDE_POINTS)
    if right - left < width / 2:  # a short quote: show at least half the page's width
        middle = (left + right) / 2
        left = max(0.0, min(middle - width / 4, width / 2))
        right = min(width, left + width / 2)
    bottom = max(0.0, min(b[1] for b in boxes) - CONTEXT_POINTS)
    top = min(height, max(b[3] for b in boxes) + CONTEXT_POINTS)
    return left, bottom, right, top


def picture_png(config: Config, hit: Hit) -> bytes | None:
    """PNG bytes of the hit's page picture, or None when the hit is not from a PDF (or the
    PDF is gone); DocumentChanged when the PDF has changed since it was quoted."""
    picture = page_picture(config, hit)
    return picture.png if picture else None
