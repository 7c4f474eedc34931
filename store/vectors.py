"""FAISS index construction: which index type for the corpus size, training, stable chunk ids.

- "flat": exact inner-product search; fast enough up to `index.flat_max` passages.
- "ivf": inverted lists over k-means centroids trained at build time on the corpus'
  own vectors; a question searches `ivf_nprobe` lists. Trained again when the corpus
  has grown (or shrunk) past `retrain_growth` times the size it was trained on.
- IVF lists keep vectors as 16-bit floats (`ivf_fp16`): half the bytes, and at a million
  passages recall@10 and speed as good as 32-bit (less memory to stream per search).
- `sq8` stores either as 8-bit scalars: a quarter of the bytes, approximate scores.

Every type keeps our 63-bit chunk ids, supports removal (incremental builds) and
`reconstruct(chunk_id)` (dense scores of lexical-only candidates): IVF indexes get a
hash-table direct map for that.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from quotebot.config import IndexConfig
from quotebot.errors import ConfigError, StoreError

KINDS = ("auto", "flat", "ivf")
MAX_NLIST = 4096
# k-means sees at most this many vectors per list (FAISS' own cap is 256): training
# stays in seconds at a million passages with no measurable loss of recall.
TRAIN_POINTS_PER_LIST = 64
MIN_POINTS_PER_LIST = 39  # FAISS warns below this; fewer lists are used instead

_threads = threading.local()


@dataclass(frozen=True)
class IndexPlan:
    """The FAISS index a generation uses; `name` is what the manifest records."""

    kind: str  # "flat" | "ivf"
    nlist: int = 0
    sq8: bool = False
    fp16: bool = False  # vectors as 16-bit floats (never with sq8)

    @property
    def trained(self) -> bool:
        """Whether the index learns from the corpus (IVF lists, SQ8 ranges) at build time."""
        return self.kind == "ivf" or self.sq8

    @property
    def name(self) -> str:
        base = f"ivf{self.nlist}" if self.kind == "ivf" else "flat"
        return f"{base}-sq8" if self.sq8 else f"{base}-fp16" if self.fp16 else base

    @classmethod
    def parse(cls, name: str) -> IndexPlan:
        """The plan a manifest's `index_type` names ("flat", "ivf1024-sq8", ...)."""
        base, _, suffix = name.partition("-")
        if base.startswith("ivf"):
            return cls("ivf", int(base[3:] or 0), suffix == "sq8", suffix == "fp16")
        return cls("flat", 0, suffix == "sq8", suffix == "fp16")


def auto_nlist(n: int) -> int:
    """About sqrt(n) lists (a power of two), each with enough vectors to train on."""
    nlist = 2 ** round(math.log2(max(math.sqrt(max(n, 1)), 1)))
    while nlist > 1 and n < nlist * MIN_POINTS_PER_LIST:
        nlist //= 2
    return int(min(nlist, MAX_NLIST))


def plan_index(n: int, config: IndexConfig) -> IndexPlan:
    """The index type for a corpus of `n` passages under `config`."""
    kind = config.faiss_index
    if kind not in KINDS:
        raise ConfigError(f"index.faiss_index must be one of {KINDS}, not {kind!r}")
    if kind == "auto":
        kind = "flat" if n <= config.flat_max else "ivf"
    if n == 0:
        kind = "flat"  # nothing to train on; the next build with passages retrains
    if kind == "ivf" and config.ivf_nlist > n:  # FAISS cannot train more lists than points
        raise ConfigError(f"index.ivf_nlist ({config.ivf_nlist:,}) is more than the passages "
                          f"to index ({n:,}): lower it, or set 0 to choose it by size")
    nlist = (config.ivf_nlist or auto_nlist(n)) if kind == "ivf" else 0
    sq8 = bool(config.sq8) and n > 0  # SQ8 trains on vectors
    return IndexPlan(kind, nlist, sq8, kind == "ivf" and bool(config.ivf_fp16) and not sq8)


def retrain_reason(previous: IndexPlan, trained_size: int, n: int,
                   config: IndexConfig) -> str:
    """Why an existing index cannot simply take the changes ('' when it can).

    A new index is made when the planned type changes (flat <-> ivf, sq8 on or off, a
    configured nlist), or when an IVF index's corpus is `retrain_growth` times larger
    or smaller than the corpus its lists were trained on.
    """
    plan = plan_index(n, config)
    if (plan.kind, plan.sq8, plan.fp16) != (previous.kind, previous.sq8, previous.fp16):
        return f"index type changes from {previous.name} to {plan.name}"
    if plan.kind == "ivf":
        if config.ivf_nlist and config.ivf_nlist != previous.nlist:
            return f"index.ivf_nlist changed ({previous.nlist} -> {config.ivf_nlist})"
        growth = max(float(config.retrain_growth), 1.0)
        if trained_size <= 0 or n > trained_size * growth or n * growth < trained_size:
            return (f"corpus is now {n} passages, the IVF lists were trained on "
                    f"{trained_size}: retraining")
    return ""


