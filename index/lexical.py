"""The lexical side of the store: a BM25 index (bm25s) over each chunk and its document title.

Built with every generation from the generation's chunks, so it always matches the
vectors; `LexicalIndex` reads it back for retrieval with the same tokenizer.

Scores are bm25s' own (its precomputed per-token scores, summed in float32 in query
order), but the best rows are not found by partitioning the whole score array, which
at a million passages took longer than everything else a question does: a strided
sample of the array gives a score that at least `n` rows reach (the n-th best of a
subset is never above the n-th best of all), and only rows above it are ranked.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index.store import StoreError

BM25_DIR = "bm25"
BM25_IDS = "bm25_ids.npy"
# Bump when `tokenize` or `lexical_text` change: tokens kept in the store are then redone.
TOKENS_VERSION = 2
# Sampled rows per requested result when looking for the score floor of the top n:
# the floor then lies near the 64th * n best score, so about 64 * n rows are ranked.
SAMPLE_PER_RESULT = 64
# Anserini's defaults for passages; a plain BM25 with them matches published SciFact runs.
K1, B = 0.9, 0.4

# Letters and digits: underscores split words too, so `_Boxes_` (Markdown emphasis) and
# `max_connections` (an identifier) give the words a question uses.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@lru_cache(maxsize=1)
def _stemmer_and_stopwords() -> tuple[object, frozenset[str]]:
    import Stemmer
    from bm25s.stopwords import STOPWORDS_EN

    return Stemmer.Stemmer("english"), frozenset(STOPWORDS_EN)


def tokenize(text: str) -> list[str]:
    """Lowercased, stop words dropped, Snowball-stemmed word tokens (split at any non-letter
    but digits: `_Boxes_` gives `box`)."""
    stemmer, stopwords = _stemmer_and_stopwords()
    words = [w for w in _WORD.findall(text.lower()) if w not in stopwords]
    return stemmer.stemWords(words)  # type: ignore[attr-defined]


def lexical_text(title: str, heading_path: Sequence[str], text: str) -> str:
    """What BM25 sees for a chunk: its document's title and headings, then its text."""
    return "\n".join([title, *heading_path, text])


def chunk_tokens(db: sqlite3.Connection) -> tuple[list[int], list[list[str]]]:
    """Chunk ids (ascending) and their BM25 tokens, tokenizing and keeping only new chunks.

    Tokenizing every chunk again is most of the time of a one-document update of a
    corpus of thousands; the tokens of unchanged chunks are read back instead.
    """
    rows = db.execute(
        "SELECT c.chunk_id, d.title, c.heading_path, c.text, t.tokens FROM chunks c "
        "JOIN documents d USING (doc_id) LEFT JOIN chunk_tokens t "
        "ON t.chunk_id = c.chunk_id AND t.version = ? ORDER BY c.chunk_id",
        (TOKENS_VERSION,)).fetchall()
    tokens: list[list[str]] = []
    new: list[tuple[int, int, str]] = []
    for chunk_id, title, heading_path, text, kept in rows:
        if kept is None:
            tokens.append(tokenize(lexical_text(title, json.loads(heading_path), text)))
            new.append((chunk_id, TOKENS_VERSION, " ".join(tokens[-1])))
        else:
            tokens.append(kept.split())
    db.executemany("INSERT OR REPLACE INTO chunk_tokens VALUES (?, ?, ?)", new)
    db.commit()
    return [r[0] for r in rows], tokens


def build_lexical(folder: Path, ids: Sequence[int], texts: Sequence[str]) -> None:
    """Write the BM25 index of `texts` (rows in the order of `ids`) into a generation folder."""
    build_lexical_tokens(folder, ids, [tokenize(t) for t in texts])


def build_lexical_tokens(folder: Path, ids: Sequence[int], tokens: Sequence[list[str]]) -> None:
    """`build_lexical` for texts already tokenized with `tokenize`."""
    import bm25s

    retriever = bm25s.BM25(k1=K1, b=B)
    tokens = list(tokens)
    if any(tokens):
        retriever.scores, retriever.vocab_dict = bm25_matrix(tokens, retriever)
        retriever.unique_token_ids_set = set(retriever.vocab_dict.values())
        retriever.nonoccurrence_array = None
    else:
        retriever.index([[""]], show_progress=False)
    retriever.save(str(folder / BM25_DIR), show_progress=False)
    np.save(folder / BM25_IDS, np.asarray(ids, dtype=np.int64))


