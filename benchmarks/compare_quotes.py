"""Before/after quotes of two `quotebot eval --questions ... --json` runs, side by side.

For each question, the first quote of each run, and the text artefacts it holds: ligature
code points (U+FB00-FB06), words split by a line-end hyphen ("real- ize"), control
characters or gaps left by dropped glyphs ("data  les"). Used for the PDF section of
BENCHMARKS.md:

    git stash; quotebot eval --questions Q --corpus D --store S1 --json > before.json
    git stash pop; quotebot eval --questions Q --corpus D --store S2 --json > after.json
    python benchmarks/compare_quotes.py before.json after.json [--only-fixed]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

ARTEFACTS = {
    "ligature": re.compile(r"[\ufb00-\ufb06]"),
    "split word": re.compile(r"\b[a-z]+- [a-z]+\b"),
    "control": re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\ufffd]"),
    "dropped glyph": re.compile(r"\w  \w"),
}


def artefacts(text: str) -> list[str]:
    """Names of the artefacts found in a quote (whitespace collapsed, newlines as spaces)."""
    flat = text.replace("\n", " ")
    return [name for name, pattern in ARTEFACTS.items() if pattern.search(flat)]


def first_quotes(path: Path) -> dict[str, str]:
    """question -> first quote of the last result object in an eval --json file."""
    result = json.loads(path.read_text(encoding="utf-8").strip().splitlines()[-1])
    return {d["question"]: (d["top"][0]["excerpt"] if d["top"] else "") for d in
            result["details"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--only-fixed", action="store_true",
                        help="only questions whose earlier quote had an artefact")
    args = parser.parse_args()
    before, after = first_quotes(args.before), first_quotes(args.after)
    counts = {"before": 0, "after": 0}
    for question, old in before.items():
        new = after.get(question, "")
        old_bad, new_bad = artefacts(old), artefacts(new)
        counts["before"] += bool(old_bad)
        counts["after"] += bool(new_bad)
        if args.only_fixed and not old_bad:
            continue
        print(f"Q: {question}")
        print(f"  before {old_bad or ''}: {' '.join(old.split())[:220]}")
        print(f"  after  {new_bad or ''}: {' '.join(new.split())[:220]}")
    print(f"first quotes with artefacts: before {counts['before']}/{len(before)}, "
          f"after {counts['after']}/{len(before)}")


if __name__ == "__main__":
    main()
