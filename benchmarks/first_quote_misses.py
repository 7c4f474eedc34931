"""Where first-quote misses are lost: in ranking (the first passage does not hold the answer)
or in quote choice (it does, and another of its sentences was quoted).

For each answerable question of the sets named (benchmarks/quote_choice.py's SETS) whose
first quote misses, the first passage's sentences are scored as `ask` scores them and the
answer sentence's rank among them is counted, with its position relative to the sentence
quoted (+1: the next sentence). Run from the repository root:

    python benchmarks/first_quote_misses.py pdfs-holdout pdfs-holdout2 pdfs-holdout3 \\
        markdown-holdout markdown-holdout2 markdown-holdout3
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from quote_choice import QUESTIONS, SETS  # noqa: E402

from quotebot.config import load_config  # noqa: E402
from quotebot.evalstore import EVAL_ROOT, prepare_folder  # noqa: E402
from retrieval import Retriever  # noqa: E402
from retrieval import retriever as retriever_module  # noqa: E402
from retrieval.evaluation import contains_answer, load_questions  # noqa: E402

_seen: dict[str, tuple] = {}
_hits = retriever_module.Retriever._hits


def _keep_passages(self, reader, question, vector, passages, k, terms, *args, **kwargs):
    """`Retriever._hits`, noting the passages in the order they are quoted from."""
    _seen["last"] = (reader, passages, vector, terms)
    return _hits(self, reader, question, vector, passages, k, terms, *args, **kwargs)


def main() -> int:
    retriever_module.Retriever._hits = _keep_passages
    ranks: collections.Counter[str] = collections.Counter()
    offsets: collections.Counter[int] = collections.Counter()
    misses = 0
    for name in sys.argv[1:]:
        file, corpus, store = SETS[name]
        config = prepare_folder(corpus, load_config(None), store=EVAL_ROOT / store / "store")
        with Retriever.open(config) as retriever:
            for q in load_questions(QUESTIONS / file):
                if not q.answers:
                    continue
                answer = retriever.ask(q.question, abstain=False)
                if not answer.hits or contains_answer(answer.hits[0].excerpt, q.answers):
                    continue
                misses += 1
                reader, passages, vector, terms = _seen["last"]
                doc = retriever._document(reader, passages[0].doc_id)
                order = sorted(retriever._score_sentences(doc, passages[0], vector, terms),
                               key=lambda s: -s.score)
                at = next((i for i, s in enumerate(order)
                           if contains_answer(doc.text[s.start:s.end], q.answers)), None)
                if at is None:
                    ranks["not in the first passage"] += 1
                    continue
                ranks[f"its sentence {at + 1}" if at < 5 else "its sentence 6+"] += 1
                offsets[order[at].index - order[0].index] += 1
    print(f"{misses} first quotes miss")
    for key, n in sorted(ranks.items()):
        print(f"  answer {key}: {n}")
    print("  answer sentence's place relative to the best-scored one:",
          ", ".join(f"{d:+d}: {n}" for d, n in sorted(offsets.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
