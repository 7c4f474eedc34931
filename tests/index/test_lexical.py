"""BM25 search: the same scores and ranking as bm25s' full scoring, on small data."""

from __future__ import annotations

import numpy as np

from index.lexical import LexicalIndex, build_lexical, tokenize
from index.store import current_generation
from quotebot.config import Config

QUESTIONS = [
    "Which volcano buried Pompeii?", "When did the first coffeehouse in London open?",
    "coffee coffee coffee tea", "How many civilians are trapped in Raqqa?",
    "the of and", "zzzz unknownword", "Mars Mars moons Phobos", "", "tower 1889 Paris",
]


def reference(index: LexicalIndex, question: str, n: int) -> tuple[list[int], list[float]]:
    """bm25s' scores of every row, best n with a positive score, ties by chunk id."""
    ids = index.bm25.get_tokens_ids(tokenize(question))
    scores = (index.bm25.get_scores_from_ids(ids) if ids
              else np.zeros(len(index.ids), np.float32))
    rows = [r for r in np.lexsort((np.arange(len(scores)), -scores)) if scores[r] > 0][:n]
    return [int(index.ids[r]) for r in rows], [float(scores[r]) for r in rows]


def test_search_matches_bm25s_scores_and_order(session_config: Config) -> None:
    index = LexicalIndex(current_generation(session_config.store))
    for question in QUESTIONS:
        for n in (1, 3, 50):
            ids, scores = index.search(question, n)
            assert (ids.tolist(), scores.tolist()) == reference(index, question, n)


def test_scores_for_matches_bm25s_for_any_ids(session_config: Config) -> None:
    index = LexicalIndex(current_generation(session_config.store), mmap=True)
    absent = np.array([-5, 12345], dtype=np.int64)
    chunk_ids = np.concatenate([index.ids[::-1], absent])
    for question in QUESTIONS:
        ids = index.bm25.get_tokens_ids(tokenize(question))
        full = (index.bm25.get_scores_from_ids(ids) if ids
                else np.zeros(len(index.ids), np.float32))
        got = index.scores_for(question, chunk_ids)
        assert got[:-2].tolist() == full[::-1].tolist() and got[-2:].tolist() == [0, 0]


def test_ties_rank_by_chunk_id_across_the_cut(tmp_path) -> None:
    texts = ["copper kettle"] * 5 + ["copper kettle copper", "tin cup"]
    ids = [50, 10, 40, 20, 30, 60, 70]
    order = np.argsort(ids)
    build_lexical(tmp_path, [ids[i] for i in order], [texts[i] for i in order])
    index = LexicalIndex(tmp_path)
    found, scores = index.search("kettle", 3)
    assert found.tolist() == [10, 20, 30] and len(set(scores.tolist())) == 1
    assert index.search("copper", 2)[0].tolist()[0] == 60
