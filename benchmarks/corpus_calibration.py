"""Would a threshold chosen on a corpus's own questions beat the one shipped threshold?

An operator could choose `min_confidence` for their corpus from a few dozen questions of
their own: each answerable question asked as it is and again with its source file hidden
(`quotebot eval --questions FILE --corpus DIR --hide-sources`: an absent question for
free), taking the highest threshold that declines at most 5% of the answerable ones. This
checks such a choice on questions it was not made on: each set's questions are split in
two by source file (files alternate, sorted by name; a file's questions stay together), a
threshold is chosen on one half and scored on the other, both ways round. The shipped
threshold is scored on the same questions for comparison.

    python benchmarks/corpus_calibration.py                  # every set below
    python benchmarks/corpus_calibration.py --set bbc --set real-html

A set's corpus and store are given on the command line as NAME=QUESTIONS:CORPUS:STORE
(`--add`), or taken from the defaults below (stores are built on first use, as `quotebot
eval --questions` builds them). Absent questions of a file (`"answers": []`) have no
source: they are split alternately.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from quotebot.config import load_config  # noqa: E402
from quotebot.evalstore import EVAL_ROOT, prepare_folder  # noqa: E402
from retrieval import Retriever  # noqa: E402
from retrieval.evaluation import evaluate_questions, load_questions  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
QUESTIONS = ROOT / "benchmarks" / "questions"
# name: (question file, corpus folder, store folder); see BENCHMARKS.md for how the
# BBC, machine-docs and web-page corpora are made.
SETS = {
    "real-pdfs": (QUESTIONS / "real-pdfs.jsonl", DATA / "real-pdfs", EVAL_ROOT / "q-real-pdfs"),
    "pdfs-trust": (QUESTIONS / "real-pdfs-trust.jsonl", DATA / "real-pdfs",
                   EVAL_ROOT / "q-real-pdfs"),
    "real-markdown": (QUESTIONS / "real-markdown.jsonl", DATA / "real-markdown",
                      EVAL_ROOT / "q-real-markdown"),
    "bbc": (QUESTIONS / "bbc-trust.jsonl", EVAL_ROOT / "bbc" / "corpus",
            EVAL_ROOT / "bbc" / "store"),
    "real-html": (QUESTIONS / "real-html.jsonl", Path("/work/cache/webqa/corpus"),
                  Path("/work/cache/webqa/store")),
    "machine-docs": (QUESTIONS / "machine-docs.jsonl", EVAL_ROOT / "machine-docs" / "corpus",
                     EVAL_ROOT / "machine-docs" / "store"),
    "man-pages": (QUESTIONS / "man-pages.jsonl", EVAL_ROOT / "machine-docs" / "corpus",
                  EVAL_ROOT / "machine-docs" / "store"),
}


def confidences(details: list[dict]) -> tuple[list[float], list[float]]:
    """(answerable, absent) confidences: an absent one is an absent question's, or an
    answerable question's asked with its source hidden."""
    answerable = [d["confidence"] for d in details if d["answers"]]
    absent = [d["confidence"] for d in details if not d["answers"]]
    absent += [d["hidden_confidence"] for d in details if "hidden_confidence" in d]
    return answerable, absent


def halves(details: list[dict]) -> tuple[list[dict], list[dict]]:
    """Two halves of a set's question details, a source file's questions kept together."""
    files = sorted({str(d["path"]) for d in details if d["answers"]})
    side = {f: i % 2 for i, f in enumerate(files)}
    absent = [d for d in details if not d["answers"]]
    first = [d for d in details if d["answers"] and side[str(d["path"])] == 0]
    second = [d for d in details if d["answers"] and side[str(d["path"])] == 1]
    return first + absent[0::2], second + absent[1::2]


def own_threshold(details: list[dict], max_declined: float) -> float | None:
    """The highest threshold (steps of 0.01) declining at most `max_declined` of the
    answerable questions of `details`; None without any."""
    answerable, _ = confidences(details)
    if not answerable:
        return None
    fits = [t / 100 for t in range(1, 100)
            if sum(c < t / 100 for c in answerable) <= max_declined * len(answerable)]
    return fits[-1] if fits else 0.0


def declined(details: list[dict], threshold: float) -> tuple[int, int, int, int]:
    """(answerable declined, answerable, absent declined, absent) at `threshold`."""
    answerable, absent = confidences(details)
    return (sum(c < threshold for c in answerable), len(answerable),
            sum(c < threshold for c in absent), len(absent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", action="append", choices=list(SETS), help="only these sets")
    parser.add_argument("--add", action="append", default=[], metavar="NAME=Q:CORPUS:STORE",
                        help="another set: its question file, corpus and store folders")
    parser.add_argument("--max-declined", type=float, default=0.05,
                        help="the share of answerable questions a threshold may decline")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sets = {name: SETS[name] for name in (args.set or SETS)}
    for item in args.add:
        name, _, spec = item.partition("=")
        questions, corpus, store = spec.split(":")
        sets[name] = (Path(questions), Path(corpus), Path(store))
    base = load_config()
    shipped = base.retrieval.min_confidence
    rows = []
    total = {"shipped": [0, 0, 0, 0], "own": [0, 0, 0, 0]}
    for name, (questions, corpus, store) in sets.items():
        config = prepare_folder(corpus, base, store=store, progress=False)
        with Retriever.open(config) as retriever:
            details = evaluate_questions(retriever, load_questions(questions),
                                         hide_sources=True)["details"]
        own = [0, 0, 0, 0]
        chosen = []
        for fit_on, score_on in (halves(details), halves(details)[::-1]):
            threshold = own_threshold(fit_on, args.max_declined)
            threshold = shipped if threshold is None else threshold
            chosen.append(threshold)
            own = [a + b for a, b in zip(own, declined(score_on, threshold), strict=True)]
        at_shipped = list(declined(details, shipped))
        for key, counts in (("shipped", at_shipped), ("own", own)):
            total[key] = [a + b for a, b in zip(total[key], counts, strict=True)]
        rows.append({"set": name, "thresholds": chosen,
                     "whole_set_threshold": own_threshold(details, args.max_declined),
                     "shipped": at_shipped, "own": own})
    if args.json:
        print(json.dumps({"shipped_threshold": shipped, "sets": rows, "total": total}))
        return

    def cell(counts: list[int]) -> str:
        a, n, b, m = counts
        return f"{a}/{n} ({a / max(n, 1):.1%}) | {b}/{m} ({b / max(m, 1):.1%})"

    print(f"| set | threshold chosen on each half | shipped {shipped}: answerable declined "
          "| absent declined | own half's threshold: answerable declined | absent declined |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['set']} | {' / '.join(f'{t:.2f}' for t in r['thresholds'])} | "
              f"{cell(r['shipped'])} | {cell(r['own'])} |")
    print(f"| **all** | | {cell(total['shipped'])} | {cell(total['own'])} |")


if __name__ == "__main__":
    main()
