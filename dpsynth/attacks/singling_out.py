"""Singling out in the style of Anonymeter (Giomi, Boenisch, Wehmeyer, Tasnádi 2023, PoPETs).

The attacker reads the synthetic data and writes predicates such as ``age >= 88 and sex ==
Female and education == Doctorate`` that single out exactly one synthetic record, betting that
they single out one real person too. A predicate succeeds on a dataset when exactly one of its
records matches it (Cohen and Nissim 2020, "Towards formalizing the GDPR's notion of singling
out", PNAS). Its success rate on the training set is compared with the rate of the same
predicates on the control set, and with random predicates that ignore the synthetic data.

* ``univariate``: one condition each, from values that occur once in the synthetic data: a rare
  category or a unique number (``x == v``), a unique minimum or maximum (``x <= min``,
  ``x >= max``), a single missing value.
* ``multivariate``: ``n_cols`` conditions taken from one synthetic record: categories as
  ``x == v``; numbers as ``x >= v`` when the record's value is above the synthetic median and
  ``x <= v`` otherwise (towards the tail, where singling out is likelier), as Anonymeter does.

Training and control sets of different sizes: the chance that a predicate singles out depends
on the size of the table, so the control's count is rescaled to the training set's size as
Anonymeter (the paper's reference implementation) does: the control's successes are measured on
random subsets of 10 sizes, the model ``norm * integral_0^w n u (1 - u)^(n - 1) du`` (the
singling-out probability ``n w (1 - w)^(n - 1)`` of Cohen and Nissim for a predicate of weight
``w``, integrated over weights up to ``w``) is fitted to them, and the count is scaled by the
model's ratio between the two sizes. The extrapolation is rough when the control is much
smaller: with a generator that knows nothing of the training records, 3,000 control records
against 10,000 training records left a spurious multivariate risk of about 0.07 here and 0.10
in anonymeter 1.1 (``benchmarks/anonymeter_agreement.py``). It errs towards a higher risk; a
control set as large as the training set needs no correction and compares exactly.

Predicates are evaluated as boolean masks over whole columns, blocks of predicates at a time.
This attack runs on the custodian's side and reads the real training and control records: its
result describes a release and is not part of the DP guarantee.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

from dpsynth.attacks.risk import AttackColumns, RiskResult
from dpsynth.errors import DataError
from dpsynth.random_state import check_random_state
from dpsynth.schema import Schema
from dpsynth.validation import integer

logger = logging.getLogger(__name__)

MODES = ("univariate", "multivariate")
# Predicates are matched against a table in blocks of at most this many (predicate, record)
# pairs (32 MiB of float64 per condition).
BLOCK_ENTRIES = 2**22
# Candidate multivariate predicates drawn per round.
BATCH = 2000
# Predicates.single first rejects predicates on every 256th, 32nd, then 4th record of a table.
THINNING = (256, 32, 4)
# Sizes and repeats of the subsets on which the control's successes are measured.
CURVE_SIZES = 10
CURVE_REPEATS = 5


@dataclass(frozen=True)
class Predicates:
    """Conjunctions of ``m`` conditions each, as ``(n, m)`` arrays.

    Condition ``j`` of predicate ``i`` holds for a record whose value in column
    ``columns[i, j]`` lies in ``[lower[i, j], upper[i, j]]`` (``x == v`` is ``[v, v]``, ``x <= v``
    is ``[-inf, v]``); where ``missing[i, j]`` it holds instead for a missing value.
    """

    columns: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    missing: np.ndarray

    def __len__(self) -> int:
        return len(self.columns)

    def take(self, index: np.ndarray) -> Predicates:
        return Predicates(self.columns[index], self.lower[index], self.upper[index], self.missing[index])

    def masks(self, values: np.ndarray) -> Iterator[np.ndarray]:
        """Which records of ``values`` (columns x records) match, a block of predicates at a time."""
        n_records = values.shape[1]
        block = max(1, BLOCK_ENTRIES // n_records)
        for start in range(0, len(self), block):
            part = slice(start, start + block)
            match = np.ones((len(self.columns[part]), n_records), dtype=bool)
            for j in range(self.columns.shape[1]):
                x = values[self.columns[part, j]]
                condition = (x >= self.lower[part, j, None]) & (x <= self.upper[part, j, None])
                missing = self.missing[part, j]
                if missing.any():
                    condition[missing] = np.isnan(x[missing])
                match &= condition
            yield match

    def counts(self, values: np.ndarray) -> np.ndarray:
        """How many records of ``values`` match each predicate."""
        if len(self) == 0:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([np.count_nonzero(match, axis=1) for match in self.masks(values)])

    def single(self, values: np.ndarray) -> np.ndarray:
        """Whether each predicate matches exactly one record of ``values``.

        A predicate that matches two records of a thinned table (every 256th record, then every
        32nd, then every 4th: :data:`THINNING`) matches at least two of the whole table, so only
        the few predicates left after the thinned tables are counted on the whole table.
        """
        alive = np.ones(len(self), dtype=bool)
        for step in THINNING:
            if values.shape[1] >= 16 * step:
                thinned = np.ascontiguousarray(values[:, ::step])
                alive[alive] = self.take(alive).counts(thinned) < 2
        alive[alive] = self.take(alive).counts(values) == 1
        return alive


def _concatenate(parts: list[Predicates]) -> Predicates:
    fields = ("columns", "lower", "upper", "missing")
    return Predicates(*(np.concatenate([getattr(part, name) for part in parts]) for name in fields))


def univariate_predicates(values: np.ndarray, columns: AttackColumns, n: int, rng: np.random.Generator) -> Predicates:
    """Up to ``n`` one-condition predicates that single out a record of ``values`` (the synthetic data)."""
    parts = []
    for i in range(len(columns.names)):
        x = values[i]
        absent = np.isnan(x)
        unique, counts = np.unique(x[~absent], return_counts=True)
        lowers = [unique[counts == 1]]  # x == v for each value that occurs once
        uppers = [unique[counts == 1]]
        if columns.numeric[i] and len(unique) and counts[0] == 1:  # x <= min
            lowers.append(np.array([-np.inf]))
            uppers.append(unique[:1])
        if columns.numeric[i] and len(unique) and counts[-1] == 1:  # x >= max
            lowers.append(unique[-1:])
            uppers.append(np.array([np.inf]))
        if absent.sum() == 1:  # x is missing
            lowers.append(np.array([np.nan]))
            uppers.append(np.array([np.nan]))
        lower, upper = np.concatenate(lowers)[:, None], np.concatenate(uppers)[:, None]
        missing = np.isnan(lower)
        parts.append(Predicates(np.full(lower.shape, i), lower, upper, missing))
    candidates = _concatenate(parts)
    return candidates.take(rng.permutation(len(candidates))[:n])


def _distinct(predicates: Predicates) -> Predicates:
    """The predicates without repeats (first occurrence kept, order kept)."""
    bounds = np.where(predicates.missing, 0.0, np.stack([predicates.lower, predicates.upper]))
    key = np.concatenate([predicates.columns, predicates.missing, *bounds], axis=1).astype(float)
    _, first = np.unique(key, axis=0, return_index=True)
    return predicates.take(np.sort(first))


def multivariate_predicates(
    values: np.ndarray, columns: AttackColumns, n: int, n_cols: int, max_attempts: int, rng: np.random.Generator
) -> Predicates:
    """Up to ``n`` distinct ``n_cols``-condition predicates from records of ``values`` that
    single out one record of it, trying at most ``max_attempts`` candidates."""
    n_records, n_columns = values.shape[1], len(columns.names)
    medians = np.nanmedian(np.where(columns.numeric[:, None], values, 0.0), axis=1)
    found = Predicates(
        np.zeros((0, n_cols), dtype=np.int64), np.zeros((0, n_cols)), np.zeros((0, n_cols)), np.zeros((0, n_cols), bool)
    )
    attempts = 0
    while len(found) < n and attempts < max_attempts:
        size = min(BATCH, max_attempts - attempts)
        attempts += size
        records = rng.integers(n_records, size=size)
        chosen = np.sort(np.argsort(rng.random((size, n_columns)), axis=1)[:, :n_cols], axis=1)
        x = values[chosen, records[:, None]]
        numeric = columns.numeric[chosen]
        upward = numeric & (x > medians[chosen])
        downward = numeric & ~upward
        candidates = Predicates(
            chosen, np.where(downward, -np.inf, x), np.where(upward, np.inf, x), np.isnan(x)
        )
        singled = candidates.take(candidates.single(values))
        found = _distinct(_concatenate([found, singled]))
    return found.take(np.arange(min(n, len(found))))


def random_predicates(columns: AttackColumns, n: int, n_cols: int, rng: np.random.Generator) -> Predicates:
    """``n`` predicates of ``n_cols`` conditions on random columns, with values drawn from the
    public domain (codes uniformly; numbers uniformly within their bounds, whole numbers for
    integer columns) and, for numbers, a random one of ``==``, ``<=``, ``>=``."""
    chosen = np.sort(np.argsort(rng.random((n, len(columns.names))), axis=1)[:, :n_cols], axis=1)
    numeric, integer = columns.numeric[chosen], columns.integer[chosen]
    low, high = columns.lower[chosen], columns.upper[chosen]
    u = rng.random(chosen.shape)
    value = np.where(
        numeric,
        np.where(integer, np.floor(low + u * (high - low + 1)), low + u * (high - low)),
        np.floor(u * columns.sizes[chosen]),
    )
    value = np.where(numeric, np.minimum(value, high), value)
    operator = np.where(numeric, rng.integers(3, size=chosen.shape), 0)  # 0: ==, 1: <=, 2: >=
    return Predicates(
        chosen,
        np.where(operator == 1, -np.inf, value),
        np.where(operator == 2, np.inf, value),
        np.zeros(chosen.shape, dtype=bool),
    )


def _singling_out_integral(n, w, norm):
    """``norm * integral_0^w n u (1 - u)^(n - 1) du = norm * (1 - (n w + 1)(1 - w)^n) / (n + 1)``."""
    return norm * (1 - (n * w + 1) * np.exp(n * np.log1p(-w))) / (n + 1)


def size_corrected_successes(
    values: np.ndarray, predicates: Predicates, n_target: int, rng: np.random.Generator
) -> float:
    """Successes of ``predicates`` on ``values`` (the control set), rescaled to a table of
    ``n_target`` records (the training set's size) by the fitted singling-out model."""
    n_records = values.shape[1]
    successes = int(np.count_nonzero(predicates.single(values)))
    if n_records == n_target or successes == 0:
        return float(successes)
    sizes = np.unique(np.linspace(max(1, min(1000, n_records // 2)), n_records, CURVE_SIZES).astype(int))
    starts = np.concatenate([[0], sizes[:-1]])
    orders = [rng.permutation(n_records) for _ in range(CURVE_REPEATS)]
    curve = np.zeros((CURVE_REPEATS, len(sizes)))
    for match in predicates.masks(values):
        for r, order in enumerate(orders):
            counts = np.add.reduceat(match[:, order], starts, axis=1, dtype=np.int64).cumsum(axis=1)
            curve[r] += np.count_nonzero(counts == 1, axis=0)
    w0 = 1.0 / n_records
    norm0 = max(successes, 1) / _singling_out_integral(n_records, w0, 1.0)
    try:
        (w, norm), _ = curve_fit(
            _singling_out_integral,
            np.tile(sizes, CURVE_REPEATS).astype(float),
            curve.ravel(),
            p0=(w0, norm0),
            bounds=((0.0, 0.0), (1.0, np.inf)),
        )
        scale = _singling_out_integral(n_target, w, norm) / _singling_out_integral(n_records, w, norm)
    except (RuntimeError, ValueError, FloatingPointError):
        scale = np.nan
    if not np.isfinite(scale):
        logger.info("singling out: the size correction could not be fitted; the control count is used as measured")
        return float(successes)
    # Scaled up to a larger table, the count can pass the number of predicates; a rate is at most 1.
    return float(min(successes * scale, len(predicates)))


def singling_out(
    train: pd.DataFrame,
    control: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    *,
    n_attacks: int = 500,
    mode: str = "multivariate",
    n_cols: int = 3,
    max_attempts: int | None = None,
    confidence: float = 0.95,
    random_state: None | int | np.random.Generator = None,
) -> RiskResult:
    """Singling-out risk of ``synthetic`` for the records of ``train``, against ``control``.

    Up to ``n_attacks`` distinct predicates that single out one synthetic record are made
    (``mode`` as in the module docstring; ``n_cols`` conditions each in multivariate mode,
    from at most ``max_attempts`` candidates, ``1000 * n_attacks`` by default). The attack
    rate is the share of them that match exactly one training record, the control rate the
    share that match exactly one control record (rescaled to the training set's size when
    the sizes differ), and the baseline rate the share of as many random predicates
    (:func:`random_predicates`) that match exactly one training record. ``n_attacks`` of the
    result is the number of predicates made, which is smaller than asked when the synthetic
    data has too few records that can be singled out (logged).

    Every table must match ``schema``; all its encoded columns are used. Runs on the
    custodian's side: the result is not part of the DP guarantee.
    """
    rng = check_random_state(random_state)
    if mode not in MODES:
        raise DataError(f"mode must be one of {MODES}; got {mode!r}")
    columns = AttackColumns.of(schema, schema.encoded_columns)
    if mode == "multivariate":
        integer("n_cols", n_cols, high=len(columns.names))
    integer("n_attacks", n_attacks)
    if max_attempts is None:
        max_attempts = 1000 * int(n_attacks)
    else:
        integer("max_attempts", max_attempts)
    train_values = columns.values(train, "train")
    control_values = columns.values(control, "control")
    synthetic_values = columns.values(synthetic, "synthetic")

    width = 1 if mode == "univariate" else int(n_cols)
    if mode == "univariate":
        predicates = univariate_predicates(synthetic_values, columns, int(n_attacks), rng)
    else:
        predicates = multivariate_predicates(synthetic_values, columns, int(n_attacks), width, int(max_attempts), rng)
    made = len(predicates)
    if made == 0:
        raise DataError(f"no {mode} predicate singles out a synthetic record: the singling-out risk cannot be measured")
    if made < n_attacks:
        logger.info("singling out (%s): only %d of the %d predicates asked for could be made", mode, made, n_attacks)

    baseline = random_predicates(columns, made, width, rng)
    return RiskResult.from_counts(
        name=f"singling_out_{mode}",
        parameters={"mode": mode, "n_cols": width, "n_attacks_requested": int(n_attacks)},
        n_attacks=made,
        attack_successes=int(np.count_nonzero(predicates.single(train_values))),
        control_successes=size_corrected_successes(control_values, predicates, train_values.shape[1], rng),
        baseline_successes=int(np.count_nonzero(baseline.single(train_values))),
        confidence=confidence,
    )
