"""FAISS index type by corpus size, IVF training and retraining, SQ8, on small data."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from index.build import build_index
from quotebot.config import Config, ConfigError, IndexConfig
from retrieval import Retriever
from store.faiss import FaissReader
from store.vectors import (
    IndexPlan,
    add_vectors,
    all_vectors,
    auto_nlist,
    configure_search,
    new_index,
    plan_index,
    read_vectors,
    retrain_reason,
)


def clustered(n: int, dimension: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Normalised vectors around 20 centres, with random 63-bit ids."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, dimension))
    vectors = centres[rng.integers(0, 20, n)] + 0.3 * rng.standard_normal((n, dimension))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    return rng.choice(2**62, n, replace=False).astype(np.int64), vectors


def test_auto_is_flat_up_to_flat_max_then_ivf() -> None:
    config = IndexConfig(flat_max=1000)
    assert plan_index(1000, config) == IndexPlan("flat")
    plan = plan_index(100_000, config)
    assert plan.kind == "ivf" and plan.nlist == 256 and plan.name == "ivf256-fp16"
    assert plan_index(1_000_000, config).nlist == 1024


def test_more_lists_than_passages_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"index.ivf_nlist \(4,096\) is more than"):
        plan_index(120, IndexConfig(faiss_index="ivf", ivf_nlist=4096))


def test_configured_type_and_sq8_override_auto() -> None:
    assert plan_index(10, IndexConfig(faiss_index="ivf", ivf_nlist=4)) == IndexPlan("ivf", 4,
                                                                                  fp16=True)
    assert plan_index(10**6, IndexConfig(ivf_fp16=False)).name == "ivf1024"
    assert plan_index(10**6, IndexConfig(faiss_index="flat")) == IndexPlan("flat")
    assert plan_index(10, IndexConfig(sq8=True)).name == "flat-sq8"
    assert plan_index(10**6, IndexConfig(sq8=True)).name == "ivf1024-sq8"
    with pytest.raises(ConfigError, match="faiss_index"):
        plan_index(10, IndexConfig(faiss_index="hnsw"))


def test_plan_names_round_trip_through_the_manifest() -> None:
    for plan in (IndexPlan("flat"), IndexPlan("flat", 0, True), IndexPlan("ivf", 512),
                 IndexPlan("ivf", 512, fp16=True), IndexPlan("ivf", 64, True)):
        assert IndexPlan.parse(plan.name) == plan


def test_auto_nlist_leaves_enough_vectors_per_list() -> None:
    assert auto_nlist(1_000_000) == 1024
    assert auto_nlist(100_000) == 256
    assert all(n >= 39 * auto_nlist(n) or auto_nlist(n) == 1 for n in (10, 500, 5000, 60_000))


def test_ivf_is_retrained_when_the_corpus_outgrows_its_lists() -> None:
    config = IndexConfig(faiss_index="ivf", retrain_growth=2.0)
    trained = IndexPlan("ivf", 64, fp16=True)
    assert retrain_reason(trained, 10_000, 15_000, config) == ""
    assert retrain_reason(trained, 10_000, 5_000, config) == ""
    assert "retraining" in retrain_reason(trained, 10_000, 20_001, config)
    assert "retraining" in retrain_reason(trained, 10_000, 4_999, config)
    assert "flat" in retrain_reason(IndexPlan("flat"), 0, 15_000, config)
    assert "sq8" in retrain_reason(trained, 10_000, 10_000, IndexConfig(faiss_index="ivf",
                                                                          sq8=True))
    assert retrain_reason(IndexPlan("flat"), 0, 10**6, IndexConfig(faiss_index="flat")) == ""
    assert "ivf128 to ivf128-fp16" in retrain_reason(IndexPlan("ivf", 128), 10_000, 10_000,
                                                      config)


@pytest.mark.parametrize("plan", [IndexPlan("flat"), IndexPlan("flat", 0, True),
                                  IndexPlan("ivf", 16), IndexPlan("ivf", 16, fp16=True),
                                  IndexPlan("ivf", 16, True)])
def test_every_index_type_keeps_ids_removes_and_reconstructs(plan: IndexPlan,
                                                             tmp_path: Path) -> None:
    ids, vectors = clustered(2000)
    index = new_index(32, plan, vectors)
    add_vectors(index, ids, vectors)
    configure_search(index, IndexConfig(ivf_nprobe=16))
    _, found = index.search(vectors[:5], 1)
    assert found[:, 0].tolist() == ids[:5].tolist()
    tolerance = 0.02 if plan.sq8 else 1e-3 if plan.fp16 else 1e-6
    assert np.abs(index.reconstruct(int(ids[7])) - vectors[7]).max() < tolerance
    # Memory-mapped, as answering opens it: the same results.
    faiss.write_index(index, str(tmp_path / "v.faiss"))
    mapped = read_vectors(tmp_path / "v.faiss", mmap=True)
    configure_search(mapped, IndexConfig(ivf_nprobe=16))
    assert mapped.search(vectors[:50], 10)[1].tolist() == index.search(vectors[:50], 10)[1].tolist()
    assert np.array_equal(mapped.reconstruct(int(ids[7])), index.reconstruct(int(ids[7])))
    index.remove_ids(ids[:100])
    got_ids, got = all_vectors(index)
    order = np.argsort(got_ids)
    expected = np.argsort(ids[100:])
    assert got_ids[order].tolist() == ids[100:][expected].tolist()
    assert np.abs(got[order] - vectors[100:][expected]).max() < tolerance


def test_ivf_recall_against_exact_search_on_clustered_data() -> None:
    ids, vectors = clustered(20_000, dimension=64)
    exact = new_index(64, IndexPlan("flat"))
    add_vectors(exact, ids, vectors)
    plan = plan_index(len(ids), IndexConfig(flat_max=1000))
    ivf = new_index(64, plan, vectors)
    add_vectors(ivf, ids, vectors)
    configure_search(ivf, IndexConfig(ivf_nprobe=16))
    queries = clustered(100, dimension=64, seed=1)[1]
    _, truth = exact.search(queries, 10)
    _, got = ivf.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, got, strict=True)])
    assert recall >= 0.95


def manifest(config: Config):
    reader = FaissReader(config.store)
    try:
        return reader.manifest
    finally:
        reader.close()


def add_note(config: Config, name: str, n_sentences: int) -> None:
    path = config.corpus / "notes" / f"{name}.txt"
    path.parent.mkdir(exist_ok=True)
    path.write_text(" ".join(f"The {name} ledger lists item {i} as a copper kettle of "
                             f"{i + 3} litres." for i in range(n_sentences)), encoding="utf-8")


def quotes_and_sources(answer: dict) -> tuple:
    """What a reader sees of an answer: the quotes in order, each with the set of files it
    is cited from (two identical files tie, and fp16 vectors may list either first), and
    the confidence to two places (fp16 moves the fourth)."""
    return (answer["found"], round(answer["confidence"], 2), [
        (hit["excerpt"], frozenset([hit["citation"]["path"],
                                    *(c["path"] for c in hit["also_in"])]))
        for hit in answer["hits"]])


def test_build_records_the_index_type_and_retrains_ivf_as_the_corpus_grows(fresh_copy) -> None:
    config = fresh_copy()
    before = manifest(config)
    assert (before.index_type, before.index_trained_size) == ("flat", 0)
    question = "Which volcano buried Pompeii?"
    flat_answer = quotes_and_sources(Retriever.open(config).ask(question).to_dict())

    config.index.faiss_index, config.index.ivf_nlist = "ivf", 2
    report = build_index(config, progress=False)  # type change: a new index, trained
    assert report.chunks_embedded == 0 and any("flat to ivf2" in n for n in report.notes)
    trained = manifest(config)
    assert (trained.index_type, trained.index_trained_size) == ("ivf2-fp16", trained.n_chunks)
    # nprobe >= nlist: IVF searches every list, so answers are those of exact search.
    assert quotes_and_sources(Retriever.open(config).ask(question).to_dict()) == flat_answer

    add_note(config, "small", 3)  # grows the corpus by less than retrain_growth (2x)
    report = build_index(config, progress=False)
    grown = manifest(config)
    assert grown.n_chunks > trained.n_chunks and not report.notes
    assert grown.index_trained_size == trained.index_trained_size
    answer = Retriever.open(config).ask("How big is item 2 of the small ledger?")
    assert answer.hits[0].citation.path == "notes/small.txt"

    for i in range(2 * grown.n_chunks):  # now more than twice the size it was trained on
        add_note(config, f"big{i}", 12)
    report = build_index(config, progress=False)
    retrained = manifest(config)
    assert any("retraining" in n for n in report.notes)
    assert retrained.index_trained_size == retrained.n_chunks > 2 * trained.n_chunks


def test_sq8_index_answers_like_the_flat_one(fresh_copy, retriever: Retriever) -> None:
    config = fresh_copy()
    config.index.sq8 = True
    build_index(config, progress=False)
    assert manifest(config).index_type == "flat-sq8"
    sq8 = Retriever.open(config)
    for question in ("How tall is the Eiffel Tower?", "Why is Mars red?"):
        assert sq8.ask(question).hits[0].excerpt == retriever.ask(question).hits[0].excerpt
    sq8.close()


def test_automatic_nprobe_is_16_then_grows_with_the_square_root_of_the_lists() -> None:
    from store.vectors import auto_nprobe

    assert [auto_nprobe(n) for n in (4, 64, 256, 1024, 4096)] == [4, 16, 16, 32, 64]


def test_ivf_index_searches_the_configured_or_automatic_lists() -> None:
    ids, vectors = clustered(2000)
    index = new_index(32, IndexPlan("ivf", 16), vectors)
    add_vectors(index, ids, vectors)
    configure_search(index, IndexConfig(ivf_nprobe=0))
    assert faiss.extract_index_ivf(index).nprobe == 16  # all 16 lists
    configure_search(index, IndexConfig(ivf_nprobe=3))
    assert faiss.extract_index_ivf(index).nprobe == 3
