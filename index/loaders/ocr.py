"""OCR of scanned PDF pages: rendered with PDFium, read by Tesseract, cached by file hash.

A page's result is its text lines and the box of every word (PDF points, PDFium's
orientation: left, bottom, right, top), so a quote from an OCR'd page can be highlighted
on the page picture. Results are kept as one JSON file per (file hash, page, language) in
a cache folder (the store's `ocr/`), so a rebuild never reads a page twice; the key is
pure, so the build's worker processes share the cache through the file system.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

OCR_VERSION = 1  # bump when the recognition or its output changes: cached pages are redone
OCR_DPI = 300


@dataclass
class OcrWord:
    text: str
    line: int  # index of the word's line in OcrPage.lines
    box: tuple[float, float, float, float]  # left, bottom, right, top in PDF points


@dataclass
class OcrPage:
    """What Tesseract read on one page."""

    lines: list[str]
    words: list[OcrWord] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"version": OCR_VERSION, "lines": self.lines,
                "words": [asdict(w) for w in self.words]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OcrPage:
        return cls(list(data["lines"]), [OcrWord(w["text"], int(w["line"]), tuple(w["box"]))
                                         for w in data["words"]])


@functools.lru_cache(maxsize=1)
def unavailable() -> str:
    """Why OCR cannot run here ("" when it can): the binding or the binary is missing."""
    try:
        import pytesseract

        pytesseract.get_tesseract_version()
    except ImportError:
        return "the pytesseract package is not installed"
    except Exception:
        return "the tesseract program is not installed (apt-get install tesseract-ocr)"
    return ""


def language_missing(language: str) -> str:
    """Why `language` cannot be read ("" when its Tesseract data is installed)."""
    import pytesseract

    try:
        installed = set(pytesseract.get_languages(config=""))
    except Exception:
        return ""
    wanted = [part for part in language.split("+") if part]
    missing = [part for part in wanted if part not in installed]
    return (f"Tesseract has no data for {', '.join(missing)} (apt-get install "
            f"tesseract-ocr-{missing[0]})") if missing else ""


def cache_key(content_hash: str, page: int, language: str) -> str:
    """The cache entry of one page of one file (by content) in one language."""
    raw = f"{content_hash}\x00{page}\x00{language}\x00{OCR_VERSION}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


class OcrCache:
    """OCR results on disk, one JSON file per page; a missing folder means no caching."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def get(self, key: str) -> OcrPage | None:
        if self.folder is None:
            return None
        try:
            data = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            return OcrPage.from_json(data) if data.get("version") == OCR_VERSION else None
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, page: OcrPage) -> None:
        """Write atomically (a temp file renamed), so readers never see half an entry."""
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(page.to_json(), handle)
            os.replace(tmp, self.folder / f"{key}.json")
        except OSError:
            pass  # a cache that cannot be written only costs time


def recognise(page: Any, language: str, dpi: int = OCR_DPI) -> OcrPage:
    """Render a pypdfium2 page and read it with Tesseract: lines and word boxes."""
    import pytesseract

    scale = dpi / 72
    height = page.get_height()
    image = page.render(scale=scale, grayscale=True).to_pil()
    data = pytesseract.image_to_data(image, lang=language, output_type=pytesseract.Output.DICT)
    lines: list[str] = []
    words: list[OcrWord] = []
    current: tuple[int, int, int] | None = None
    for i, text in enumerate(data["text"]):
        text = (text or "").strip()
        if not text or float(data["conf"][i]) < 0:
            continue
        where = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        if where != current:
            current = where
            lines.append(text)
        else:
            lines[-1] += " " + text
        left, top = data["left"][i] / scale, data["top"][i] / scale
        right, bottom = left + data["width"][i] / scale, top + data["height"][i] / scale
        words.append(OcrWord(text, len(lines) - 1, (left, height - bottom, right, height - top)))
    return OcrPage(lines, words)


def read_page(page: Any, *, content_hash: str, number: int, language: str,
              cache: OcrCache) -> OcrPage:
    """The OCR of page `number` (1-based) of a file: from the cache, else recognised now."""
    key = cache_key(content_hash, number, language)
    cached = cache.get(key)
    if cached is not None:
        return cached
    result = recognise(page, language)
    cache.put(key, result)
    return result
