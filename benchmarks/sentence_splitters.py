"""Sentence splitters compared: index/sentences.py (ours) against sentencex and nupunkt.

Quality, on SQuAD v1.1 dev paragraphs: an answer is a span a reader quotes whole, so a
boundary inside an answer is a wrong split (answers that themselves hold a sentence end,
". " followed by a capital, are left out). Reported: answers split (lower is better) and
sentences per paragraph (a splitter that never splits scores 0 split answers, so this
says whether it splits at all). Offsets: ours and nupunkt give spans; sentencex gives
strings, located in the text in order (a sentence it changed is counted as lost).
Speed and linearity: the adversarial inputs of benchmarks/adversarial_text.py (runs of
dots, a "J. Smith, " author list, one long line) at 100 KB and 1 MB, each in a child
process with a time budget.

    pip install sentencex nupunkt      # only for this comparison
    python benchmarks/sentence_splitters.py --paragraphs 1000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import SQUAD, log, machine, write_json

from tests.support import hostile_files as hf

Spans = list[tuple[int, int]]


def ours(text: str) -> Spans:
    from index.sentences import split_sentences

    return split_sentences(text)


def nupunkt_spans(text: str) -> Spans:
    import nupunkt

    return [(s, e) for s, e in nupunkt.sent_spans(text)]


def sentencex_spans(text: str) -> Spans:
    from sentencex import segment

    spans, cursor = [], 0
    for sentence in segment("en", text):
        piece = sentence.strip()
        at = text.find(piece, cursor) if piece else -1
        if at >= 0:
            spans.append((at, at + len(piece)))
            cursor = at + len(piece)
    return spans


SPLITTERS: dict[str, Callable[[str], Spans]] = {
    "ours": ours, "nupunkt": nupunkt_spans, "sentencex": sentencex_spans}
_INNER_END = re.compile(r"[.!?]\s+[A-Z]")


def quality(paragraphs: list[tuple[str, list[tuple[int, int]]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, split in SPLITTERS.items():
        broken = total = sentences = lost_chars = 0
        started = time.perf_counter()
        for text, answers in paragraphs:
            spans = split(text)
            sentences += len(spans)
            lost_chars += len(re.sub(r"\s", "", text)) - sum(
                len(re.sub(r"\s", "", text[s:e])) for s, e in spans)
            bounds = {e for _, e in spans[:-1]}
            for a, b in answers:
                total += 1
                broken += any(a < x < b for x in bounds)
        out[name] = {"answers": total, "answers_split": broken,
                     "split_rate": round(broken / max(total, 1), 4),
                     "sentences_per_paragraph": round(sentences / len(paragraphs), 2),
                     "chars_not_in_any_sentence": lost_chars,
                     "seconds": round(time.perf_counter() - started, 2)}
        log(f"{name}: {out[name]}")
    return out


def _child(name: str, kind: str, size: int, conn: Any) -> None:
    text = {"run of dots": hf.run_of_dots, "author list": hf.author_list,
            "one long line": hf.long_line}[kind](size)
    started = time.perf_counter()
    SPLITTERS[name](text)
    conn.send(time.perf_counter() - started)


def speed(budget: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    context = multiprocessing.get_context("fork")
    for name in SPLITTERS:
        for kind in ("run of dots", "author list", "one long line"):
            times: list[float | None] = []
            for size in (100_000, 1_000_000):
                parent, child = context.Pipe()
                process = context.Process(target=_child, args=(name, kind, size, child))
                process.start()
                seconds = parent.recv() if parent.poll(budget) else None
                process.kill()
                process.join()
                times.append(None if seconds is None else round(seconds, 3))
                if seconds is None:
                    break
            out[f"{name}/{kind}"] = times
            log(f"{name:10s} {kind:14s} 100 KB, 1 MB: {times}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paragraphs", type=int, default=1000, help="SQuAD paragraphs")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per speed case")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    data = json.loads(SQUAD.read_text())["data"]
    paragraphs = []
    for article in data:
        for p in article["paragraphs"]:
            answers = {(a["answer_start"], a["answer_start"] + len(a["text"]))
                       for q in p["qas"] for a in q["answers"]
                       if not _INNER_END.search(a["text"])}
            paragraphs.append((p["context"], sorted(answers)))
    paragraphs = paragraphs[: args.paragraphs]
    for split in SPLITTERS.values():  # warm up (model loading)
        split("Warm up. Now.")
    results = {"machine": machine(), "paragraphs": len(paragraphs),
               "quality": quality(paragraphs), "speed": speed(args.budget)}
    write_json(args.json, results)


if __name__ == "__main__":
    main()
