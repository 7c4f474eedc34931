"""PDF loading: speed on the real papers, and bounds on hostile files.

    python benchmarks/pdf_loading.py [--pdfs ../shared/data/real-pdfs]

Prints, as JSON: the time to load each paper with quotebot's loader (PDFium + normalisation)
and, when pypdf is installed, pypdf's bare text extraction for comparison; the time to
refuse a PDF of 10,000 empty pages (over loading.max_pdf_pages) and to read it when the
limit is raised; and what a broken and a password-protected PDF give.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from benchmarks.common import DATA, machine  # noqa: E402
from index.loaders import SkipFile, load_document  # noqa: E402
from index.loaders.options import LoadOptions  # noqa: E402


def timed(func) -> tuple[float, object]:
    started = time.perf_counter()
    try:
        result = func()
    except SkipFile as exc:
        result = f"SkipFile: {exc}"
    return round(time.perf_counter() - started, 3), result


def pypdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pdfs", type=Path, default=DATA / "real-pdfs")
    args = parser.parse_args()
    out: dict[str, object] = {"machine": machine()}
    papers = []
    try:
        import pypdf  # noqa: F401
        has_pypdf = True
    except ImportError:
        has_pypdf = False
    total_ours = total_pypdf = 0.0
    for path in sorted(args.pdfs.glob("*.pdf")):
        data = path.read_bytes()
        ours, doc = timed(lambda data=data, path=path: load_document(path.name, data))
        row = {"file": path.name, "quotebot_s": ours, "title": getattr(doc, "title", doc)}
        total_ours += ours
        if has_pypdf:
            theirs, _ = timed(lambda data=data: pypdf_text(data))
            row["pypdf_s"] = theirs
            total_pypdf += theirs
        papers.append(row)
    out["papers"] = papers
    out["total_quotebot_s"] = round(total_ours, 2)
    if has_pypdf:
        out["total_pypdf_s"] = round(total_pypdf, 2)

    from support.pdfs import PdfSpec, empty_pages_pdf, pdf_bytes

    empty = empty_pages_pdf(10_000)
    out["10000_empty_pages_refused"] = timed(lambda: load_document("e.pdf", empty))
    out["10000_empty_pages_read_with_limit_raised"] = timed(lambda: load_document(
        "e.pdf", empty, options=LoadOptions(max_pdf_pages=20_000)))
    good = pdf_bytes(PdfSpec([["A sentence on the only page of this file."]]))
    out["broken"] = timed(lambda: load_document("b.pdf", good[:300]))[1]
    from reportlab.lib.pdfencrypt import StandardEncryption

    locked = pdf_bytes(PdfSpec([["Secret."]]), encrypt=StandardEncryption("pw"))
    out["password"] = timed(lambda: load_document("p.pdf", locked))[1]
    print(json.dumps(out, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
