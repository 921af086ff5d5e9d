"""Noisy marginals, the only input the estimator sees, and the estimates read off them directly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dpsynth.errors import ModelError
from dpsynth.models.domain import Domain
from dpsynth.models.factor import Factor


@dataclass(frozen=True, eq=False)
class Measurement:
    """Noisy counts of the marginal on ``clique`` (flat in C order, or shaped); noise std ``sigma``."""

    clique: tuple[str, ...]
    values: np.ndarray
    sigma: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "clique", tuple(self.clique))
        object.__setattr__(self, "values", np.asarray(self.values, dtype=float))
        object.__setattr__(self, "sigma", float(self.sigma))
        if not (np.isfinite(self.sigma) and self.sigma > 0):
            raise ModelError(
                f"Measurement sigma must be positive and finite; got {self.sigma!r} for {self.clique}"
            )
        if not np.all(np.isfinite(self.values)):
            raise ModelError(f"Measurement values on {self.clique} must be finite")

    def factor(self, domain: Domain) -> Factor:
        """The noisy counts as a factor over the clique, checked against the domain."""
        if len(set(self.clique)) != len(self.clique):
            raise ModelError(f"Measurement clique {self.clique} repeats an attribute")
        shape = domain.shape(self.clique)
        if self.values.size != domain.cells(self.clique):
            raise ModelError(
                f"Measurement on {self.clique} has {self.values.size} values; the domain gives shape {shape}"
            )
        return Factor(self.clique, self.values.reshape(shape))


def estimate_total(measurements: Sequence[Measurement]) -> float:
    """Inverse-variance weighted mean of the measurements' totals, at least 1.

    Each noisy marginal sums to the record count plus independent Gaussian noise of variance
    sigma^2 * cells, so weights 1 / (sigma^2 * cells) give the minimum-variance unbiased
    combination.
    """
    if not measurements:
        raise ModelError("estimate_total needs at least one measurement")
    totals = np.array([m.values.sum() for m in measurements])
    weights = np.array([1.0 / (m.sigma**2 * m.values.size) for m in measurements])
    return max(1.0, float(weights @ totals / weights.sum()))


def independent_start(
    domain: Domain, measurements: Sequence[Measurement], total: float
) -> dict[tuple[str, ...], np.ndarray]:
    """Log-potentials of the independence model fitted to the measurements' one-way margins.

    Each measured attribute's margin is the inverse-variance weighted mean of every measurement
    holding it, summed onto it (per-cell variance sigma^2 * cells / size), floored at 0.1% of a
    uniform cell so its log is finite.
    """
    margins: dict[str, list[tuple[np.ndarray, float]]] = {}
    for m in measurements:
        y = m.factor(domain)
        for a in m.clique:
            weight = domain.size(a) / (m.sigma**2 * y.values.size)
            margins.setdefault(a, []).append((y.sum((a,)).values, weight))
    start: dict[tuple[str, ...], np.ndarray] = {}
    for a, estimates in margins.items():
        margin = sum(w * v for v, w in estimates) / sum(w for _, w in estimates)
        margin = np.maximum(margin, 1e-3 * total / domain.size(a))
        start[(a,)] = np.log(margin / margin.sum())
    return start
