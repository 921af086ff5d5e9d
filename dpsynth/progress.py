"""Progress of long steps: a bar on a terminal, log lines otherwise (quiet in CI and pipes)."""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

logger = logging.getLogger("dpsynth")


class Progress:
    """Reports named steps of a known count; draws a bar only when ``stream`` is a terminal."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.total = max(int(total), 1)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._start = time.monotonic()

    def step(self, label: str) -> None:
        """Mark the start of the next step (its label is public text, never data)."""
        self.done = min(self.done + 1, self.total)
        logger.info("step %d/%d: %s", self.done, self.total, label)
        if self.enabled:
            width = 24
            filled = int(width * (self.done - 1) / self.total)
            elapsed = time.monotonic() - self._start
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} {label:<40.40} {elapsed:6.1f}s")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            elapsed = time.monotonic() - self._start
            self.stream.write(f"\r[{'#' * 24}] {self.total}/{self.total} {'done':<40} {elapsed:6.1f}s\n")
            self.stream.flush()
