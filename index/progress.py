"""A build's progress in a small JSON file in the store, for `quotebot status` and /stats.

    <store>/build-progress.json   {"pid", "phase", "done", "total", "started", "updated"}

Written atomically as the build goes (at most twice a second) and removed when it ends;
a file whose process is gone is a build that was killed. Also the watcher's mark:

    <store>/watch.json            {"pid", "corpus", "since"}
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from store.generations import LOCK

PROGRESS = "build-progress.json"
WATCH = "watch.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write(path: Path, data: dict[str, Any]) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(temp, path)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass
class Progress:
    """Where a running build is: phase ("reading", "embedding", "writing"), done of total."""

    pid: int
    phase: str
    done: int = 0
    total: int = 0
    started: float = 0.0
    updated: float = 0.0


class BuildProgress:
    """Writes the running build's progress file (errors writing it never stop a build)."""

    def __init__(self, store: Path) -> None:
        self.path = Path(store) / PROGRESS
        self.state = Progress(os.getpid(), "starting", started=time.time())
        self._written = 0.0
        self.update("starting", force=True)

    def update(self, phase: str, done: int = 0, total: int = 0, *, force: bool = False) -> None:
        now = time.monotonic()
        changed = phase != self.state.phase
        self.state.phase, self.state.done, self.state.total = phase, done, total
        if not (force or changed or now - self._written >= 0.5):
            return
        self._written = now
        self.state.updated = time.time()
        with contextlib.suppress(OSError):  # a full or read-only disk fails the build itself
            _write(self.path, asdict(self.state))

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)


def _pid(data: dict[str, Any]) -> int:
    try:
        pid = int(data.get("pid") or 0)
    except (TypeError, ValueError):
        return 0
    return pid if pid > 0 else 0


def _locked(path: Path) -> bool | None:
    """Whether some process holds the flock on `path` (None when it cannot be told:
    no such file, or no /proc/locks). Read-only: it never takes the lock itself."""
    try:
        stat = os.stat(path)
        with open("/proc/locks", encoding="ascii", errors="replace") as locks:
            table = locks.read()
    except OSError:
        return None
    inode = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    return any("FLOCK" in fields and inode in fields
               for fields in (line.split() for line in table.splitlines()))


def read_progress(store: Path) -> dict[str, Any] | None:
    """The running build's progress (with "running": False if its build is gone).

    A killed build leaves its file behind, and its pid may belong to another process
    since (in a container, the next one is pid 1 again): the build's lock decides.
    """
    data = _read(Path(store) / PROGRESS)
    if data is None:
        return None
    pid = _pid(data)
    held = _locked(Path(store) / LOCK)
    data["running"] = held if held is not None else (pid > 0 and _alive(pid))
    return data


def mark_watching(store: Path, corpus: Path) -> None:
    Path(store).mkdir(parents=True, exist_ok=True)
    _write(Path(store) / WATCH, {"pid": os.getpid(), "corpus": str(corpus), "since": time.time()})


def unmark_watching(store: Path) -> None:
    data = _read(Path(store) / WATCH)
    if data and data.get("pid") == os.getpid():
        (Path(store) / WATCH).unlink(missing_ok=True)


def read_watching(store: Path) -> dict[str, Any] | None:
    """The watcher of this store, if one is running."""
    data = _read(Path(store) / WATCH)
    pid = _pid(data) if data is not None else 0
    return data if pid and _alive(pid) else None
