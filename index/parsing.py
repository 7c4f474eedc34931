"""Parse corpus files in worker processes, each file under a time and a memory budget.

Loading and chunking run untrusted input through parsers (pypdf, python-docx, HTML and
markdown parsers, regexes): a hostile file can make them loop for hours, eat all memory,
crash the interpreter, or raise anything. So every file is parsed in a small pool of
worker processes, started with the "forkserver" context (nothing of the build process,
neither the model nor FAISS, is forked into them). A worker that runs past
`loading.file_timeout_s` is killed; its address space is capped at `loading.file_memory_mb`
above what it uses when idle (RLIMIT_AS); a worker that dies (a segfault in a C parser
included) is replaced. Each of these makes that one file *skipped* with a one-line reason,
and the rest is parsed as usual. Results come back as plain dataclasses (`Parsed`).

As with any "forkserver"/"spawn" pool, a script that builds an index must do it under
`if __name__ == "__main__":` (workers import the main script; `python -m quotebot` is safe).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import importlib
import itertools
import math
import multiprocessing
import os
import resource
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from index.chunking import chunk_document, load_token_counter
from index.loaders import LoadOptions, SkipFile, load_document
from index.loaders import ocr as ocr_module
from index.loaders.common import short
from quotebot.documents import Chunk, Document

# A test-only hook: "module:function", called in the worker with each job before it is
# parsed (the tests use it to make a worker segfault, hang or run out of memory on a marked
# file, as a C parser could). Read by the build process, passed in ParseSettings.hook.
TEST_HOOK_ENV = "QUOTEBOT_TEST_PARSE_HOOK"


@dataclass
class ParseJob:
    """One file to parse: its corpus-relative path, its bytes and its modification time."""

    rel: str
    data: bytes
    mtime: float = 0.0


@dataclass
class Parsed:
    """What parsing one file gave: the document and its chunks, or why it is skipped."""

    rel: str
    document: Document | None = None
    chunks: list[Chunk] = field(default_factory=list)
    skipped: str = ""  # a one-line reason when the file is not indexed
    # The machine's fault, not the file's (a full disk, too many open files): skipped by
    # this build only, never remembered against the file's content.
    transient: bool = False


# What an OSError says when the machine, not the file, failed (PIL's "image file is
# truncated" is an OSError too, with no errno: that one is the file's).
TRANSIENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EMFILE, errno.ENFILE,
                              errno.ENOMEM, errno.EIO, errno.EROFS, errno.EAGAIN})


@dataclass(frozen=True)
class ParseSettings:
    """Everything a worker needs to parse like the build does."""

    tokenizer: str  # the model's location, for the token counter
    max_tokens: int
    overlap_sentences: int
    window: int
    timeout_s: float = 60.0
    memory_mb: int = 1024
    workers: int = 2
    hook: str = field(default_factory=lambda: os.environ.get(TEST_HOOK_ENV, ""))
    load: LoadOptions = field(default_factory=LoadOptions)  # OCR, PDF caps

    def chunking(self) -> dict[str, int]:
        return {"max_tokens": self.max_tokens, "overlap_sentences": self.overlap_sentences,
                "window": self.window}


def parse(job: ParseJob, count_tokens: Callable[[str], int], chunking: dict[str, int],
          options: LoadOptions | None = None) -> Parsed:
    """Load and chunk one file, in this process; SkipFile becomes a skip reason."""
    try:
        document = load_document(job.rel, job.data, mtime=job.mtime, options=options)
        chunks = chunk_document(document, count_tokens, **chunking)
        if not chunks:
            raise SkipFile("no indexable text (only boilerplate or repeated lines)")
    except SkipFile as exc:
        return Parsed(job.rel, skipped=str(exc))
    return Parsed(job.rel, document, chunks)


def parser_key(settings: ParseSettings) -> str:
    """What a remembered skip depends on: the parsing code (the source of index/loaders,
    sentences, chunking, boilerplate and this module), the chunking settings and the limits."""
    here = Path(__file__).resolve().parent
    sources = sorted((here / "loaders").glob("*.py")) + [
        here / name for name in ("sentences.py", "chunking.py", "boilerplate.py", "parsing.py",
                                 "documents.py")]
    digest = hashlib.sha256()
    for source in sources:
        with contextlib.suppress(OSError):
            digest.update(source.read_bytes())
    load = settings.load
    ocr = f"{load.ocr}/{load.ocr_language}/{'no' if ocr_module.unavailable() else 'yes'}"
    return (f"{digest.hexdigest()[:16]} tokens={settings.max_tokens}/{settings.window} "
            f"overlap={settings.overlap_sentences} timeout={settings.timeout_s:g} "
            f"memory={settings.memory_mb} ocr={ocr} pages={load.max_pdf_pages}")


def worker_count(configured: int) -> int:
    """`loading.workers`, or for 0 one per core up to 4 (parsing is rarely the bottleneck)."""
    return configured if configured > 0 else max(1, min(4, os.cpu_count() or 1))


# --- the worker side ---------------------------------------------------------------------------

def _die_with_parent() -> None:
    """Ask Linux to kill this worker when the forkserver (which dies with the build) dies."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


