"""`quotebot status`: the live generation, counts, skipped files, builds, pending changes."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from index.progress import BuildProgress, read_progress
from index.status import store_status
from quotebot.cli import main
from quotebot.config import Config


def test_status_of_an_indexed_store(session_config: Config) -> None:
    status = store_status(session_config)
    assert status.generation is not None and status.built
    assert status.documents >= 6 and status.passages >= status.documents
    assert {p for p, _ in status.skipped} >= {"broken/empty.txt", "broken/garbage.pdf"}
    assert not status.pending.any and status.build is None and status.watching is None


def test_status_sees_files_added_changed_and_removed_since_the_build(
        fresh_copy: Callable[[], Config]) -> None:
    config = fresh_copy()
    corpus = Path(config.corpus)
    (corpus / "new.md").write_text("# New\n\nA new note.\n", encoding="utf-8")
    (corpus / "sport" / "cycling.txt").write_text("Changed.", encoding="utf-8")
    (corpus / "geology" / "volcanoes.txt").unlink()
    pending = store_status(config).pending
    assert (pending.added, pending.changed, pending.removed) == (
        ["new.md"], ["sport/cycling.txt"], ["geology/volcanoes.txt"])


def test_a_running_build_shows_its_progress_and_a_killed_one_is_told_apart(
        tmp_path: Path) -> None:
    progress = BuildProgress(tmp_path)
    progress.update("embedding", 40, 100, force=True)
    seen = read_progress(tmp_path)
    assert seen["running"] and (seen["phase"], seen["done"], seen["total"]) == (
        "embedding", 40, 100)
    data = json.loads(progress.path.read_text())
    data["pid"] = 2**22 + 12345  # no such process: the build was killed
    progress.path.write_text(json.dumps(data))
    assert read_progress(tmp_path)["running"] is False
    progress.finish()
    assert read_progress(tmp_path) is None


def test_status_json_from_the_command_line(session_config: Config,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["status", "--json", "--corpus", str(session_config.corpus),
                 "--store", str(session_config.store)])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(data) >= {"generation", "built", "documents", "passages", "skipped", "build",
                         "pending", "watching"}
    assert data["pending"]["any"] is False and data["watching"] is None


def test_status_without_an_index_says_so(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    os.makedirs(tmp_path / "corpus")
    code = main(["status", "--corpus", str(tmp_path / "corpus"),
                 "--store", str(tmp_path / "store")])
    assert code == 0 and "Index: none yet" in capsys.readouterr().out


def test_a_killed_build_whose_pid_was_reused_is_not_shown_running(tmp_path: Path) -> None:
    # A build killed (SIGKILL, OOM, docker stop) leaves its progress file; its pid is then
    # reused (in a container, the next `quotebot bot` is pid 1 again): status and /stats
    # said "Build: running" until the next build. The build's lock tells the truth.
    from index.build import BuildLock
    from store.generations import LOCK

    (tmp_path / LOCK).touch()  # the lock file a build leaves; the kernel released the lock
    progress = BuildProgress(tmp_path)  # the killed build's file, with a live pid: ours
    progress.update("embedding", 0, 486, force=True)
    assert read_progress(tmp_path)["running"] is False
    lock = BuildLock(tmp_path / LOCK)
    lock.acquire(wait=False)
    assert read_progress(tmp_path)["running"] is True
    lock.release()
    progress.path.write_text(json.dumps({"pid": "x", "phase": 3}))  # hand-edited
    assert read_progress(tmp_path)["running"] is False


@pytest.mark.parametrize(("make", "said"), [(None, "folder not found"),
                                            ("file", "not a folder")])
def test_status_says_when_the_corpus_folder_is_missing_or_a_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], make: str | None,
        said: str) -> None:
    corpus = tmp_path / "corpus"
    if make == "file":
        corpus.write_text("not a folder", encoding="utf-8")
    code = main(["status", "--corpus", str(corpus), "--store", str(tmp_path / "store")])
    out = capsys.readouterr().out
    assert code == 0
    assert f"Corpus: {said}" in out and "up to date" not in out
