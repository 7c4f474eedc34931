"""A Retriever follows the live generation by itself, safely, under concurrent questions."""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from support.generations import publish_copy

from index.build import build_index
from quotebot.config import Config
from retrieval import Retriever
from store.generations import current_generation

QUESTION = "What is the vault code of the museum?"
CODES = {"a": "ALPHA-ONE", "b": "BRAVO-TWO"}


def vault(corpus: Path, code: str) -> None:
    (corpus / "vault.txt").write_text(f"Museum notes\n\nThe vault code of the museum is {code}. "
                                      "Only the curator knows it.\n", encoding="utf-8")


@pytest.fixture
def two_generations(fresh_copy: Callable[[], Config], tmp_path: Path) -> tuple[Config, dict]:
    """A store whose corpus was built twice (vault code A, then B); both generation
    folders are kept aside as sources to publish copies of."""
    config = fresh_copy()
    sources = {}
    for name, code in CODES.items():
        vault(config.corpus, code)
        build_index(config, progress=False)
        sources[name] = tmp_path / f"source-{name}"
        shutil.copytree(current_generation(config.store), sources[name])
    return config, sources


def test_ask_follows_a_generation_published_by_another_build(fresh_copy: Callable[[], Config],
                                                             ) -> None:
    config = fresh_copy()
    config.retrieval.reload_check_s = 0
    with Retriever.open(config) as retriever:
        assert "ALPHA" not in str(retriever.ask(QUESTION).to_dict())
        vault(config.corpus, CODES["a"])
        build_index(config, progress=False)
        answer = retriever.ask(QUESTION)
    assert answer.found and CODES["a"] in answer.hits[0].excerpt
    assert answer.generation == int(current_generation(config.store).name.split("-")[1])


def test_a_new_generation_is_seen_within_the_check_interval(two_generations: tuple) -> None:
    config, sources = two_generations
    config.retrieval.reload_check_s = 3600  # checks are rate-limited: no switch yet
    with Retriever.open(config) as retriever:
        before = retriever.ask(QUESTION).generation
        publish_copy(config.store, sources["a"])
        assert retriever.ask(QUESTION).generation == before
        assert retriever.refresh()  # refresh() checks at once
        assert CODES["a"] in retriever.ask(QUESTION).hits[0].excerpt


def test_ask_in_8_threads_while_generations_switch_50_times(two_generations: tuple) -> None:
    config, sources = two_generations
    config.retrieval.reload_check_s = 0  # every question checks: as many switches as can be
    code_of: dict[int, str] = {}
    answers: list = []
    errors: list[BaseException] = []
    done = threading.Event()
    with Retriever.open(config) as retriever:
        gens = retriever.generations
        opened, closed = [0], [0]
        real_open, real_close = gens.open_reader, gens.close_reader

        def counting_open(folder: Path):  # noqa: ANN202
            opened[0] += 1
            return real_open(folder)

        def counting_close(reader) -> None:  # noqa: ANN001
            closed[0] += 1
            real_close(reader)

        gens.open_reader, gens.close_reader = counting_open, counting_close
        code_of[retriever.generation] = CODES["b"]

        def asker() -> None:
            try:
                while not done.is_set():
                    answers.append(retriever.ask(QUESTION, k=3))
                    done.wait(0.005)  # leave the publishing thread some of the GIL
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)

        threads = [threading.Thread(target=asker) for _ in range(8)]
        for t in threads:
            t.start()
        try:
            for i in range(50):
                name = "a" if i % 2 == 0 else "b"
                folder = publish_copy(config.store, sources[name])
                code_of[int(folder.name.split("-")[1])] = CODES[name]
                done.wait(0.05)
        finally:
            done.set()
            for t in threads:
                t.join(60)
        switches = gens.switches
        assert retriever.ask(QUESTION).generation == max(code_of)  # ends on the newest
    assert not errors, errors[:3]
    assert switches >= 10 and len({a.generation for a in answers}) >= 10
    for answer in answers:  # complete, and every quote from the generation it names
        assert answer.found and len(answer.hits) == 3
        text = " ".join(h.text for h in answer.hits)
        other = next(c for c in CODES.values() if c != code_of[answer.generation])
        assert code_of[answer.generation] in answer.hits[0].excerpt and other not in text
    assert closed[0] == opened[0] + 1  # every reader was closed (+ the one opened first)


def test_a_deleted_store_keeps_answering_with_one_warning(fresh_copy: Callable[[], Config],
                                                          caplog: pytest.LogCaptureFixture,
                                                          ) -> None:
    config = fresh_copy()
    config.retrieval.reload_check_s = 0
    with Retriever.open(config) as retriever:
        shutil.rmtree(config.store)
        with caplog.at_level(logging.WARNING, logger="retrieval.generations"):
            answers = [retriever.ask("How tall is the Eiffel Tower?") for _ in range(5)]
    assert all(a.found and "330" in a.hits[0].excerpt for a in answers)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "gone" in warnings[0].getMessage()


def test_a_damaged_new_generation_is_not_switched_to(two_generations: tuple,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    config, sources = two_generations
    config.retrieval.reload_check_s = 0
    with Retriever.open(config) as retriever:
        live = retriever.generation
        damaged = publish_copy(config.store, sources["a"], keep=5)
        (damaged / "manifest.json").write_text("not json", encoding="utf-8")
        with caplog.at_level(logging.WARNING, logger="retrieval.generations"):
            answers = [retriever.ask(QUESTION) for _ in range(5)]
    assert {a.generation for a in answers} == {live}
    assert all(CODES["b"] in a.hits[0].excerpt for a in answers)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and damaged.name in warnings[0].getMessage()
