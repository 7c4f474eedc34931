"""The ONNX export of the model: same vectors as sentence-transformers, safe to lose or damage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.build import build_index
from index.embedding import Embedder
from index.onnx_encoder import OnnxEncoder
from index.onnx_export import EXPORT_JSON, MODELS, find_export
from index.runtime import load_embedder
from quotebot.config import Config
from retrieval import Retriever
from store.faiss import FaissReader

ROOT = Path(__file__).resolve().parents[2]


def texts_to_compare(config: Config) -> list[str]:
    """Every chunk of the tiny corpus, questions, and edge cases (long, odd characters)."""
    reader = FaissReader(config.store)
    chunks = [t for (t,) in reader.db.execute("SELECT text FROM chunks ORDER BY chunk_id")]
    reader.close()
    return chunks + [
        "How many civilians are trapped in Raqqa?", "Who designed the Eiffel Tower?", "a",
        "Ünïcödé façade — naïve café, 東京 and emoji 🙂 in one line.",
        "word " * 400,  # beyond the model's window: both truncate
        "  leading and trailing spaces  ", "MIXED case Text 12345 3.14159",
    ]


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return Embedder()


def test_session_store_has_an_export(session_config: Config) -> None:
    export = find_export(session_config.store, Embedder().fingerprint)
    assert export is not None and export.dimension == 384 and export.window == 256


def test_onnx_and_torch_vectors_agree(session_config: Config, torch_embedder: Embedder) -> None:
    texts = texts_to_compare(session_config)
    export = find_export(session_config.store, torch_embedder.fingerprint)
    onnx = OnnxEncoder(export, threads=1)
    expected = torch_embedder.encode_queries(texts)
    for batch_size in (1, 4, 16):  # padding within a batch must not change a vector
        got = onnx.encode(texts, batch_size=batch_size)
        assert got.shape == expected.shape and got.dtype == np.float32
        assert np.min(np.sum(got * expected, axis=1)) > 1 - 1e-4


def test_onnx_sentence_vectors_agree_with_torch(session_config: Config,
                                                torch_embedder: Embedder) -> None:
    reader = FaissReader(session_config.store)
    rows = reader.db.execute("SELECT text, start, sentences FROM chunks").fetchall()
    reader.close()
    texts = [t for t, _, _ in rows]
    spans = [[(s - start, e - start) for s, e in json.loads(sents)] for _, start, sents in rows]
    onnx, why = load_embedder(Embedder().resolved.location, store=session_config.store,
                              threads=1)
    assert not why and onnx.runtime == "onnx-fp32"
    for (tv, ts), (ov, os_) in zip(torch_embedder.embed_chunks(texts, spans),
                                   onnx.embed_chunks(texts, spans), strict=True):
        assert float(tv @ ov) > 1 - 1e-4
        assert ts.shape == os_.shape
        assert np.min(np.sum(ts * os_, axis=1)) > 1 - 1e-4


def test_answering_does_not_import_torch(session_config: Config) -> None:
    script = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from quotebot.config import Config\n"
        "from retrieval import Retriever\n"
        "c = Config(); c.corpus, c.store = Path(sys.argv[1]), Path(sys.argv[2])\n"
        "r = Retriever.open(c)\n"
        "a = r.ask('How tall is the Eiffel Tower?')\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers') "
        "if m in sys.modules]\n"
        "print(json.dumps({'found': a.found, 'runtime': r.embedder.runtime, 'heavy': heavy}))\n")
    out = subprocess.run([sys.executable, "-c", script, str(session_config.corpus),
                          str(session_config.store)], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"found": True, "runtime": "onnx-fp32", "heavy": []}


def test_missing_export_falls_back_to_sentence_transformers(fresh_copy,
                                                            retriever: Retriever) -> None:
    config = fresh_copy()
    for path in (config.store / MODELS).iterdir():
        (path / EXPORT_JSON).unlink()  # what a build killed mid-export leaves at worst
    fallback = Retriever.open(config)
    question = "When did the first coffeehouse in London open?"
    assert fallback.embedder.runtime == "torch"
    got, expected = fallback.ask(question), retriever.ask(question)
    assert [(h.excerpt, h.citation.path) for h in got.hits] == \
        [(h.excerpt, h.citation.path) for h in expected.hits]
    assert [h.score for h in got.hits] == pytest.approx([h.score for h in expected.hits],
                                                        abs=1e-3)
    fallback.close()


def test_damaged_export_falls_back_to_sentence_transformers(fresh_copy) -> None:
    config = fresh_copy()
    model = find_export(config.store, Embedder().fingerprint).model_path()
    model.write_bytes(model.read_bytes()[:1000])
    fallback = Retriever.open(config)
    assert fallback.embedder.runtime == "torch"
    assert fallback.ask("How tall is the Eiffel Tower?").found
    fallback.close()


@pytest.mark.parametrize("name", ["model.onnx", "tokenizer.json"])
def test_overwritten_export_is_caught_and_made_again(fresh_copy, retriever: Retriever,
                                                     caplog, name: str) -> None:
    # Bytes overwritten in the weights load fine and silently change every vector (found
    # by the soak's review: answers on the BBC store changed, no error); the checksums in
    # export.json catch it at open.
    config = fresh_copy()
    fingerprint = Embedder().fingerprint
    path = find_export(config.store, fingerprint).folder / name
    with open(path, "r+b") as f:
        f.seek(int(path.stat().st_size * 0.9))
        f.write(b"\x5a" * 512)
    assert find_export(config.store, fingerprint) is None
    fallback = Retriever.open(config)
    assert fallback.embedder.runtime == "torch"
    assert "is damaged" in caplog.text and "quotebot index" in caplog.text
    question = "When did the first coffeehouse in London open?"
    assert [h.excerpt for h in fallback.ask(question).hits] == \
        [h.excerpt for h in retriever.ask(question).hits]
    fallback.close()
    build_index(config, progress=False)  # exports the model again
    export = find_export(config.store, fingerprint)
    assert export is not None and not export.damage()
    remade = Retriever.open(config)
    assert remade.embedder.runtime == "onnx-fp32"
    remade.close()


def test_export_damage_that_keeps_the_mtime_is_caught_by_the_next_build(fresh_copy) -> None:
    # As for the store's files: opening trusts a file whose size and mtime are as written
    # (no 90 MB hash at every start); a build hashes, finds it and exports again.
    config = fresh_copy()
    fingerprint = Embedder().fingerprint
    model = find_export(config.store, fingerprint).model_path()
    written = model.stat()
    with open(model, "r+b") as f:
        f.seek(int(written.st_size * 0.9))
        f.write(b"\x5a" * 512)
    os.utime(model, ns=(written.st_atime_ns, written.st_mtime_ns))  # bit rot keeps it
    assert find_export(config.store, fingerprint) is not None
    assert "is damaged" in find_export(config.store, fingerprint).damage(full=True)
    build_index(config, progress=False)
    assert not find_export(config.store, fingerprint).damage(full=True)


def test_export_lists_checksums_of_its_files(session_config: Config) -> None:
    export = find_export(session_config.store, Embedder().fingerprint)
    meta = json.loads((export.folder / EXPORT_JSON).read_text(encoding="utf-8"))
    assert sorted(meta["files"]) == ["model.onnx", "tokenizer.json"]
    assert all(size == (export.folder / n).stat().st_size
               for n, (size, _, _) in meta["files"].items())


def test_build_remakes_a_missing_export_and_ignores_partial_ones(fresh_copy) -> None:
    config = fresh_copy()
    fingerprint = Embedder().fingerprint
    models = config.store / MODELS
    (models / fingerprint / EXPORT_JSON).unlink()
    (models / f"{fingerprint}.partial-99999").mkdir()  # a killed export
    assert find_export(config.store, fingerprint) is None
    build_index(config, progress=False)
    assert find_export(config.store, fingerprint) is not None
    assert [p.name for p in models.iterdir()] == [fingerprint]


def test_build_that_makes_the_export_embeds_with_it(fresh_copy) -> None:
    import shutil

    config = fresh_copy()
    shutil.rmtree(config.store / MODELS)
    (config.corpus / "tides.txt").write_text("Spring tides happen near full and new moon.",
                                             encoding="utf-8")
    report = build_index(config, progress=False)
    assert report.chunks_embedded >= 1 and report.runtime == "onnx-fp32"
    assert not any("ONNX" in note for note in report.notes)


def test_torch_runtime_builds_without_an_export(tmp_path: Path, session_dirs) -> None:
    config = Config()
    config.corpus, config.store = session_dirs[0], tmp_path / "store"
    config.model.runtime = "torch"
    report = build_index(config, progress=False)
    assert report.runtime == "torch"
    assert not (config.store / MODELS).exists()


def test_int8_indexing_is_opt_in_and_close_to_fp32(fresh_copy) -> None:
    config = fresh_copy()
    fp32 = _vectors(config.store)
    config.model.index_precision = "int8"
    report = build_index(config, progress=False)
    assert report.runtime == "onnx-int8" and report.chunks_embedded > 0
    export = find_export(config.store, Embedder().fingerprint)
    assert "model-int8.onnx" in export.files and not export.damage("int8")
    reader = FaissReader(config.store)
    assert reader.manifest.embedding_precision == "int8"
    reader.close()
    int8 = _vectors(config.store)
    assert set(int8) == set(fp32)
    cosines = [float(fp32[i] @ int8[i]) for i in fp32]
    assert min(cosines) > 0.95 and max(cosines) < 1 - 1e-6  # close, but really int8
    answer = Retriever.open(config).ask("How tall is the Eiffel Tower?")
    assert answer.found and any("330 metres" in hit.excerpt for hit in answer.hits)
    config.model.index_precision = "fp32"  # back: the fp32 vectors are still cached
    assert build_index(config, progress=False).chunks_embedded == 0
    assert _vectors(config.store).keys() == fp32.keys()


def _vectors(store: Path) -> dict[int, np.ndarray]:
    reader = FaissReader(store)
    ids = [cid for (cid,) in reader.db.execute("SELECT chunk_id FROM chunks")]
    vectors = {i: reader.index.reconstruct(i) for i in ids}
    reader.close()
    return vectors
