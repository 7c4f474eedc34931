"""The lexical side of the store: a BM25 index (bm25s) over each chunk and its document title.

Built with every generation from the generation's chunks, so it always matches the
vectors; `LexicalIndex` reads it back for retrieval with the same tokenizer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.store import StoreError

BM25_DIR = "bm25"
BM25_IDS = "bm25_ids.npy"
# Anserini's defaults for passages; a plain BM25 with them matches published SciFact runs.
K1, B = 0.9, 0.4

_WORD = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=1)
def _stemmer_and_stopwords() -> tuple[object, frozenset[str]]:
    import Stemmer
    from bm25s.stopwords import STOPWORDS_EN

    return Stemmer.Stemmer("english"), frozenset(STOPWORDS_EN)


def tokenize(text: str) -> list[str]:
    """Lowercased, stop words dropped, Snowball-stemmed word tokens."""
    stemmer, stopwords = _stemmer_and_stopwords()
    words = [w for w in _WORD.findall(text.lower()) if w not in stopwords]
    return stemmer.stemWords(words)  # type: ignore[attr-defined]


def lexical_text(title: str, heading_path: Sequence[str], text: str) -> str:
    """What BM25 sees for a chunk: its document's title and headings, then its text."""
    return "\n".join([title, *heading_path, text])


def build_lexical(folder: Path, ids: Sequence[int], texts: Sequence[str]) -> None:
    """Write the BM25 index of `texts` (rows in the order of `ids`) into a generation folder."""
    import bm25s

    retriever = bm25s.BM25(k1=K1, b=B)
    tokens = [tokenize(t) for t in texts]
    if tokens:
        retriever.index(tokens, show_progress=False)
    else:
        retriever.index([[""]], show_progress=False)
    retriever.save(str(folder / BM25_DIR), show_progress=False)
    np.save(folder / BM25_IDS, np.asarray(ids, dtype=np.int64))


class LexicalIndex:
    """BM25 search over a generation's chunks, returning chunk ids."""

    def __init__(self, folder: Path, *, mmap: bool = False) -> None:
        import bm25s

        try:
            self.ids = np.load(folder / BM25_IDS)  # sorted chunk ids, one per BM25 row
            self.bm25 = bm25s.BM25.load(str(folder / BM25_DIR), mmap=mmap, show_progress=False)
            indptr = np.asarray(self.bm25.scores["indptr"])
            n_docs = max(int(self.bm25.scores["num_docs"]), 1)
        except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
            raise StoreError(f"the lexical index in {folder} is damaged ({exc}): "
                             "rebuild with `quotebot index --full`") from exc
        df = np.diff(indptr).astype(np.float32)  # documents containing each token
        self._idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5))
        self._last: tuple[str, np.ndarray] | None = None

    def _all_scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for `query` (the last query's scores are reused)."""
        last = self._last  # read once: other threads may replace it
        if last is not None and last[0] == query:
            return last[1]
        token_ids = self.bm25.get_tokens_ids(tokenize(query))
        scores = (self.bm25.get_scores_from_ids(token_ids) if token_ids
                  else np.zeros(len(self.ids), np.float32))
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
        """Up to `n` (chunk ids, BM25 scores) with a positive score, best first."""
        scores = self._all_scores(query)
        n = min(n, len(scores))
        if n == 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return self.ids[top], scores[top]
