"""How much of a web page's text is the article: quotebot's HTML loader against Readability's
expected article text, on ../shared/data/real-html (65 real pages saved from the web).

Each page's extracted text and `expected.html`'s text are compared as bags of lowercased word
tokens: precision = shared tokens / extracted tokens, recall = shared tokens / expected
tokens, F1 their harmonic mean; each is computed per page and averaged over the pages (a
page with nothing extracted scores 0). The usual way main-text extraction is benchmarked.

    python benchmarks/html_extraction.py                      # quotebot's loader, this checkout
    python benchmarks/html_extraction.py --extractor trafilatura   # the library alone (txt)
    python benchmarks/html_extraction.py --code /tmp/old --worst 5 # another checkout's loader
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA  # noqa: E402

PAGES = DATA / "real-html"
_TOKEN = re.compile(r"\w+")


def tokens(text: str) -> Counter[str]:
    """The bag of lowercased word tokens of a text."""
    return Counter(_TOKEN.findall(text.lower()))


def expected_text(html: bytes) -> str:
    """The visible text of Readability's expected.html."""
    import lxml.html

    return lxml.html.fromstring(html.decode("utf-8", "replace")).text_content()


def score(got: Counter[str], want: Counter[str]) -> tuple[float, float, float]:
    """Bag-of-words precision, recall and F1."""
    shared = sum((got & want).values())
    precision = shared / sum(got.values()) if got else 0.0
    recall = shared / sum(want.values()) if want else 0.0
    f1 = 2 * precision * recall / (precision + recall) if shared else 0.0
    return precision, recall, f1


def quotebot_loader(data: bytes) -> str:
    """What quotebot indexes of the page: the loaded document's text (list markers aside)."""
    from index.loaders import SkipFile, load_document

    try:
        return load_document("page.html", data).text
    except SkipFile:
        return ""


def trafilatura_alone(data: bytes) -> str:
    """trafilatura's plain-text output with favor_recall, the reference in issue 12."""
    import trafilatura

    return trafilatura.extract(data, favor_recall=True) or ""


EXTRACTORS: dict[str, Callable[[bytes], str]] = {
    "quotebot": quotebot_loader, "trafilatura": trafilatura_alone}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extractor", choices=sorted(EXTRACTORS), default="quotebot")
    parser.add_argument("--code", type=Path, help="import quotebot's loader from this checkout")
    parser.add_argument("--pages", type=Path, default=PAGES)
    parser.add_argument("--worst", type=int, default=0, help="list the N pages of lowest F1")
    parser.add_argument("--json", action="store_true", help="one JSON object with the figures")
    args = parser.parse_args()
    if args.code:
        sys.path.insert(0, str(args.code.resolve()))
    extract = EXTRACTORS[args.extractor]
    rows, seconds = [], 0.0
    for page in sorted(p for p in args.pages.iterdir() if (p / "source.html").is_file()):
        want = tokens(expected_text((page / "expected.html").read_bytes()))
        data = (page / "source.html").read_bytes()
        started = time.perf_counter()
        text = extract(data)
        seconds += time.perf_counter() - started
        rows.append((page.name, *score(tokens(text), want)))
    means = [statistics.fmean(r[i] for r in rows) for i in (1, 2, 3)]
    result = {"extractor": args.extractor, "code": str(args.code or "this checkout"),
              "pages": len(rows), "precision": round(means[0], 4),
              "recall": round(means[1], 4), "f1": round(means[2], 4),
              "seconds_per_page": round(seconds / max(len(rows), 1), 4)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.extractor} ({result['code']}), {len(rows)} pages: precision "
              f"{means[0]:.3f}  recall {means[1]:.3f}  F1 {means[2]:.3f}  "
              f"({result['seconds_per_page']:.3f} s/page)")
    for name, p, r, f in sorted(rows, key=lambda row: row[3])[:args.worst]:
        print(f"  {name:40s} P {p:.3f}  R {r:.3f}  F1 {f:.3f}")


if __name__ == "__main__":
    main()
