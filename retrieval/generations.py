"""Follow the live generation of a store: switch readers when a build publishes a new one.

A build publishes a generation by replacing the store's `CURRENT` file (store/generations.py).
`Generations` notices that with one `stat` of `CURRENT`, at most once per `interval`, opens
a reader for the new generation and makes it the one new questions use. Readers are
reference-counted: a question that started on the old generation finishes on it, and the
old reader is closed when its last user leaves. The reader itself is opaque here ("open a
reader for a generation folder / close it"), so this works for any store backend.

A store that disappears or a generation that cannot be opened (damaged, another model)
does not stop answering: the reader in hand keeps serving, and one warning is logged per
problem (not one per question).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

R = TypeVar("R")


@dataclass(eq=False)
class Generation(Generic[R]):
    """An open reader of one generation folder, and how many questions are using it."""

    folder: Path
    reader: R
    users: int = 0
    retired: bool = False  # a newer generation is live: close when the last user leaves
    closed: bool = False


class Generations(Generic[R]):
    """The live generation's reader, switched safely when `CURRENT` changes.

    `open_reader(folder)` opens a reader for a generation folder (raising on a damaged or
    unusable one), `close_reader(reader)` closes it, `live_folder()` reads which folder
    `CURRENT` names now. `use()` lends the current reader for the length of one question.
    """

    def __init__(self, current_file: Path, live_folder: Callable[[], Path | None],
                 open_reader: Callable[[Path], R], close_reader: Callable[[R], None],
                 *, interval: float = 1.0) -> None:
        self.current_file = current_file
        self.live_folder = live_folder
        self.open_reader = open_reader
        self.close_reader = close_reader
        self.interval = interval
        self._lock = threading.Lock()
        self._switching = threading.Lock()  # one thread opens a new reader at a time
        self._checked = 0.0
        self._seen: tuple[int, int, int] | None = None  # CURRENT's (inode, mtime_ns, size)
        self._warned: set[str] = set()
        self.switches = 0
        folder = live_folder()
        if folder is None:
            raise FileNotFoundError(f"no live generation in {current_file.parent}")
        self._seen = self._identity()
        self.current: Generation[R] = Generation(folder, open_reader(folder))

    # --- lending ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def use(self) -> Iterator[Generation[R]]:
        """The generation to answer one question from (newest published, checked cheaply);
        it stays open until the `with` block ends, whatever is published meanwhile."""
        self.check()
        with self._lock:
            generation = self.current
            generation.users += 1
        try:
            yield generation
        finally:
            self._release(generation)

    def _release(self, generation: Generation[R]) -> None:
        with self._lock:
            generation.users -= 1
            close = generation.retired and generation.users == 0 and not generation.closed
            if close:
                generation.closed = True
        if close:
            self.close_reader(generation.reader)

    # --- following CURRENT -----------------------------------------------------------------

    def _identity(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.current_file)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def check(self, *, force: bool = False) -> bool:
        """Switch to a newer generation if `CURRENT` changed; True when this call switched.

        Without `force`, at most one stat per `interval` seconds (shared by all threads);
        a thread that finds another already opening the new reader goes on with the old.
        """
        now = time.monotonic()
        if not force and now - self._checked < self.interval:
            return False
        self._checked = now
        identity = self._identity()
        if identity is None:
            self._warn_once("gone", "the index store %s is gone (CURRENT missing): still "
                            "answering from %s, which stays open; rebuild with `quotebot "
                            "index`", self.current_file.parent, self.current.folder.name)
            return False
        if identity == self._seen and not force:
            return False
        if not self._switching.acquire(blocking=force):
            return False
        try:
            return self._switch(identity)
        finally:
            self._switching.release()

    def _switch(self, identity: tuple[int, int, int]) -> bool:
        for _attempt in range(3):  # a build may publish (and prune) while we open
            try:
                folder = self.live_folder()
            except Exception as exc:  # noqa: BLE001 - a damaged CURRENT: keep answering
                self._seen = identity
                self._warn_once(f"current:{identity}", "cannot read which index is live (%s): "
                                "still answering from %s", exc, self.current.folder.name)
                return False
            if folder is None or folder == self.current.folder:
                self._seen = identity
                return False
            try:
                reader = self.open_reader(folder)
            except Exception as exc:  # noqa: BLE001 - damaged, another model...: keep the old
                now = self._identity()
                if now is not None and now != identity:
                    identity = now  # published again meanwhile: try the newer one
                    continue
                self._seen = identity
                self._warn_once(f"open:{folder}", "cannot open the new index %s (%s): still "
                                "answering from %s", folder.name, exc, self.current.folder.name)
                return False
            with self._lock:
                old, self.current = self.current, Generation(folder, reader)
                old.retired = True
                close = old.users == 0 and not old.closed
                if close:
                    old.closed = True
                self._seen = identity
                self.switches += 1
            if close:
                self.close_reader(old.reader)
            self._warned.discard("gone")
            logger.info("switched to the new index %s (was %s)", folder.name, old.folder.name)
            return True
        return False

    def _warn_once(self, key: str, message: str, *args: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message, *args)

    def close(self) -> None:
        """Close the current reader (when no question uses it; else when the last one ends)."""
        with self._lock:
            generation = self.current
            generation.retired = True
            close = generation.users == 0 and not generation.closed
            if close:
                generation.closed = True
        if close:
            self.close_reader(generation.reader)
