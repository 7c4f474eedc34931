"""Soak test: every reliability and security scenario of RELIABILITY.md at full counts.

Run from the repository root (figures in RELIABILITY.md come from this script):

    python benchmarks/soak.py                      # all scenarios, full counts (~40 min, 2 cores)
    python benchmarks/soak.py --quick              # a few trials of each (~8 min)
    python benchmarks/soak.py --only kill,load --json soak.json

Scenarios (--only): kill, diskfull, corrupt, hostile, questions, load, faults, rebuild,
security. Each prints what was tried, how many times, and how many survived; --json writes
the same as JSON (with details such as latency percentiles and where kills landed).

Data: BBC News from --bbc (default ../shared/data/bbc-news/bbc; never copied into the
repository, only into --workdir), and, when it exists, the prebuilt store --bbc-store
(default /tmp/qb/bbc-store): it is copied, never modified, for its embedding cache.
Mounting tmpfs and read-only bind mounts (the disk-full and read-only scenarios) needs
root; otherwise those use RLIMIT_FSIZE and missing write permission.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import logging
import os
import random
import resource
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from support.fake_telegram import BOT_USERNAME, FakeTelegram  # noqa: E402

from bot.app import build_application  # noqa: E402
from bot.handlers import EXPIRED, FAILED, REFUSAL  # noqa: E402
from bot.render import render_page  # noqa: E402
from index.build import build_index  # noqa: E402
from quotebot.config import Config  # noqa: E402
from quotebot.errors import StoreError  # noqa: E402
from retrieval import Retriever  # noqa: E402
from store.faiss import FaissReader  # noqa: E402
from store.generations import CACHE, CURRENT, current_generation  # noqa: E402

SCENARIOS = ["kill", "diskfull", "corrupt", "hostile", "questions", "load", "faults",
             "rebuild", "security"]
TOKEN = "123456789:SOAK-recognisable-s3cret_ABCDEFGHIJKLMNOPQRSTUVW"
SECRET = TOKEN.split(":", 1)[1]
log = logging.getLogger("soak")


# --- results -------------------------------------------------------------------------------

@dataclass
class Result:
    """One scenario's outcome: what was tried, how often, how often it survived."""

    scenario: str
    what: str
    tried: int = 0
    survived: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def check(self, ok: bool, failure: str) -> bool:
        """Count one trial; keep a note of it when it failed."""
        self.tried += 1
        self.survived += bool(ok)
        if not ok:
            self.failures.append(failure)
            log.warning("%s: FAILED %s", self.scenario, failure)
        return ok


@dataclass
class Ctx:
    args: argparse.Namespace
    work: Path
    rng: random.Random
    results: list[Result] = field(default_factory=list)
    _full_store: Path | None = None

    @property
    def quick(self) -> bool:
        return self.args.quick

    def n(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def bbc_docs(self) -> list[Path]:
        docs = sorted(p for p in self.args.bbc.glob("*/*.txt"))
        if not docs:
            raise SystemExit(f"no BBC documents in {self.args.bbc} (see --bbc)")
        return docs

    def seed_cache(self, store: Path) -> None:
        """Copy the prebuilt store's embedding cache into `store` (vectors only)."""
        store.mkdir(parents=True, exist_ok=True)
        source = self.args.bbc_store / CACHE
        if source.is_file() and not (store / CACHE).exists():
            shutil.copy(source, store / CACHE)

    def full_store(self) -> tuple[Path, Path]:
        """(corpus, store) of all BBC documents: a copy of the prebuilt store, or built."""
        corpus, store = self.work / "bbc" / "corpus", self.work / "bbc" / "store"
        if self._full_store is None:
            shutil.rmtree(self.work / "bbc", ignore_errors=True)
            copy_docs(self.bbc_docs(), self.args.bbc, corpus)
            if (self.args.bbc_store / CURRENT).is_file():
                shutil.copytree(self.args.bbc_store, store)
            log.info("indexing the BBC corpus (%s) ...", store)
            build_index(config_for(corpus, store), progress=False)  # chunker/format updates
            self._full_store = store
        return corpus, store

    def full_store_copy(self, name: str) -> tuple[Path, Config]:
        """A scenario's own copy of the full BBC corpus and store, and its config."""
        corpus, full = self.full_store()
        work = self.work / name
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(corpus, work / "corpus")
        shutil.copytree(full, work / "store")
        return work, config_for(work / "corpus", work / "store")


def config_for(corpus: Path, store: Path) -> Config:
    config = Config()
    config.corpus, config.store = corpus, store
    return config


def copy_docs(docs: list[Path], source_root: Path, corpus: Path) -> None:
    for doc in docs:
        target = corpus / doc.relative_to(source_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(doc, target)


# `quotebot index`, printing the process's I/O counters (/proc/self/io) to stderr at exit.
INDEX_WITH_IO = ("import atexit, sys\n"
                 "atexit.register(lambda: sys.stderr.write(open('/proc/self/io').read()))\n"
                 "from quotebot.cli import main\n"
                 "sys.exit(main(['index', *sys.argv[1:]]))\n")


def run_index(corpus: Path, store: Path, *flags: str, env: dict[str, str] | None = None,
              preexec: Callable[[], None] | None = None, command: list[str] | None = None,
              ) -> subprocess.CompletedProcess:
    """`quotebot index` as a user runs it, in a subprocess (stderr ends with /proc/self/io)."""
    environ = dict(os.environ, PYTHONPATH=str(ROOT), QUOTEBOT_CORPUS=str(corpus),
                   QUOTEBOT_STORE=str(store), **(env or {}))
    argv = [*(command or []), sys.executable, "-c", INDEX_WITH_IO, "--no-progress", *flags]
    return subprocess.run(argv, env=environ, cwd=ROOT, capture_output=True, text=True,
                          preexec_fn=preexec, timeout=3600)


def chunks_of(store: Path) -> dict[int, tuple[str, str]]:
    reader = FaissReader(store)
    try:
        return {cid: (path, text) for cid, path, text in reader.db.execute(
            "SELECT chunk_id, path, c.text FROM chunks c JOIN documents USING (doc_id)")}
    finally:
        reader.close()


def answers_of(store: Path, questions: list[str]) -> list[dict]:
    retriever = Retriever.open(config_for(store, store))
    try:
        return [retriever.ask(q).to_dict() for q in questions]
    finally:
        retriever.close()


def generations(store: Path) -> list[str]:
    return sorted(p.name for p in store.glob("gen-*"))


def cache_rows(store: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{store / CACHE}?mode=ro", uri=True, timeout=5)
        try:
            tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master "
                                               "WHERE type='table'")]
            return sum(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)
        finally:
            db.close()
    except sqlite3.Error:
        return -1


def is_root_with_mount() -> bool:
    if os.geteuid() != 0:
        return False
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", folder],
                              capture_output=True)
        if done.returncode != 0:
            return False
        subprocess.run(["umount", folder], check=False)
    return True


def mount(*options: str, target: Path) -> None:
    subprocess.run(["mount", *options, str(target)], check=True, capture_output=True)


def umount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True)


def used_bytes(folder: Path) -> int:
    stats = os.statvfs(folder)
    return (stats.f_blocks - stats.f_bfree) * stats.f_frsize


class FileAccess:
    """inotify on one file: was it opened or read (IN_OPEN, IN_ACCESS) since the last call?

    Counts are of queued events (the kernel merges repeats), so only zero is exact."""

    IN_ACCESS, IN_OPEN, IN_Q_OVERFLOW = 0x1, 0x20, 0x4000

    def __init__(self, path: Path) -> None:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0 or libc.inotify_add_watch(self.fd, os.fsencode(path),
                                                 self.IN_ACCESS | self.IN_OPEN) < 0:
            raise OSError(ctypes.get_errno(), f"inotify on {path}")

    def events(self) -> dict[str, int]:
        counts = {"opens": 0, "reads": 0, "overflow": 0}
        data = b""
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(self.fd, 65536):
                data += chunk
        at = 0
        while at + 16 <= len(data):
            _, mask, _, length = struct.unpack_from("iIII", data, at)
            at += 16 + length
            counts["opens"] += bool(mask & self.IN_OPEN)
            counts["reads"] += bool(mask & self.IN_ACCESS)
            counts["overflow"] += bool(mask & self.IN_Q_OVERFLOW)
        return counts

    def close(self) -> None:
        os.close(self.fd)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# --- a changing BBC corpus (kill, disk full, corrupt) ------------------------------------

