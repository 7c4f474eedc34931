"""Hostile web pages load in linear time: seconds per MB for markup that made html.parser or a
list scan quadratic (unfinished tags, thousands of unclosed <nav>, deep nesting).

    python benchmarks/html_adversarial.py            # about 1 MB each
    python benchmarks/html_adversarial.py --mb 0.25  # smaller: compare to see linear growth
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402, F401  (puts the repository on sys.path)

CASES: dict[str, bytes] = {
    "unclosed <nav>": b"<nav>menu ",
    "closed <nav> links": b"<nav><a href=/>Home</a></nav>",
    "nested <div>": b"<div>",
    "<p> paragraphs": b"<p>word number here.</p>",
    "bare '<'": b"<",
    "unfinished tags '<a'": b"<a",
    "unclosed quotes '<a x=\"'": b"<a x=\"",
    "unclosed comments '<!--'": b"<!--",
    "hidden <div hidden>": b"<div hidden>",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=1.0, help="size of each page in MB")
    args = parser.parse_args()
    from index.loaders import SkipFile, load_document

    size = int(args.mb * 1_000_000)
    print(f"{'page':28s} {'MB':>5s} {'seconds':>8s}  result")
    for name, unit in CASES.items():
        data = unit * (size // len(unit)) + b"<p>The last words.</p>"
        started = time.perf_counter()
        try:
            result = f"{len(load_document('page.html', data).text):,} characters"
        except SkipFile as exc:
            result = f"skipped: {exc}"
        seconds = time.perf_counter() - started
        print(f"{name:28s} {len(data) / 1e6:5.2f} {seconds:8.2f}  {result}", flush=True)


if __name__ == "__main__":
    main()
