"""First-quote accuracy on the SQuAD dev questions of one form, for a rule about that form.

A rule for a kind of question ("what kind of X", "Besides X, ...") moves too few of our own
questions to measure; SQuAD dev has hundreds of most forms. This asks every SQuAD dev
question matching `--pattern` through `Retriever.ask` (k = 3, no abstention) over the index
`quotebot eval --squad` builds, once per value of a knob (`--knob NAME --values ...`: a
field of `retrieval.retriever.Settings`, or a module constant of retrieval/excerpts.py),
and counts the first quotes that hold a gold answer; with two values or more, the
questions gained and lost against the first. Run from the repository root:

    python benchmarks/squad_subset.py --pattern '\\b(kinds?|types?|sorts?)\\s+of\\s+\\w+' \\
        --knob HEAD_NOUN_FACTOR --values 1 1.5 2 3
    python benchmarks/squad_subset.py --pattern '\\bwhy\\b' --knob reason_weight \\
        --values 0 0.05 0.1 0.15 0.2

A rule that is code, not a knob, is compared across two commits: `--save FILE` with
`--code DIR` (a worktree of the commit before) writes each question's result, then
`--against FILE` counts the questions this checkout gains and loses (no `--knob`):

    git worktree add /tmp/before d642c90
    python benchmarks/squad_subset.py --code /tmp/before --save /tmp/before.json \\
        --pattern '^\\W*(what|which)\\s+(kinds?|types?|sorts?)\\s+of\\s'
    python benchmarks/squad_subset.py --against /tmp/before.json \\
        --pattern '^\\W*(what|which)\\s+(kinds?|types?|sorts?)\\s+of\\s'
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# --code DIR: whose code answers (a `git worktree` of another commit); read before the imports
CODE = sys.argv[sys.argv.index("--code") + 1] if "--code" in sys.argv[:-1] else str(ROOT)
sys.path.insert(0, CODE)

import retrieval.excerpts as excerpts  # noqa: E402
from quotebot.config import load_config  # noqa: E402
from quotebot.evalstore import prepare  # noqa: E402
from retrieval import Retriever  # noqa: E402
from retrieval.evaluation import answers_in, load_squad  # noqa: E402
from retrieval.retriever import Settings  # noqa: E402

SQUAD = ROOT.parent / "shared" / "data" / "squad-v1.1" / "dev-v1.1.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pattern", required=True, help="a regex the question must match")
    parser.add_argument("--knob",
                        help="a numeric Settings field (reason_weight) or a numeric module "
                             "constant of retrieval/excerpts.py read at each question "
                             "(HEAD_NOUN_FACTOR)")
    parser.add_argument("--values", nargs="+", type=float,
                        help="values to compare; the first is the baseline")
    parser.add_argument("--code", metavar="DIR",
                        help="answer with the code of this checkout (a git worktree of the "
                             "commit before), not this one's")
    parser.add_argument("--save", type=Path, metavar="FILE",
                        help="write each question's result (first quote right or not)")
    parser.add_argument("--against", type=Path, metavar="FILE",
                        help="count questions gained and lost against a --save FILE")
    parser.add_argument("--squad", type=Path, default=SQUAD)
    args = parser.parse_args()
    if (args.knob is None) != (args.values is None):
        parser.error("--knob and --values go together")
    if args.knob is None:
        args.knob, args.values = "lexical_weight", [Settings.lexical_weight]  # as it is
    is_setting = args.knob in {f.name for f in fields(Settings)}
    original = getattr(excerpts, args.knob, None)
    if not is_setting and (isinstance(original, bool)
                           or not isinstance(original, (int, float))):
        parser.error(f"{args.knob} is neither a Settings field nor a numeric constant of "
                     "retrieval/excerpts.py read at each question (a weight, a factor)")
    values = list(dict.fromkeys(args.values))  # one row per value
    evalset = load_squad(args.squad)
    pattern = re.compile(args.pattern, re.IGNORECASE)
    asked = [q for q, text in evalset.queries.items() if pattern.search(text)]
    config = prepare(evalset, load_config(), progress=False)
    right: dict[float, list[bool]] = {}
    with Retriever.open(config) as retriever:
        default = retriever.settings
        for value in values:
            if is_setting:
                retriever.settings = replace(default, **{args.knob: value})
            else:
                setattr(excerpts, args.knob, type(original)(value))
            right[value] = []
            for q in asked:
                hits = retriever.ask(evalset.queries[q], k=3, abstain=False).hits
                right[value].append(bool(hits) and answers_in(hits[0].excerpt,
                                                              evalset.answers[q]))
        retriever.settings = default
    if not is_setting:
        setattr(excerpts, args.knob, original)
    if args.save:
        args.save.write_text(json.dumps(dict(zip(asked, right[values[0]], strict=True))))
    if args.against:
        before = json.loads(args.against.read_text())
        now = dict(zip(asked, right[values[-1]], strict=True))
        print(f"{len(asked)} SQuAD dev questions match {args.pattern!r}")
        print(f"first quote right: {sum(before.get(q, False) for q in asked)} before, "
              f"{sum(now.values())} now; gained "
              f"{sum(now[q] and not before.get(q, False) for q in asked)}, lost "
              f"{sum(before.get(q, False) and not now[q] for q in asked)}")
        return
    base = right[values[0]]
    print(f"{len(asked)} SQuAD dev questions match {args.pattern!r}")
    print(f"| {args.knob} | first quote right | gained | lost |\n|---|---|---|---|")
    for value, got in right.items():
        gained = sum(g and not b for g, b in zip(got, base, strict=True))
        lost = sum(b and not g for g, b in zip(got, base, strict=True))
        print(f"| {value:g} | {sum(got)} | {gained} | {lost} |")


if __name__ == "__main__":
    main()
