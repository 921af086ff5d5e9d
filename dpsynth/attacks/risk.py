"""What the Anonymeter-style evaluators share: rates with Wilson intervals, the risk against a
control set, and the columns of the tables the attacks read.

The method is that of Giomi, Boenisch, Wehmeyer and Tasnádi (2023), "A Unified Framework for
Quantifying Privacy Risk in Synthetic Data", Proceedings on Privacy Enhancing Technologies 2023.
Each attack is run three times: on records of the training set (the *attack*), on records of a
control set drawn from the same population but never shown to the generator (the *control*),
and as a random guess that does not look at the synthetic data (the *baseline*). The privacy
risk is the part of the attack's success that the control does not explain,
``(attack - control) / (1 - control)``.

These evaluators run on the custodian's side and read the real training and control records.
Their numbers describe a release to its custodian; they are not part of the DP guarantee.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from dpsynth.errors import DataError
from dpsynth.schema import Datetime, Numeric, Schema, encode
from dpsynth.validation import integer

logger = logging.getLogger(__name__)

# Fewer attacks than this cannot bound a risk: the residual risk's 95% interval is then wider
# than +-0.13 whatever the rates (Wilson half-width ~ 1/sqrt(n) for attack and control), wider
# than the gap between a release's typical risk and the default policy's levels.
MIN_CONCLUSIVE_ATTACKS = 100


def wilson(successes: float, n_attacks: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score estimate of a success rate: ``(centre, half_width)``.

    Wilson (1927), "Probable inference, the law of succession, and statistical inference",
    JASA 22, 209-212.

    ``centre = (k + z^2/2) / (n + z^2)`` and ``half_width = z / (n + z^2) * sqrt(k (n - k) / n +
    z^2 / 4)`` for ``k`` successes in ``n`` trials and the normal quantile ``z`` of the two-sided
    ``confidence``; the interval ``centre +- half_width`` always lies within [0, 1]. As in
    Anonymeter, the centre (not ``k / n``) is the rate's point estimate. ``successes`` may be
    fractional (a control count corrected for the size of the control set).
    """
    if not 0 < confidence < 1:
        raise DataError(f"confidence must lie strictly between 0 and 1; got {confidence!r}")
    if n_attacks < 1:
        raise DataError(f"a rate needs at least one attack; got n_attacks={n_attacks}")
    z = float(norm.ppf(0.5 + confidence / 2))
    denominator = n_attacks + z * z
    centre = (successes + z * z / 2) / denominator
    half_width = z / denominator * math.sqrt(successes * (n_attacks - successes) / n_attacks + z * z / 4)
    return centre, half_width


def residual_risk(attack: Rate, control: Rate) -> tuple[float, float]:
    """``(risk, error)`` with risk ``(a - c) / (1 - c)`` from the rates' centres.

    The error propagates the two Wilson half-widths to first order, as Anonymeter does:
    ``error^2 = (e_a / (1 - c))^2 + (e_c (1 - a) / (1 - c)^2)^2``. Neither is clipped here.
    """
    a, c = attack.value, control.value
    risk = (a - c) / (1 - c)
    error = math.hypot(attack.half_width / (1 - c), control.half_width * (1 - a) / (1 - c) ** 2)
    return risk, error


@dataclass(frozen=True)
class Rate:
    """Success rate of one attack: the Wilson centre ``value`` and its interval ``[low, high]``."""

    successes: float
    n_attacks: int
    value: float
    low: float
    high: float

    @classmethod
    def of(cls, successes: float, n_attacks: int, confidence: float = 0.95) -> Rate:
        """The rate of ``successes`` in ``n_attacks`` attacks (:func:`wilson`)."""
        centre, half_width = wilson(successes, n_attacks, confidence)
        low, high = max(centre - half_width, 0.0), min(centre + half_width, 1.0)
        return cls(float(successes), int(n_attacks), centre, low, high)

    @property
    def half_width(self) -> float:
        """Half the interval's width (the Wilson error bound)."""
        return (self.high - self.low) / 2


@dataclass(frozen=True)
class RiskResult:
    """One evaluator's result: the three rates and the risk with its interval.

    ``risk`` and ``risk_interval`` are the residual risk and ``risk +- error``
    (:func:`residual_risk`), clipped into [0, 1] as Anonymeter reports them. When the attack
    does not beat the random-guess baseline (``beats_baseline`` false) the risk is not
    meaningful: the attack learnt nothing usable from the synthetic data, so a low risk says
    little about what a better attack would find.
    """

    name: str
    parameters: Mapping[str, Any]
    n_attacks: int
    attack: Rate
    control: Rate
    baseline: Rate
    risk: float
    risk_interval: tuple[float, float]
    confidence: float = 0.95

    @classmethod
    def from_counts(
        cls,
        name: str,
        parameters: Mapping[str, Any],
        n_attacks: int,
        attack_successes: float,
        control_successes: float,
        baseline_successes: float,
        confidence: float = 0.95,
    ) -> RiskResult:
        """The result of ``n_attacks`` attacks of each kind with the given success counts."""
        attack = Rate.of(attack_successes, n_attacks, confidence)
        control = Rate.of(control_successes, n_attacks, confidence)
        baseline = Rate.of(baseline_successes, n_attacks, confidence)
        risk, error = residual_risk(attack, control)
        result = cls(
            name=name,
            parameters=dict(parameters),
            n_attacks=int(n_attacks),
            attack=attack,
            control=control,
            baseline=baseline,
            risk=min(max(risk, 0.0), 1.0),
            risk_interval=(min(max(risk - error, 0.0), 1.0), min(max(risk + error, 0.0), 1.0)),
            confidence=confidence,
        )
        if not result.beats_baseline:
            logger.info(
                "%s: the attack (rate %.3f) does not beat the random-guess baseline (%.3f); "
                "its risk is not meaningful",
                name,
                attack.value,
                baseline.value,
            )
        return result

    @property
    def beats_baseline(self) -> bool:
        """Whether the attack's rate is above the baseline's (else the risk is not meaningful)."""
        return self.attack.value > self.baseline.value

    @property
    def conclusive(self) -> bool:
        """Whether enough attacks ran to bound the risk (:data:`MIN_CONCLUSIVE_ATTACKS`)."""
        return self.n_attacks >= MIN_CONCLUSIVE_ATTACKS

    def to_dict(self) -> dict[str, Any]:
        """Plain values (JSON-ready)."""
        described = asdict(self)
        described["parameters"] = dict(self.parameters)
        described["risk_interval"] = list(self.risk_interval)
        described["beats_baseline"] = self.beats_baseline
        described["conclusive"] = self.conclusive
        return described


