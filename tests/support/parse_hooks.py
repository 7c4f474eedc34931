"""A parse hook (index.parsing.TEST_HOOK_ENV) that misbehaves on marked files, as a broken
or hostile parser would: a segfault, an endless loop, a huge allocation, an exception."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import tempfile
import time

SEGFAULT = b"QUOTEBOT-TEST-SEGFAULT"
HANG = b"QUOTEBOT-TEST-HANG"
HOG = b"QUOTEBOT-TEST-HOG"
RAISE = b"QUOTEBOT-TEST-RAISE"
SLOW = b"QUOTEBOT-TEST-SLOW"  # parsed, after a second
EXIT = b"QUOTEBOT-TEST-EXIT"  # the worker exits with status 1, as a C library's exit() does
NOSPACE = b"QUOTEBOT-TEST-NOSPACE"  # the disk is full while the file is parsed
# Starts a child process (as OCR starts Tesseract) and writes a temporary file, then hangs.
CHILD = b"QUOTEBOT-TEST-CHILD"
SPIN = b"QUOTEBOT-TEST-SPIN"  # a parser stuck in a loop: CPU, forever
CHILD_SECONDS = "301.5"  # the child's `sleep` argument: how a test finds it
RAISE_SURROGATE = b"QUOTEBOT-TEST-SURROGATE-ERROR"  # an error message quoting a lone surrogate
SPEC = "tests.support.parse_hooks:misbehave"
BROKEN = "tests.support.no_such_module:misbehave"  # every worker dies as it starts


def misbehave(job) -> None:  # noqa: ANN001 - an index.parsing.ParseJob
    if SEGFAULT in job.data:
        os.kill(os.getpid(), signal.SIGSEGV)
    if EXIT in job.data:
        os._exit(1)
    if NOSPACE in job.data:
        raise OSError(errno.ENOSPC, "No space left on device")
    if CHILD in job.data:
        subprocess.Popen(["sleep", CHILD_SECONDS])  # noqa: S603, S607 - a test's own child
        tempfile.mkstemp(prefix="quotebot-test-")
        time.sleep(3600)
    if HANG in job.data:
        time.sleep(3600)
    if SPIN in job.data:
        while True:
            pass
    if SLOW in job.data:
        time.sleep(1)
    if HOG in job.data:
        bytearray(2**33)  # 8 GB, never touched: only a memory cap refuses it (overcommit)
    if RAISE_SURROGATE in job.data:
        raise ValueError("no glyph for \ud800")
    if RAISE in job.data:
        raise TypeError("a parser bug")
