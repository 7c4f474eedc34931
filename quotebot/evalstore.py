"""The index of an evaluation set: its corpus written out as files, built by the normal pipeline.

`quotebot eval` and the scripts in `benchmarks/` share it, so what they measure is the
product itself, and the index (with its embedding cache) is built once and reused.
"""

from __future__ import annotations

import copy
import hashlib
import sys
from pathlib import Path

from index.build import build_index
from quotebot.config import Config
from retrieval.evaluation import EvalSet, materialise

EVAL_ROOT = Path(".quotebot") / "eval"  # git-ignored, beside the default store


def prepare(evalset: EvalSet, config: Config, *, corpus: Path | None = None,
            store: Path | None = None, progress: bool | None = None) -> Config:
    """A copy of `config` pointing at the evaluation corpus and its up-to-date index."""
    config = copy.deepcopy(config)
    root = EVAL_ROOT / set_folder(evalset.name)
    config.override("corpus", corpus or root / "corpus")
    config.override("store", store or root / "store")
    # Pruned only when the folder is evaluation's own: never a folder someone named.
    ours = corpus is None and Path(config.corpus).resolve().is_relative_to(EVAL_ROOT.resolve())
    materialise(evalset, Path(config.corpus), prune=ours)
    report = build_index(config, progress=progress)
    print(report.summary().splitlines()[0], file=sys.stderr)
    return config


def set_folder(name: str) -> str:
    """An evaluation set's folder under EVAL_ROOT: one safe path component. A set named
    after its folder may be called "..", "." or "" (`--squad ../dev.json`), which would
    have put the evaluation's corpus and store over the live ones."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("_")
    if safe.strip("."):
        return safe
    return "set-" + hashlib.sha1(name.encode("utf-8", "replace")).hexdigest()[:8]


def prepare_folder(corpus: Path, config: Config, *, store: Path | None = None,
                   progress: bool | None = None) -> Config:
    """A copy of `config` answering from the folder `corpus`, its index built or updated.

    The index lives under `.quotebot/eval/<folder name>-<hash of its absolute path>/store`
    unless `store` is given, so evaluating the same folder again only re-reads what changed.
    """
    corpus = Path(corpus)
    if not corpus.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus}")
    config = copy.deepcopy(config)
    key = hashlib.sha1(str(corpus.resolve()).encode()).hexdigest()[:8]
    config.override("corpus", corpus)
    config.override("store", store or EVAL_ROOT / f"{corpus.resolve().name}-{key}" / "store")
    report = build_index(config, progress=progress)
    print(report.summary().splitlines()[0], file=sys.stderr)
    return config
