"""Walking a corpus folder: which files a build reads, which it reports, which it ignores.

Shared by the build, `quotebot status` (pending changes) and `quotebot extract`, so that
all three see the same files.
"""

from __future__ import annotations

import os
from pathlib import Path

UNREADABLE = "cannot read folder"  # a problem's reason when a folder cannot be listed


def unreadable_folders(problems: list[tuple[str, str]]) -> list[str]:
    """The folders (relative, "." for the corpus itself) that `scan_corpus` could not list:
    what was indexed under them is unknown, not gone."""
    return [rel for rel, why in problems if why.startswith(UNREADABLE)]


def scan_corpus(corpus: Path, suffixes: set[str],
                ) -> tuple[list[tuple[str, Path]], list[tuple[str, str]], int]:
    """Files to index (relative path, path), problems found while walking, count ignored.

    Hidden files and folders are ignored; symlinked folders are not followed (no loops),
    nor symlinked files that lead outside the corpus (whoever may add a file to the corpus
    must not make it quote a secret the bot's user can read).
    The walk keeps its own stack, so any depth of folders works (os.walk recurses and
    fails past ~1000 levels); names that are not valid UTF-8 are reported, not indexed
    (they cannot be stored or cited).
    """
    files: list[tuple[str, Path]] = []
    problems: list[tuple[str, str]] = []
    ignored = 0
    root = os.path.realpath(corpus)
    stack = [corpus]
    while stack:
        here = stack.pop()
        try:
            with os.scandir(here) as listing:
                entries = list(listing)
        except OSError as exc:
            problems.append((_rel(here, corpus), f"{UNREADABLE}: {exc.strerror or exc}"))
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):  # hidden: .git, editors' swap files, .DS_Store
                ignored += 1
                continue
            path = here / name
            if not utf8_name(name):
                problems.append((printable_name(_rel(path, corpus)),
                                 "name is not valid UTF-8: rename it to index it"))
                continue
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir and entry.is_symlink():
                problems.append((_rel(path, corpus), "symlinked folder not followed"))
            elif is_dir:
                stack.append(path)
            elif path.suffix.lower() not in suffixes:
                ignored += 1
            elif entry.is_symlink() and not _within(os.path.realpath(path), root):
                problems.append((_rel(path, corpus),
                                 "symlink to a file outside the corpus folder not followed"))
            else:
                files.append((_rel(path, corpus), path))
    files.sort()
    problems.sort()
    return files, problems, ignored


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def utf8_name(name: str) -> bool:
    """False for names holding bytes that are not UTF-8 (Python keeps them as surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable_name(name: str) -> str:
    """A name with undecodable bytes shown as \\xNN escapes, for the build report."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _rel(path: Path, corpus: Path) -> str:
    try:
        return path.relative_to(corpus).as_posix()
    except ValueError:
        return str(path)
