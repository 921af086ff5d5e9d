"""Checks of scalar parameters, one message shape everywhere: "NAME must be WHAT; got VALUE".

Booleans are refused where a number is asked for (``True`` is an int to Python, never a count
or a share to a user). The value in the message is the caller's parameter, never private data.
"""

from __future__ import annotations

import math
import numbers

from dpsynth.errors import DpsynthError, ParameterError

ErrorClass = type[DpsynthError]


def integer(name: str, value: object, *, low: int = 1, high: int | None = None,
            error: ErrorClass = ParameterError) -> int:
    """``value`` as an int in [low, high] (high None: no upper end)."""
    whole = int(value) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else None
    if whole is None or whole < low or (high is not None and whole > high):
        if high is not None:
            what = f"an integer from {low} to {high}"
        elif low == 1:
            what = "a positive integer"
        elif low == 0:
            what = "a non-negative integer"
        else:
            what = f"an integer of at least {low}"
        raise error(f"{name} must be {what}; got {value!r}")
    return whole


def number(name: str, value: object, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, high_open: bool = False, error: ErrorClass = ParameterError) -> float:
    """``value`` as a finite float within the bounds given (each closed unless said open)."""
    x = float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else math.nan
    ok = math.isfinite(x) and (low is None or (x > low if low_open else x >= low)) and (
        high is None or (x < high if high_open else x <= high)
    )
    if not ok:
        raise error(f"{name} must be {_range(low, high, low_open, high_open)}; got {value!r}")
    return x


def _range(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is None and high is None:
        return "a finite number"
    if high is None:
        return "a positive finite number" if low == 0 and low_open else f"a finite number of at least {low:g}"
    if low is None:
        return f"a finite number of at most {high:g}"
    if low_open and high_open:
        return f"a number strictly between {low:g} and {high:g}"
    return f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
