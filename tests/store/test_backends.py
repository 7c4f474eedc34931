"""One suite for every store backend (like txtai's testann): FAISS, embedded Qdrant, and a
Qdrant server when QDRANT_URL is set. Each test builds the session corpus on its own copy
(vectors come from the copied embedding cache, so nothing is embedded again)."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from index.build import build_index
from quotebot.config import Config
from quotebot.errors import StoreError
from retrieval import Retriever
from store import generations
from store.factory import open_reader
from tests.support.backends import BACKENDS, release, use_backend

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.fixture(scope="module", params=BACKENDS)
def shared(request: pytest.FixtureRequest, session_dirs: tuple[Path, Path],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Config]:
    """The session corpus built with the backend under test, for tests that only read it."""
    base = tmp_path_factory.mktemp(f"shared-{request.param}")
    shutil.copytree(session_dirs[0], base / "corpus")
    shutil.copytree(session_dirs[1], base / "store")
    config = use_backend(Config(corpus=base / "corpus", store=base / "store"), request.param)
    build_index(config, progress=False)
    yield config
    release(config)


@pytest.fixture(params=BACKENDS)
def built(request: pytest.FixtureRequest, fresh_copy: Callable[[], Config]) -> Iterator[Config]:
    """A private copy of the session corpus, built with the backend under test."""
    config = use_backend(fresh_copy(), request.param)
    build_index(config, progress=False)
    yield config
    release(config)


def paths(answer) -> set[str]:  # noqa: ANN001 - retrieval.Answer
    return {hit.citation.path for hit in answer.hits}


def test_build_answers_with_quotes_from_the_corpus(shared: Config) -> None:
    built = shared
    with Retriever.open(built) as retriever:
        answer = retriever.ask("Which planet is the largest in the Solar System?")
        assert answer.found and answer.hits[0].citation.path == "astronomy/solar.md"
        assert "Jupiter is the largest planet" in answer.hits[0].excerpt
        assert open_reader(built).backend == built.backend


def test_incremental_build_takes_a_change_and_a_delete(built: Config) -> None:
    (built.corpus / "geology" / "volcanoes.txt").write_text(
        "Volcanoes\nThe Mauna Loa volcano on Hawaii is the largest active volcano on Earth.\n",
        encoding="utf-8")
    (built.corpus / "sport" / "cycling.txt").unlink()
    report = build_index(built, progress=False)
    assert report.changed == ["geology/volcanoes.txt"] and report.removed == ["sport/cycling.txt"]
    assert report.chunks_embedded == 1
    with Retriever.open(built) as retriever:
        answer = retriever.ask("Which is the largest active volcano on Earth?")
        assert answer.found and "Mauna Loa" in answer.hits[0].excerpt
        tour = retriever.ask("When was the Tour de France first organised?", abstain=False)
        assert "sport/cycling.txt" not in paths(tour)
        counts = retriever.counts()
        assert (counts["documents"], counts["chunks"]) == (report.documents, report.chunks)


def test_scoped_question_quotes_only_from_its_folders(shared: Config) -> None:
    question = "What is the largest volcano in the Solar System?"
    with Retriever.open(shared) as retriever:
        assert retriever.ask(question).hits[0].citation.path == "geology/volcanoes.txt"
        scoped = retriever.ask(question, within=["astronomy"], abstain=False)
        assert scoped.hits and paths(scoped) == {"astronomy/solar.md"}
        one_doc = retriever.ask(question, within=["news/raqqa.txt", "food/"], abstain=False)
        assert paths(one_doc) <= {"news/raqqa.txt", "food/coffee.html"}
        nowhere = retriever.ask(question, within=["nowhere"])
        assert not nowhere.hits and nowhere.reason == "No indexed document is under 'nowhere'."
        for bad in ("bad\udcffname.md", "geology\udcff"):  # not UTF-8: no stored path
            assert not retriever.ask(question, within=[bad]).hits


def test_publish_is_atomic_under_a_concurrent_reader(built: Config) -> None:
    retriever = Retriever.open(built)
    problems: list[str] = []
    done = threading.Event()

    def ask_until_done() -> None:
        while not done.is_set():
            try:
                retriever.refresh()
                answer = retriever.ask("Who designed the Eiffel Tower?")
                if not answer.found or answer.hits[0].citation.path != "landmarks/eiffel.pdf":
                    problems.append(f"unexpected answer {paths(answer)} {answer.reason}")
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                problems.append(repr(exc))

    reader = threading.Thread(target=ask_until_done)
    reader.start()
    try:
        for n in range(3):
            (built.corpus / "food" / "tea.txt").write_text(
                f"Tea\nTea number {n} was first drunk in China.\n", encoding="utf-8")
            build_index(built, progress=False)
    finally:
        done.set()
        reader.join()
    assert retriever.refresh() or retriever.reader.is_live()
    assert retriever.ask("Where was tea number 2 first drunk?").found
    retriever.close()
    assert problems == []


def test_model_mismatch_is_refused(built: Config) -> None:
    folder = generations.current_generation(built.store)
    manifest = json.loads((folder / generations.MANIFEST).read_text())
    manifest["model_fingerprint"] = "0" * 16
    (folder / generations.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(StoreError, match="built with model"):
        Retriever.open(built)


def test_killed_build_leaves_the_old_index_answering(built: Config,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def killed(*_args: object) -> None:
        raise KeyboardInterrupt  # the build dies just before it would switch CURRENT

    (built.corpus / "sport" / "cycling.txt").write_text(
        "Tour de France\nThe yellow jersey was introduced in 1919.\n", encoding="utf-8")
    monkeypatch.setattr(generations, "publish", killed)
    with pytest.raises(KeyboardInterrupt):
        build_index(built, progress=False)
    monkeypatch.undo()
    with Retriever.open(built) as retriever:
        answer = retriever.ask("When was the Tour de France first organised?")
        assert answer.found and "1903" in answer.hits[0].text
    report = build_index(built, progress=False)
    assert report.changed == ["sport/cycling.txt"]
    with Retriever.open(built) as retriever:
        assert "1919" in retriever.ask("When was the yellow jersey introduced?").hits[0].text


def where(hit: dict) -> tuple:
    citation = hit["citation"]
    return citation["title"], citation["line_start"], citation["line_end"], citation["page"]


def test_every_backend_gives_the_same_answers(session_config: Config,
                                              fresh_copy: Callable[[], Config]) -> None:
    questions = ["How many civilians are trapped in Raqqa?", "Who designed the Eiffel Tower?",
                 "When did the first coffeehouse in London open?",
                 "What colour is the leader's jersey?", "How do I bake sourdough bread?"]
    qdrant = use_backend(fresh_copy(), "qdrant")
    build_index(qdrant, progress=False)
    try:
        with Retriever.open(session_config) as faiss_side, Retriever.open(qdrant) as other:
            for question in questions:
                a, b = faiss_side.ask(question).to_dict(), other.ask(question).to_dict()
                assert a["found"] == b["found"] and a["reason"] == b["reason"], question
                assert [h["excerpt"] for h in a["hits"]] == [h["excerpt"] for h in b["hits"]]
                # Where a quote stands; of two identical documents (news/raqqa*.txt) either
                # may be the one cited, as the searches order exact ties their own way.
                assert [where(h) for h in a["hits"]] == [where(h) for h in b["hits"]]
                assert a["confidence"] == pytest.approx(b["confidence"], abs=1e-3)
    finally:
        release(qdrant)


def test_the_seeds_answer_the_same_on_both_backends(tmp_path: Path) -> None:
    """`make run` indexes seeds/: its answers, and its refusal, do not depend on the backend."""
    questions = ["How many civilians are trapped in Raqqa?",
                 "Who is the coalition spokesman?",
                 "How many militants are holed up in Raqqa?",
                 "Where did the suicide bombers strike?",
                 "How many airstrikes were there near Raqqa on Tuesday?",
                 "How do I bake sourdough bread?"]
    faiss = Config(corpus=SEEDS, store=tmp_path / "faiss")
    build_index(faiss, progress=False)
    (tmp_path / "qdrant").mkdir()
    shutil.copy(tmp_path / "faiss" / generations.CACHE, tmp_path / "qdrant")  # no re-embedding
    qdrant = use_backend(Config(corpus=SEEDS, store=tmp_path / "qdrant"), "qdrant")
    assert build_index(qdrant, progress=False).chunks_embedded == 0
    try:
        with Retriever.open(faiss) as one, Retriever.open(qdrant) as other:
            answers = [(one.ask(q).to_dict(), other.ask(q).to_dict()) for q in questions]
    finally:
        release(qdrant)
    assert [a["found"] for a, _ in answers] == [True] * 5 + [False]
    for a, b in answers:
        assert a["found"] == b["found"] and a["reason"] == b["reason"], a["question"]
        assert [(h["excerpt"], where(h)) for h in a["hits"]] == \
            [(h["excerpt"], where(h)) for h in b["hits"]], a["question"]
        assert a["confidence"] == pytest.approx(b["confidence"], abs=1e-3), a["question"]
