"""Questions that differ only by a year or a name must not get the same quote.

Builds pairs of questions from the BBC corpus (the fixed subset of benchmarks/trust_data.py,
500 articles of ../shared/data/bbc-news/bbc) and asks both through `Retriever.ask`:

- year pairs: one capitalised name E and two sentences (anywhere in the corpus) that each
  name E and exactly one year, Y1 and Y2: "What happened with E in Y1?" / "... in Y2?";
- name pairs: one topic word T and two sentences that each hold T and exactly one of two
  surnames N1 and N2 next to "said": "What did N1 say about T?" / "What did N2 say ...?".

A question is right when its first quote holds its own year (or name) and not the other's;
a pair is right when both are. "Same quote" counts pairs given the identical first quote.
The pairs are chosen by a fixed rule (sorted, no randomness), so every run builds the same
set. Run from the repository root:

    python benchmarks/number_name_pairs.py --pairs 150
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trust_data import BBC, bbc_config, bbc_files  # noqa: E402

from quotebot.config import load_config  # noqa: E402
from retrieval import Retriever  # noqa: E402

_SENTENCE = re.compile(r"[^.!?]+[.!?]")
_YEAR = re.compile(r"\b(19[5-9]\d|20[01]\d)\b")
_NAME = re.compile(r"(?<=[a-z,] )([A-Z][a-z]{3,})\b")
_SAID = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|[A-Z][a-z]+) ([A-Z][a-z]{3,}) said\b")
_TOPIC = re.compile(r"\b([a-z]{7,})\b")
NOT_NAMES = {"January", "February", "March", "April", "June", "July", "August", "September",
             "October", "November", "December", "Monday", "Tuesday", "Wednesday",
             "Thursday", "Friday", "Saturday", "Sunday", "British", "English", "European",
             "American", "French", "German", "Chinese", "Japanese", "Indian", "Irish",
             "Scottish", "Welsh", "Italian", "Spanish", "Australian", "Russian", "This",
             "That", "There", "They", "When", "What", "While", "Since", "After", "Before"}
STOP = {"because", "however", "between", "through", "without", "against", "already",
        "including", "another", "several", "believe", "thought", "whether", "although",
        "country", "million", "billion", "percent", "company", "government", "expected",
        "according", "previous", "minister", "spokesman", "statement", "reported"}


def read_corpus() -> list[str]:
    return [(BBC / rel).read_bytes().decode("utf-8", "replace") for rel in bbc_files()]


def year_pairs(texts: list[str], limit: int) -> list[dict]:
    by_name: dict[str, dict[str, str]] = defaultdict(dict)  # name -> year -> sentence
    for text in texts:
        for sentence in _SENTENCE.findall(text.replace("\n", " ")):
            years = set(_YEAR.findall(sentence))
            if len(years) != 1:
                continue
            year = years.pop()
            for name in set(_NAME.findall(sentence)) - NOT_NAMES:
                by_name[name].setdefault(year, sentence.strip())
    pairs = []
    for name in sorted(by_name, key=lambda n: (-len(by_name[n]), n)):
        years = sorted(by_name[name])
        if len(years) < 2:
            continue
        y1, y2 = years[0], years[-1]
        pairs.append({"kind": "year", "keys": [y1, y2],
                      "questions": [f"What happened with {name} in {y1}?",
                                    f"What happened with {name} in {y2}?"]})
        if len(pairs) >= limit:
            break
    return pairs


def name_pairs(texts: list[str], limit: int) -> list[dict]:
    by_topic: dict[str, dict[str, str]] = defaultdict(dict)  # topic -> speaker -> sentence
    for text in texts:
        for sentence in _SENTENCE.findall(text.replace("\n", " ")):
            speakers = set(_SAID.findall(sentence))
            if len(speakers) != 1:
                continue
            speaker = speakers.pop()
            for topic in set(_TOPIC.findall(sentence)) - STOP:
                by_topic[topic].setdefault(speaker, sentence.strip())
    pairs = []
    for topic in sorted(by_topic, key=lambda t: (-len(by_topic[t]), t)):
        speakers = sorted(by_topic[topic])
        if len(speakers) < 2:
            continue
        n1, n2 = speakers[0], speakers[-1]
        pairs.append({"kind": "name", "keys": [n1, n2],
                      "questions": [f"What did {n1} say about {topic}?",
                                    f"What did {n2} say about {topic}?"]})
        if len(pairs) >= limit:
            break
    return pairs


def score(retriever: Retriever, pairs: list[dict]) -> dict[str, float]:
    right_q = right_pair = same = 0
    for pair in pairs:
        quotes = []
        for question in pair["questions"]:
            answer = retriever.ask(question, k=3, abstain=False)
            quotes.append(answer.hits[0].excerpt if answer.hits else "")
        own = [pair["keys"][0] in quotes[0] and pair["keys"][1] not in quotes[0],
               pair["keys"][1] in quotes[1] and pair["keys"][0] not in quotes[1]]
        right_q += sum(own)
        right_pair += all(own)
        same += quotes[0] == quotes[1]
    n = max(len(pairs), 1)
    return {"pairs": len(pairs), "question_right": round(right_q / (2 * n), 4),
            "pair_right": round(right_pair / n, 4), "same_quote": round(same / n, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=150, help="pairs of each kind")
    parser.add_argument("--key-weight", type=float, default=None,
                        help="override Settings.key_weight (0 = before this change)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    config = bbc_config(load_config())
    texts = read_corpus()
    sets = {"year": year_pairs(texts, args.pairs), "name": name_pairs(texts, args.pairs)}
    with Retriever.open(config) as retriever:
        if args.key_weight is not None:
            retriever.settings.key_weight = args.key_weight
        results = {kind: score(retriever, pairs) for kind, pairs in sets.items()}
        results["key_weight"] = retriever.settings.key_weight
    if args.json:
        print(json.dumps(results))
        return
    print(f"key_weight {results['key_weight']}")
    for kind in sets:
        r = results[kind]
        print(f"{kind} pairs: {r['pairs']}; question right {r['question_right']:.3f}, "
              f"pair right {r['pair_right']:.3f}, same quote {r['same_quote']:.3f}")


if __name__ == "__main__":
    main()
