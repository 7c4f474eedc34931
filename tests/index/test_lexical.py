"""BM25 search: the same scores and ranking as bm25s' full scoring, on small data."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from index.build import build_index
from index.lexical import (
    K1,
    B,
    LexicalIndex,
    bm25_matrix,
    build_lexical,
    chunk_tokens,
    lexical_text,
    question_tokens,
    tokenize,
    without_asking,
)
from quotebot.config import Config
from store.generations import META, current_generation

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
            ids, scores = index.search(tokenize(question), n)
            assert (ids.tolist(), scores.tolist()) == reference(index, question, n)


def test_scores_for_matches_bm25s_for_any_ids(session_config: Config) -> None:
    index = LexicalIndex(current_generation(session_config.store), mmap=True)
    absent = np.array([-5, 12345], dtype=np.int64)
    chunk_ids = np.concatenate([index.ids[::-1], absent])
    for question in QUESTIONS:
        ids = index.bm25.get_tokens_ids(tokenize(question))
        full = (index.bm25.get_scores_from_ids(ids) if ids
                else np.zeros(len(index.ids), np.float32))
        got = index.scores_for(tokenize(question), chunk_ids)
        assert got[:-2].tolist() == full[::-1].tolist() and got[-2:].tolist() == [0, 0]


def test_ties_rank_by_chunk_id_across_the_cut(tmp_path) -> None:
    texts = ["copper kettle"] * 5 + ["copper kettle copper", "tin cup"]
    ids = [50, 10, 40, 20, 30, 60, 70]
    order = np.argsort(ids)
    build_lexical(tmp_path, [ids[i] for i in order], [texts[i] for i in order])
    index = LexicalIndex(tmp_path)
    found, scores = index.search(["kettl"], 3)
    assert found.tolist() == [10, 20, 30] and len(set(scores.tolist())) == 1
    assert index.search(["copper"], 2)[0].tolist()[0] == 60


def stored_tokens(config: Config) -> dict[int, tuple[list[str], list[str]]]:
    """chunk id -> (tokens kept in the store, tokens of a fresh tokenization)."""
    db = sqlite3.connect(current_generation(config.store) / META)
    rows = db.execute("SELECT c.chunk_id, d.title, c.heading_path, c.text, t.tokens "
                      "FROM chunks c JOIN documents d USING (doc_id) "
                      "LEFT JOIN chunk_tokens t USING (chunk_id)").fetchall()
    orphans = db.execute("SELECT count(*) FROM chunk_tokens WHERE chunk_id NOT IN "
                         "(SELECT chunk_id FROM chunks)").fetchone()[0]
    db.close()
    assert orphans == 0
    return {r[0]: ((r[4] or "").split(), tokenize(lexical_text(r[1], json.loads(r[2]), r[3])))
            for r in rows}


def test_builds_keep_each_chunks_tokens_and_redo_only_new_ones(fresh_copy) -> None:
    config = fresh_copy()
    path = config.corpus / "geology" / "volcanoes.txt"
    path.write_text(path.read_text() + "\nMauna Loa is the largest active volcano.\n",
                    encoding="utf-8")
    (config.corpus / "sport" / "cycling.txt").unlink()
    build_index(config, progress=False)
    tokens = stored_tokens(config)
    assert tokens and all(kept == fresh for kept, fresh in tokens.values())
    assert any("mauna" in kept for kept, _ in tokens.values())


def test_tokens_of_another_tokenizer_version_are_redone(fresh_copy) -> None:
    config = fresh_copy()
    db = sqlite3.connect(current_generation(config.store) / META)
    db.execute("UPDATE chunk_tokens SET version = 0, tokens = 'stale'")
    ids, tokens = chunk_tokens(db)
    db.close()
    assert ids == sorted(ids) and "stale" not in {t for ts in tokens for t in ts}


def test_top_n_from_a_sampled_floor_is_exact_on_a_larger_index(tmp_path) -> None:
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(300)]
    weights = 1 / np.arange(1, 301)  # Zipf-like: a few words are in most rows
    texts = [" ".join(rng.choice(words, int(rng.integers(3, 40)), p=weights / weights.sum()))
             for _ in range(6000)]
    texts += ["w7 w7 w7"] * 40  # many equal scores, across any cut
    ids = np.sort(rng.choice(2**40, len(texts), replace=False))
    build_lexical(tmp_path, ids.tolist(), texts)
    index = LexicalIndex(tmp_path)
    for question in ["w0 w1", "w7", "w250 w3 w0", "w299", "w0"]:
        for n in (1, 10, 50, 100):
            got_ids, got_scores = index.search(tokenize(question), n)
            assert (got_ids.tolist(), got_scores.tolist()) == reference(index, question, n)


def test_numpy_bm25_index_is_bm25s_own(tmp_path) -> None:
    import bm25s

    rng = np.random.default_rng(1)
    words = [f"t{i}" for i in range(500)]
    weights = 1 / np.arange(1, 501)
    tokens = [list(rng.choice(words, int(rng.integers(0, 60)), p=weights / weights.sum()))
              for _ in range(3000)]
    reference = bm25s.BM25(k1=K1, b=B)
    reference.index(tokens, show_progress=False)
    ours, vocab = bm25_matrix(tokens, bm25s.BM25(k1=K1, b=B))
    assert ours["num_docs"] == reference.scores["num_docs"]
    assert set(vocab) == set(reference.vocab_dict)

    def postings(scores: dict, token_id: int) -> tuple[list[int], list[float]]:
        start, end = scores["indptr"][token_id], scores["indptr"][token_id + 1]
        return scores["indices"][start:end].tolist(), scores["data"][start:end].tolist()

    for word in set(vocab) - {""}:
        assert postings(ours, vocab[word]) == postings(reference.scores,
                                                       reference.vocab_dict[word])
    assert ours["data"].dtype == reference.scores["data"].dtype


def test_tokenize_splits_at_underscores_so_emphasis_marks_never_reach_a_token() -> None:
    assert tokenize("_Boxes_") == ["box"]
    assert tokenize("_atomically reference-counted_") == ["atom", "refer", "count"]
    assert tokenize("max_connections=10") == ["max", "connect", "10"]


def test_question_tokens_leave_out_the_words_that_only_ask() -> None:
    assert question_tokens("What kind of servers does chain replication coordinate?") == [
        "server", "chain", "replic", "coordin"]
    assert question_tokens("How can I turn off verification?") == [
        "can", "i", "turn", "off", "verif"]


@pytest.mark.parametrize(("question", "left"), [
    ("What does TAO favor over strong consistency?", "What  TAO favor over strong consistency?"),
    ("How do I install it?", "How  I install it?"),
    ("Does httpx support HTTP/2?", " httpx support HTTP/2?"),
    ("Why did the build fail?", "Why  the build fail?"),
    ("In Gilbert and Lynch's model, what does it take to be available?",
     "In Gilbert and Lynch's model, what  it take to be available?"),  # after a lead-in
])
def test_the_do_of_a_questions_inversion_only_asks(question: str, left: str) -> None:
    assert without_asking(question) == left


@pytest.mark.parametrize("question", [
    "What happens when a request's host does not validate?",
    "What does not match?",
    "Which files do?",
    "The parser does the rest, what then?",
])
def test_a_do_that_is_not_the_inversion_stays(question: str) -> None:
    assert without_asking(question) == question


@pytest.mark.parametrize(("question", "left"), [
    ("How many faulty processes are enough?", "how faulty processes are enough?"),
    ("In how many countries is it sold?", "In how countries is it sold?"),
    ("How much does it cost?", "how  it cost?"),
])
def test_the_many_of_how_many_only_asks(question: str, left: str) -> None:
    assert without_asking(question) == left


@pytest.mark.parametrize(("question", "left"), [
    ("What kind of servers does chain replication coordinate?",
     "What servers  chain replication coordinate?"),
    ("Which type of file can be uploaded?", "Which file can be uploaded?"),
    ("what sort of fish live there?", "what fish live there?"),
])
def test_the_kind_of_what_kind_of_only_asks(question: str, left: str) -> None:
    assert without_asking(question) == left


@pytest.mark.parametrize("question", [
    "Is it kind of slow?",  # a hedge, not the question's asking words
    "What is a new kind of store?",
    "What type is returned?",
    "What types of timeouts are there?",  # "There are four different types of timeouts"
])
def test_a_kind_that_does_not_open_the_question_stays(question: str) -> None:
    assert without_asking(question) == question


@pytest.mark.parametrize("question", [
    "How large is Phobos?",  # "large" names what is asked: a corpus without it can't answer
    "How old is Olympus Mons?",
    "What is a large object?",
])
def test_a_word_naming_the_dimension_asked_stays(question: str) -> None:
    assert without_asking(question) == question


@pytest.mark.parametrize("question", [
    "What is a DID document?",  # acronyms are words
    "What are DO loops in Fortran?",
    "What happens when the server does nothing?",  # a clause of its own: not the inversion
    "What happens if the host does validate?",
])
def test_a_do_of_another_clause_or_an_acronym_stays(question: str) -> None:
    assert without_asking(question) == question


def test_a_question_of_asking_words_falls_back_to_its_content() -> None:
    assert question_tokens("How many are there?") == ["mani"]


def test_question_of_asking_words_alone_keeps_them() -> None:
    assert question_tokens("Who? When?") == ["who", "when"]