# A worker's own CPU limit for each file, as a multiple of `loading.file_timeout_s`. A live
# build kills a worker at that wall-clock budget first (CPU time never runs ahead of it);
# this bounds a worker whose build was killed (kill -9) and can no longer stop it, which ran
# on, unbounded, until its parse ended.
CPU_BUDGET_FACTOR = 2


def _limit_cpu(seconds: float) -> None:
    """Let this process use at most `seconds` more CPU time (SIGXCPU ends it after)."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(used.ru_utime + used.ru_stime + seconds)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _address_space() -> int:
    """This process's virtual memory size in bytes (0 when unknown)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _worker(conn: Connection, settings: ParseSettings, scratch: str = "") -> None:
    """Parse jobs from `conn` until it closes; reply with a Parsed for each.

    The worker leads a process group of its own, so that killing it kills what its parsers
    started (Tesseract), and writes temporary files (OCR's page images) under `scratch`,
    which the pool deletes."""
    _die_with_parent()
    with contextlib.suppress(OSError):
        os.setpgrp()
    if scratch:
        tempfile.tempdir = scratch
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle
    count_tokens = load_token_counter(settings.tokenizer)
    hook = _test_hook(settings.hook)
    chunking = settings.chunking()
    if settings.memory_mb > 0:
        limit = _address_space() + settings.memory_mb * 2**20
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    while True:
        try:
            job: ParseJob = conn.recv()
        except (EOFError, OSError):
            return
        exit_after = False
        if settings.timeout_s > 0:
            _limit_cpu(CPU_BUDGET_FACTOR * settings.timeout_s)
        try:
            if hook:
                hook(job)
            result = parse(job, count_tokens, chunking, settings.load)
        except MemoryError:
            result, exit_after = Parsed(job.rel, skipped=(
                f"needs more than {settings.memory_mb} MB to parse (loading.file_memory_mb)")), True
        except RecursionError:
            result = Parsed(job.rel, skipped="nested too deeply to parse")
        except Exception as exc:  # noqa: BLE001 - any parser failure skips the file, no more
            result = Parsed(job.rel, skipped=f"could not be parsed: {type(exc).__name__}: "
                                             f"{short(exc)}",
                            transient=isinstance(exc, OSError)
                            and exc.errno in TRANSIENT_ERRNOS)
        try:
            conn.send(result)
        except MemoryError:
            conn.send(Parsed(job.rel, skipped=(
                f"needs more than {settings.memory_mb} MB to parse (loading.file_memory_mb)")))
            exit_after = True
        except OSError:  # the build stopped (Ctrl-C, an error) and closed its end: done
            return
        del job, result
        if exit_after:  # memory may be fragmented or a parser half-initialised: start afresh
            return


def _test_hook(spec: str) -> Callable[[ParseJob], Any] | None:
    if not spec:
        return None
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


# --- the build side ----------------------------------------------------------------------------

# What every healthy worker parses. After a worker dies, its replacement must parse this
# before the file is blamed: when it cannot, the machine or the environment is at fault (a
# worker that cannot start, a broken install, a script building an index without a main
# guard), and skipping, and remembering as unparseable, every file of the corpus would
# empty the index of them. The build stops instead (`ParserUnavailable`).
CANARY = ParseJob("quotebot-canary.txt", b"A worker that parses this sentence is healthy.")


class ParserUnavailable(RuntimeError):
    """Parse workers cannot parse even `CANARY`: no file is to blame."""

@dataclass
class _Worker:
    process: Any
    conn: Connection
    job: ParseJob | None = None
    deadline: float = 0.0


