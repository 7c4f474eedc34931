"""Adversarial text through every stage that scans document text: does time grow linearly?

Each case feeds one stage an input made to trigger super-linear regexes or scans (runs of
dots, "J. Smith, " author lists, one 1 MB line, long whitespace runs, deep nesting, many
<nav>s, long PDF titles, many empty docx paragraphs, ...) at 10 KB, 100 KB and 1 MB, and
reports the time and the ratio per 10x of input: about 10 is linear, about 100 quadratic.
Stages: each loader through `load_document` (txt, md, html, pdf, docx), sentence splitting,
chunking (with the real tokenizer), boilerplate, excerpt scoring, and the bot's renderer.
Every case runs in a child process with a time budget (`--budget`, default 60 s); a case
over budget is reported as such and its larger sizes are not tried.

    python benchmarks/adversarial_text.py                 # all cases (a few minutes)
    python benchmarks/adversarial_text.py --only sentences,md
    python benchmarks/adversarial_text.py --sizes 10000,100000 --json out.json
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import log, machine, write_json

from tests.support import hostile_files as hf

SIZES = (10_000, 100_000, 1_000_000)


def _load(name: str, data: bytes) -> Any:
    from index.loaders import SkipFile, load_document

    try:
        return load_document(name, data)
    except SkipFile as exc:
        return str(exc)


def _txt(make: Callable[[int], str]) -> Callable[[int], Any]:
    return lambda n: _load("x.txt", make(n).encode())


def _md(make: Callable[[int], str]) -> Callable[[int], Any]:
    return lambda n: _load("x.md", make(n).encode())


def _html(make: Callable[[int], bytes]) -> Callable[[int], Any]:
    return lambda n: _load("x.html", make(n))


def _sentences(make: Callable[[int], str]) -> Callable[[int], Any]:
    def run(n: int) -> Any:
        from index.sentences import split_sentences

        return split_sentences(make(n))
    return run


def _chunks(make: Callable[[int], str], name: str = "x.txt") -> Callable[[int], Any]:
    def run(n: int) -> Any:
        from index.chunking import chunk_document, load_token_counter
        from index.embedding import resolve_model
        from index.lexical import chunk_lexical_tokens
        from index.loaders import load_document

        counter = load_token_counter(resolve_model("all-MiniLM-L6-v2").location)
        doc = load_document(name, make(n).encode())
        started = time.perf_counter()
        for chunk in chunk_document(doc, counter):  # and what the build does with each
            chunk_lexical_tokens(doc.title, chunk.heading_path, chunk.text)
        return time.perf_counter() - started  # the loader's time is not chunking's
    return run


def _heading_over_text(n: int) -> str:
    """A Markdown heading of half the size over as many distinct sentences."""
    body = " ".join(f"Sentence {i} of the body says something." for i in range(n // 80))
    return "# " + "heading " * (n // 16) + "\n\n" + body


def _boilerplate(make: Callable[[int], str]) -> Callable[[int], Any]:
    def run(n: int) -> Any:
        from index.boilerplate import is_boilerplate

        return is_boilerplate(make(n))
    return run


def _excerpts(make: Callable[[int], str]) -> Callable[[int], Any]:
    def run(n: int) -> Any:
        import numpy as np

        from index.sentences import split_sentences
        from retrieval.excerpts import best_excerpts, needs_neighbour, score_sentences

        text = make(n)
        spans = split_sentences(text)
        vectors = np.random.default_rng(0).standard_normal((len(spans), 384)).astype(np.float32)
        scores = score_sentences(text, spans, vectors, vectors[0],
                                 {"lighthous": 2.0, "keeper": 1.0, "smith": 1.0})
        [needs_neighbour(text[s:e]) for s, e in spans]
        return best_excerpts(text, scores, limit=3, margin=0.1, join_margin=0.05)
    return run


def _table_row(n: int) -> Any:
    """One table row of n/4 cells, each cell a sentence (as the loaders write tables):
    every cell's row is looked for when choosing quotes."""
    import numpy as np

    from retrieval.excerpts import SentenceScore, best_excerpts

    cells = [f"c{i % 100:02d}" for i in range(n // 6)]
    text = " | ".join(cells)
    scores = [SentenceScore(i, 6 * i, 6 * i + 3, float(v)) for i, v in
              enumerate(np.random.default_rng(0).random(len(cells)))]
    return best_excerpts(text, scores, limit=3, margin=0.1, join_margin=0.05,
                         can_quote=lambda s: True)


def _render(make: Callable[[int], str]) -> Callable[[int], Any]:
    def run(n: int) -> Any:
        from bot.render import render_context, render_hit, split_html
        from retrieval.answer import Citation, Hit

        text = make(n)
        citation = Citation("d", make(n // 10), "x.txt", 1, 1, None, [make(n // 10)] * 3)
        hit = Hit(1, 1.0, text, text, 0, len(text), citation, 0, len(text))
        render_hit(hit)
        return len(split_html(render_context(hit)))
    return run


def _docx(make: Callable[[int], bytes]) -> Callable[[int], Any]:
    return lambda n: _load("x.docx", make(n))


def _pdf(make: Callable[[int], bytes]) -> Callable[[int], Any]:
    return lambda n: _load("x.pdf", make(n))


def _escape_xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


CASES: dict[str, tuple[str, Callable[[int], Any]]] = {
    # stage: sentences
    "sentences/run of dots": ("sentences", _sentences(hf.run_of_dots)),
    "sentences/author list": ("sentences", _sentences(hf.author_list)),
    "sentences/one long line": ("sentences", _sentences(hf.long_line)),
    "sentences/question marks": ("sentences", _sentences(lambda n: "?! " * (n // 3))),
    # stage: loaders, through load_document
    "txt/run of dots": ("txt", _txt(hf.run_of_dots)),
    "txt/author list": ("txt", _txt(hf.author_list)),
    "txt/one long line": ("txt", _txt(hf.long_line)),
    "txt/list markers": ("txt", _txt(lambda n: "- " + " " * n + "x")),
    "md/one long heading line": ("md", _md(lambda n: "# " + hf.long_line(n))),
    "md/heading with a run of spaces": ("md", _md(lambda n: "# x" + " " * n + "y")),
    "md/table rule": ("md", _md(lambda n: "| a |\n|" + "-" * n + "x")),
    "md/front matter title": ("md", _md(lambda n: "---\ntitle: a" + " " * n + "b\n---\nText.")),
    "md/deep blockquotes": ("md", _md(lambda n: "> " * (n // 2) + "Deep.")),
    "html/many navs": ("html", _html(lambda n: hf.nav_html(n // 9))),
    "html/deep nesting": ("html", _html(lambda n: b"<div>" * (n // 5) + b"Deep text.")),
    "html/one long line": ("html", _html(lambda n: f"<p>{hf.long_line(n)}</p>".encode())),
    "pdf/long title": ("pdf", _pdf(lambda n: hf.text_pdf(
        "A page about lighthouses.", title="Untitled" + " " * n + "x"))),
    "docx/one long paragraph": ("docx", _docx(lambda n: hf.docx_with_body(
        f"<w:p><w:r><w:t>{_escape_xml(hf.long_line(n))}</w:t></w:r></w:p>".encode()))),
    "docx/empty paragraphs": ("docx", _docx(lambda n: hf.docx_with_body(b"<w:p/>" * (n // 6)))),
    # stage: chunking
    "chunking/one long line": ("chunking", _chunks(hf.long_line)),
    "chunking/author list": ("chunking", _chunks(hf.author_list)),
    "chunking/one long word": ("chunking", _chunks(lambda n: "x" * n)),
    "chunking/long heading over text": ("chunking", _chunks(_heading_over_text, "x.md")),
    # stage: boilerplate
    "boilerplate/prompt words without spaces": (
        "boilerplate", _boilerplate(lambda n: "subscribe." * (n // 10))),
    "boilerplate/one long sentence": ("boilerplate", _boilerplate(hf.long_line)),
    # stage: excerpts
    "excerpts/one long line": ("excerpts", _excerpts(hf.long_line)),
    "excerpts/author list": ("excerpts", _excerpts(hf.author_list)),
    "excerpts/one table row of many cells": ("excerpts", _table_row),
    # stage: the bot's renderer
    "render/long quote": ("render", _render(hf.long_line)),
    "render/markup characters": ("render", _render(lambda n: "<&>" * (n // 3))),
}


def _preload() -> None:
    """Import every stage (and load the tokenizer) once, before the children fork: their
    times are then the stage's own, not the imports'."""
    import bot.render  # noqa: F401
    import index.chunking
    import index.loaders  # noqa: F401
    import retrieval.excerpts  # noqa: F401
    from index.embedding import resolve_model
    from index.lexical import tokenize

    tokenize("warm up the stemmer")
    index.chunking.load_token_counter = functools.cache(index.chunking.load_token_counter)
    index.chunking.load_token_counter(resolve_model("all-MiniLM-L6-v2").location)
    hf.docx_with_body(b"")


def _child(case: str, size: int, conn: Any) -> None:
    started = time.perf_counter()
    result = CASES[case][1](size)
    seconds = time.perf_counter() - started
    if case.startswith("chunking/"):
        seconds = result  # chunking alone
    conn.send(seconds)


def measure(case: str, size: int, budget: float) -> float | None:
    """Seconds the case takes at `size` (in a child process), None when over budget."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    process = context.Process(target=_child, args=(case, size, child))
    process.start()
    child.close()
    if parent.poll(budget):
        seconds = parent.recv()
        process.join()
        return seconds
    process.kill()
    process.join()
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated stages or case prefixes")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="input sizes in characters (default 10 KB, 100 KB, 1 MB)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per case and size")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    _preload()
    wanted = [w for w in args.only.split(",") if w]
    results: dict[str, Any] = {"machine": machine(), "sizes": sizes, "cases": {}}
    for case, (stage, _) in CASES.items():
        if wanted and not any(case.startswith(w) or stage == w for w in wanted):
            continue
        times: list[float | None] = []
        for size in sizes:
            seconds = measure(case, size, args.budget)
            times.append(seconds)
            if seconds is None:
                break
        ratios = [round(b / max(a, 1e-4), 1) if a is not None and b is not None else None
                  for a, b in zip(times, times[1:], strict=False)]
        results["cases"][case] = {"seconds": [None if t is None else round(t, 4) for t in times],
                                  "ratio_per_10x": ratios}
        shown = ", ".join("over budget" if t is None else f"{t:.4f} s" for t in times)
        log(f"{case:45s} {shown}   ratio per 10x: {ratios}")
    if args.json:
        write_json(args.json, results)


if __name__ == "__main__":
    main()