def bm25_matrix(tokens: Sequence[list[str]], bm25: Any) -> tuple[dict[str, Any], dict[str, int]]:
    """bm25s' index of `tokens` (its `scores` and `vocab_dict`), computed with numpy.

    `bm25s.BM25.index` loops over documents in Python: at a one-article update of a
    few thousand chunks that was most of the build. The arithmetic is bm25s' own,
    operation for operation (Lucene idf in float64 stored as float32, term-frequency
    part in float64, score stored as float32), so the matrix is identical to the one
    bm25s builds (tests/index/test_lexical.py checks it); only the vocabulary's
    numbering differs (first appearance here, set order there).
    """
    from bm25s.scoring import _build_idf_array, _select_idf_scorer

    vocab: dict[str, int] = {}
    flat = np.fromiter((vocab.setdefault(t, len(vocab)) for doc in tokens for t in doc),
                       dtype=np.int64)
    lengths = np.fromiter((len(doc) for doc in tokens), dtype=np.int64, count=len(tokens))
    n_docs, n_vocab = len(tokens), len(vocab)
    docs = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    pairs, tf = np.unique(docs * n_vocab + flat, return_counts=True)  # sorted: doc, token
    pair_docs, pair_tokens = pairs // n_vocab, pairs % n_vocab
    df = np.bincount(pair_tokens, minlength=n_vocab)
    idf = _build_idf_array(dict(enumerate(df.tolist())), n_docs,
                           _select_idf_scorer(bm25.idf_method), dtype=bm25.dtype)
    avg = np.array(lengths).mean()  # a float64 numpy scalar, as in bm25s
    tf64 = tf.astype(bm25.dtype).astype(np.float64)
    tfc = tf64 / (bm25.k1 * ((1 - bm25.b) + bm25.b * lengths[pair_docs] / avg) + tf64)
    scores = (idf[pair_tokens].astype(np.float64) * tfc).astype(bm25.dtype)
    order = np.argsort(pair_tokens, kind="stable")  # columns (tokens), rows (docs) ascending
    index_dtype = np.int32 if len(pairs) < 2**31 else np.int64
    indptr = np.zeros(n_vocab + 1, dtype=index_dtype)
    np.cumsum(df, out=indptr[1:])
    vocab[""] = n_vocab  # bm25s' empty token, outside the matrix
    return {"data": scores[order], "indices": pair_docs[order].astype(index_dtype),
            "indptr": indptr, "num_docs": n_docs}, vocab


class LexicalIndex:
    """BM25 search over a generation's chunks, returning chunk ids."""

    def __init__(self, folder: Path, *, mmap: bool = False) -> None:
        import bm25s

        try:
            self.ids = np.load(folder / BM25_IDS)  # sorted chunk ids, one per BM25 row
            self.bm25 = bm25s.BM25.load(str(folder / BM25_DIR), mmap=mmap, show_progress=False)
            scores = self.bm25.scores
            self._data, self._indices = scores["data"], scores["indices"]
            self._indptr = np.asarray(scores["indptr"])
            n_docs = max(int(scores["num_docs"]), 1)
        except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
            raise StoreError(f"the lexical index in {folder} is damaged ({exc}): "
                             "rebuild with `quotebot index --full`") from exc
        if self.bm25.nonoccurrence_array is not None:
            raise ValueError("BM25 variants with non-occurrence scores are not supported")
        self._dtype = np.dtype(self.bm25.dtype)
        df = np.diff(self._indptr).astype(np.float32)  # documents containing each token
        self._idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5))
        self._last: tuple[str, np.ndarray] | None = None

    def _all_scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for `query` (the last query's scores are reused).

        The sums are bm25s' (`get_scores_from_ids`), token by token in float32, so
        scores are identical to it.
        """
        last = self._last  # read once: other threads may replace it
        if last is not None and last[0] == query:
            return last[1]
        scores = np.zeros(len(self.ids), self._dtype)
        for token in self.bm25.get_tokens_ids(tokenize(query)):
            start, end = self._indptr[token], self._indptr[token + 1]
            np.add.at(scores, self._indices[start:end], self._data[start:end])
        self._last = (query, scores)
        return scores

    def scores_for(self, query: str, chunk_ids: np.ndarray) -> np.ndarray:
        """BM25 scores of `query` for these chunk ids (0 for ids not in the index)."""
        scores = self._all_scores(query)
        rows = np.searchsorted(self.ids, chunk_ids)
        rows = np.clip(rows, 0, max(len(self.ids) - 1, 0))
        found = self.ids[rows] == chunk_ids if len(self.ids) else np.zeros(len(chunk_ids), bool)
        return np.where(found, scores[rows] if len(self.ids) else 0, 0).astype(np.float32)

    def idf(self, tokens: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of each known token (unknown tokens are left out)."""
        vocab = self.bm25.vocab_dict
        return {t: float(self._idf[vocab[t]]) for t in tokens if t in vocab}

    def search(self, query: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Up to `n` (chunk ids, BM25 scores) with a positive score, best first.

        Equal scores rank by chunk id, so results do not depend on selection order.
        """
        scores = self._all_scores(query)
        if n <= 0 or not len(scores):
            return np.empty(0, np.int64), np.empty(0, np.float32)
        sample = scores[::max(1, len(scores) // (SAMPLE_PER_RESULT * n))]
        floor = np.partition(sample, len(sample) - n)[len(sample) - n] if len(sample) > n else 0
        # Every row of the true top n (and its ties) scores at least `floor`.
        rows = np.flatnonzero(scores >= floor) if floor > 0 else np.flatnonzero(scores)
        n = min(n, len(rows))
        if n == 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        found = scores[rows]
        if n < len(rows):
            # Every row scoring at least the n-th best score, so ties at the cut are whole.
            cut = np.partition(found, len(found) - n)[len(found) - n]
            keep = found >= cut
            rows, found = rows[keep], found[keep]
        order = np.lexsort((rows, -found))[:n]
        return self.ids[rows[order]], found[order]
