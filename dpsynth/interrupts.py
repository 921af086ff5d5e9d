"""Hold Ctrl-C over steps that must happen together, such as a ledger entry and its reservation id.

Python raises KeyboardInterrupt between any two bytecodes, so a SIGINT can land after the
ledger committed a reservation and before its id reached the code that would cancel it, or
between a release folder's move into place and its ledger commit. Inside :func:`held` a SIGINT
is only noted; it is delivered, as the previous handler would have taken it, when the block
ends (a block that raises has stopped anyway: its error goes on, and the interrupt is
dropped). Python delivers signals to the main thread only, so elsewhere the block runs as it is.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def held() -> Iterator[None]:
    """Run the block with SIGINT deferred to its end; a block that raises keeps its own error."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def note(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    previous = signal.signal(signal.SIGINT, note)
    # None: a handler installed outside Python; the default one is the closest to put back.
    restored = signal.SIG_DFL if previous is None else previous
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, restored)
    if caught and callable(restored):
        restored(signal.SIGINT, None)
    elif caught and restored == signal.SIG_DFL:
        signal.raise_signal(signal.SIGINT)