# ----------------------------------------------------------------------------- values
@dataclass(frozen=True, eq=False)
class AttackColumns:
    """Columns of tables as float rows, ready for predicates and for comparing values.

    Categorical and ordinal columns hold their schema codes (missing and "other" are codes of
    their own); numeric columns their raw values and datetime columns nanoseconds, both NaN
    where missing. ``numeric`` marks the latter two and ``integer`` those of them that hold
    whole numbers; ``lower``/``upper`` are their public bounds (NaN for coded columns) and
    ``sizes`` the number of codes of each column, and ``schema`` is the part of the schema
    they make up. All of it comes from the schema, none of it from the private data.
    """

    names: tuple[str, ...]
    numeric: np.ndarray
    integer: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    sizes: np.ndarray
    schema: Schema

    @classmethod
    def of(cls, schema: Schema, names: Sequence[str], argument: str = "columns") -> AttackColumns:
        """The columns ``names`` of ``schema`` (``argument`` names them in errors)."""
        part = sub_schema(schema, names, argument)
        names = part.encoded_columns
        numeric, integer, lower, upper, sizes = [], [], [], [], []
        for name in names:
            column = schema[name]
            if isinstance(column, Datetime):
                bounds = (float(column.lower_timestamp.value), float(column.upper_timestamp.value))
                numeric.append(True)
                integer.append(True)
            elif isinstance(column, Numeric):
                bounds = (column.lower, column.upper)
                numeric.append(True)
                integer.append(column.integer)
            else:
                bounds = (np.nan, np.nan)
                numeric.append(False)
                integer.append(False)
            lower.append(bounds[0])
            upper.append(bounds[1])
            sizes.append(column.size)
        return cls(
            names,
            np.array(numeric, dtype=bool),
            np.array(integer, dtype=bool),
            np.array(lower),
            np.array(upper),
            np.array(sizes),
            part,
        )

    def values(self, frame: pd.DataFrame, argument: str) -> np.ndarray:
        """``frame``'s columns as a ``(len(names), len(frame))`` float array, checked against the
        schema (``argument`` names the table in errors)."""
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"{argument} must be a pandas DataFrame; got {type(frame).__name__}")
        if len(frame) == 0:
            raise DataError(f"{argument} has no rows")
        absent = [name for name in self.names if name not in frame.columns]
        if absent:
            raise DataError(f"{argument} lacks column(s) {absent}")
        frame = frame.loc[:, list(self.names)]
        encoded = encode(frame, self.schema)
        out = np.empty((len(self.names), len(frame)))
        for i, name in enumerate(self.names):
            column = self.schema[name]
            if isinstance(column, Datetime):
                stamps = pd.to_datetime(frame[name], utc=True, format="ISO8601").dt.tz_localize(None)
                out[i] = stamps.to_numpy(dtype="datetime64[ns]").view(np.int64)
                out[i][stamps.isna().to_numpy()] = np.nan
            elif isinstance(column, Numeric):
                out[i] = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            else:
                out[i] = encoded.codes[:, encoded.columns.index(name)]
        return out


def sub_schema(schema: Schema, names: Sequence[str], argument: str) -> Schema:
    """The part of ``schema`` made of the encoded columns ``names``, in that order."""
    if not isinstance(schema, Schema):
        raise DataError(f"schema must be a Schema; got {type(schema).__name__}")
    if isinstance(names, str) or not isinstance(names, Sequence) or not names:
        raise DataError(f"{argument} must be a non-empty list of column names")
    unknown = [name for name in names if name not in schema.encoded_columns]
    if unknown:
        raise DataError(f"{argument}: column(s) {unknown} are not encoded columns of the schema")
    if len(set(names)) != len(names):
        raise DataError(f"{argument} names a column more than once")
    return Schema(tuple(schema[name] for name in names), schema.provenance)


def sample_targets(n_rows: int, n_attacks: int, rng: np.random.Generator) -> np.ndarray:
    """``n_attacks`` distinct row indices of a table of ``n_rows`` rows, in random order."""
    return rng.choice(n_rows, size=n_attacks, replace=False)


def check_attacks(n_attacks: Any, *limits: tuple[str, int]) -> int:
    """``n_attacks`` as an int, capped by each ``(argument, n_rows)`` limit (logged when capped)."""
    capped = integer("n_attacks", n_attacks)
    for argument, n_rows in limits:
        if n_rows < capped:
            logger.info("n_attacks=%d is more than the rows of %s; attacking each of its rows", capped, argument)
            capped = n_rows
    return capped
