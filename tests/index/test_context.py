"""Contextual embeddings: a chunk is embedded after its document's title and headings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from index.build import build_index
from index.embedding import (
    MAX_CONTEXT_WORDS,
    Embedder,
    context_key,
    contextual_inputs,
    embedding_context,
)
from index.runtime import load_embedder
from quotebot.config import Config
from store.faiss import FaissReader
from store.generations import Manifest, current_generation

CHUNK = "This defaults to 5 seconds. Set it to None to wait forever."
SPANS = [[(0, 27), (28, len(CHUNK))]]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def test_context_is_title_then_innermost_headings() -> None:
    context = embedding_context("HTTPX", ["Advanced", "Clients", "Timeouts"], CHUNK)
    assert context == "HTTPX > Clients > Timeouts"


def test_context_leaves_out_what_the_chunk_opens_with() -> None:
    assert embedding_context("Timeouts", ["Timeouts"], "Timeouts\n\n" + CHUNK) == ""
    assert embedding_context("HTTPX", ["Timeouts"], "Timeouts\n" + CHUNK) == "HTTPX"


def test_context_is_capped_in_words() -> None:
    context = embedding_context("word " * 100, ["heading " * 50], CHUNK)
    assert len(context.split()) == MAX_CONTEXT_WORDS


def test_cache_key_of_a_chunk_alone_is_its_text_hash() -> None:
    assert context_key("abc", "", "own") == "abc"
    assert context_key("abc", "HTTPX > Timeouts", "none") == "abc"


def test_cache_key_changes_with_context_and_mode() -> None:
    keys = {context_key("abc", "HTTPX > Timeouts", "own"),
            context_key("abc", "HTTPX > Limits", "own"),
            context_key("abc", "HTTPX > Timeouts", "all")}
    assert len(keys) == 3 and "abc" not in keys


def test_context_is_cut_to_fit_the_window_beside_the_whole_text(embedder: Embedder) -> None:
    tokenizer = embedder.model.tokenizer

    def offsets(batch):
        return tokenizer(list(batch), add_special_tokens=False,
                         return_offsets_mapping=True)["offset_mapping"]

    text = "word " * 250  # 250 word pieces: room for 4 of the context's with 2 special ones
    inputs, shifts = contextual_inputs([text], ["alpha beta gamma delta epsilon zeta"],
                                       offsets, 256)
    kept = "alpha beta gamma delta\n"
    assert inputs[0] == kept + text and shifts[0] == len(kept)
    full, _ = contextual_inputs(["word " * 254], ["alpha"], offsets, 256)
    assert full == ["word " * 254]  # no room left: the text is embedded alone


def test_context_changes_the_vectors(embedder: Embedder) -> None:
    (plain, plain_s), = embedder.embed_chunks([CHUNK], SPANS)
    (ctx, ctx_s), = embedder.embed_chunks([CHUNK], SPANS, ["HTTPX > Timeouts"], pool="own")
    question = embedder.encode_queries(["What is the default HTTPX timeout?"])[0]
    assert ctx_s.shape == plain_s.shape
    assert float(ctx @ question) > float(plain @ question)
    assert float(ctx_s[0] @ question) > float(plain_s[0] @ question)


def test_own_and_all_pooling_differ_only_in_the_chunk_vector(embedder: Embedder) -> None:
    (own, own_s), = embedder.embed_chunks([CHUNK], SPANS, ["HTTPX > Timeouts"], pool="own")
    (all_, all_s), = embedder.embed_chunks([CHUNK], SPANS, ["HTTPX > Timeouts"], pool="all")
    assert np.allclose(own_s, all_s)
    assert float(own @ all_) < 0.9999


def test_onnx_and_torch_agree_with_context(session_config: Config, embedder: Embedder) -> None:
    onnx, why = load_embedder(embedder.resolved.location, store=session_config.store, threads=1)
    assert not why
    texts = [CHUNK, "word " * 250]
    spans = [SPANS[0], [(0, 1245)]]
    contexts = ["HTTPX > Timeouts", "alpha beta gamma delta epsilon"]
    for pool in ("own", "all"):
        for (tv, ts), (ov, os_) in zip(embedder.embed_chunks(texts, spans, contexts, pool),
                                       onnx.embed_chunks(texts, spans, contexts, pool),
                                       strict=True):
            assert float(tv @ ov) > 1 - 1e-4
            assert np.min(np.sum(ts * os_, axis=1)) > 1 - 1e-4


def test_switching_context_reembeds_and_keeps_chunk_text(fresh_copy) -> None:
    config = fresh_copy()
    reader = FaissReader(config.store)
    before = reader.db.execute("SELECT chunk_id, text FROM chunks ORDER BY chunk_id").fetchall()
    reader.close()
    config.model.context = "own"
    report = build_index(config, progress=False)
    assert report.chunks_embedded > 0
    manifest = Manifest.read(current_generation(config.store))
    assert manifest.extra["embedding_context"] == "own"
    reader = FaissReader(config.store)
    after = reader.db.execute("SELECT chunk_id, text FROM chunks ORDER BY chunk_id").fetchall()
    reader.close()
    assert after == before
    assert build_index(config, progress=False).chunks_embedded == 0


def test_stored_text_still_matches_document_offsets_with_context(fresh_copy) -> None:
    config = fresh_copy()
    config.model.context = "own"
    build_index(config, progress=False)
    reader = FaissReader(config.store)
    rows = reader.db.execute("SELECT doc_id, start, end, text, sentences FROM chunks").fetchall()
    for doc_id, start, end, text, sentences in rows:
        doc = reader.document(doc_id)
        assert doc.text[start:end] == text
        assert all(start <= s < e <= end for s, e in json.loads(sentences))
    reader.close()
