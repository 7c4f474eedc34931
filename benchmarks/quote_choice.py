"""Paired comparison of quote-choice settings (retrieval/excerpts.py, `Settings`).

Every variant is asked the same questions on the same indexes: the reader's questions
about real documents (benchmarks/questions/real-pdfs.jsonl over ../shared/data/real-pdfs,
real-markdown.jsonl over real-markdown), the hand-written trust questions
(real-pdfs-trust.jsonl, bbc-trust.jsonl) and SQuAD v1.1 dev's excerpt hit@1 on a fixed
subset (`--limit` questions spread evenly, as `quotebot eval --squad --limit` takes them).
Only quote choice differs between variants, so a difference is the variant's.

    python benchmarks/quote_choice.py --limit 2000 --variant base --variant window=0.2

`--context own` (or all) builds and uses indexes with that `model.context` (what chunks
are embedded with, index/embedding.py) under .quotebot/eval/ctx-<mode>/ instead: run it
once per mode for a paired comparison of embedding inputs (same corpora and questions).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from quotebot.config import load_config  # noqa: E402
from quotebot.evalstore import EVAL_ROOT, prepare, prepare_folder  # noqa: E402
from retrieval import Retriever  # noqa: E402
from retrieval.evaluation import (  # noqa: E402
    contains_answer,
    evaluate_questions,
    load_questions,
    load_squad,
)
from retrieval.retriever import Settings  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
QUESTIONS = ROOT / "benchmarks" / "questions"
# BBC's store is the one benchmarks/trust_data.py builds (its corpus copied by category).
SETS = {  # name: (question file, corpus folder, store under .quotebot/eval)
    "real-pdfs": ("real-pdfs.jsonl", DATA / "real-pdfs", "real-pdfs"),
    "real-markdown": ("real-markdown.jsonl", DATA / "real-markdown", "real-markdown"),
    "pdfs-trust": ("real-pdfs-trust.jsonl", DATA / "real-pdfs", "real-pdfs"),
    # Written by helpers who saw neither the code nor the sets above (stop 18).
    "pdfs-holdout": ("real-pdfs-holdout.jsonl", DATA / "real-pdfs", "real-pdfs"),
    "markdown-holdout": ("real-markdown-holdout.jsonl", DATA / "real-markdown",
                         "real-markdown"),
    # A second pair, written blind in stop 19 and only measured, never read for misses
    # before a change was decided.
    "pdfs-holdout2": ("real-pdfs-holdout2.jsonl", DATA / "real-pdfs", "real-pdfs"),
    "markdown-holdout2": ("real-markdown-holdout2.jsonl", DATA / "real-markdown",
                          "real-markdown"),
    # A third, written blind near the end of stop 19, after every change of that stop.
    "pdfs-holdout3": ("real-pdfs-holdout3.jsonl", DATA / "real-pdfs", "real-pdfs"),
    "markdown-holdout3": ("real-markdown-holdout3.jsonl", DATA / "real-markdown",
                          "real-markdown"),
    "bbc-trust": ("bbc-trust.jsonl", ROOT / EVAL_ROOT / "bbc" / "corpus", "bbc"),
    # The machine's own documents, gathered by benchmarks/machine_docs.py (a check set).
    "machine-docs": ("machine-docs.jsonl", ROOT / EVAL_ROOT / "machine-docs" / "corpus",
                     "machine-docs"),
    "man-pages": ("man-pages.jsonl", ROOT / EVAL_ROOT / "machine-docs" / "corpus",
                  "machine-docs"),
}
# The names of `Settings` fields a variant may set, by a short name.
KNOBS = {"window": "window_weight",
         "lexical": "lexical_weight", "join": "join_margin", "margin": "excerpt_margin",
         "chunk": "ranked_chunk_weight", "sentrank": "sentence_rank_weight",
         "type": "answer_type_weight", "item": "item_weight",
         "heading": "heading_weight", "definition": "definition_weight",
         "context": "context_weight", "reason": "reason_weight",
         "date": "date_weight", "dense": "dense_weight", "doc": "doc_weight"}


def variant(spec: str, base: Settings) -> Settings:
    """`base` with the knobs of `spec` ("base", or "window=0.2,join=0.1") changed."""
    if spec == "base":
        return base
    changes: dict[str, object] = {}
    for part in spec.split(","):
        name, value = part.split("=")
        if name == "rules":  # the whole-answer rules in use, "+"-separated ("announce+count")
            changes["quote_rules"] = tuple(r for r in value.split("+") if r)
        else:
            changes[KNOBS[name]] = float(value)
    return replace(base, **changes)


def squad_excerpts(retriever: Retriever, limit: int) -> tuple[list[float], list[int]]:
    """Excerpt hit@1 per question of the fixed SQuAD subset (asked as `quotebot eval`),
    and each first quote's length in characters (a longer quote hits more easily)."""
    evalset = load_squad(DATA / "squad-v1.1" / "dev-v1.1.json")
    ids = list(evalset.queries)
    ids = ids[::max(1, len(ids) // limit)][:limit]
    out, chars = [], []
    for qid in ids:
        answer = retriever.ask(evalset.queries[qid], k=10, abstain=False)
        out.append(float(bool(answer.hits)
                         and contains_answer(answer.hits[0].excerpt, evalset.answers[qid])))
        chars.append(len(answer.hits[0].excerpt) if answer.hits else 0)
    return out, chars


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", action="append", default=[],
                        help="base, or knob=value[,knob=value] with knobs "
                        + ", ".join(KNOBS) + ", rules (e.g. rules=announce+remedy+count)")
    parser.add_argument("--limit", type=int, default=2000, help="SQuAD questions (0: skip)")
    parser.add_argument("--sets", default=",".join(SETS), help="question sets to run")
    parser.add_argument("--context", default=None,
                        help="model.context to build the indexes with (none, own, all)")
    args = parser.parse_args()
    specs = args.variant or ["base"]
    base = load_config(None)
    stores = EVAL_ROOT
    if args.context:
        base.model.context = args.context
        if args.context != "none":  # beside the plain stores, so both stay built
            stores = EVAL_ROOT / f"ctx-{args.context}"
    rows: dict[str, dict[str, float]] = {s: {} for s in specs}
    for name in args.sets.split(","):
        file, corpus, store = SETS[name]
        if not corpus.is_dir():
            print(f"skip {name}: {corpus} missing", file=sys.stderr)
            continue
        config = prepare_folder(corpus, base, store=stores / store / "store")
        questions = load_questions(QUESTIONS / file)
        with Retriever.open(config) as retriever:
            default = retriever.settings
            for spec in specs:
                retriever.settings = variant(spec, default)
                m = evaluate_questions(retriever, questions, k=3)["metrics"]
                rows[spec][f"{name} @1"] = m["excerpt_hit@1"]
                rows[spec][f"{name} @3"] = m["excerpt_hit@3"]
                print(spec, name, m, file=sys.stderr, flush=True)
    if args.limit:
        squad = load_squad(DATA / "squad-v1.1" / "dev-v1.1.json")
        config = prepare(squad, copy.deepcopy(base), store=stores / squad.name / "store")
        with Retriever.open(config) as retriever:
            default = retriever.settings
            for spec in specs:
                retriever.settings = variant(spec, default)
                hits, chars = squad_excerpts(retriever, args.limit)
                rows[spec]["squad @1"] = round(sum(hits) / len(hits), 4)
                rows[spec]["squad quote chars"] = round(sum(chars) / len(chars), 1)
                print(spec, "squad", rows[spec]["squad @1"], file=sys.stderr, flush=True)
    names = list(dict.fromkeys(n for row in rows.values() for n in row))
    print("| variant | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for spec, row in rows.items():
        print(f"| {spec} | " + " | ".join(f"{row.get(n, float('nan')):.4f}" for n in names)
              + " |")
    print(json.dumps(rows), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