@dataclass
class Rebuild:
    """A base corpus and store, the change a rebuild brings in, and a clean build of it."""

    base_corpus: Path
    base_store: Path
    changed_corpus: Path
    questions: list[str]
    base_answers: list[dict]
    clean_chunks: dict[int, tuple[str, str]]
    clean_answers: list[dict]


def make_rebuild(ctx: Ctx, name: str, size: int, added: int, changed: int,
                 removed: int) -> Rebuild:
    """`size` BBC documents indexed; the change adds, edits (new text to embed) and removes."""
    root = ctx.work / name
    shutil.rmtree(root, ignore_errors=True)
    docs = ctx.bbc_docs()
    base_docs, extra = docs[::7][:size], docs[3::7][:added]
    base_corpus, changed_corpus = root / "base-corpus", root / "changed-corpus"
    copy_docs(base_docs, ctx.args.bbc, base_corpus)
    base_store = root / "base-store"
    ctx.seed_cache(base_store)
    build_index(config_for(base_corpus, base_store), progress=False)
    shutil.copytree(base_corpus, changed_corpus)
    copy_docs(extra, ctx.args.bbc, changed_corpus)
    rels = [d.relative_to(ctx.args.bbc) for d in base_docs]
    edits = []
    for i, rel in enumerate(rels[1:1 + changed]):
        fact = (f"Update {i}: the harbour board of Port {chr(65 + i % 26)}{i} approved "
                f"{37 * i + 11} new moorings for the {i % 9 + 2}-masted ships on day {i + 3}.")
        path = changed_corpus / rel
        path.write_text(path.read_text(encoding="utf-8", errors="replace") + "\n\n" + fact
                        + "\n", encoding="utf-8")
        edits.append(fact)
    gone = rels[-removed:] if removed else []
    for rel in gone:
        (changed_corpus / rel).unlink()
    titles = [(base_corpus / r).read_text(encoding="utf-8", errors="replace").split("\n")[0]
              for r in rels[40:46]]
    removed_titles = [(base_corpus / r).read_text(encoding="utf-8", errors="replace")
                      .split("\n")[0] for r in gone[:1]]
    questions = ([f"{t}?" for t in titles] + [f"How many moorings did Port {f.split('Port ')[1]}"
                                              for f in edits[:2]] + removed_titles)
    clean_store = root / "clean-store"
    clean_store.mkdir()
    shutil.copy(base_store / CACHE, clean_store / CACHE)
    build_index(config_for(changed_corpus, clean_store), progress=False)
    shutil.copy(clean_store / CACHE, root / "warm-cache.sqlite")
    return Rebuild(base_corpus, base_store, changed_corpus, questions,
                   answers_of(base_store, questions), chunks_of(clean_store),
                   answers_of(clean_store, questions))


def trial_store(rebuild: Rebuild, where: Path) -> Path:
    """A fresh copy of the base store (its cache lacks the edited texts: they get embedded)."""
    shutil.rmtree(where, ignore_errors=True)
    shutil.copytree(rebuild.base_store, where)
    return where


def verify_whole(res: Result, rebuild: Rebuild, store: Path, old_generation: str,
                 label: str) -> str:
    """After an interrupted build: the live index is the old one answering as before, or the
    new one complete. Returns which."""
    live = current_generation(store)
    if live is not None and live.name == old_generation:
        res.check(answers_of(store, rebuild.questions) == rebuild.base_answers,
                  f"{label}: old index answers differently")
        return "old"
    res.check(chunks_of(store) == rebuild.clean_chunks, f"{label}: new index incomplete")
    return "new"


def verify_next_build(res: Result, rebuild: Rebuild, store: Path, label: str) -> None:
    """The next build completes and equals a clean build; nothing half-written is left."""
    report = build_index(config_for(rebuild.changed_corpus, store), progress=False)
    ok = (chunks_of(store) == rebuild.clean_chunks
          and answers_of(store, rebuild.questions) == rebuild.clean_answers
          and not [g for g in generations(store) if g.endswith(".partial")]
          and max(generations(store)) == f"gen-{report.generation:06d}")
    res.check(ok, f"{label}: next build differs from a clean build")


# --- scenario: kill ------------------------------------------------------------------------

