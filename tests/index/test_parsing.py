"""Files are parsed in worker processes: whatever one file does to its worker, that file is
skipped with a one-line reason and every other file is still parsed (issue 14)."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import time
from pathlib import Path

import pytest

from index.embedding import resolve_model
from index.parsing import ParseJob, ParsePool, ParserUnavailable, ParseSettings, parse
from quotebot.config import Config
from tests.support import parse_hooks

GOOD = "The harbour of Quillon is deep. Ships of every size anchor there all year."


def settings(hook: str = parse_hooks.SPEC, **limits: float) -> ParseSettings:
    model = resolve_model(Config().model.name)
    return ParseSettings(tokenizer=model.location, max_tokens=200, overlap_sentences=1,
                         window=256, workers=2, hook=hook, **limits)


def run(jobs: list[ParseJob], **limits: float) -> tuple[dict[str, str], dict[str, str], int]:
    """(path -> text of parsed files, path -> skip reason, workers replaced)."""
    with ParsePool(settings(**limits)) as pool:
        results = list(pool.map(jobs))
        replaced = pool.replaced
    texts = {r.rel: r.document.text for r in results if r.document is not None}
    return texts, {r.rel: r.skipped for r in results if r.document is None}, replaced


def good_files(n: int) -> list[ParseJob]:
    return [ParseJob(f"good-{i}.txt", GOOD.encode()) for i in range(n)]


@pytest.mark.parametrize(("marker", "reason"), [
    (parse_hooks.SEGFAULT, "the parser crashed (SIGSEGV)"),
    (parse_hooks.RAISE, "could not be parsed: TypeError: a parser bug"),
    (parse_hooks.HOG, "needs more than 256 MB to parse (loading.file_memory_mb)"),
    (parse_hooks.EXIT, "the parser exited unexpectedly (exit code 1)"),
])
def test_a_misbehaving_file_is_skipped_and_the_others_are_parsed(marker: bytes,
                                                                 reason: str) -> None:
    jobs = good_files(3) + [ParseJob("bad.txt", marker)] + good_files(6)[3:]
    texts, skipped, _ = run(jobs, memory_mb=256)
    assert skipped == {"bad.txt": reason}
    assert sorted(texts) == [f"good-{i}.txt" for i in range(6)]
    assert set(texts.values()) == {GOOD}


def test_a_file_that_never_finishes_is_stopped_at_its_time_budget() -> None:
    jobs = [ParseJob("hang.txt", parse_hooks.HANG)] + good_files(4)
    texts, skipped, replaced = run(jobs, timeout_s=2)
    assert skipped == {"hang.txt": "took longer than 2 s to parse (loading.file_timeout_s)"}
    assert len(texts) == 4 and replaced == 1


def test_a_worker_crash_does_not_lose_the_jobs_after_it() -> None:
    jobs = [ParseJob(f"crash-{i}.txt", parse_hooks.SEGFAULT) for i in range(3)] + good_files(3)
    texts, skipped, replaced = run(jobs)
    assert set(skipped) == {"crash-0.txt", "crash-1.txt", "crash-2.txt"}
    assert len(texts) == 3 and replaced == 3


def test_workers_that_cannot_start_stop_the_pool_instead_of_skipping_every_file() -> None:
    with ParsePool(settings(hook=parse_hooks.BROKEN)) as pool:
        results = pool.map(good_files(4))
        with pytest.raises(ParserUnavailable, match="not the files"):
            next(results)


def test_workers_slower_to_start_than_the_budget_stop_the_pool() -> None:
    slow = "tests.support.slow_start:misbehave"  # its import takes 5 s
    with (ParsePool(settings(hook=slow, timeout_s=2)) as pool,
          pytest.raises(ParserUnavailable, match="in 2 s")):
        list(pool.map(good_files(3)))  # each file had timed out and been remembered


def _pids(argument: str) -> set[int]:
    """Processes whose command line holds `argument`."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if argument in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.add(int(entry.name))
            except OSError:
                continue
    return found


def test_a_worker_stopped_at_its_budget_takes_its_children_and_temporary_files() -> None:
    children = _pids(parse_hooks.CHILD_SECONDS)
    folders = set(Path(tempfile.gettempdir()).glob("quotebot-parse-*"))
    jobs = [ParseJob("scan.pdf", parse_hooks.CHILD)] + good_files(2)
    try:
        texts, skipped, _ = run(jobs, timeout_s=2)
        assert skipped == {"scan.pdf": "took longer than 2 s to parse (loading.file_timeout_s)"}
        assert len(texts) == 2
        time.sleep(0.5)
        assert _pids(parse_hooks.CHILD_SECONDS) == children  # it ran on as an orphan before
        assert set(Path(tempfile.gettempdir()).glob("quotebot-parse-*")) == folders
    finally:
        for pid in _pids(parse_hooks.CHILD_SECONDS) - children:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def test_the_pool_parses_like_the_build_process_does() -> None:
    from index.chunking import load_token_counter

    job = ParseJob("notes.md", f"# Notes\n\n{GOOD}\n".encode())
    here = parse(job, load_token_counter(settings().tokenizer), settings().chunking())
    with ParsePool(settings()) as pool:
        [there] = pool.map([job])
    assert there.document == here.document and there.chunks == here.chunks



