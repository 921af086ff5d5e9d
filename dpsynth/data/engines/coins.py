"""Keyed coins and a keyed order that DuckDB and Spark SQL compute alike, for the holdout split
of a file's rows (:mod:`dpsynth.data.engines.duckdb_rows`, :mod:`dpsynth.data.engines.spark_rows`).

A unit's coin is the MD5 of the seed and the unit's key as text, ``md5('<seed>:<key>')``: its
first 13 hex digits, a uniform 52-bit number, are heads when below ``floor(share * 2^52)``.
Fixed-width lowercase hex compares as text in the order of its value, so the test is a
comparison of strings, which both dialects make byte by byte: the same seed holds out the same
units on either engine. MD5 serves as a pseudorandom function of the key here (the seed is
drawn from the release's generator and never shown), not as a guard against collisions.
A key's text is ``CAST(key AS STRING)`` (``STRING`` is a DuckDB alias of ``VARCHAR``), the same
in both dialects for integers, booleans and text; a caller must not key by other types where
the dialects write them differently (floats, dates).
"""

from __future__ import annotations

import math

RESOLUTION_BITS = 52
_DIGITS = RESOLUTION_BITS // 4


def keyed_hash(key: str, seed: int) -> str:
    """SQL of the hex MD5 of ``'<seed>:'`` followed by the text of the SQL expression ``key``."""
    return f"md5(concat('{int(seed)}:', CAST({key} AS STRING)))"


def coin(key: str, seed: int, share: float) -> str:
    """SQL that is true for a unit keyed ``key`` held out with probability ``share`` (module docstring)."""
    threshold = math.floor(share * 2**RESOLUTION_BITS)
    return f"substr({keyed_hash(key, seed)}, 1, {_DIGITS}) < '{threshold:0{_DIGITS}x}'"
