"""A parse hook whose import takes 5 s: every worker is slower to start than a 2 s budget,
as on a machine that swaps (index.parsing.TEST_HOOK_ENV)."""

from __future__ import annotations

import time

time.sleep(5)


def misbehave(job) -> None:  # noqa: ANN001 - an index.parsing.ParseJob
    return None
