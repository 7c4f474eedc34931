"""Does the abstention threshold, calibrated on SQuAD, hold on other questions and corpora?

`Settings.min_confidence` was chosen with `calibrate_abstention.py` on SQuAD questions.
Users will ask other kinds of questions of other corpora, so this script measures, at the
shipped threshold (and a few around it), on data the threshold was not fitted to:

- SciFact claims asked of the SciFact corpus: every claim has a supporting abstract, so
  a decline is a miss ("answerable declined"; lower is better). The "top-1 relevant"
  column restricts that to claims whose first hit is a gold abstract.
- Out of domain, where nothing can answer: SciFact claims asked of the SQuAD corpus
  (Wikipedia paragraphs) and SQuAD questions asked of the SciFact corpus (biomedical
  abstracts). "declined" is the share the product rightly declines (higher is better).
- For comparison, SQuAD itself as `calibrate_abstention.py` measures it (answerable, and
  with the question's own article hidden), and the balanced accuracy (mean of "answerable
  answered" and "absent declined") of each set, averaged over the two sets.

Both indexes are the ones `quotebot eval` keeps (built on first use). Run from the
repository root:

    python benchmarks/abstention_transfer.py --limit 1000
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from quotebot.config import load_config  # noqa: E402
from quotebot.evalstore import prepare  # noqa: E402
from retrieval import Retriever  # noqa: E402
from retrieval.evaluation import doc_key, evaluate_squad, load_beir, load_squad  # noqa: E402

DATA = Path("../shared/data")
THRESHOLDS = [0.5, 0.6, 0.65, 0.7, 0.75, 0.8]


def spread(items: list[str], limit: int) -> list[str]:
    """Up to `limit` items spread evenly over the list (not the first few topics)."""
    step = max(1, len(items) // limit)
    return items[::step][:limit]


def confidences(retriever: Retriever, questions: list[str]) -> list[tuple[float, str]]:
    """Each question's confidence and the evaluation id of its first hit."""
    out = []
    for question in questions:
        answer = retriever.ask(question, k=3, abstain=False)
        top = doc_key(answer.hits[0].citation.path) if answer.hits else ""
        out.append((answer.confidence, top))
    return out


def share(values: list[float], threshold: float, below: bool) -> float:
    hits = sum((c < threshold) == below for c in values)
    return round(hits / max(len(values), 1), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    parser.add_argument("--limit", type=int, default=1000,
                        help="SQuAD questions asked of SciFact (spread evenly)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args()

    config = load_config()
    scifact = load_beir(args.data / "scifact")
    squad = load_squad(args.data / "squad-v1.1" / "dev-v1.1.json")
    scifact_config = prepare(scifact, config, progress=False)
    squad_config = prepare(squad, config, progress=False)
    claims = list(scifact.queries.values())
    squad_questions = spread(list(squad.queries.values()), args.limit)

    with Retriever.open(scifact_config) as retriever:
        threshold = retriever.settings.min_confidence
        own = confidences(retriever, claims)
        foreign_squad = [c for c, _ in confidences(retriever, squad_questions)]
    with Retriever.open(squad_config) as retriever:
        foreign_claims = [c for c, _ in confidences(retriever, claims)]
        seen: dict[str, list[float]] = {}
        evaluate_squad(retriever, squad, mode="hybrid", limit=args.limit, confidences=seen)
    qids = list(scifact.queries)
    own_all = [c for c, _ in own]
    own_top = [c for (c, top), q in zip(own, qids, strict=True) if top in scifact.qrels[q]]

    rows = []
    for t in sorted({*THRESHOLDS, threshold}):
        rows.append({
            "threshold": t, "shipped": t == threshold,
            "scifact_answerable_declined": share(own_all, t, below=True),
            "scifact_top1_relevant_declined": share(own_top, t, below=True),
            "claims_on_squad_declined": share(foreign_claims, t, below=True),
            "squad_on_scifact_declined": share(foreign_squad, t, below=True),
            "squad_answerable_declined": share(seen["answerable"], t, below=True),
            "squad_hidden_declined": share(seen["hidden"], t, below=True),
        })
        r = rows[-1]
        scifact_balanced = (1 - r["scifact_answerable_declined"] + (
            r["claims_on_squad_declined"] + r["squad_on_scifact_declined"]) / 2) / 2
        squad_balanced = (1 - r["squad_answerable_declined"] + r["squad_hidden_declined"]) / 2
        r["balanced_accuracy"] = round((scifact_balanced + squad_balanced) / 2, 4)
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    print(f"SciFact claims: {len(claims)} ({len(own_top)} with a gold abstract first); "
          f"SQuAD questions: {len(squad_questions)}; shipped min_confidence = {threshold}")
    print(f"{'threshold':>9} {'SciFact declined':>17} {'top-1 gold declined':>20} "
          f"{'claims@SQuAD declined':>22} {'SQuAD@SciFact declined':>23} "
          f"{'SQuAD declined':>15} {'SQuAD hidden declined':>22} {'balanced acc':>13}")
    for r in rows:
        mark = " *" if r["shipped"] else ""
        print(f"{r['threshold']:>9.2f} {r['scifact_answerable_declined']:>17.3f} "
              f"{r['scifact_top1_relevant_declined']:>20.3f} "
              f"{r['claims_on_squad_declined']:>22.3f} "
              f"{r['squad_on_scifact_declined']:>23.3f} "
              f"{r['squad_answerable_declined']:>15.3f} {r['squad_hidden_declined']:>22.3f} "
              f"{r['balanced_accuracy']:>13.3f}{mark}")


if __name__ == "__main__":
    main()
