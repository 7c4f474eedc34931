"""Moved to store/vectors.py (FAISS is the store's); re-exported for existing imports."""

# ruff: noqa: F401
from store.vectors import (
    KINDS,
    MAX_NLIST,
    MIN_POINTS_PER_LIST,
    TRAIN_POINTS_PER_LIST,
    IndexPlan,
    add_vectors,
    all_vectors,
    auto_nlist,
    auto_nprobe,
    configure_search,
    index_ids,
    new_index,
    plan_index,
    read_vectors,
    retrain_reason,
    search_nprobe,
    training_sample,
    use_threads,
    write_vectors,
)