def new_index(dimension: int, plan: IndexPlan, sample: np.ndarray | None = None) -> Any:
    """An empty index for inner-product search over normalised vectors, keyed by chunk id.

    Types that learn from data (IVF lists, SQ8 ranges) are trained on `sample`.
    """
    import faiss

    metric = faiss.METRIC_INNER_PRODUCT
    scalar = plan.sq8 or plan.fp16
    sq = faiss.ScalarQuantizer.QT_8bit if plan.sq8 else faiss.ScalarQuantizer.QT_fp16
    if plan.kind == "ivf":
        quantizer = faiss.IndexFlatIP(dimension)
        index = (faiss.IndexIVFScalarQuantizer(quantizer, dimension, plan.nlist, sq, metric)
                 if scalar else faiss.IndexIVFFlat(quantizer, dimension, plan.nlist, metric))
        index.set_direct_map_type(faiss.DirectMap.Hashtable)
    else:
        index = faiss.IndexIDMap2(faiss.IndexScalarQuantizer(dimension, sq, metric) if scalar
                                  else faiss.IndexFlatIP(dimension))
    if not index.is_trained:
        if sample is None or not len(sample):
            raise ValueError(f"a {plan.name} index needs vectors to train on")
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
    return index


def training_sample(vectors: np.ndarray, plan: IndexPlan, seed: int = 0) -> np.ndarray:
    """The vectors to train on: all of them, or an even random subset for IVF."""
    limit = plan.nlist * TRAIN_POINTS_PER_LIST if plan.kind == "ivf" else 100_000
    if len(vectors) <= limit:
        return vectors
    rows = np.sort(np.random.default_rng(seed).choice(len(vectors), limit, replace=False))
    return vectors[rows]


def add_vectors(index: Any, ids: np.ndarray, vectors: np.ndarray) -> None:
    """Add vectors under their ids (no-op for none)."""
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                           np.ascontiguousarray(ids, dtype=np.int64))


def index_ids(index: Any) -> np.ndarray:
    """Every chunk id stored in an index made by `new_index`."""
    import faiss

    if isinstance(index, faiss.IndexIDMap2):
        return faiss.vector_to_array(index.id_map).astype(np.int64)
    ivf = faiss.extract_index_ivf(index)
    lists = ivf.invlists
    parts = [faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
             for i in range(ivf.nlist) if lists.list_size(i)]
    return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, np.int64)


def all_vectors(index: Any) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) of everything in an index: exact for float indexes, decoded for SQ8."""
    ids = index_ids(index)
    if not len(ids):
        return ids, np.empty((0, index.d), np.float32)
    return ids, index.reconstruct_batch(ids)


def auto_nprobe(nlist: int) -> int:
    """Lists to search per question: 16 up to 256 lists, then growing with sqrt(nlist).

    With more lists each holds fewer passages, and a question's true neighbours spread
    over more of them: a fixed nprobe loses recall as the corpus grows (16 gave recall@10
    0.990 at 100k passages, 256 lists, but 0.975-0.986 at 1M, 1024 lists; 32 gave 0.994).
    The searched share still falls as the corpus grows (6% of 256 lists, 3% of 1024).
    Fewer than 16 lost recall on smaller IVF indexes (0.96 with 11 of 128 at 25k).
    """
    return min(max(nlist, 1), max(16, round(16 * math.sqrt(max(nlist, 1) / 256))))


def search_nprobe(nlist: int, config: IndexConfig) -> int:
    """The configured `ivf_nprobe`, or (0) the automatic one for `nlist` lists."""
    return max(int(config.ivf_nprobe), 1) if config.ivf_nprobe else auto_nprobe(nlist)


def configure_search(index: Any, config: IndexConfig) -> None:
    """Query-time settings: lists searched per question for IVF indexes."""
    import faiss

    if not isinstance(index, faiss.IndexIDMap2):
        ivf = faiss.extract_index_ivf(index)
        ivf.nprobe = search_nprobe(ivf.nlist, config)


def use_threads(n: int) -> None:
    """FAISS (OpenMP) threads for searches made by the calling thread (0: all cores).

    OpenMP keeps this per thread, so a build thread and the threads answering
    questions each get their own setting. One thread answers a single question
    faster than two on a small machine (no fork/join per search).
    """
    if getattr(_threads, "n", None) == n:
        return
    import faiss

    faiss.omp_set_num_threads(n if n > 0 else _cores())
    _threads.n = n


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def read_vectors(path: Path, *, mmap: bool = False) -> Any:
    """Load a FAISS index file (memory-mapped, read-only, with `mmap`); damage is a StoreError."""
    import faiss

    try:
        # IO_FLAG_MMAP_IFC maps flat codes and IVF lists in place (searches as fast as from
        # RAM); the older IO_FLAG_MMAP gives IVF on-disk lists, about 3x slower to search.
        flags = getattr(faiss, "IO_FLAG_MMAP_IFC", 0) if mmap else 0
        return faiss.read_index(str(path), flags)
    except RuntimeError as exc:
        raise StoreError(f"vector index {path} is damaged ({str(exc).splitlines()[0]}): "
                         "rebuild with `quotebot index --full`") from exc


def write_vectors(index: Any, path: Path) -> None:
    """Save a FAISS index file; a failed write (disk full, read-only) becomes an OSError."""
    import faiss

    try:
        faiss.write_index(index, str(path))
    except RuntimeError as exc:
        reason = re.search(r"\(([^()]*)\)\s*$", str(exc))  # faiss ends with "(strerror)"
        raise OSError(f"cannot write {path}: "
                      f"{reason.group(1) if reason else str(exc).splitlines()[0]}") from exc
