"""Calibrate the abstention threshold (`Settings.min_confidence`) on SQuAD.

Every question is asked twice: with the whole corpus (its answer is there) and as if its
own article were not indexed (its answer is absent). For each candidate threshold the
table gives the precision and recall of "nothing answers" and the share of answerable
questions that would be wrongly declined. Run from the repository root:

    python benchmarks/calibrate_abstention.py ../shared/data/squad-v1.1/dev-v1.1.json --limit 2000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from quotebot.config import load_config  # noqa: E402
from quotebot.evalstore import prepare  # noqa: E402
from retrieval import Retriever  # noqa: E402
from retrieval.evaluation import abstention, evaluate_squad, load_squad  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("squad", type=Path, help="SQuAD v1.1 JSON file")
    parser.add_argument("--limit", type=int, default=2000, help="questions (spread evenly)")
    parser.add_argument("--store", type=Path, default=None,
                        help="index folder (default: the one `quotebot eval` keeps)")
    args = parser.parse_args()
    evalset = load_squad(args.squad)
    config = prepare(evalset, load_config(), store=args.store, progress=False)
    retriever = Retriever.open(config)
    seen: dict[str, list[float]] = {}
    evaluate_squad(retriever, evalset, mode="hybrid", limit=args.limit, confidences=seen)
    print(f"{len(seen['answerable'])} questions; current min_confidence = "
          f"{retriever.settings.min_confidence}")
    print(f"{'threshold':>9} {'abstain P':>10} {'abstain R':>10} {'F1':>6} "
          f"{'answerable declined':>20}")
    for t in [x / 100 for x in range(40, 111, 5)]:
        p, r = abstention(seen["answerable"], seen["hidden"], t)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        declined = sum(c < t for c in seen["answerable"]) / len(seen["answerable"])
        print(f"{t:>9.2f} {p:>10.3f} {r:>10.3f} {f1:>6.3f} {declined:>20.3f}")


if __name__ == "__main__":
    main()
