"""The corpora of the trust benchmarks (fit_confidence.py, number_name_pairs.py, quote_rules.py).

On the shared 2-core machine a full BBC (2,225 articles) or SciFact (5,183 abstracts)
index takes most of an hour to embed, so these benchmarks use fixed subsets, chosen by a
rule (no randomness) and indexed once under .quotebot/eval/ (git-ignored):

- BBC: the first `BBC_PER_CATEGORY` articles of each category plus every article a
  question in benchmarks/questions/bbc-trust.jsonl is about; the corpus folder holds
  symbolic links to ../shared/data (nothing is copied).
- SciFact: every abstract cited by a test claim or by the first `SCIFACT_TRAIN` train
  claims (by id), plus the first `SCIFACT_OTHERS` other abstracts (by id) as distractors.
"""

from __future__ import annotations

import copy
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.build import build_index  # noqa: E402
from quotebot.config import Config  # noqa: E402
from quotebot.evalstore import EVAL_ROOT, prepare  # noqa: E402
from retrieval.evaluation import EvalSet, load_beir  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
BBC = DATA / "bbc-news" / "bbc"
QUESTIONS = ROOT / "benchmarks" / "questions"
BBC_PER_CATEGORY = 100
SCIFACT_OTHERS = 333
SCIFACT_TRAIN = 120


def bbc_questions() -> list[dict]:
    return [json.loads(line) for line in
            (QUESTIONS / "bbc-trust.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]


def bbc_files() -> list[Path]:
    """The BBC subset, as paths relative to the BBC folder, sorted."""
    wanted = {Path(q["path"]) for q in bbc_questions()}
    for category in sorted(p for p in BBC.iterdir() if p.is_dir()):
        files = sorted(category.glob("*.txt"))[:BBC_PER_CATEGORY]
        wanted.update(f.relative_to(BBC) for f in files)
    return sorted(wanted)


def bbc_config(config: Config) -> Config:
    """`config` pointing at the indexed BBC subset (built on first use)."""
    root = EVAL_ROOT / "bbc"
    corpus = root / "corpus"
    for rel in bbc_files():
        # Copies, not symlinks: the indexer follows links only within the corpus (a link
        # to a secret elsewhere must not be quoted), so linked files were indexed as none.
        target = corpus / rel
        if target.is_symlink():
            target.unlink()
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(BBC / rel, target)
    config = copy.deepcopy(config)
    config.override("corpus", corpus)
    config.override("store", root / "store")
    build_index(config, wait=True, progress=False)
    return config


def scifact_subset(split: str) -> EvalSet:
    """SciFact `split` claims over the cited abstracts and a fixed set of distractors.

    All test claims are kept; of the train claims, the first `SCIFACT_TRAIN` (by id), so
    that the abstracts to embed stay few."""
    full = load_beir(DATA / "scifact", split)
    cited = set()
    for name in ("train", "test"):
        qrels = load_beir(DATA / "scifact", name).qrels
        if name == "train":
            qrels = {q: qrels[q] for q in sorted(qrels)[:SCIFACT_TRAIN]}
        cited.update(d for rel in qrels.values() for d in rel)
    if split == "train":
        full.queries = {q: t for q, t in full.queries.items()
                        if q in sorted(full.qrels)[:SCIFACT_TRAIN]}
    others = [d for d in sorted(full.corpus) if d not in cited][:SCIFACT_OTHERS]
    keep = cited | set(others)
    full.corpus = {d: v for d, v in full.corpus.items() if d in keep}
    full.name = "scifact-cited"
    return full


def scifact_config(config: Config, split: str) -> tuple[Config, EvalSet]:
    evalset = scifact_subset(split)
    return prepare(evalset, config, progress=False), evalset
