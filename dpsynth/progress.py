"""Progress of long work: bars with an ETA on a terminal, log lines otherwise (quiet in CI and pipes).

A workflow (a release, an audit, a sweep) opens a :class:`Progress` over its named steps. Code
deep inside a step (estimation iterations, AIM rounds, DP-SGD steps, attack refits) reports with
:func:`advance`, which moves a second bar under the step's when a Progress is active and costs
nothing otherwise, so the engine never needs to know whether anyone is watching. Labels are
public text (step names, counts), never data. Log records go through :class:`BarSafeHandler`,
which writes above the bars instead of through them.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from typing import Any, TextIO

from tqdm import tqdm

logger = logging.getLogger("dpsynth")

_ACTIVE: contextvars.ContextVar[Progress | None] = contextvars.ContextVar("dpsynth_progress", default=None)
_BAR_FORMAT = "{desc:<36.36} {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]"


class Progress:
    """Named steps of a known count; bars only when ``stream`` is a terminal (or ``enabled``)."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.total = max(int(total), 1)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._steps = self._bar(self.total, "starting", position=0) if self.enabled else None
        self._inner: Any = None
        self._token = _ACTIVE.set(self)

    def _bar(self, total: int, label: str, position: int) -> Any:
        return tqdm(total=total, desc=label, file=self.stream, position=position, leave=position == 0,
                    bar_format=_BAR_FORMAT, dynamic_ncols=True, mininterval=0.2)

    def step(self, label: str) -> None:
        """Mark the start of the next step."""
        self._close_inner()
        if self.done and self._steps is not None:
            self._steps.update(1)
        self.done = min(self.done + 1, self.total)
        logger.info("step %d/%d: %s", self.done, self.total, label)
        if self._steps is not None:
            self._steps.set_description_str(f"{self.done}/{self.total} {label}")

    def advance(self, done: int, total: int, label: str) -> None:
        """Within the current step: ``done`` of ``total`` units of ``label`` are finished."""
        if not self.enabled:
            return
        if self._inner is None or self._inner.total != total or self._inner.desc != label:
            self._close_inner()
            self._inner = self._bar(total, label, position=1)
        self._inner.update(done - self._inner.n)

    def _close_inner(self) -> None:
        if self._inner is not None:
            self._inner.close()
            self._inner = None

    def write(self, text: str) -> None:
        """A line above the bars (log records use this through BarSafeHandler)."""
        if self.enabled:
            tqdm.write(text, file=self.stream)
        else:
            self.stream.write(text + "\n")

    def close(self) -> None:
        self._close_inner()
        if self._steps is not None:
            self._steps.update(self.total - self._steps.n)
            self._steps.set_description_str("done")
            self._steps.close()
            self._steps = None
        if _ACTIVE.get() is self:
            _ACTIVE.reset(self._token)


def advance(done: int, total: int, label: str) -> None:
    """Report progress inside a step to the active Progress, if any (else nothing happens)."""
    active = _ACTIVE.get()
    if active is not None:
        active.advance(done, total, label)


class BarSafeHandler(logging.StreamHandler):
    """A stderr handler whose lines go above an active progress bar rather than through it."""

    def emit(self, record: logging.LogRecord) -> None:
        active = _ACTIVE.get()
        if active is None or not active.enabled:
            super().emit(record)
            return
        try:
            active.write(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never raise (logging.Handler's own rule)
            self.handleError(record)
