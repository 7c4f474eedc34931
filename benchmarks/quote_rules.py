"""Which whole-answer rules (retrieval/excerpts.py `whole_answer`) to keep.

Each rule widens a quote by a neighbouring sentence: "announce" (the quote ends in a colon
or announces a list or a count), "remedy" (the question asks how a problem is remedied and
the quote names the problem), "subject" (the sentence before names the question's subject).
A rule is kept only if it helps (or costs nothing) on both sets: SQuAD excerpt hit@1 and
excerpt hit@1 of the questions written about ../shared/data/real-pdfs
(benchmarks/questions/real-pdfs-trust.jsonl). Also reported: the mean sentences quoted.

    python benchmarks/quote_rules.py --limit 2000
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.build import build_index  # noqa: E402
from quotebot.config import load_config  # noqa: E402
from quotebot.evalstore import EVAL_ROOT, prepare  # noqa: E402
from retrieval import Retriever  # noqa: E402
from retrieval.evaluation import contains_answer, load_squad  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
VARIANTS = {"none": (), "announce": ("announce",), "remedy": ("remedy",),
            "subject": ("subject",), "all": ("announce", "remedy", "subject")}


def excerpt_hits(retriever: Retriever, questions: list[tuple[str, list[str]]]) -> dict:
    hits, sentences = 0, 0
    for question, answers in questions:
        answer = retriever.ask(question, k=3, abstain=False)
        if answer.hits:
            hits += contains_answer(answer.hits[0].excerpt, answers)
            # sentence count of the quote: sentence-ending marks inside it, at least one
            text = answer.hits[0].excerpt
            sentences += max(1, sum(text.count(c + " ") for c in ".?!:") + 1)
    n = max(len(questions), 1)
    return {"excerpt_hit@1": round(hits / n, 4), "quote_sentences": round(sentences / n, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=2000, help="SQuAD questions (spread)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    config = load_config()
    squad = load_squad(DATA / "squad-v1.1" / "dev-v1.1.json")
    ids = list(squad.queries)
    ids = ids[::max(1, len(ids) // args.limit)][:args.limit]
    squad_qs = [(squad.queries[q], squad.answers[q]) for q in ids]
    pdf_config = copy.deepcopy(config)
    pdf_config.override("corpus", DATA / "real-pdfs")
    pdf_config.override("store", EVAL_ROOT / "real-pdfs" / "store")
    build_index(pdf_config, progress=False)
    rows = [json.loads(line) for line in (ROOT / "benchmarks" / "questions" /
                                          "real-pdfs-trust.jsonl").read_text().splitlines()]
    pdf_qs = [(r["question"], r["answers"]) for r in rows]
    results = {name: {} for name in VARIANTS}
    for label, cfg, questions in (("squad", prepare(squad, config, progress=False), squad_qs),
                                  ("real-pdfs", pdf_config, pdf_qs)):
        with Retriever.open(cfg) as retriever:
            for name, rules in VARIANTS.items():
                retriever.settings.quote_rules = rules
                results[name][label] = excerpt_hits(retriever, questions)
    if args.json:
        print(json.dumps(results))
        return
    print(f"SQuAD: {len(squad_qs)} questions; real-pdfs: {len(pdf_qs)} questions")
    print("| rules | SQuAD excerpt hit@1 | sentences | real-PDF excerpt hit@1 | sentences |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['squad']['excerpt_hit@1']:.4f} | "
              f"{r['squad']['quote_sentences']:.2f} | "
              f"{r['real-pdfs']['excerpt_hit@1']:.4f} | "
              f"{r['real-pdfs']['quote_sentences']:.2f} |")


if __name__ == "__main__":
    main()