class ParsePool:
    """A few worker processes that parse files under limits; use as a context manager."""

    def __init__(self, settings: ParseSettings) -> None:
        self.settings = settings
        self._context = multiprocessing.get_context("forkserver")
        # The forkserver imports the parsers once; each worker is then a cheap fork of it.
        self._context.set_forkserver_preload(["index.parsing"])
        self._workers: list[_Worker] = []
        self.replaced = 0  # workers killed or dead and started again
        self._scratch = ""  # the workers' temporary folder, made with the first worker

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> _Worker:
        if not self._scratch:
            with contextlib.suppress(OSError):
                self._scratch = tempfile.mkdtemp(prefix="quotebot-parse-")
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_worker,
                                        args=(child, self.settings, self._scratch),
                                        name="quotebot-parse", daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def _stop(self, worker: _Worker) -> None:
        """Kill a worker (stuck or dead) and what it started, and reap it."""
        with contextlib.suppress(Exception):
            os.killpg(worker.process.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            worker.process.kill()
        worker.process.join(5)
        worker.conn.close()

    def close(self) -> None:
        """Stop every worker: closing its pipe ends its loop; kill the slow ones."""
        for worker in self._workers:
            worker.conn.close()
        for worker in self._workers:
            worker.process.join(2)
            if worker.process.is_alive():
                self._stop(worker)
        self._workers = []
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = ""

    def map(self, jobs: Iterable[ParseJob]) -> Iterator[Parsed]:
        """Parse every job, yielding results as they finish (not in order).

        Jobs are drawn from `jobs` only when a worker is free, so at most one file per
        worker is held in memory at a time.
        """
        pending = iter(jobs)
        first = next(pending, None)
        if first is None:
            return  # nothing to parse: no worker is started
        pending = itertools.chain([first], pending)
        exhausted = False
        if not self._workers:
            self._workers = [self._start() for _ in range(max(1, self.settings.workers))]
        while True:
            for worker in self._workers:
                if worker.job is None and not exhausted:
                    job = next(pending, None)
                    if job is None:
                        exhausted = True
                        break
                    self._give(worker, job)
            busy = [w for w in self._workers if w.job is not None]
            if not busy:
                return
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout)
            for worker in busy:
                result = self._collect(worker, ready)
                if result is not None:
                    yield result

    def _give(self, worker: _Worker, job: ParseJob) -> None:
        try:
            worker.conn.send(job)
        except (OSError, ValueError):  # it died while idle: give the job to its replacement
            worker = self._replace(worker)
            worker.conn.send(job)
        worker.job, worker.deadline = job, time.monotonic() + self.settings.timeout_s

    def _collect(self, worker: _Worker, ready: list[Any]) -> Parsed | None:
        """The worker's result if it has one, or the skip its death or timeout means."""
        job = worker.job
        assert job is not None
        if worker.conn in ready:
            try:
                result: Parsed = worker.conn.recv()
            except (EOFError, OSError):
                result = Parsed(job.rel, skipped=self._death(worker))
                self._check(self._replace(worker), result.skipped)
            else:
                worker.job = None
                if not worker.process.is_alive() or result.skipped.startswith("needs more than"):
                    self._replace(worker)
            return result
        if worker.process.sentinel in ready:
            result = Parsed(job.rel, skipped=self._death(worker))
            self._check(self._replace(worker), result.skipped)
            return result
        if time.monotonic() >= worker.deadline:
            reason = (f"took longer than {self.settings.timeout_s:g} s to parse "
                      "(loading.file_timeout_s)")
            self._check(self._replace(worker), reason)  # a machine too slow to start one?
            return Parsed(job.rel, skipped=reason)
        return None

    def _death(self, worker: _Worker) -> str:
        """Why a worker died, as a skip reason."""
        worker.process.join(5)
        code = worker.process.exitcode
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            if -code == signal.SIGKILL:
                return (f"the parser was killed ({name}): out of memory? "
                        "(loading.file_memory_mb)")
            return f"the parser crashed ({name})"
        return f"the parser exited unexpectedly (exit code {code})"

    def _check(self, worker: _Worker, death: str) -> None:
        """Raise `ParserUnavailable` unless the fresh `worker` parses `CANARY` in time; the
        other workers' deadlines are moved by the time this took."""
        started = time.monotonic()
        try:
            worker.conn.send(CANARY)
            if worker.conn.poll(self.settings.timeout_s):
                result = worker.conn.recv()
                if isinstance(result, Parsed) and result.document is not None:
                    spent = time.monotonic() - started
                    for other in self._workers:
                        other.deadline += spent
                    return
        except (EOFError, OSError, ValueError):
            pass
        raise ParserUnavailable(
            f"the parse workers cannot parse even a one-line text file in "
            f"{self.settings.timeout_s:g} s (a worker: {death}), so the machine or the "
            "environment is at fault, not the files (the workers' own errors are in the "
            "build's output; a script that builds an index must do it under "
            "`if __name__ == \"__main__\":`)")

    def _replace(self, worker: _Worker) -> _Worker:
        """Stop `worker` and put a fresh one in its place."""
        self._stop(worker)
        self.replaced += 1
        fresh = self._start()
        self._workers[self._workers.index(worker)] = fresh
        return fresh
