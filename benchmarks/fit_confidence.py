"""Fit the answer confidence (retrieval/confidence.py) and report it on held-out sets.

Every question is asked twice through the product's `Retriever.ask`: with its corpus
whole (its answer is there: it should be answered) and with its source hidden (its answer
is absent: it should be declined). Hiding (`ask(exclude=...)`) drops the source's chunks
and takes its words out of the IDF the confidence uses, as if it were not indexed
(`--words-seen`: the old way, chunks only). The signals of the first quote are cached per
question under .quotebot/eval/confidence/ (`--fresh` asks again, after a change to
retrieval).

Training sets (fit only): 3,000 SQuAD dev questions of even-numbered articles and SciFact
train claims (their cited abstracts hidden for the negatives), SciFact weighing
SCIFACT_SHARE of the whole. Held-out sets (report only): 1,000 SQuAD dev questions of
odd-numbered articles, SciFact test claims, and the BBC questions written for this in
benchmarks/questions/bbc-trust.jsonl (their article hidden for the negatives). Features,
training positives and SciFact's share are chosen by grouped cross-validation on the
training sets (`--cv`); the threshold declines at most 3% of answerable SQuAD training
questions. SciFact and BBC are fixed subsets (benchmarks/trust_data.py) so that they
index in minutes.

    python benchmarks/fit_confidence.py --cv         # compare choices on training data only
    python benchmarks/fit_confidence.py --fit        # ask, fit, write the model, report
    python benchmarks/fit_confidence.py              # report the shipped model
    python benchmarks/fit_confidence.py --show-accepted bbc   # absent questions it answers
    python benchmarks/fit_confidence.py --bounds     # the best any threshold could do, per set

Needs scikit-learn (fitting only; the product reads the JSON coefficients).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trust_data  # noqa: E402
from common import spread  # noqa: E402
from trust_data import bbc_config, scifact_config  # noqa: E402

from quotebot.config import Config, load_config  # noqa: E402
from quotebot.evalstore import EVAL_ROOT, prepare  # noqa: E402
from retrieval import Retriever  # noqa: E402
from retrieval.confidence import MODEL_FILE, ConfidenceModel, Signals, load_model  # noqa: E402
from retrieval.evaluation import contains_answer, doc_key, load_squad  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
CACHE = EVAL_ROOT / "confidence"
FEATURES = [f.name for f in fields(Signals)]
# The eleven signals of the first model (fitted on SQuAD alone).
FIRST = ["cosine", "overlap", "passage_overlap", "unknown", "agreement", "margin",
         "type_missing", "passage_cosine", "lexical", "key_missing", "rare_missing"]
# Feature sets compared by grouped cross-validation on the training sets (--cv).
CANDIDATES = {
    "first eleven": FIRST,
    "+ z-scores": [*FIRST, "dense_z", "cosine_z"],
    "+ unknown mass, keys": [*FIRST, "unknown_mass", "key_unknown"],
    "+ gaps to the next document": [*FIRST, "lexical_z", "dense_gap", "lexical_gap"],
    "all": FEATURES,
}
SHIPPED = CANDIDATES["+ gaps to the next document"]  # chosen by --cv (BENCHMARKS.md)
POSITIVES = "all"  # "right": only answerable questions whose first quote is from their source
THRESHOLD_ON = ("squad-fit",)  # the sets whose answerable questions fix the threshold
SCIFACT_SHARE = 0.2  # SciFact train's share of the training weight (--cv; SQuAD the rest)
TRAIN = ("squad-fit", "scifact-train")
HELD_OUT = ("squad-heldout", "scifact-test", "bbc")
# The model shipped before this one (fitted on SQuAD alone, threshold 0.34), for the table.
BEFORE = (ConfidenceModel(-6.6803, {
    "cosine": 5.6464, "overlap": 3.0683, "passage_overlap": 3.9871, "unknown": 1.1275,
    "agreement": -0.1614, "margin": 1.437, "type_missing": -0.3956, "passage_cosine": 5.785,
    "lexical": 2.2336, "key_missing": -2.1251, "rare_missing": -1.815}), 0.34)
# Held-out targets of issue 16 (SQuAD): answerable declined <= 3%, absent declined >= 90%.
MAX_DECLINED = 0.03


@dataclass
class Question:
    qid: str
    text: str
    hide: Callable[[str], bool]  # which indexed paths hold its answer
    answers: list[str] = field(default_factory=list)  # gold answer strings, if known
    group: str = ""  # questions of one group share a source (cross-validation folds)


def squad_questions(config: Config, parity: int, limit: int) -> tuple[Config, list[Question]]:
    evalset = load_squad(DATA / "squad-v1.1" / "dev-v1.1.json")
    ids = [q for q in evalset.queries if int(evalset.query_group[q]) % 2 == parity]
    ids = spread(ids, limit)  # over all the articles (the first 3,000 were 12 of 24)

    def hider(own: str) -> Callable[[str], bool]:
        return lambda path: evalset.groups.get(doc_key(path)) == own

    return prepare(evalset, config, progress=False), [
        Question(q, evalset.queries[q], hider(evalset.query_group[q]), evalset.answers[q],
                 str(evalset.query_group[q]))
        for q in ids]


def scifact_questions(config: Config, split: str) -> tuple[Config, list[Question]]:
    config, evalset = scifact_config(config, split)
    return config, [
        Question(q, text, lambda path, rel=set(evalset.qrels[q]): doc_key(path) in rel,
                 group=min(evalset.qrels[q]))
        for q, text in evalset.queries.items()]


def bbc_questions(config: Config) -> tuple[Config, list[Question]]:
    return bbc_config(config), [
        Question(str(i), r["question"], lambda path, own=r["path"]: path == own,
                 r["answers"], r["path"])
        for i, r in enumerate(trust_data.bbc_questions())]


def collect(name: str, config: Config, questions: list[Question]) -> Iterator[dict]:
    """Each question asked with its answer present (label 1) and hidden (label 0)."""
    with Retriever.open(config) as retriever:
        for q in questions:
            for label, exclude in ((1, None), (0, q.hide)):
                answer = retriever.ask(q.text, k=3, abstain=False, exclude=exclude)
                top = answer.hits[0] if answer.hits else None
                # With its source hidden, another document may still hold the answer:
                # such a question is not "absent" and is left out of the negatives.
                yield {"set": name, "qid": q.qid, "label": label, "group": q.group,
                       "question": q.text, "quote": top.excerpt if top else "",
                       "quoted_from": top.citation.path if top else "",
                       # whether the first quote comes from the question's own source
                       "right_source": bool(top and q.hide(top.citation.path)),
                       "signals": top.signals if top else {},
                       "answer_in_hits": any(contains_answer(h.text, q.answers)
                                             for h in answer.hits)}


def rows_of(name: str, fresh: bool, limit: int, words_seen: bool = False) -> list[dict]:
    path = CACHE / (f"{name}-{limit}" if name.startswith("squad") else name)
    path = path.with_name(path.name + ("-words-seen" if words_seen else "") + ".jsonl")
    if path.exists() and not fresh:
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        return [r for r in rows if r["label"] == 1 or not r.get("answer_in_hits")]
    config = load_config()
    if name.startswith("squad"):
        config, questions = squad_questions(config, 0 if name == "squad-fit" else 1, limit)
    elif name.startswith("scifact"):
        config, questions = scifact_questions(config, name.split("-")[1])
    else:
        config, questions = bbc_questions(config)
    started = time.monotonic()
    if words_seen:  # the protocol before: hidden documents still count in the IDF
        Retriever._hidden_counts = lambda self, reader, exclude: (0, {})  # type: ignore
    rows = list(collect(name, config, questions))
    print(f"{name}: {len(questions)} questions asked twice in "
          f"{time.monotonic() - started:.0f} s", file=sys.stderr)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return [r for r in rows if r["label"] == 1 or not r.get("answer_in_hits")]


def matrix(rows: list[dict], features: list[str] = FEATURES) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([[r["signals"].get(f, 0.0) for f in features] for r in rows], np.float64)
    return x, np.array([r["label"] for r in rows])


def fit(train: list[dict], features: list[str] | None = None,
        scifact_share: float | None = None) -> ConfidenceModel:
    """Logistic regression; within a set both labels weigh the same, and SciFact train
    weighs `scifact_share` of the whole (SQuAD the rest)."""
    from sklearn.linear_model import LogisticRegression

    features = SHIPPED if features is None else features
    share = SCIFACT_SHARE if scifact_share is None else scifact_share
    x, y = matrix(train, features)
    groups = [(r["set"], r["label"]) for r in train]
    counts = {g: groups.count(g) for g in set(groups)}
    sets = {name for name, _ in counts}
    of_set = {name: (share if name == "scifact-train" else 1 - share) if len(sets) > 1
              else 1.0 for name in sets}
    weight = np.array([of_set[g[0]] / counts[g] for g in groups]) * len(train)
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y, sample_weight=weight)
    return ConfidenceModel(round(float(model.intercept_[0]), 4),
                           {f: round(float(w), 4) for f, w in zip(features, model.coef_[0],
                                                                   strict=True)})


def scores(model: ConfidenceModel, rows: list[dict]) -> np.ndarray:
    defaults = dict.fromkeys(FEATURES, 0.0)
    return np.array([model(Signals(**{**defaults, **r["signals"]})) for r in rows])


def old_scores(rows: list[dict]) -> np.ndarray:
    """The score abstention used before (threshold 0.7): the first quote's cosine + 0.5 x
    its overlap (then the best of all hits, on the ranking of the time)."""
    def old(signals: dict) -> float:
        known = 1 - signals.get("unknown", 0.0)  # the old share counted known words only
        share = signals.get("overlap", 0.0) / known if known > 0 else 0.0
        return signals.get("cosine", 0.0) + 0.5 * share

    return np.array([old(r["signals"]) for r in rows])


def declined(values: np.ndarray, labels: np.ndarray, threshold: float) -> tuple[float, float]:
    """(answerable declined, absent declined) at `threshold`."""
    low = values < threshold
    return float(low[labels == 1].mean()), float(low[labels == 0].mean())


def for_training(rows: list[dict], positives: str) -> list[dict]:
    """The rows a model learns from: with positives "right", an answerable question whose
    first quote comes from another source (retrieval missed) is left out of training: it is
    neither a good answer nor an absent one. Reports always count every question."""
    if positives == "all":
        return rows
    return [r for r in rows if r["label"] == 0 or r.get("right_source", True)]


def threshold_for(values: dict[str, tuple[np.ndarray, np.ndarray]], on: tuple[str, ...]) -> float:
    """The highest threshold declining at most MAX_DECLINED of the answerable questions
    of each set in `on` (more would turn away people the corpus answers)."""
    best = 0.0
    for t in np.arange(0.02, 0.98, 0.01):
        if all(declined(*values[n], t)[0] <= MAX_DECLINED for n in on if n in values):
            best = round(float(t), 2)
    return best


def cross_validate(train: dict[str, list[dict]], features: list[str], positives: str,
                   on: tuple[str, ...], folds: int = 5,
                   scifact_share: float | None = None) -> dict[str, tuple[float, float]]:
    """Out-of-fold scores (folds grouped by source: an article, a claim's abstracts, a
    BBC story are never split), a threshold chosen on them by the rule, and (answerable
    declined, absent declined) per training set at that threshold."""
    rows = [r for name in train for r in train[name]]
    groups = sorted({(r["set"], r["group"]) for r in rows})
    fold_of = {g: i % folds for i, g in enumerate(groups)}
    oof = np.zeros(len(rows))
    for k in range(folds):
        inside = [i for i, r in enumerate(rows) if fold_of[(r["set"], r["group"])] == k]
        model = fit(for_training([r for r in rows if fold_of[(r["set"], r["group"])] != k],
                                 positives), features, scifact_share)
        oof[inside] = scores(model, [rows[i] for i in inside])
    by_set = {name: (oof[[i for i, r in enumerate(rows) if r["set"] == name]],
                     matrix(train[name])[1]) for name in train}
    threshold = threshold_for(by_set, on)
    return {name: declined(v, y, threshold) for name, (v, y) in by_set.items()}


def best_absent_declined(values: np.ndarray, labels: np.ndarray,
                         cap: float) -> tuple[float, float]:
    """(absent declined, threshold) at the threshold that declines the most absent-answer
    questions while declining at most `cap` of the answerable ones."""
    best = (0.0, 0.0)
    for t in np.arange(0.0, 1.0, 0.005):
        answerable, absent = declined(values, labels, float(t))
        if answerable <= cap and absent > best[0]:
            best = (absent, round(float(t), 3))
    return best


def bounds(sets: dict[str, list[dict]], model: ConfidenceModel) -> None:
    """How well the signals could separate each set's answerable questions from its
    absent-answer ones, however the threshold were set: with the shipped model and its
    best threshold for that set alone, and with a model fitted on that set itself (grouped
    5-fold, out-of-fold scores). If even the second misses a target, no calibration of
    these signals meets it: the signals themselves must get better."""
    from sklearn.metrics import roc_auc_score

    caps = (MAX_DECLINED, MAX_DECLINED + 0.05)
    print("| set | model | AUC | " + " | ".join(
        f"answerable declined <= {c:.0%}: absent declined (threshold)" for c in caps) + " |")
    print("|---|---|---|" + "---|" * len(caps))
    for name, rows in sets.items():
        labels = matrix(rows)[1]
        groups = sorted({r["group"] for r in rows})
        fold_of = {g: i % 5 for i, g in enumerate(groups)}
        own = np.zeros(len(rows))
        for k in range(5):
            inside = [i for i, r in enumerate(rows) if fold_of[r["group"]] == k]
            own[inside] = scores(fit([r for r in rows if fold_of[r["group"]] != k]),
                                 [rows[i] for i in inside])
        for label, values in (("shipped", scores(model, rows)), ("fitted on this set", own)):
            cells = [best_absent_declined(values, labels, c) for c in caps]
            print(f"| {name} | {label} | {roc_auc_score(labels, values):.3f} | " + " | ".join(
                f"{absent:.3f} ({t})" for absent, t in cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fit", action="store_true",
                        help="fit and write retrieval/confidence_model.json")
    parser.add_argument("--cv", action="store_true",
                        help="compare the feature sets by grouped 5-fold cross-validation "
                             "on the training sets (nothing held out is read)")
    parser.add_argument("--fresh", action="store_true", help="ask again (ignore the cache)")
    parser.add_argument("--limit", type=int, default=1000,
                        help="held-out SQuAD questions (odd articles)")
    parser.add_argument("--fit-limit", type=int, default=3000,
                        help="training SQuAD questions (even articles)")
    parser.add_argument("--json", action="store_true", help="print the table as JSON")
    parser.add_argument("--words-seen", action="store_true",
                        help="the old protocol: a hidden source's words still count in the "
                             "IDF (only documents are hidden); for comparison")
    parser.add_argument("--show-accepted", metavar="SET",
                        help="list the absent-answer questions of SET the model accepts")
    parser.add_argument("--bounds", action="store_true",
                        help="per set: the most absent-answer questions any threshold "
                             "declines while declining at most 3%% (8%%) of answerable ones")
    parser.add_argument("--skip", nargs="*", default=[], choices=[*TRAIN, *HELD_OUT],
                        help="leave these sets out (e.g. one whose index is not built)")
    args = parser.parse_args()
    wanted = [n for n in (*TRAIN, *HELD_OUT) if n not in args.skip]
    if args.cv:
        wanted = [n for n in TRAIN if n in wanted]
    sets = {name: rows_of(name, args.fresh,
                          args.fit_limit if name == "squad-fit" else args.limit,
                          args.words_seen)
            for name in wanted}
    train = [name for name in TRAIN if name in sets]
    if args.cv:
        print("| features | trained on answerable | threshold: <= 3% declined on | "
              + " | ".join(f"{n}: answerable declined | absent declined" for n in train)
              + " |")
        print("|---|---|---|" + "---|---|" * len(train))
        for label, features in CANDIDATES.items():
            for positives in ("all", "right"):
                for on in (TRAIN, ("squad-fit",)):
                    result = cross_validate({n: sets[n] for n in train}, features,
                                            positives, on)
                    print(f"| {label} | {positives} | {' and '.join(on)} | " + " | ".join(
                        f"{result[n][0]:.3f} | {result[n][1]:.3f}" for n in train) + " |")
        print("\nSciFact train's share of the training weight (shipped features, all "
              "answerable, threshold on SQuAD train):\n")
        for share in (0.0, 0.05, 0.1, 0.2, 0.3, 0.5):
            result = cross_validate({n: sets[n] for n in train}, SHIPPED, "all",
                                    THRESHOLD_ON, scifact_share=share)
            print(f"| {share} | " + " | ".join(f"{result[n][0]:.3f} | {result[n][1]:.3f}"
                                               for n in train) + " |")
        return
    if args.fit:
        model = fit(for_training([r for name in train for r in sets[name]], POSITIVES))
        threshold = threshold_for({n: (scores(model, sets[n]), matrix(sets[n])[1])
                                   for n in train}, THRESHOLD_ON)
        MODEL_FILE.write_text(json.dumps({
            **asdict(model), "threshold": threshold,
            "fitted_on": train, "by": "benchmarks/fit_confidence.py --fit"},
            indent=2) + "\n")
        load_model.cache_clear()
    model = load_model()
    threshold = json.loads(MODEL_FILE.read_text()).get("threshold", 0.5)
    if args.bounds:
        bounds(sets, model)
        return
    if args.show_accepted:
        rows = sets[args.show_accepted]
        for r, value in zip(rows, scores(model, rows), strict=True):
            if r["label"] == 0 and value >= threshold:
                print(f"{value:.3f}  {r['question']}\n       hidden: {r['group']}  "
                      f"quoted: {r['quoted_from']}: {r['quote'][:300]!r}")
        return
    table = []
    for name, rows in sets.items():
        labels = matrix(rows)[1]
        new = declined(scores(model, rows), labels, threshold)
        old = declined(old_scores(rows), labels, 0.7)
        before = declined(scores(BEFORE[0], rows), labels, BEFORE[1])
        right = [r for r in rows if r["label"] == 1 and r.get("right_source", True)]
        right_declined = float((scores(model, right) < threshold).mean()) if right else 0.0
        table.append({"set": name, "role": "train" if name in TRAIN else "held-out",
                      "questions": int(labels.sum()), "absent": int((labels == 0).sum()),
                      "answerable_declined": round(new[0], 4),
                      "absent_declined": round(new[1], 4),
                      "first_quote_from_source": round(len(right) / max(labels.sum(), 1), 4),
                      "right_declined": round(right_declined, 4),
                      "before_answerable_declined": round(before[0], 4),
                      "before_absent_declined": round(before[1], 4),
                      "old_answerable_declined": round(old[0], 4),
                      "old_absent_declined": round(old[1], 4)})
    if args.json:
        print(json.dumps({"model": asdict(model), "threshold": threshold, "sets": table}))
        return
    print(f"model: bias {model.bias}, weights {model.weights}; threshold {threshold}")
    print("| set | role | questions | absent (counted) | answerable declined | "
          "absent declined | first quote from source | of those, declined | "
          "model before @0.34: answerable declined | absent declined | "
          "old score @0.7: answerable declined | absent declined |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in table:
        print(f"| {r['set']} | {r['role']} | {r['questions']} | {r['absent']} | "
              f"{r['answerable_declined']:.3f} | {r['absent_declined']:.3f} | "
              f"{r['first_quote_from_source']:.3f} | {r['right_declined']:.3f} | "
              f"{r['before_answerable_declined']:.3f} | {r['before_absent_declined']:.3f} | "
              f"{r['old_answerable_declined']:.3f} | {r['old_absent_declined']:.3f} |")


if __name__ == "__main__":
    main()