def scenario_kill(ctx: Ctx) -> Result:
    """SIGKILL `quotebot index` at random moments of a rebuild of a few hundred documents."""
    trials = ctx.n(24, 4)
    res = Result("kill", f"SIGKILL of `quotebot index` at a random moment ({trials} kills: "
                 "300 BBC documents, rebuild adds 150, edits 20, removes 20; half of the kills "
                 "in the last 40% of the build)")
    rebuild = make_rebuild(ctx, "kill", 300, 150, 20, 20)
    old = current_generation(rebuild.base_store).name
    store = trial_store(rebuild, ctx.work / "kill" / "timing")
    started = time.monotonic()
    done = run_index(rebuild.changed_corpus, store)
    duration = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"uninterrupted build failed: {done.stderr[-2000:]}")
    res.details["uninterrupted_build_seconds"] = round(duration, 1)
    landed: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    trial = kills = 0
    # A build that finishes before its kill is checked too but not counted as a kill: trials
    # go on until `trials` kills have landed (the whole build takes a few seconds).
    while kills < trials and trial < 3 * trials:
        trial += 1
        store = trial_store(rebuild, ctx.work / "kill" / "trial")
        base_rows = cache_rows(store)
        env = dict(os.environ, PYTHONPATH=str(ROOT), QUOTEBOT_CORPUS=str(rebuild.changed_corpus),
                   QUOTEBOT_STORE=str(store))
        # Half the kills anywhere in the build, half in its last 40% (writing, switching).
        delay = ctx.rng.uniform(0.0 if trial % 2 == 0 else 0.6 * duration, duration)
        process = subprocess.Popen([sys.executable, "-m", "quotebot", "index", "--no-progress"],
                                   env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(delay)
        finished = process.poll() is not None
        if not finished:
            process.send_signal(signal.SIGKILL)
        process.wait()
        kills += process.returncode == -signal.SIGKILL
        gens = generations(store)
        live = current_generation(store)
        if finished:
            landed["finished before the kill"] += 1
        elif live is not None and live.name != old:
            landed["after the switch (prune/exit)"] += 1
        elif any(g.endswith(".partial") for g in gens):
            landed["writing the new generation"] += 1
        elif len(gens) > 1:
            landed["renamed, not yet switched"] += 1
        elif cache_rows(store) > base_rows:
            landed["embedding (some vectors cached)"] += 1
        elif process.returncode == -signal.SIGKILL:
            landed["starting, reading, chunking, embedding"] += 1
        label = f"trial {trial} (killed after {delay:.2f} s)"
        outcomes[verify_whole(res, rebuild, store, old, label)] += 1
        verify_next_build(res, rebuild, store, label)
    res.details["trials"], res.details["kills"] = trial, kills
    res.details["where_kills_landed"] = dict(landed)
    res.details["live_index_after_kill"] = dict(outcomes)
    res.details["checks_per_trial"] = ("live index whole (old: same answers to "
                                       f"{len(rebuild.questions)} questions; new: same chunks as "
                                       "a clean build) + next build equals a clean build")
    return res


# --- scenario: disk full and read-only ---------------------------------------------------

def scenario_diskfull(ctx: Ctx) -> Result:
    """Builds that run out of disk at every stage, and a read-only store."""
    trials = ctx.n(10, 3)
    root_mount = is_root_with_mount()
    how = "tmpfs of limited size (ENOSPC)" if root_mount else "RLIMIT_FSIZE (EFBIG)"
    res = Result("diskfull", f"disk full during a rebuild, {how}, at {trials} sizes; "
                 "read-only store (" + ("read-only bind mount" if root_mount else
                                        "no write permission") + ")")
    rebuild = make_rebuild(ctx, "diskfull", 300, 150, 20, 20)
    old = current_generation(rebuild.base_store).name
    disk = ctx.work / "diskfull" / "disk"
    disk.mkdir()
    messages: Counter[str] = Counter()
    try:
        if root_mount:
            mount("-t", "tmpfs", "-o", "size=8g", "tmpfs", target=disk)
            store = trial_store(rebuild, disk / "store")
            before = used_bytes(disk)
            done = run_index(rebuild.changed_corpus, store)
            if done.returncode != 0:
                raise RuntimeError(f"build on tmpfs failed: {done.stderr[-2000:]}")
            need = used_bytes(disk) - before
            res.details["bytes_a_rebuild_needs"] = need
            umount(disk)
            for trial in range(trials):
                room = int(need * trial / trials)
                mount("-t", "tmpfs", "-o", "size=8g", "tmpfs", target=disk)
                store = trial_store(rebuild, disk / "store")
                mount("-o", f"remount,size={used_bytes(disk) + room}", "tmpfs", target=disk)
                failed = run_index(rebuild.changed_corpus, store)
                label = f"tmpfs with {room:,} bytes free"
                diskfull_checks(res, rebuild, store, old, failed, label, messages)
                mount("-o", "remount,size=8g", "tmpfs", target=disk)
                verify_next_build(res, rebuild, store, label)
                umount(disk)
        else:
            store0 = trial_store(rebuild, disk / "store")
            biggest = max(p.stat().st_size for p in store0.rglob("*") if p.is_file())
            for trial in range(trials):
                limit = int(biggest * (0.3 + 0.7 * trial / trials))
                store = trial_store(rebuild, disk / "store")

                def limited(limit: int = limit) -> None:
                    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

                failed = run_index(rebuild.changed_corpus, store, preexec=limited)
                label = f"RLIMIT_FSIZE {limit:,} bytes"
                diskfull_checks(res, rebuild, store, old, failed, label, messages)
                verify_next_build(res, rebuild, store, label)
        res.details["error_messages"] = dict(messages)
        readonly_trial(ctx, res, rebuild, old, root_mount)
    finally:
        umount(disk)
    return res


def diskfull_checks(res: Result, rebuild: Rebuild, store: Path, old: str,
                    failed: subprocess.CompletedProcess, label: str,
                    messages: Counter[str]) -> None:
    message = next((line for line in failed.stderr.splitlines()
                    if line.startswith("quotebot:")), "")
    reason = message.split(": ", 2)[-1].split(". Nothing")[0] if message else ""
    messages[reason[:80]] += 1
    res.check(failed.returncode == 1 and "cannot write the index" in message
              and "untouched" in message and "Traceback" not in failed.stderr,
              f"{label}: not a clear error (exit {failed.returncode}): {message[:200]}")
    res.check(not [g for g in generations(store) if g != old],
              f"{label}: left {generations(store)}")
    verify_whole(res, rebuild, store, old, label)


def readonly_trial(ctx: Ctx, res: Result, rebuild: Rebuild, old: str, root_mount: bool) -> None:
    store = trial_store(rebuild, ctx.work / "diskfull" / "ro-store")
    if root_mount:
        mount("--bind", str(store), target=store)
        mount("-o", "remount,bind,ro", target=store)
    else:
        for path in [store, *store.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
    try:
        failed = run_index(rebuild.changed_corpus, store)
        res.check(failed.returncode == 1 and "writable" in failed.stderr
                  and "Traceback" not in failed.stderr,
                  f"read-only store: not a clear error: {failed.stderr[-300:]}")
        res.check(answers_of(store, rebuild.questions) == rebuild.base_answers,
                  "read-only store: does not answer as before")
    finally:
        if root_mount:
            umount(store)
        else:
            for path in [store, *store.rglob("*")]:
                path.chmod(path.stat().st_mode | 0o200)
    verify_next_build(res, rebuild, store, "read-only store, made writable")


# --- scenario: corrupt ----------------------------------------------------------------------

def scenario_corrupt(ctx: Ctx) -> Result:
    """Each kind of damage on the full BBC store: refused at open; the advice recovers."""
    from tests.store.test_damaged_store import DAMAGE

    rounds = ctx.n(3, 1)
    res = Result("corrupt", f"{len(DAMAGE)} kinds of store damage x {rounds} (random places) "
                 "on the 2,225-document BBC store: refused at open with advice, `quotebot ask` "
                 "exits 1; the advised rebuild recovers (on a 60-document store); the ONNX "
                 "model overwritten: caught, same quotes from sentence-transformers, remade "
                 "by the next build")
    corpus, full = ctx.full_store()
    work = ctx.work / "corrupt"
    small = make_rebuild(ctx, "corrupt-small", 60, 0, 0, 0)
    res.details["kinds"] = list(DAMAGE)
    for round_ in range(rounds):
        for kind, damage in DAMAGE.items():
            store = work / "store"
            shutil.rmtree(store, ignore_errors=True)
            shutil.copytree(full, store, ignore=shutil.ignore_patterns(CACHE))
            with seeded_damage(ctx.rng, round_):
                damage(current_generation(store))
            try:
                Retriever.open(config_for(corpus, store)).close()
                res.check(False, f"{kind}: opened without complaint")
            except StoreError as exc:
                res.check("quotebot index --full" in str(exc), f"{kind}: {exc}")
            except Exception as exc:  # noqa: BLE001 - what the scenario counts
                res.check(False, f"{kind}: crashed with {type(exc).__name__}: {exc}")
            if round_ > 0:
                continue
            asked = subprocess.run(
                [sys.executable, "-m", "quotebot", "ask", "--corpus", str(corpus), "--store",
                 str(store), "Who won the election?"], cwd=ROOT, capture_output=True,
                text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=600)
            res.check(asked.returncode == 1 and "Traceback" not in asked.stderr,
                      f"{kind}: quotebot ask exit {asked.returncode}: {asked.stderr[-300:]}")
        model_damage(ctx, res, corpus, full, work, round_)
        recover = list(DAMAGE.items())[:: 5 if ctx.quick else 1] if round_ == 0 else []
        for kind, damage in recover:
            store = trial_store(small, work / "small")
            damage(current_generation(store))
            done = run_index(small.base_corpus, store, "--full")
            res.check(done.returncode == 0 and answers_of(store, small.questions)
                      == small.base_answers, f"{kind}: --full did not recover")
    shutil.rmtree(work, ignore_errors=True)
    return res


def model_damage(ctx: Ctx, res: Result, corpus: Path, full: Path, work: Path,
                 round_: int) -> None:
    """512 bytes overwritten at a random place of the store's ONNX model: a reader notices
    (checksum), answers with sentence-transformers (same quotes); round 1: a build remakes it."""
    from index.embedding import Embedder
    from index.onnx_export import find_export

    store = work / "store"
    shutil.rmtree(store, ignore_errors=True)
    shutil.copytree(full, store, ignore=shutil.ignore_patterns(CACHE))
    model = find_export(store, Embedder().fingerprint).model_path()
    with open(model, "r+b") as f:
        f.seek(int(model.stat().st_size * ctx.rng.uniform(0.0, 0.99)))
        f.write(b"\x5a" * 512)
    questions = ["Who won the election?", "What did the chancellor say about the economy?",
                 "Which film won the most awards?"]

    def quotes(folder: Path) -> tuple[str, list]:
        retriever = Retriever.open(config_for(corpus, folder))
        try:
            return retriever.embedder.runtime, [
                [(h.citation.path, h.excerpt) for h in retriever.ask(q).hits] for q in questions]
        finally:
            retriever.close()

    intact, damaged = quotes(full), quotes(store)
    res.check(damaged[0] == "torch" and damaged[1] == intact[1],
              f"ONNX model overwritten: runtime {damaged[0]}, same quotes "
              f"{damaged[1] == intact[1]}")
    if round_ == 0:
        done = run_index(corpus, store)
        res.check(done.returncode == 0 and quotes(store) == intact,
                  f"ONNX model overwritten: the next build did not remake it: "
                  f"{done.stderr[-300:]}")
    shutil.rmtree(store, ignore_errors=True)


@contextlib.contextmanager
def seeded_damage(rng: random.Random, round_: int) -> Iterator[None]:
    """Round 0 damages where the tests do; later rounds at random places of the file."""
    if round_ == 0:
        yield
        return
    import tests.index.test_store as damage_module

    original = damage_module.overwrite

    def anywhere(path: Path, at: float, data: bytes = b"\x5a" * 512) -> None:
        original(path, rng.uniform(0.0, 0.95), data)

    damage_module.overwrite = anywhere
    try:
        yield
    finally:
        damage_module.overwrite = original


# --- scenario: hostile files --------------------------------------------------------------

def scenario_hostile(ctx: Ctx) -> Result:
    """The CI's hostile corpus, plus hundreds of random files, a real 1 GB file and a 1 MB line."""
    from support.corpus import make_corpus, write_pdf

    from tests.index import test_hostile_corpus as hostile

    randoms = ctx.n(400, 60)
    res = Result("hostile", f"hostile corpus build: the CI set + {randoms} random files "
                 "(random bytes, random Unicode, damaged PDFs) + a one-line document of "
                 f"{ctx.n(1000, 100)} KB + a real 1 GB text file + folders past PATH_MAX; "
                 f"property tests at the {'ci' if ctx.quick else 'soak'} profile")
    work = ctx.work / "hostile"
    subprocess.run(["rm", "-rf", str(work)], check=False)
    session = make_corpus(work / "session-corpus")
    corpus, store = work / "corpus", work / "store"
    hostile.make_hostile_corpus(corpus, session)
    hostile.make_deep(corpus / "bad", 2100)  # past PATH_MAX: reported, not indexed
    rng = ctx.rng
    kinds: Counter[str] = Counter()
    write_pdf(work / "real.pdf", ["Lighthouses of the northern coast are painted white. " * 8,
                                  "The keepers left in 1962."])
    pdf = (work / "real.pdf").read_bytes()
    for i in range(randoms):
        kind = rng.choice(["bytes", "unicode", "pdf"])
        kinds[kind] += 1
        suffix = rng.choice([".txt", ".md", ".html", ".pdf", ".docx"])
        if kind == "bytes":
            data = rng.randbytes(rng.randint(0, 20_000))
        elif kind == "unicode":
            suffix = rng.choice([".txt", ".md", ".html"])
            text = "".join(chr(rng.choice([rng.randint(32, 126), rng.randint(0, 0x2FFF),
                                           rng.randint(0x1F300, 0x1FAFF)]))
                           for _ in range(rng.randint(0, 3000)))
            data = text.encode("utf-8", "surrogatepass")
        else:
            suffix, cut = ".pdf", rng.randint(1, len(pdf))
            data = bytearray(pdf[:cut])
            for _ in range(rng.randint(0, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            data = bytes(data)
        (corpus / "random").mkdir(exist_ok=True)
        (corpus / "random" / f"r{i:04d}{suffix}").write_bytes(data)
    sentences = " ".join(f"Lighthouse {i} on rock {i * 3} was lit in {1800 + i % 200}."
                         for i in range(30_000))
    line = sentences[:ctx.n(1_000_000, 100_000)].rsplit(" ", 1)[0]
    (corpus / "one megabyte line.txt").write_text(line, encoding="utf-8")
    huge = corpus / "huge" / "one gigabyte.txt"
    free = shutil.disk_usage(work).free
    if free > 8 * 2**30:
        huge.parent.mkdir()
        line = ("The quick brown fox jumps over the lazy dog near the old harbour wall. " * 14
                + "\n").encode()
        with open(huge, "wb") as f:
            for _ in range(2**30 // len(line) + 1):
                f.write(line)
        res.details["one_gigabyte_file"] = f"{huge.stat().st_size:,} bytes on disk"
    else:
        res.details["one_gigabyte_file"] = f"skipped: {free / 2**30:.1f} GB free"
    ctx.seed_cache(store)
    shutil.copy(ROOT / "seeds" / "000_88f3b2186c936a7a.txt", corpus / "seed.txt")
    started = time.monotonic()
    command = (["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
               if os.geteuid() == 0 and shutil.which("setpriv") else [])
    watch = FileAccess(huge) if huge.exists() else None
    done = run_index(corpus, store, "--json", command=command)
    res.details["build_seconds"] = round(time.monotonic() - started, 1)
    io = dict(line.split(": ") for line in done.stderr.splitlines() if ": " in line
              and line.split(": ")[0] in ("rchar", "read_bytes"))
    res.details["build_bytes_read_mb"] = round(int(io.get("rchar", -1)) / 2**20)
    res.details["build_peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    res.check(done.returncode == 0, f"build failed: {done.stderr[-2000:]}")
    if watch is not None:  # the build never read the 1 GB file (inotify, IN_ACCESS)
        during = watch.events()
        with open(huge, "rb") as f:
            f.read(1)  # and the watch would have seen a read
        after = watch.events()
        watch.close()
        res.details["one_gigabyte_file_during_build"] = during
        res.check(during["reads"] == 0 and not during["overflow"] and after["reads"] > 0,
                  f"the 1 GB file: {during} during the build, {after} after one read")
    report = json.loads(done.stdout) if done.returncode == 0 else {"skipped": []}
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    indexed = set()
    if done.returncode == 0:
        reader = FaissReader(store)
        indexed = {p for (p,) in reader.db.execute("SELECT path FROM documents")}
        reader.close()
    for path in set(hostile.GOOD) | {"latin-1.txt", "long line.txt", "one megabyte line.txt",
                                     "seed.txt"}:
        res.check(path in indexed, f"good file not indexed: {path!r}")
    for path, (_, reason) in hostile.BAD.items():
        if path == "bad/just over the limit.txt":  # over the CI's 1 MB limit, not the default
            res.check(path in indexed, f"{path} not indexed")
            continue
        res.check(reason in skipped.get(path, ""), f"bad file {path!r}: {skipped.get(path)}")
    if huge.exists():
        res.check("too large" in skipped.get("huge/one gigabyte.txt", ""), "1 GB file")
        huge.unlink()
    for path in sorted((corpus / "random").iterdir()):
        rel = f"random/{path.name}"
        res.check(rel in indexed or bool(skipped.get(rel, "").strip()),
                  f"random file {rel} neither indexed nor reported")
    res.details["random_files"] = dict(kinds)
    res.details["random_files_indexed"] = sum(1 for p in indexed if p.startswith("random/"))
    res.details["random_files_skipped_with_reason"] = sum(1 for p in skipped
                                                          if p.startswith("random/"))
    deep_reported = [p for p, r in skipped.items() if "File name too long" in r]
    res.check(bool(deep_reported), "a folder past PATH_MAX was not reported")
    subprocess.run(["rm", "-rf", str(work)], check=False)  # deeper than PATH_MAX: GNU rm
    res.check(*property_tests(ctx, res))
    return res


def property_tests(ctx: Ctx, res: Result) -> tuple[bool, str]:
    """The hypothesis tests of loaders, chunking, questions and upload names, soak profile."""
    tests = ["tests/index/test_loaders.py::test_any_bytes_load_or_are_skipped_with_a_reason",
             "tests/index/test_chunking.py::test_any_unicode_text_chunks_exactly_within_the_window",
             "tests/retrieval/test_retriever.py::test_any_question_gets_an_answer_or_a_reason",
             "tests/bot/test_security.py::test_any_upload_name_is_saved_inside_the_folder"]
    profile = "ci" if ctx.quick else "soak"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--hypothesis-show-statistics", *tests], cwd=ROOT,
                          capture_output=True, text=True, timeout=7200,
                          env=dict(os.environ, QUOTEBOT_HYPOTHESIS=profile))
    examples = sum(int(line.split()[1]) for line in done.stdout.splitlines()
                   if line.strip().startswith("- ") and "passing" in line)
    res.details["property_test_examples"] = examples
    return done.returncode == 0, f"property tests failed: {done.stdout[-2000:]}"


# --- bots on the fake server ---------------------------------------------------------------

class Bot:
    """The real Application long-polling a fake Bot API server, in its own thread and loop."""

    def __init__(self, fake: FakeTelegram, config: Config, retriever: Any, **telegram: Any):
        from support.bot_runner import BotRunner, bot_config

        cfg = bot_config(config, fake, **telegram)
        self.runner = BotRunner(build_application(cfg, retriever, token=TOKEN, poll_timeout=1))

    def __enter__(self) -> Bot:
        self.runner.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.runner.stop()


def signatures(retriever: Retriever, candidates: list[str], want: int) -> dict[str, str]:
    """Questions whose answers' first quotes differ: question -> that quote's HTML."""
    from bot.handlers import HITS_PER_QUESTION

    chosen: dict[str, str] = {}
    seen: set[str] = set()
    for question in candidates:
        answer = retriever.ask(question, k=HITS_PER_QUESTION)
        if not answer.found:
            continue
        first = render_page(answer, 0).split("</blockquote>")[0]
        if first not in seen:
            seen.add(first)
            chosen[question] = first
        if len(chosen) == want:
            break
    return chosen


def headline_questions(corpus: Path, rng: random.Random, count: int) -> list[str]:
    docs = sorted(corpus.glob("*/*.txt"))
    picked = rng.sample(docs, min(count, len(docs)))
    return [p.read_text(encoding="utf-8", errors="replace").split("\n")[0].strip() + "?"
            for p in picked]


class Traffic:
    """Questions sent to the fake server and the answers that came back, by first quote."""

    def __init__(self, fake: FakeTelegram, expected: dict[str, str]) -> None:
        self.fake = fake
        self.expected = expected  # question -> first quote
        self.by_quote = {quote: q for q, quote in expected.items()}
        self.asked: dict[tuple[int, str], float] = {}
        self.other_samples: list[str] = []  # the first few replies matching no question

    def ask(self, chat: int, question: str) -> None:
        self.asked[chat, question] = time.monotonic()
        self.fake.user_message(chat, question)

    def replies(self) -> tuple[Counter[tuple[int, str]], dict[tuple[int, str], float], int]:
        """(answers per (chat, question), first answer time, other messages)."""
        counts: Counter[tuple[int, str]] = Counter()
        first_at: dict[tuple[int, str], float] = {}
        other = 0
        with self.fake.cond:
            calls = [c for c in self.fake.calls
                     if c.method == "sendMessage" and isinstance(c.result, dict)]
        chats = {chat for chat, _ in self.asked}
        for call in calls:
            message = call.result
            if message["chat"]["id"] not in chats:
                continue  # not a chat of this traffic (an admin, another test's asker)
            question = self.by_quote.get(message["html"].split("</blockquote>")[0])
            key = (message["chat"]["id"], question)
            if question is None or key not in self.asked:
                other += 1
                if len(self.other_samples) < 5 and message["html"] not in self.other_samples:
                    self.other_samples.append(message["html"][:300])
                continue
            counts[key] += 1
            first_at.setdefault(key, call.at)
        return counts, first_at, other

    def wait(self, timeout: float, idle: float = 20.0) -> None:
        """Until every question has an answer, or nothing new came for `idle` seconds."""
        deadline = time.monotonic() + timeout
        last, last_change = -1, time.monotonic()
        while time.monotonic() < deadline:
            counts, _, _ = self.replies()
            if set(self.asked) <= set(counts):
                break
            total = sum(counts.values())
            if total != last:
                last, last_change = total, time.monotonic()
            elif time.monotonic() - last_change > idle:
                break
            time.sleep(0.2)
        time.sleep(1.5)  # a late duplicate would show now

    def dropped_before_delivery(self) -> set[tuple[int, str]]:
        """(chat, question) of answers whose send the server dropped before doing it."""
        with self.fake.cond:
            calls = [c for c in self.fake.calls if c.method == "sendMessage"
                     and c.status == 0 and c.result is None]
        keys = set()
        for call in calls:
            question = self.by_quote.get(str(call.params.get("text", ""))
                                         .split("</blockquote>")[0])
            keys.add((int(call.params["chat_id"]), question))
        return keys

    def tally(self) -> dict[str, int]:
        counts, _, other = self.replies()
        return {"questions": len(self.asked),
                "answered_once": sum(1 for k in self.asked if counts.get(k) == 1),
                "lost": sum(1 for k in self.asked if not counts.get(k)),
                "answered_twice_or_more": sum(1 for k in self.asked if counts.get(k, 0) > 1),
                "other_messages": other, "other_samples": list(self.other_samples)}


@contextlib.contextmanager
def bbc_bot_world(ctx: Ctx, questions: int) -> Iterator[tuple[Config, Retriever, dict[str, str]]]:
    corpus, store = ctx.full_store()
    config = config_for(corpus, store)
    retriever = Retriever.open(config)
    try:
        chosen = signatures(retriever, headline_questions(corpus, ctx.rng, questions * 3),
                            questions)
        yield config, retriever, chosen
    finally:
        retriever.close()


# --- scenario: questions -------------------------------------------------------------------

def random_question(rng: random.Random) -> str:
    kind = rng.choice(["empty", "long", "punctuation", "scripts", "controls", "html", "random",
                       "mixed"])
    if kind == "empty":
        return rng.choice(["", " ", "\n\t", "\u200b"])
    if kind == "long":
        return ("Who won the election in Wales? " * 400)[:rng.randint(1000, 12_000)]
    if kind == "punctuation":
        return "".join(rng.choice("?!.,;:—«»¿¡()[]{}'\"-_/\\*&^%$#@~`") for _ in
                       range(rng.randint(1, 200)))
    if kind == "scripts":
        return rng.choice(["伦敦第一家咖啡馆是什么时候开的？", "متى فاز حزب العمال؟",
                           "Кто выиграл выборы?", "चुनाव किसने जीता?", "☕🏰❓🗳️",
                           "Wer hat die Wahl gewonnen?", "選挙に勝ったのは誰ですか"])
    if kind == "controls":
        return "".join(chr(rng.randint(0, 31)) if rng.random() < 0.3 else rng.choice("abc ?")
                       for _ in range(rng.randint(1, 100)))
    if kind == "html":
        return rng.choice(["<b>Who</b> won?", "<a href='https://x.example'>link</a>?",
                           "&lt;script&gt;alert(1)&lt;/script&gt;", "<tg-spoiler>x</tg-spoiler>",
                           "</blockquote><i>who won the cup?"])
    if kind == "random":
        return "".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(0, 300)))
    return "When " + "".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(20)) + " election?"


def scenario_questions(ctx: Ctx) -> Result:
    direct, through_bot = ctx.n(2000, 200), ctx.n(500, 60)
    res = Result("questions", f"{direct} random hostile questions to the Python API and "
                 f"{through_bot} through the bot, on the 2,225-document BBC store")
    with bbc_bot_world(ctx, 1) as (config, retriever, _):
        kinds: Counter[str] = Counter()
        for i in range(direct):
            question = random_question(ctx.rng)
            try:
                answer = retriever.ask(question)
                json.dumps(answer.to_dict(), ensure_ascii=False).encode("utf-8")
                ok = bool(answer.hits) if answer.found else bool(answer.reason)
                kinds["found" if answer.found else "declined with a reason"] += 1
                res.check(ok, f"question {i}: neither quotes nor a reason")
            except Exception as exc:  # noqa: BLE001 - what the scenario counts
                res.check(False, f"question {question[:60]!r}: {type(exc).__name__}: {exc}")
        res.details["python_api"] = dict(kinds)
        fake = FakeTelegram(TOKEN).start()
        try:
            with Bot(fake, config, retriever, rate_per_minute=0):
                chats = range(80_000, 80_000 + through_bot)
                asked = {}
                for chat in chats:
                    question = random_question(ctx.rng)
                    if not question.strip() or len(question) > 4096:
                        question = "/ask " + question[:4000]
                    asked[chat] = question.replace("\x00", " ") or "/ask"
                    fake.user_message(chat, asked[chat])
                deadline = time.monotonic() + 600
                while time.monotonic() < deadline and not all(fake.sent(c) for c in chats):
                    time.sleep(0.5)
                time.sleep(2)
                for chat in chats:
                    sent = fake.sent(chat)
                    res.check(len(sent) == 1 and sent[0]["text"] != FAILED,
                              f"chat {chat}: {[m['text'][:60] for m in sent]} to "
                              f"{asked[chat][:60]!r}")
        finally:
            fake.stop()
    return res


# --- scenario: load ------------------------------------------------------------------------

def scenario_load(ctx: Ctx) -> Result:
    rounds, chats, each = ctx.n(3, 1), 200, 5
    res = Result("load", f"{chats} chats x {each} questions at once, {rounds} rounds, on the "
                 "2,225-document BBC store: each answered exactly once; update-to-reply time")
    latencies: list[float] = []
    with bbc_bot_world(ctx, 60) as (config, retriever, chosen):
        questions = list(chosen)
        res.details["distinct_questions"] = len(questions)
        for round_ in range(rounds):
            fake = FakeTelegram(TOKEN).start()
            try:
                with Bot(fake, config, retriever):
                    traffic = Traffic(fake, chosen)
                    started = time.monotonic()
                    for n in range(each):
                        for chat in range(100_000, 100_000 + chats):
                            traffic.ask(chat, questions[(chat * 7 + n) % len(questions)])
                    traffic.wait(900)
                    counts, first_at, other = traffic.replies()
                    finished = max(first_at.values(), default=started)
                    for key in traffic.asked:
                        res.check(counts.get(key) == 1, f"round {round_}: {key} answered "
                                  f"{counts.get(key, 0)} times")
                        if key in first_at:
                            latencies.append(first_at[key] - traffic.asked[key])
                    res.details.setdefault("rounds", []).append({
                        "seconds_for_all": round(finished - started, 1),
                        "answers_per_second": round(len(traffic.asked)
                                                    / max(finished - started, 1e-9), 1),
                        "other_messages": other})
            finally:
                fake.stop()
    if latencies:
        res.details["update_to_reply_p50_s"] = round(percentile(latencies, 0.50), 2)
        res.details["update_to_reply_p95_s"] = round(percentile(latencies, 0.95), 2)
        res.details["update_to_reply_max_s"] = round(max(latencies), 2)
    return res


# --- scenario: faults ----------------------------------------------------------------------

FAULTS = ["429", "500", "502", "slow", "drop before", "drop after delivery"]


def inject(fake: FakeTelegram, rng: random.Random, method: str, kind: str) -> None:
    if kind == "429":
        fake.fail_next(method, 429, retry_after=1)
    elif kind in ("500", "502"):
        fake.fail_next(method, int(kind))
    elif kind == "slow":
        fake.slow_next(method, rng.uniform(0.5, 3.0))
    elif kind == "drop before":
        fake.fail_next(method, 0)
    else:
        fake.fail_next(method, 0, deliver=True)


def fault_kind(fault: Any) -> str:
    """The FAULTS name of a queued fake-server fault."""
    if fault.status == -1:
        return "slow"
    if fault.status == 0:
        return "drop after delivery" if fault.deliver else "drop before"
    return str(fault.status)


def scenario_faults(ctx: Ctx) -> Result:
    questions, restarts, crashes = ctx.n(600, 80), ctx.n(10, 2), ctx.n(8, 2)
    res = Result("faults", f"{questions} questions under random Telegram faults on getUpdates "
                 f"and sendMessage ({', '.join(FAULTS)}); {restarts} graceful restarts and "
                 f"{crashes} SIGKILL crashes of the bot while questions arrive")
    with bbc_bot_world(ctx, 40) as (config, retriever, chosen):
        random_faults(ctx, res, config, retriever, chosen, questions)
        graceful_restarts(ctx, res, config, retriever, chosen, restarts)
    crash_restarts(ctx, res, crashes)
    return res


def random_faults(ctx: Ctx, res: Result, config: Config, retriever: Retriever,
                  chosen: dict[str, str], questions: int) -> None:
    fake = FakeTelegram(TOKEN).start()
    injected: Counter[str] = Counter()
    stop = threading.Event()

    def chaos() -> None:
        while not stop.is_set():
            method = ctx.rng.choice(["getUpdates", "sendMessage", "sendMessage"])
            kind = ctx.rng.choice(FAULTS)
            if method == "getUpdates" and kind == "drop after delivery":
                kind = "drop before"
            with fake.cond:  # one fault waiting per method: they hit calls as they come
                waiting = any(f.method == method for f in fake.faults)
            if not waiting:
                inject(fake, ctx.rng, method, kind)
                injected[f"{method} {kind}"] += 1
            stop.wait(ctx.rng.uniform(0.1, 0.6))

    try:
        with Bot(fake, config, retriever, rate_per_minute=0):
            traffic = Traffic(fake, chosen)
            worker = threading.Thread(target=chaos, daemon=True)
            worker.start()
            names = list(chosen)
            for i in range(questions):  # about 10 a second, faults all along
                traffic.ask(110_000 + i // len(names), names[i % len(names)])
                time.sleep(ctx.rng.uniform(0, 0.2))
            # Faults go on until every question is answered (or nothing moves for 20 s):
            # a bot slowed by getUpdates faults still meets sendMessage faults.
            traffic.wait(600)
            stop.set()
            worker.join()
            with fake.cond:  # what was queued and not hit
                for fault in fake.faults:
                    injected[f"{fault.method} {fault_kind(fault)}"] -= 1
                fake.faults.clear()
            traffic.wait(600)
            tally = traffic.tally()
            counts, _, _ = traffic.replies()
            ambiguous = traffic.dropped_before_delivery()
    finally:
        stop.set()
        fake.stop()
    # A send whose connection drops cannot be told from one dropped after delivery, so the
    # bot never resends it (the user gets an apology instead): such an answer is lost by
    # design and counted apart. Any other loss, and any answer twice, is a failure.
    lost_by_design = 0
    for key in traffic.asked:
        times = counts.get(key, 0)
        if times == 0 and key in ambiguous:
            lost_by_design += 1
        res.check(times == 1 or (times == 0 and key in ambiguous),
                  f"{key} answered {times} times")
    res.details["random_faults"] = {"faults_hit": dict(+injected), **tally,
                                    "lost_as_their_send_was_dropped": lost_by_design}


def graceful_restarts(ctx: Ctx, res: Result, config: Config, retriever: Retriever,
                      chosen: dict[str, str], restarts: int) -> None:
    fake = FakeTelegram(TOKEN).start()
    traffic = Traffic(fake, chosen)
    names = list(chosen)
    try:
        for restart in range(restarts + 1):
            with Bot(fake, config, retriever, rate_per_minute=0):
                for i in range(30):
                    traffic.ask(120_000 + 100 * restart + i, names[i % len(names)])
                    time.sleep(0.02)
                time.sleep(ctx.rng.uniform(0.2, 2.0))  # stop while answers are in flight
        with Bot(fake, config, retriever, rate_per_minute=0):
            traffic.wait(300)
            tally = traffic.tally()
    finally:
        fake.stop()
    res.details["graceful_restarts"] = {"restarts": restarts, **tally}
    res.check(tally["answered_once"] == tally["questions"], f"graceful restarts: {tally}")


def crash_restarts(ctx: Ctx, res: Result, crashes: int) -> None:
    """`quotebot bot` in a subprocess, SIGKILLed at random moments of steady traffic (about
    5 questions a second) and started again each time."""
    corpus, store = ctx.full_store()
    fake = FakeTelegram(TOKEN).start()
    env = dict(os.environ, PYTHONPATH=str(ROOT), TELEGRAM_BOT_TOKEN=TOKEN,
               QUOTEBOT_TELEGRAM_RATE_PER_MINUTE="0", QUOTEBOT_TELEGRAM_PUBLIC="true")
    argv = [sys.executable, "-m", "quotebot", "bot", "--corpus", str(corpus), "--store",
            str(store), "--base-url", fake.base_url]
    retriever = Retriever.open(config_for(corpus, store))
    chosen = signatures(retriever, headline_questions(corpus, ctx.rng, 60), 20)
    retriever.close()
    traffic = Traffic(fake, chosen)
    names = list(chosen)
    stop = threading.Event()

    def steady() -> None:
        i = 0
        while not stop.is_set():
            traffic.ask(130_000 + i // len(names), names[i % len(names)])
            i += 1
            stop.wait(0.2)

    worker = threading.Thread(target=steady, daemon=True)
    try:
        for crash in range(crashes + 1):
            process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            polls = len(fake.polls)
            fake.wait_for(lambda p=polls: len(fake.polls) > p, timeout=300)  # polling now
            if crash == 0:
                worker.start()
            if crash < crashes:
                time.sleep(ctx.rng.uniform(3.0, 15.0))
                process.send_signal(signal.SIGKILL)
                process.wait(120)
        time.sleep(10)
        stop.set()
        worker.join()
        traffic.wait(300)
        process.send_signal(signal.SIGINT)
        process.wait(120)
        tally = traffic.tally()
    finally:
        stop.set()
        fake.stop()
    res.details["crash_restarts"] = {"crashes": crashes, **tally}
    # The bot's update journal (bot/journal.py) records each update before it is confirmed
    # and answers after a restart what was not answered: a loss or an answer twice is a
    # failure (benchmarks/bot_kills.py does 30 kills of this kind on its own).
    res.check(tally["answered_twice_or_more"] == 0, f"crash restarts repeated: {tally}")
    res.check(tally["lost"] == 0, f"crash restarts lost questions: {tally}")


# --- scenario: rebuild while asking --------------------------------------------------------

HARBOURS = ["Quillon", "Brannock", "Tavistrel", "Morwenna", "Skelderby", "Ardvane", "Pellinor",
            "Castrovel", "Dunmarrow", "Elsworthy"]


def scenario_rebuild(ctx: Ctx) -> Result:
    rebuilds = ctx.n(6, 2)
    res = Result("rebuild", f"{rebuilds} rebuilds (/reindex with 10 new documents each) of the "
                 "2,225-document BBC store while questions keep coming (10 a second): old "
                 "index until the switch, then the new one; every question answered once; "
                 "no error; then 3 `quotebot index` runs beside the bot")
    work, config = ctx.full_store_copy("rebuild")
    retriever = Retriever.open(config)
    chosen = signatures(retriever, headline_questions(work / "corpus", ctx.rng, 60), 20)
    fake = FakeTelegram(TOKEN).start()
    errors = ErrorLog()
    traffic = Traffic(fake, chosen)
    stop = threading.Event()
    names = list(chosen)

    def background() -> None:
        i = 0
        while not stop.is_set():
            traffic.ask(140_000 + i // len(names), names[i % len(names)])
            i += 1
            stop.wait(0.1)

    switches = []
    try:
        with Bot(fake, config, retriever, admins=[1], rate_per_minute=0), errors:
            worker = threading.Thread(target=background, daemon=True)
            worker.start()
            for n in range(rebuilds):
                folder = work / "corpus" / f"new-{n}"
                folder.mkdir()
                # Each round's harbour has a name of its own: with only a number ("Quillon 4")
                # the earlier rounds' near-identical reports outranked this round's (digits
                # are weak evidence), and the answer never showed the switch.
                harbour = HARBOURS[n % len(HARBOURS)] + (f" {n}" if n >= len(HARBOURS) else "")
                for d in range(10):
                    (folder / f"{d}.txt").write_text(
                        f"Harbour report {n}-{d}\n\nThe harbour of {harbour} counted "
                        f"{n * 100 + d * 7 + 3} lanterns on pier {d} during the storm of "
                        f"week {n + d}. Every lantern was lit by hand.\n", encoding="utf-8")
                # Any of this round's documents answers it; none is in the index before.
                question, needle = (f"How many lanterns did the harbour of {harbour} count "
                                    "on pier 0?", f"{harbour} counted")
                reports = sum("Index updated" in m["text"] for m in fake.sent(1))
                fake.user_message(1, "/reindex")
                found: list[bool] = []
                asker = 150_000 + n
                started = time.monotonic()
                while (sum("Index updated" in m["text"] for m in fake.sent(1)) <= reports
                       or found[-2:] != [True, True]):
                    fake.user_message(asker, question)
                    reply = fake.wait_sent(asker, len(found) + 1, timeout=300)[-1]
                    found.append(needle in reply["text"])
                    if time.monotonic() - started > 300:
                        break
                switch = found.index(True) if True in found else len(found)
                monotonic = found == [False] * switch + [True] * (len(found) - switch)
                switches.append({"answers_from_old_index": switch,
                                 "answers_from_new_index": len(found) - switch,
                                 "seconds": round(time.monotonic() - started, 1)})
                res.check(monotonic and switch < len(found),
                          f"rebuild {n}: answers went {found}")
            external_builds(res, fake, config, work)
            stop.set()
            worker.join()
            traffic.wait(300)
            tally = traffic.tally()
    finally:
        stop.set()
        fake.stop()
        retriever.close()
    res.details["rebuilds"] = switches
    res.details["background"] = tally
    res.check(tally["answered_once"] == tally["questions"], f"background: {tally}")
    res.check(not errors.records, f"errors logged: {errors.records[:3]}")
    res.check(not [m for m in fake.sent() if m["text"] == FAILED], "an apology was sent")
    shutil.rmtree(work, ignore_errors=True)
    return res


def external_builds(res: Result, fake: FakeTelegram, config: Config, work: Path) -> None:
    """`quotebot index` run three times beside the bot (cron, a shell): the bot answers
    from each new generation as soon as it is published (the live index of issue 13,
    `retrieval/generations.py`), old ones are pruned, and /reindex still works after."""
    asker, question = 160_000, "Which lighthouse keeper of Skerra kept 41 goats?"
    for n in range(3):
        (work / "corpus" / f"outside-{n}.txt").write_text(
            f"Keepers {n}\n\nThe lighthouse keeper of Skerra {n} kept {41 + 16 * n} goats "
            "on the island.\n", encoding="utf-8")
        done = run_index(config.corpus, config.store)
        res.check(done.returncode == 0, f"external build {n}: {done.stderr[-500:]}")
        time.sleep(1.5)  # the bot looks at CURRENT at most once a second
        fake.user_message(asker, question)
        reply = fake.wait_sent(asker, n + 1, timeout=120)[-1]
        res.check("kept 41 goats" in reply["text"],
                  f"the bot did not follow outside build {n} (live index)")
    res.check(len(generations(config.store)) <= config.index.keep_generations,
              "old generations were not pruned")
    reports = sum("Index updated" in m["text"] for m in fake.sent(1))
    fake.user_message(1, "/reindex")
    fake.wait_for(lambda: sum("Index updated" in m["text"] for m in fake.sent(1)) > reports,
                  timeout=300)
    fake.user_message(asker, question)
    reply = fake.wait_sent(asker, 4, timeout=120)[-1]
    res.check("kept 41 goats" in reply["text"], "no switch to the newest index at /reindex")
    res.details["external_builds"] = 3


class ErrorLog(logging.Handler):
    """Collects ERROR records of the bot while in use (`with ErrorLog():`)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())

    def __enter__(self) -> ErrorLog:
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self)


# --- scenario: security --------------------------------------------------------------------

def scenario_security(ctx: Ctx) -> Result:
    outsiders = ctx.n(1000, 120)
    res = Result("security", f"{outsiders} updates from outside the allowlist (private, "
                 "group, mention, reply, commands, forged buttons, uploads) among insider "
                 "questions: no corpus text out; the bot token in no log line or message "
                 "while errors are forced; upload names; rejected token")
    work, config = ctx.full_store_copy("security")
    retriever = Retriever.open(config)
    chosen = signatures(retriever, headline_questions(work / "corpus", ctx.rng, 30), 10)
    insiders, admin = list(range(1, 11)), 1
    fake = FakeTelegram(TOKEN).start()
    log_file = work / "bot.log"
    handler = logging.FileHandler(log_file)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    previous_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    kinds: Counter[str] = Counter()
    try:
        with Bot(fake, config, retriever, allowed_users=insiders, admins=[admin],
                 rate_per_minute=0):
            names = list(chosen)
            answers = []
            for user in insiders:
                fake.user_message(user, names[user % len(names)])
            fake.wait_for(lambda: all(fake.sent(u) for u in insiders), timeout=300)
            answers = [fake.sent(u)[0] for u in insiders]
            for i in range(outsiders):
                user = 200_000 + i % 97
                chat = ctx.rng.choice([user, -300_000 - i % 13])
                kind = ctx.rng.choice(["text", "ask", "mention", "reply", "command", "button",
                                       "upload"])
                kinds[kind] += 1
                question = ctx.rng.choice(names)
                if kind == "text":
                    fake.user_message(user, question, chat_id=chat)
                elif kind == "ask":
                    fake.user_message(user, f"/ask {question}", chat_id=chat)
                elif kind == "mention":
                    fake.user_message(user, f"@{BOT_USERNAME} {question}", chat_id=chat)
                elif kind == "reply":
                    fake.user_message(user, question, chat_id=chat,
                                      reply_to=ctx.rng.choice(answers))
                elif kind == "command":
                    fake.user_message(user, ctx.rng.choice(["/help", "/start", "/stats",
                                                            "/reindex"]), chat_id=chat)
                elif kind == "button":
                    answer = ctx.rng.choice(answers)
                    row = answer["reply_markup"]["inline_keyboard"]
                    data = ctx.rng.choice([b for r in row for b in r])["callback_data"]
                    forged = copy.deepcopy(answer)
                    if ctx.rng.random() < 0.5:
                        forged["chat"] = {"id": chat, "type": "private" if chat > 0
                                          else "supergroup", "title": "x", "first_name": "x"}
                    fake.press_button(user, forged, data)
                else:
                    fake.upload(user, ctx.rng.choice(["a.txt", "../../x.txt", "/etc/y.md"]),
                                b"Outsider text.", chat_id=chat)
            time.sleep(5)
            outsider_chats = {c.result["chat"]["id"] for c in fake.calls
                              if c.method == "sendMessage" and isinstance(c.result, dict)}
            outsider_chats -= set(insiders)
            for chat in sorted(outsider_chats):
                for message in fake.sent(chat):
                    res.check(message["text"] == REFUSAL,
                              f"chat {chat} got {message['text'][:80]!r}")
            callbacks = [c for c in fake.calls_to("answerCallbackQuery")
                         if c.params.get("text") not in (REFUSAL, EXPIRED)]
            res.check(not callbacks, f"callback answers other than refusals: {callbacks[:2]}")
            res.check(not fake.calls_to("getFile"), "an outsider's upload was downloaded")
            res.check(not fake.calls_to("editMessageText"), "an outsider paged an answer")
            res.details["outsider_updates"] = dict(kinds)
            res.details["refusals_sent"] = sum(len(fake.sent(c)) for c in outsider_chats)
            around = set((work / "corpus").parent.iterdir())
            before = set((work / "corpus").rglob("*"))
            forced_errors(ctx, res, fake, admin)
            added = set((work / "corpus").rglob("*")) - before
            res.check(set((work / "corpus").parent.iterdir()) == around
                      and all(p.parent == work / "corpus" and not p.name.startswith(".")
                              for p in added), f"uploads landed at {sorted(added)}")
            res.details["forced_error_uploads"]["files_added_in_corpus"] = len(added)
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(previous_level)
        fake.stop()
        retriever.close()
    text = log_file.read_text(errors="replace")
    res.details["log_lines_checked"] = text.count("\n")
    res.check(SECRET not in text, "the token is in the log")
    res.check(all(SECRET not in m["html"] for m in fake.sent()), "the token is in a message")
    server = FakeTelegram("1:another-token").start()
    try:
        rejected = subprocess.run(
            [sys.executable, "-m", "quotebot", "bot", "--corpus", str(work / "corpus"),
             "--store", str(work / "store"), "--base-url", server.base_url],
            capture_output=True, text=True, cwd=ROOT, timeout=600,
            env=dict(os.environ, PYTHONPATH=str(ROOT),
                     TELEGRAM_BOT_TOKEN="55555:REJECTED-soak-token"))
    finally:
        server.stop()
    res.check(rejected.returncode == 2 and "rejected the bot token" in rejected.stderr
              and "REJECTED-soak-token" not in rejected.stderr + rejected.stdout,
              f"rejected token: exit {rejected.returncode}: {rejected.stderr[-300:]}")
    shutil.rmtree(work, ignore_errors=True)
    return res


def forced_errors(ctx: Ctx, res: Result, fake: FakeTelegram, admin: int) -> None:
    """Errors with the token in URLs: failed downloads, 5xx, dropped connections."""
    for i in range(ctx.n(30, 5)):
        message = fake.upload(admin, ctx.rng.choice(["../../evil.txt", "/abs/x.txt",
                                                     "nul\x00.txt", "ok.txt"]), b"x")
        if i % 2:
            del fake.files[message["document"]["file_id"]]  # the download fails
    for method in ("sendMessage", "getUpdates", "answerCallbackQuery", "getFile"):
        for kind in FAULTS:
            inject(fake, ctx.rng, method, kind)
    for _ in range(20):
        fake.user_message(admin, "/stats")
    time.sleep(10)
    saved = [m for m in fake.sent(admin) if "Saved as" in m["text"]]
    res.details["forced_error_uploads"] = {"sent": ctx.n(30, 5), "saved": len(saved)}


# --- main ----------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few trials of each (~8 min)")
    parser.add_argument("--only", default="", help="comma-separated scenarios: "
                        + ",".join(SCENARIOS))
    parser.add_argument("--bbc", type=Path, default=Path("../shared/data/bbc-news/bbc"),
                        help="BBC News folder (default: ../shared/data/bbc-news/bbc)")
    parser.add_argument("--bbc-store", type=Path, default=Path("/tmp/qb/bbc-store"),
                        help="a prebuilt BBC store to copy for its embedding cache (optional)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="scratch folder (default: a new temporary folder, removed after)")
    parser.add_argument("--seed", type=int, default=20261124, help="random seed")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    args.bbc, args.bbc_store = args.bbc.resolve(), args.bbc_store.resolve()
    chosen = [s for s in args.only.split(",") if s] or SCENARIOS
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("bm25s").disabled = True  # it logs each index build at WARNING
    log.setLevel(logging.INFO)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="quotebot-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    ctx = Ctx(args, work.resolve(), random.Random(args.seed))
    started = time.monotonic()
    for name in chosen:
        log.info("scenario %s ...", name)
        t0 = time.monotonic()
        try:
            result = globals()[f"scenario_{name}"](ctx)
        except Exception as exc:  # noqa: BLE001 - a broken scenario is reported, not hidden
            result = Result(name, "scenario crashed")
            result.check(False, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        result.seconds = round(time.monotonic() - t0, 1)
        ctx.results.append(result)
        log.info("scenario %s: %d/%d survived in %.0f s", name, result.survived, result.tried,
                 result.seconds)
        if args.json:  # after each scenario, so a run cut short keeps what it did
            args.json.write_text(json.dumps({"quick": args.quick, "seed": args.seed,
                                             "results": [r.__dict__ for r in ctx.results]},
                                            indent=2, default=str))
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    print(report(ctx, time.monotonic() - started))
    return 0 if all(r.survived == r.tried for r in ctx.results) else 1


def report(ctx: Ctx, seconds: float) -> str:
    lines = [f"quotebot soak ({'quick' if ctx.quick else 'full'}, seed {ctx.args.seed}, "
             f"{time.strftime('%Y-%m-%d')}, {seconds / 60:.1f} min)", "",
             "| scenario | what | checks survived / tried | seconds |", "|---|---|---|---|"]
    for r in ctx.results:
        lines.append(f"| {r.scenario} | {r.what} | {r.survived} / {r.tried} | {r.seconds:.0f} |")
    lines.append("")
    for r in ctx.results:
        lines.append(f"{r.scenario}: {json.dumps(r.details, default=str)}")
        for failure in r.failures[:10]:
            lines.append(f"  FAILED: {failure[:500]}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
