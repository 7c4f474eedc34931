"""Saving an uploaded document into the corpus: a safe name, never overwriting, durably.

Names are cut to what every file system takes (255 bytes of UTF-8 with the suffix and a
"-N" for a taken name). The bytes are fsynced (the file and the folder) before the admin
reads "Saved as…". A `.upload-*.part` left by a kill is removed at the next start.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
import unicodedata
from pathlib import Path

from store.generations import fsync_dir

logger = logging.getLogger(__name__)

MAX_NAME = 80  # characters of the stem
MAX_NAME_BYTES = 255  # a file name, in bytes, on ext4, btrfs, APFS, NTFS (UTF-16: more)
MAX_SUFFIX = 16  # characters of the suffix (".markdown" is the longest we index)
TAKEN_ROOM = len("-9999")  # save_upload's "-N" for a name already taken
PART_GLOB = ".upload-*.part"


def _cut_bytes(text: str, limit: int) -> str:
    """`text` cut to at most `limit` bytes of UTF-8, never inside a character."""
    return text.encode("utf-8")[:max(0, limit)].decode("utf-8", "ignore")


def safe_name(file_name: str) -> str:
    """A plain file name from whatever the sender called it: no folders, no hidden files.

    Path separators, '..', control characters and shell-unfriendly characters go; the
    suffix is kept (lower case). An empty stem becomes "document". The stem is cut to
    MAX_NAME characters and so that the name (with room for "-9999") fits 255 bytes.
    """
    name = unicodedata.normalize("NFKC", file_name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^\w.\- ]+", "_", name, flags=re.UNICODE)
    name = re.sub(r"\s+", " ", name).strip(" ._-")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    suffix = re.sub(r"[^a-z0-9]", "", suffix.lower())[:MAX_SUFFIX]
    room = MAX_NAME_BYTES - TAKEN_ROOM - (len(suffix) + 1 if suffix else 0)
    stem = re.sub(r"\.{2,}", ".", stem).strip(" ._-")[:MAX_NAME]
    stem = _cut_bytes(stem, room).rstrip(" ._-") or "document"
    return f"{stem}.{suffix}" if suffix else stem


def suffix_of(name: str) -> str:
    return Path(name).suffix.lower()


def already_saved(folder: Path, name: str, data: bytes) -> Path | None:
    """The file `save_upload` wrote earlier with exactly these bytes under this name (or
    name-2, name-3...), if any: the same document sent twice is not added twice."""
    name = safe_name(name)
    stem, suffix = Path(name).stem, Path(name).suffix
    for n in range(1, 10_000):
        candidate = Path(folder) / (name if n == 1 else f"{stem}-{n}{suffix}")
        try:
            if candidate.stat().st_size == len(data) and candidate.read_bytes() == data:
                return candidate
        except FileNotFoundError:
            return None  # save_upload takes the first free name: none after it
        except OSError:
            continue
    return None


def save_upload(folder: Path, name: str, data: bytes) -> Path:
    """Write `data` into `folder` as `name`, or name-2, name-3... if taken; return the path.

    The bytes go to a hidden temporary file first (the indexer skips hidden files), are
    fsynced, and are then hard-linked to the first free name, which fails rather than
    overwrite; the folder is fsynced before returning, so "Saved as…" survives a crash.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name = safe_name(name)
    stem, suffix = Path(name).stem, Path(name).suffix
    temp = folder / f".upload-{secrets.token_hex(6)}.part"
    try:
        with open(temp, "xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        for n in range(1, 10_000):
            candidate = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
            if candidate.resolve().parent != folder.resolve():
                raise ValueError(f"unsafe file name {name!r}")
            try:
                os.link(temp, candidate)
            except FileExistsError:
                continue
            temp.unlink(missing_ok=True)
            fsync_dir(folder)
            return candidate
        raise FileExistsError(f"no free name for {name!r} in {folder}")
    finally:
        temp.unlink(missing_ok=True)


def clean_stale_parts(folder: Path, older_than: float = 60.0) -> list[Path]:
    """Remove `.upload-*.part` files a killed bot left in `folder` (older than `older_than`
    seconds, so another process's upload in progress is left alone); the removed paths."""
    removed = []
    now = time.time()
    try:
        candidates = list(Path(folder).glob(PART_GLOB))
    except OSError:
        return removed
    for path in candidates:
        try:
            if now - path.lstat().st_mtime >= older_than:
                path.unlink()
                removed.append(path)
        except OSError as exc:
            logger.warning("could not remove the stale upload %s: %s", path.name, exc)
    if removed:
        logger.info("removed %d unfinished upload(s) left by an earlier run", len(removed))
    return removed
