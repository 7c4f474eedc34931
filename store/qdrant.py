"""The Qdrant backend: each chunk a point with a dense vector and a BM25 sparse vector.

- Points: id = chunk id; vector "dense" (cosine) and sparse vector "bm25" whose values
  are BM25's term-frequency part (bm25s' Lucene formula, k1 = 0.9, b = 0.4) over the
  same tokens as the FAISS backend's BM25; Qdrant's IDF modifier multiplies in the IDF
  (the same Lucene IDF), so a question's dot product is its BM25 score. Token ids are
  a 32-bit hash of the token. Payload: chunk id, document id, path, offsets, lines,
  page, and `scopes` (the path and its folders, for scoped questions).
- Quotes and citations come from the generation's metadata database (store/meta.py),
  as with FAISS; the collection only does the searching.
- A build from scratch fills a new collection `<collection>-gen-NNNNNN` and publishes
  it by moving the alias `<collection>` to it (one atomic alias operation), then the
  store's CURRENT pointer. An incremental build upserts and deletes only what changed,
  in the live collection. Old collections go with the generations pruned.
- `qdrant.url` empty: embedded local mode (`QdrantClient(path=<store>/qdrant)`), pure
  Python and one process at a time: for tests and small corpora only (warned above
  about 20k points). Point it at a server (or cluster) for more.
- Scores are raw per channel (cosine, BM25); fusion stays quotebot's (retrieval/).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from quotebot.config import QdrantConfig
from quotebot.errors import ConfigError, StoreError
from store import generations as gen
from store import meta
from store.bm25 import K1, B
from store.reader import GenerationReader
from store.writer import GenerationWriter, Previous, SearchWrite, Tokenizer

log = logging.getLogger(__name__)

DENSE, SPARSE = "dense", "bm25"
EMBEDDED_LIMIT = 20_000  # qdrant-client's own threshold for its local mode warning
UPSERT_BATCH = 256
TIE_MARGIN = 16  # extra BM25 hits fetched so ties at the cut-off are broken by chunk id

_clients: dict[str, Any] = {}  # embedded clients by folder: one per process may open it
_clients_lock = threading.Lock()


def token_id(token: str) -> int:
    """The sparse vector index of a token: a stable 32-bit hash (no vocabulary to keep)."""
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "big")


def sparse_query(tokens: Sequence[str]) -> tuple[list[int], list[float]]:
    """A question's sparse vector: each distinct token, weighted by how often it occurs."""
    counts: dict[int, float] = {}
    for t in tokens:
        key = token_id(t)
        counts[key] = counts.get(key, 0.0) + 1.0
    return list(counts), list(counts.values())


def sparse_document(tokens: Sequence[str], avg_length: float) -> tuple[list[int], list[float]]:
    """A chunk's sparse vector: BM25's term-frequency part of each token (IDF comes from Qdrant)."""
    tf: dict[int, int] = {}
    for t in tokens:
        key = token_id(t)
        tf[key] = tf.get(key, 0) + 1
    norm = K1 * ((1 - B) + B * len(tokens) / max(avg_length, 1e-9))
    return list(tf), [f / (f + norm) for f in tf.values()]


def scopes_of(path: str) -> list[str]:
    """The path and each folder above it, as a scoped question names them."""
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))] + [path]


def connect(store: Path, options: QdrantConfig) -> Any:
    """A client of the configured server, or this process' embedded one for the store."""
    from qdrant_client import QdrantClient

    if options.url:
        return QdrantClient(url=options.url, api_key=os.environ.get("QDRANT_API_KEY") or None,
                            prefer_grpc=options.prefer_grpc, timeout=int(options.timeout))
    folder = str((store / gen.QDRANT_DIR).resolve())
    with _clients_lock:
        client = _clients.get(folder)
        if client is None:
            try:
                client = QdrantClient(path=folder, force_disable_check_same_thread=True)
            except RuntimeError as exc:
                raise StoreError(
                    f"the embedded Qdrant store {folder} is open in another process ({exc}); "
                    "embedded mode serves one process at a time: stop it, or run a Qdrant "
                    "server and set qdrant.url") from exc
            if not _clients:
                atexit.register(_close_all)
            _clients[folder] = client
        return client


