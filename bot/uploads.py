"""Saving an uploaded document into the corpus: a safe name, never overwriting, atomically."""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from pathlib import Path

MAX_NAME = 80  # characters of the stem


def safe_name(file_name: str) -> str:
    """A plain file name from whatever the sender called it: no folders, no hidden files.

    Path separators, '..', control characters and shell-unfriendly characters go; the
    suffix is kept (lower case). An empty stem becomes "document".
    """
    name = unicodedata.normalize("NFKC", file_name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^\w.\- ]+", "_", name, flags=re.UNICODE)
    name = re.sub(r"\s+", " ", name).strip(" ._-")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    stem = re.sub(r"\.{2,}", ".", stem).strip(" ._-")[:MAX_NAME].rstrip(" ._-") or "document"
    suffix = re.sub(r"[^a-z0-9]", "", suffix.lower())
    return f"{stem}.{suffix}" if suffix else stem


def suffix_of(name: str) -> str:
    return Path(name).suffix.lower()


def save_upload(folder: Path, name: str, data: bytes) -> Path:
    """Write `data` into `folder` as `name`, or name-2, name-3... if taken; return the path.

    The bytes go to a hidden temporary file first (the indexer skips hidden files) and are
    then hard-linked to the first free name, which fails rather than overwrite.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name = safe_name(name)
    stem, suffix = Path(name).stem, Path(name).suffix
    temp = folder / f".upload-{secrets.token_hex(6)}.part"
    temp.write_bytes(data)
    try:
        for n in range(1, 10_000):
            candidate = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
            if candidate.resolve().parent != folder.resolve():
                raise ValueError(f"unsafe file name {name!r}")
            try:
                os.link(temp, candidate)
            except FileExistsError:
                continue
            return candidate
        raise FileExistsError(f"no free name for {name!r} in {folder}")
    finally:
        temp.unlink(missing_ok=True)
