"""Quality scores the door computes for the exponential mechanism, each with its proved sensitivity.

The door owns them: a generator names a score and gives its public inputs (the model's
predicted marginals, weights, offsets), the door computes the score on the exact marginal and
charges the selection at the score's sensitivity. No generator ever receives an exact count,
and none can pass an arbitrary function of the data as a score.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

Clique = tuple[str, ...]


@dataclass(frozen=True)
class L1Error:
    """``w_r * (||M_r(D) - target(r)||_1 - offset_r)``: how badly a public estimate misses a marginal.

    ``target(clique)`` returns a public array (post-processing, e.g. a model's marginal)
    shaped like the marginal; it is called with the clique's name only. Weights default to 1,
    offsets to 0. One row changes one cell of M_r(D) by one, so the L1 distance moves by at
    most 1 and the score by at most ``w_r``: the sensitivity is the largest ``|w_r|`` among
    the candidates (a public set). MST scores its edges this way (McKenna, Miklau & Sheldon
    2021), AIM its candidates (McKenna et al. 2022, with the noise-bias offset).
    """

    target: Callable[[Clique], np.ndarray]
    weights: Mapping[Clique, float] = field(default_factory=dict)
    offsets: Mapping[Clique, float] = field(default_factory=dict)

    def sensitivity(self, candidates: Sequence[Clique]) -> float:
        return max(abs(float(self.weights.get(c, 1.0))) for c in candidates)

    def __call__(self, clique: Clique, counts: np.ndarray) -> float:
        error = float(np.abs(counts - self.target(clique)).sum())
        return float(self.weights.get(clique, 1.0)) * (error - float(self.offsets.get(clique, 0.0)))


def r_score(counts: np.ndarray) -> float:
    """PrivBayes' score R of a child X and its parents Pi, on the count scale.

    ``counts`` is the exact contingency table with the child on axis 0 and the parents on the
    other axes. With N the counts, a = N's child margin, b = its parent margin and n its total,

        R(X, Pi) = 1/2 || N - a b^T / n ||_1,

    n times the paper's R = 1/2 || Pr[X, Pi] - Pr[X] Pr[Pi] ||_1 (Zhang et al. 2017, TODS
    Section 5, the score for non-binary attributes): how far the child is from independence of
    its parents.

    Sensitivity 2 for adding or removing one row (:data:`R_SCORE_SENSITIVITY`). Proof: adding a
    row in cell (x, p) to a table with total n and margins a = n alpha, b = n beta changes
    N - a b^T / n by exactly lambda (e_x - alpha)(e_p - beta)^T with lambda = n / (n + 1)
    (expand (a + e_x)(b + e_p)^T / (n + 1) - a b^T / n). Its L1 norm is
    lambda * 2 (1 - alpha_x) * 2 (1 - beta_p) < 4, so R moves by less than 2 (by the triangle
    inequality); removing a row is the same step read backwards. For the empty table R = 0,
    and for one row N = a b^T / n, so R = 0 too. The bound holds for every n, so the
    count scale needs no private n; the paper's bound is for its replace-one neighbours at a
    known n, which is not dpsynth's neighbouring relation.
    """
    table = np.asarray(counts, dtype=float)
    table = table.reshape(table.shape[0], -1) if table.ndim else table.reshape(1, 1)
    n = float(table.sum())
    if n <= 0:
        return 0.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    return 0.5 * float(np.abs(table - expected).sum())


#: Sensitivity of :func:`r_score` to adding or removing one row (proved in its docstring).
R_SCORE_SENSITIVITY = 2.0


@dataclass(frozen=True)
class IndependenceGap:
    """PrivBayes' parent-set score :func:`r_score` (child on the clique's first axis)."""

    def sensitivity(self, candidates: Sequence[Clique]) -> float:
        return R_SCORE_SENSITIVITY

    def __call__(self, clique: Clique, counts: np.ndarray) -> float:
        return r_score(counts)


Score = L1Error | IndependenceGap
SCORES = (L1Error, IndependenceGap)