def _close_all() -> None:
    """Close embedded clients before the interpreter tears down what their `__del__` needs."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        with contextlib.suppress(Exception):  # shutting down anyway
            client.close()


def close_embedded(store: Path) -> None:
    """Close this process' embedded client of a store (tests, and before deleting a store)."""
    folder = str((store / gen.QDRANT_DIR).resolve())
    with _clients_lock:
        client = _clients.pop(folder, None)
    if client is not None:
        client.close()


def _filter(models: Any, within: Sequence[str] | None, ids: Sequence[int] | None = None) -> Any:
    must = []
    if within is not None:
        must.append(models.FieldCondition(
            key="scopes", match=models.MatchAny(any=[w.strip("/") for w in within])))
    if ids is not None:
        must.append(models.HasIdCondition(has_id=[int(i) for i in ids]))
    return models.Filter(must=must) if must else None


class QdrantWriter(GenerationWriter):
    """A build's new generation whose search side is a Qdrant collection."""

    backend = "qdrant"

    def __init__(self, store: Path, template: gen.Manifest, previous: Previous | None,
                 tokenizer: Tokenizer, options: QdrantConfig) -> None:
        if options.quantization not in ("none", "int8"):
            raise ConfigError(f"qdrant.quantization must be none or int8, "
                              f"not {options.quantization!r}")
        super().__init__(store, template, previous, tokenizer)
        self.options = options
        self.client = connect(store, options)
        self.collection = ""
        self._gone: list[int] = []
        self._n_chunks, self._chunk_ids = 0, []

    def _write_search(self, chunk_ids: list[int], tokens: list[list[str]], removed: np.ndarray,
                      added: np.ndarray, vectors: np.ndarray) -> SearchWrite:
        from qdrant_client import models

        notes: list[str] = []
        if not self.options.url and len(chunk_ids) > EMBEDDED_LIMIT:
            notes.append(f"{len(chunk_ids):,} passages in embedded Qdrant (pure Python, slow "
                         f"above ~{EMBEDDED_LIMIT:,}): run a Qdrant server and set qdrant.url")
            log.warning(notes[-1])
        live = self._live_collection()
        if live is None:
            self.collection = f"{self.options.collection}-gen-{self.number:06d}"
            self._create(self.collection)
        else:
            self.collection = live
        rows = {cid: i for i, cid in enumerate(chunk_ids)}
        avg = float(np.mean([len(t) for t in tokens])) if tokens else 1.0
        payloads = meta.chunk_rows(self.db, added.tolist())

        def points() -> Iterator[Any]:
            for j, cid in enumerate(added.tolist()):
                indices, values = sparse_document(tokens[rows[cid]], avg)
                payload = payloads[cid]
                yield models.PointStruct(
                    id=cid, payload={**payload, "scopes": scopes_of(payload["path"])},
                    vector={DENSE: vectors[j].tolist(),
                            SPARSE: models.SparseVector(indices=indices, values=values)})

        # Batches go up in `upload_parallel` processes to a server (one in embedded mode).
        self.client.upload_points(self.collection, points(), batch_size=UPSERT_BATCH,
                                  parallel=max(1, self.options.upload_parallel)
                                  if self.options.url else 1, wait=True)
        # Points that leave are deleted only once the new generation is live (`_switch`):
        # until then the live generation finds every point it knows, even if this build
        # is killed (its new points are then unknown to the live database, and skipped).
        self._gone = sorted(set(removed.tolist()) - set(added.tolist())) if live else []
        self._n_chunks, self._chunk_ids = len(chunk_ids), chunk_ids
        meta.write_token_df(self.db, tokens)
        return SearchWrite("qdrant", 0, notes, {"collection": self.collection,
                                                "url": self.options.url})

    def _live_collection(self) -> str | None:
        """The previous generation's collection when the changes can go into it in place."""
        prev = self.previous
        if prev is None or prev.manifest.backend != "qdrant":
            return None
        name = prev.manifest.extra.get("collection", "")
        if not name or not self.client.collection_exists(name):
            raise StoreError(f"the Qdrant collection {name!r} of the live index is gone: "
                             "rebuild with `quotebot index --full`")
        return name

    def _create(self, name: str) -> None:
        from qdrant_client import models

        if self.client.collection_exists(name):  # left by a killed build
            self.client.delete_collection(name)
        quantization = None
        if self.options.quantization == "int8":
            quantization = models.ScalarQuantization(scalar=models.ScalarQuantizationConfig(
                type=models.ScalarType.INT8, quantile=0.99, always_ram=True))
        self.client.create_collection(
            name,
            vectors_config={DENSE: models.VectorParams(
                size=self.template.dimension, distance=models.Distance.COSINE,
                on_disk=self.options.on_disk)},
            sparse_vectors_config={SPARSE: models.SparseVectorParams(
                modifier=models.Modifier.IDF,
                index=models.SparseIndexParams(on_disk=self.options.on_disk))},
            shard_number=self.options.shards, replication_factor=self.options.replicas,
            quantization_config=quantization)
        if self.options.url:  # the embedded mode has no payload indexes
            self.client.create_payload_index(name, "scopes",
                                             field_schema=models.PayloadSchemaType.KEYWORD)

    def _switch(self, folder: Path, manifest: gen.Manifest) -> None:
        """Move the alias to the generation's collection (atomically), then CURRENT."""
        from qdrant_client import models

        alias = self.options.collection
        current = {a.alias_name: a.collection_name
                   for a in self.client.get_aliases().aliases}
        if current.get(alias) != self.collection:
            ops: list[Any] = []
            if alias in current:
                ops.append(models.DeleteAliasOperation(
                    delete_alias=models.DeleteAlias(alias_name=alias)))
            ops.append(models.CreateAliasOperation(create_alias=models.CreateAlias(
                collection_name=self.collection, alias_name=alias)))
            self.client.update_collection_aliases(change_aliases_operations=ops)
        super()._switch(folder, manifest)
        self._collect_garbage()

    def _collect_garbage(self) -> None:
        """Delete the points that left, and any a killed build upserted but never published."""
        from qdrant_client import models

        if self._gone:
            self.client.delete(self.collection, wait=True,
                               points_selector=models.PointIdsList(points=self._gone))
        if self.client.count(self.collection, exact=True).count == self._n_chunks:
            return
        keep, extra, offset = set(self._chunk_ids), [], None
        while True:
            points, offset = self.client.scroll(self.collection, limit=10_000, offset=offset,
                                                with_payload=False, with_vectors=False)
            extra += [p.id for p in points if int(p.id) not in keep]
            if offset is None:
                break
        if extra:
            self.client.delete(self.collection, wait=True,
                               points_selector=models.PointIdsList(points=extra))
        count = self.client.count(self.collection, exact=True).count
        if count != self._n_chunks:
            raise StoreError(f"Qdrant collection {self.collection} holds {count} points for "
                             f"{self._n_chunks} chunks: rebuild with `quotebot index --full`")

    def abort(self) -> None:
        super().abort()
        live = self.previous.manifest.extra.get("collection") if self.previous else None
        if self.collection and self.collection != live:
            with contextlib.suppress(Exception):  # best effort; the next build removes it too
                self.client.delete_collection(self.collection)

    def prune(self, keep: int) -> None:
        """Prune generations, then the collections of this store no kept generation uses."""
        super().prune(keep)
        used = set()
        for folder in self.store.glob("gen-*"):
            try:
                used.add(gen.Manifest.read(folder).extra.get("collection"))
            except StoreError:
                continue
        prefix = f"{self.options.collection}-gen-"
        for c in self.client.get_collections().collections:
            if c.name.startswith(prefix) and c.name not in used:
                self.client.delete_collection(c.name)


