"""How loaders read files, from the config: OCR and the PDF size caps.

A plain, picklable dataclass, so the build can hand it to loaders in worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

OCR_MODES = ("auto", "off")
OCR_CACHE_FOLDER = "ocr"  # inside the store: OCR results by file hash, kept across builds


@dataclass(frozen=True)
class LoadOptions:
    ocr: str = "auto"  # "auto": OCR pages without a text layer when Tesseract is installed
    ocr_language: str = "eng"
    ocr_cache: Path | None = None  # folder of cached OCR results (None: no cache)
    max_pdf_pages: int = 2000  # a PDF with more pages is skipped with a reason
    max_page_chars: int = 100_000  # text of one page beyond this is cut (and said so)
    progress: bool = False  # a progress bar while scanned pages are read (OCR is slow)
    ocr_budget_s: float = 0.0  # OCR time for one file (0: no limit); pages past it are noted

    @classmethod
    def from_config(cls, loading: object, store: Path | None, progress: bool = False,
                    ocr_budget_s: float = 0.0) -> LoadOptions:
        """Options from the config's [loading] table; the OCR cache lives in the store."""
        from quotebot.config import ConfigError

        if getattr(loading, "ocr", "auto") not in OCR_MODES:
            raise ConfigError(f"loading.ocr must be one of {', '.join(OCR_MODES)}, "
                              f"not {getattr(loading, 'ocr', '')!r}")
        return cls(ocr=getattr(loading, "ocr", "auto"),
                   ocr_language=getattr(loading, "ocr_language", "eng"),
                   ocr_cache=Path(store) / OCR_CACHE_FOLDER if store else None,
                   max_pdf_pages=getattr(loading, "max_pdf_pages", 2000), progress=progress,
                   ocr_budget_s=ocr_budget_s)
