"""Watch mode: real inotify events through watchfiles, batched into few builds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from index.build import BuildLock, BuildReport, build_index
from index.progress import read_watching
from index.watch import build_after_others, is_relevant, watch_corpus
from quotebot.config import Config
from store.generations import LOCK

SUFFIXES = {".txt", ".md", ".pdf"}


@pytest.mark.parametrize("name", [".#notes.md", "notes.md~", "#notes.md#", "4913",
                                  "notes.md.swp", ".notes.md.swp", ".upload-3fa2.part",
                                  "report.pdf.crdownload", ".hidden.md", "photo.jpg",
                                  ".git/index"])
def test_temporary_hidden_and_other_files_are_ignored(tmp_path: Path, name: str) -> None:
    assert not is_relevant(tmp_path / name, tmp_path, SUFFIXES)


@pytest.mark.parametrize("name", ["notes.md", "sub/dir/paper.PDF", "gone-folder"])
def test_documents_and_folders_are_followed(tmp_path: Path, name: str) -> None:
    assert is_relevant(tmp_path / name, tmp_path, SUFFIXES)


class Watcher:
    """watch_corpus in a thread with a build that only counts (the batching is tested)."""

    def __init__(self, config: Config) -> None:
        self.builds: list[float] = []
        self.stop = threading.Event()

        def build(wait: bool) -> BuildReport:
            self.builds.append(time.monotonic())
            return BuildReport(store=str(config.store))

        self.thread = threading.Thread(target=watch_corpus, args=(config, build),
                                       kwargs={"stop": self.stop, "catch_up": False})

    def __enter__(self) -> Watcher:
        self.thread.start()
        time.sleep(0.5)  # the inotify watches are set
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)


def watch_config(tmp_path: Path, debounce: float = 1.0) -> Config:
    config = Config()
    config.corpus, config.store = tmp_path / "corpus", tmp_path / "store"
    config.corpus.mkdir()
    config.index.watch_debounce_s = debounce
    return config


def test_a_burst_of_500_added_files_is_one_or_two_builds(tmp_path: Path) -> None:
    config = watch_config(tmp_path)
    with Watcher(config) as watcher:
        for i in range(500):
            folder = config.corpus / f"batch{i // 100}"
            folder.mkdir(exist_ok=True)
            (folder / f"doc{i}.txt").write_text(f"Document number {i}.", encoding="utf-8")
        deadline = time.monotonic() + 30
        while not watcher.builds and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(3.0)  # any further build would come now
    assert 1 <= len(watcher.builds) <= 2


def test_editor_temp_files_and_partial_uploads_start_no_build(tmp_path: Path) -> None:
    config = watch_config(tmp_path, debounce=0.3)
    with Watcher(config) as watcher:
        for name in (".#notes.md", "notes.md~", "4913", ".upload-1a2b.part", "image.png"):
            (config.corpus / name).write_text("x", encoding="utf-8")
        time.sleep(2.0)
    assert watcher.builds == []


@pytest.mark.parametrize("change", ["changed", "removed", "renamed"])
def test_a_changed_removed_or_renamed_document_starts_a_build(tmp_path: Path,
                                                              change: str) -> None:
    config = watch_config(tmp_path, debounce=0.3)
    doc = config.corpus / "notes.md"
    doc.write_text("# Notes\n\nFirst version.\n", encoding="utf-8")
    with Watcher(config) as watcher:
        if change == "changed":
            doc.write_text("# Notes\n\nSecond version.\n", encoding="utf-8")
        elif change == "removed":
            doc.unlink()
        else:
            doc.rename(config.corpus / "renamed.md")
        deadline = time.monotonic() + 15
        while not watcher.builds and time.monotonic() < deadline:
            time.sleep(0.1)
    assert len(watcher.builds) == 1


def test_the_watcher_is_seen_in_the_store_while_it_runs(tmp_path: Path) -> None:
    config = watch_config(tmp_path)
    with Watcher(config):
        assert read_watching(config.store) is not None
    assert read_watching(config.store) is None


def test_a_busy_store_is_built_after_the_other_build(fresh_copy: Callable[[], Config]) -> None:
    config = fresh_copy()
    other = BuildLock(Path(config.store) / LOCK)
    other.acquire(wait=False)  # another `quotebot index` is running
    (Path(config.corpus) / "late.txt").write_text("The harbour of Quillon opened in 1794.",
                                                  encoding="utf-8")
    threading.Timer(1.0, other.release).start()
    report = build_after_others(lambda wait: build_index(config, wait=wait, progress=False))
    assert report.added == ["late.txt"]


def test_a_corpus_named_through_a_symlink_is_followed(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")  # as /home -> /data/home
    config = Config()
    config.corpus, config.store = tmp_path / "link" / "corpus", tmp_path / "store"
    config.corpus.mkdir()
    config.index.watch_debounce_s = 0.3
    with Watcher(config) as watcher:
        (config.corpus / "notes.md").write_text("# Notes\n\nFirst version.\n", encoding="utf-8")
        deadline = time.monotonic() + 15
        while not watcher.builds and time.monotonic() < deadline:
            time.sleep(0.1)
    assert len(watcher.builds) == 1