class QdrantReader(GenerationReader):
    """The live generation with its Qdrant collection, opened for answering."""

    backend = "qdrant"

    def __init__(self, store: Path, options: QdrantConfig, folder: Path | None = None) -> None:
        super().__init__(store, folder)
        try:
            self.client = connect(store, options)
            self.collection = self.manifest.extra.get("collection", "")
            if not self.collection or not self.client.collection_exists(self.collection):
                raise StoreError(f"the Qdrant collection {self.collection!r} of {self.folder} "
                                 "is missing: rebuild with `quotebot index --full`")
        except BaseException:
            self.close()
            raise
        self._n = max(self.manifest.n_chunks, 1)

    def _query(self, requests: list[Any]) -> list[Any]:
        return self.client.query_batch_points(self.collection, requests=requests)

    def vector_search(self, query: np.ndarray, k: int, *,
                      within: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        from qdrant_client import models

        if k <= 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        (res,) = self._query([models.QueryRequest(
            query=query.astype(np.float32).tolist(), using=DENSE, limit=k,
            filter=_filter(models, within))])
        return _arrays(res.points)

    def vector_scores(self, query: np.ndarray, chunk_ids: np.ndarray) -> np.ndarray:
        """Cosines from the points' stored vectors (fetched by id: no search needed)."""
        if not len(chunk_ids):
            return np.empty(0, np.float32)
        return (self.vectors(chunk_ids) @ query.astype(np.float32)).astype(np.float32)

    def vectors(self, chunk_ids: np.ndarray) -> np.ndarray:
        found: dict[int, list[float]] = {}
        ids = [int(i) for i in chunk_ids]
        for i in range(0, len(ids), 1000):
            for p in self.client.retrieve(self.collection, ids[i:i + 1000],
                                          with_payload=False, with_vectors=[DENSE]):
                found[int(p.id)] = p.vector[DENSE]
        return np.array([found[i] for i in ids], dtype=np.float32).reshape(len(ids), -1)

    def lexical_search(self, tokens: Sequence[str], k: int, *,
                       within: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        from qdrant_client import models

        indices, values = sparse_query(tokens)
        if k <= 0 or not indices:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        # A few more than k, so that points tied with the k-th are cut by chunk id below
        # (Qdrant's own cut keeps an arbitrary one of them: one SciFact claim in 20 had a
        # different 100th BM25 candidate from FAISS' before this).
        (res,) = self._query([models.QueryRequest(
            query=models.SparseVector(indices=indices, values=values), using=SPARSE,
            limit=k + TIE_MARGIN, filter=_filter(models, within))])
        ids, scores = _arrays(res.points)
        keep = scores > 0
        # Equal scores rank by chunk id, as the FAISS backend's BM25 does.
        order = np.lexsort((ids[keep], -scores[keep]))[:k]
        return ids[keep][order], scores[keep][order]

    def lexical_scores(self, tokens: Sequence[str], chunk_ids: np.ndarray) -> np.ndarray:
        """BM25 from the points' stored sparse vectors (fetched by id) and the IDF Qdrant
        applies (Lucene's, over this generation's chunks): the score a sparse search gives."""
        indices, values = sparse_query(tokens)
        if not len(chunk_ids) or not indices:
            return np.zeros(len(chunk_ids), np.float32)
        idf_of = self.idf(tokens)
        weight: dict[int, float] = {}
        for t in dict.fromkeys(tokens):
            key = token_id(t)
            weight[key] = weight.get(key, 0.0) + idf_of.get(t, 0.0) * list(tokens).count(t)
        sparse = self._sparse(chunk_ids)
        return np.fromiter((sum(weight.get(i, 0.0) * v for i, v in sparse.get(int(c), ()))
                            for c in chunk_ids), np.float32, len(chunk_ids))

    def _sparse(self, chunk_ids: np.ndarray) -> dict[int, list[tuple[int, float]]]:
        found: dict[int, list[tuple[int, float]]] = {}
        ids = [int(i) for i in chunk_ids]
        for i in range(0, len(ids), 1000):
            for p in self.client.retrieve(self.collection, ids[i:i + 1000],
                                          with_payload=False, with_vectors=[SPARSE]):
                vector = p.vector[SPARSE]
                found[int(p.id)] = list(zip(vector.indices, vector.values, strict=True))
        return found

    def idf(self, tokens: Sequence[str]) -> dict[str, float]:
        """Lucene's IDF, as Qdrant's modifier computes it, from the build's token counts."""
        df = self.meta.token_df(tokens)
        return {t: float(np.log(1 + (self._n - df[t] + 0.5) / (df[t] + 0.5)))
                for t in tokens if t in df}


def _arrays(points: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    return (np.fromiter((int(p.id) for p in points), np.int64, len(points)),
            np.fromiter((float(p.score) for p in points), np.float32, len(points)))


def _scores_in_order(points: Sequence[Any], chunk_ids: np.ndarray) -> np.ndarray:
    found = {int(p.id): float(p.score) for p in points}
    return np.fromiter((found.get(int(i), 0.0) for i in chunk_ids), np.float32, len(chunk_ids))
