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
    """Noisy counts of the marginal on ``clique`` (flat in C order, or shaped); noise std ``sigma``.

    ``precision`` (optional, one per cell, in (0, 1]) is each cell's inverse variance in units of
    1 / sigma^2: a cell that sums k noisy counts, as domain compression's merged cell does, has
    variance k sigma^2 and precision 1 / k. None means every cell is one noisy count.
    """

    clique: tuple[str, ...]
    values: np.ndarray
    sigma: float
    precision: np.ndarray | None = None

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
        if self.precision is not None:
            precision = np.asarray(self.precision, dtype=float).reshape(-1)
            if precision.size != self.values.size or not np.all((precision > 0) & (precision <= 1)):
                raise ModelError(f"Measurement precision on {self.clique} needs one value in (0, 1] per cell")
            object.__setattr__(self, "precision", precision)

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

    def weights(self, domain: Domain) -> float | np.ndarray:
        """Each cell's inverse noise variance 1 / var: a number when all cells share it, else an
        array in the clique's shape."""
        if self.precision is None:
            return 1.0 / self.sigma**2
        return self.precision.reshape(domain.shape(self.clique)) / self.sigma**2

    def total_variance(self) -> float:
        """Variance of the sum of the noisy counts: sigma^2 times the number of counts summed."""
        cells = self.values.size if self.precision is None else float(np.sum(1.0 / self.precision))
        return self.sigma**2 * cells


def estimate_total(measurements: Sequence[Measurement]) -> float:
    """Inverse-variance weighted mean of the measurements' totals, at least 1.

    Each noisy marginal sums to the record count plus independent Gaussian noise of variance
    sigma^2 times the number of noisy counts it adds up (:meth:`Measurement.total_variance`), so
    inverse-variance weights give the minimum-variance unbiased combination.
    """
    if not measurements:
        raise ModelError("estimate_total needs at least one measurement")
    totals = np.array([m.values.sum() for m in measurements])
    weights = np.array([1.0 / m.total_variance() for m in measurements])
    return max(1.0, float(weights @ totals / weights.sum()))


def independent_start(
    domain: Domain, measurements: Sequence[Measurement], total: float
) -> dict[tuple[str, ...], np.ndarray]:
    """Log-potentials of the independence model fitted to the measurements' one-way margins.

    Each measured attribute's margin is the inverse-variance weighted mean of every measurement
    holding it, summed onto it (per-cell variance about its total variance / size), floored at 0.1% of a
    uniform cell so its log is finite.
    """
    margins: dict[str, list[tuple[np.ndarray, float]]] = {}
    for m in measurements:
        y = m.factor(domain)
        for a in m.clique:
            weight = domain.size(a) / m.total_variance()
            margins.setdefault(a, []).append((y.sum((a,)).values, weight))
    start: dict[tuple[str, ...], np.ndarray] = {}
    for a, estimates in margins.items():
        margin = sum(w * v for v, w in estimates) / sum(w for _, w in estimates)
        margin = np.maximum(margin, 1e-3 * total / domain.size(a))
        start[(a,)] = np.log(margin / margin.sum())
    return start