def test_a_skip_reason_quoting_invalid_text_is_stored_valid(fresh_copy, monkeypatch) -> None:  # noqa: ANN001
    from index.build import build_index
    from index.parsing import TEST_HOOK_ENV
    from store.faiss import FaissReader

    monkeypatch.setenv(TEST_HOOK_ENV, parse_hooks.SPEC)
    config = fresh_copy()
    (config.corpus / "bad.txt").write_bytes(parse_hooks.RAISE_SURROGATE)
    report = build_index(config, progress=False)  # SQLite refused the reason before
    (reason,) = [r for p, r in report.skipped if p == "bad.txt"]
    assert reason == "could not be parsed: ValueError: no glyph for \ufffd"
    reader = FaissReader(config.store)
    try:
        assert ("bad.txt", reason) in reader.skipped()
    finally:
        reader.close()


def test_a_build_whose_workers_cannot_start_changes_neither_index_nor_skips(
        fresh_copy, monkeypatch) -> None:  # noqa: ANN001
    from index.build import BuildError, build_index
    from index.parsing import TEST_HOOK_ENV
    from index.status import store_status

    config = fresh_copy()
    before = store_status(config).documents
    (config.corpus / "new.txt").write_text(GOOD)
    monkeypatch.setenv(TEST_HOOK_ENV, parse_hooks.BROKEN)
    with pytest.raises(BuildError, match="live index is unchanged"):
        build_index(config, progress=False)
    assert store_status(config).documents == before
    monkeypatch.setenv(TEST_HOOK_ENV, parse_hooks.SPEC)
    report = build_index(config, progress=False)  # the file was not remembered as skipped
    assert report.added == ["new.txt"] and "new.txt" not in dict(report.skipped)


def test_a_full_disk_while_parsing_is_not_remembered_against_the_file(
        fresh_copy, monkeypatch) -> None:  # noqa: ANN001
    from index.build import build_index
    from index.parsing import TEST_HOOK_ENV

    config = fresh_copy()
    (config.corpus / "scan.txt").write_bytes(GOOD.encode() + b" " + parse_hooks.NOSPACE)
    monkeypatch.setenv(TEST_HOOK_ENV, parse_hooks.SPEC)
    first = build_index(config, progress=False)
    assert "No space left" in dict(first.skipped)["scan.txt"]
    monkeypatch.delenv(TEST_HOOK_ENV)  # the space is back; the file never changed
    second = build_index(config, progress=False)
    assert "scan.txt" in second.added, second.skipped


def test_a_worker_whose_build_stopped_mid_file_exits_quietly() -> None:
    # Ctrl-C during "reading": the build closes its pipes; a worker that then finishes
    # its file printed a BrokenPipeError traceback per worker to the operator's terminal.
    pool = ParsePool(settings())
    worker = pool._start()
    pool._workers = [worker]
    worker.conn.send(ParseJob("slow.txt", parse_hooks.SLOW + b" " + GOOD.encode()))
    pool.close()  # what the build's `with ParsePool` does on KeyboardInterrupt
    worker.process.join(5)
    assert worker.process.exitcode == 0  # 1: it died of an uncaught exception


def test_a_worker_left_without_its_build_stops_at_its_own_cpu_limit() -> None:
    """kill -9 of a build leaves nobody to enforce the file's time budget: the worker's own
    CPU limit (CPU_BUDGET_FACTOR x file_timeout_s) ends a parser stuck in a loop."""
    import multiprocessing

    from index.parsing import CPU_BUDGET_FACTOR, _worker

    ours, theirs = multiprocessing.Pipe()
    worker = multiprocessing.get_context("fork").Process(
        target=_worker, args=(theirs, settings(timeout_s=1.0)))
    worker.start()
    try:
        ours.send(ParseJob("spin.txt", parse_hooks.SPIN))  # and nobody kills it
        worker.join(CPU_BUDGET_FACTOR * 1.0 + 30)
        assert worker.exitcode == -signal.SIGXCPU
    finally:
        if worker.is_alive():
            worker.kill()
