"""The index of an evaluation set: its corpus written out as files, built by the normal pipeline.

`quotebot eval` and the scripts in `benchmarks/` share it, so what they measure is the
product itself, and the index (with its embedding cache) is built once and reused.
"""

from __future__ import annotations

import copy
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
    root = EVAL_ROOT / evalset.name
    config.override("corpus", corpus or root / "corpus")
    config.override("store", store or root / "store")
    materialise(evalset, Path(config.corpus))
    report = build_index(config, progress=progress)
    print(report.summary().splitlines()[0], file=sys.stderr)
    return config
