"""Conditioning and reweighting a fitted model, exactly, by restricting its domain.

Post-processing of the fitted model: nothing here sees data, so none of it costs privacy.

Given evidence "x_a is one of the codes S_a" on some attributes and per-code weights w_b >= 0
on some attributes, the distribution wanted is

    q(x) proportional to p(x) * prod_a 1[x_a in S_a] * prod_b w_b(x_b).

Log-potentials cannot hold the zeros of the indicators (the engine keeps them finite), so the
zeros are removed instead: each such attribute keeps only its codes with a positive factor (a
sub-domain), every potential is sliced to the kept codes, and log w_b is added to one clique
holding b. On the sub-domain q is an ordinary model with finite potentials on the same cliques,
so the model's own junction tree (same cliques, smaller tables) serves it unchanged: sum-product
gives q's marginals and its log partition function, and the ancestral sampler draws exact,
independent rows of q, whose codes are finally mapped back to the full domain. The log of q's
normaliser against p's, log E_p[prod 1[..] prod w], says whether the evidence is possible.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from dpsynth.errors import DpsynthError, ModelError
from dpsynth.models.domain import Domain
from dpsynth.models.factor import Factor
from dpsynth.models.inference import calibrate, clique_probabilities, marginal_probabilities
from dpsynth.models.junction_tree import JunctionTree

# exp(x) is 0.0 in float64 below this: a probability the engine's marginals report as zero.
_LOG_SMALLEST = math.log(np.nextafter(0.0, 1.0))

#: Sum-of-targets tolerance of :func:`rebalance_weights`.
TARGET_SUM_TOLERANCE = 1e-6

#: Allowed codes of one attribute (evidence).
Codes = Sequence[int] | np.ndarray
#: One number per code of one attribute (weights, a target distribution).
PerCode = Sequence[float] | np.ndarray


class ZeroProbabilityError(DpsynthError, ValueError):
    """Evidence (or targets) that the model gives probability zero (in float64).

    ``attrs`` lists the attributes concerned; the message names them too.
    """

    def __init__(self, message: str, attrs: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.attrs = list(attrs)


@dataclass(frozen=True)
class Restricted:
    """The model restricted to the kept codes, reweighted and calibrated.

    ``kept[a]`` lists (sorted) the original codes attribute ``a`` keeps, for the restricted
    attributes only; ``tree`` is the model's junction tree on the sub-domain; ``beliefs`` its
    calibrated log clique marginals; ``log_mass`` is log E_p[prod 1[..] prod w] (for evidence
    alone, log P(evidence)).
    """

    domain: Domain
    kept: dict[str, np.ndarray]
    tree: JunctionTree
    beliefs: list[Factor]
    log_mass: float

    @cached_property
    def _probabilities(self) -> list[Factor]:
        return clique_probabilities(self.beliefs)

    def codes(self, attr: str) -> np.ndarray:
        """Original code of each sub-domain code of ``attr``."""
        kept = self.kept.get(attr)
        return np.arange(self.domain.size(attr)) if kept is None else kept

    def probabilities(self, full: Domain, attrs: Sequence[str]) -> np.ndarray:
        """q's marginal over ``attrs`` on the full domain (zero on codes left out); sums to 1."""
        attrs = tuple(attrs)
        out = np.zeros(full.shape(attrs))
        probs = marginal_probabilities(self.tree, self._probabilities, attrs)
        out[np.ix_(*[self.codes(a) for a in attrs])] = probs
        return out

    def to_full(self, rows: np.ndarray) -> np.ndarray:
        """Rows of sub-domain codes as rows of original codes (in place)."""
        for attr, kept in self.kept.items():
            j = self.domain.index(attr)
            rows[:, j] = kept[rows[:, j]]
        return rows


def _check_codes(domain: Domain, attr: str, codes) -> np.ndarray:
    size = domain.size(attr)
    codes = np.atleast_1d(np.asarray(codes))
    if codes.ndim != 1:
        raise ModelError(f"evidence on {attr!r} must be a 1-d array of codes; got shape {codes.shape}")
    if codes.size and (codes.dtype.kind not in "iu"):
        raise ModelError(f"evidence on {attr!r} must be integer codes; got dtype {codes.dtype}")
    codes = codes.astype(np.int64)
    if np.any((codes < 0) | (codes >= size)):
        raise ModelError(f"evidence on {attr!r}: codes must lie in 0..{size - 1}")
    return np.unique(codes)


def _check_weights(domain: Domain, attr: str, weights) -> np.ndarray:
    size = domain.size(attr)
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (size,):
        raise ModelError(f"weights on {attr!r} must have shape ({size},), one per code; got {weights.shape}")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ModelError(f"weights on {attr!r} must be finite and non-negative")
    return weights


def restrict(
    domain: Domain,
    tree: JunctionTree,
    potentials: Mapping[tuple[str, ...], np.ndarray],
    log_partition: float,
    evidence: Mapping[str, Codes] | None = None,
    weights: Mapping[str, PerCode] | None = None,
) -> Restricted:
    """The model times the evidence indicators and the weights, on its kept codes, calibrated.

    Raises ZeroProbabilityError when an attribute keeps no code, or when the remaining mass
    underflows to zero in float64 (the model's marginals would report it as 0).
    """
    evidence = dict(evidence or {})
    weights = dict(weights or {})
    for attr in (*evidence, *weights):
        domain.index(attr)  # ValueError naming the attribute and the domain
    kept = {a: _check_codes(domain, a, codes) for a, codes in evidence.items()}
    log_weights = {}
    for attr, w in weights.items():
        w = _check_weights(domain, attr, w)
        codes = kept.get(attr, np.arange(domain.size(attr)))
        codes = codes[w[codes] > 0]
        kept[attr] = codes
        if codes.size:
            w = w[codes]
            log_weights[attr] = np.log(w / w.max())  # the scale of a weight vector is irrelevant
    empty = [a for a, codes in kept.items() if codes.size == 0]
    if empty:
        raise ZeroProbabilityError(
            f"evidence has zero probability: attribute(s) {empty} keep no code "
            "(no allowed code, or every allowed code has weight 0)",
            empty,
        )
    kept = {a: codes for a, codes in kept.items() if codes.size < domain.size(a)}

    sub = Domain(domain.attrs, tuple(len(kept[a]) if a in kept else n for a, n in zip(domain.attrs, domain.sizes)))
    sub_tree = JunctionTree(sub, tree.cliques, tree.parent, tree.order, tree.separator)
    factors = [Factor.zeros(sub, c) for c in sub_tree.cliques]
    for clique, values in potentials.items():
        index = np.ix_(*[kept.get(a, np.arange(domain.size(a))) for a in clique])
        i = sub_tree.holding(clique)
        factors[i] = factors[i] + Factor(clique, values[index])
    for attr, values in log_weights.items():
        i = sub_tree.holding((attr,))
        factors[i] = factors[i] + Factor((attr,), values)
    beliefs, log_z = calibrate(sub_tree, factors)
    log_mass = log_z - log_partition
    if not log_mass >= _LOG_SMALLEST:
        given = sorted(set(evidence) | set(weights))
        raise ZeroProbabilityError(
            f"evidence on {given} has zero probability under the model "
            f"(log probability {log_mass:.4g}, below what float64 holds)",
            given,
        )
    return Restricted(sub, kept, sub_tree, beliefs, float(log_mass))


def _check_target(domain: Domain, attr: str, target) -> np.ndarray:
    size = domain.size(attr)
    target = np.asarray(target, dtype=float)
    if target.shape != (size,):
        raise ModelError(f"target for {attr!r} must have shape ({size},), one per code; got {target.shape}")
    if not np.all(np.isfinite(target)) or np.any(target < 0):
        raise ModelError(f"target for {attr!r} must be finite and non-negative")
    if abs(target.sum() - 1.0) > TARGET_SUM_TOLERANCE:
        raise ModelError(f"target for {attr!r} must sum to 1 (within {TARGET_SUM_TOLERANCE}); got {target.sum():.8g}")
    return target / target.sum()


def rebalance_weights(
    marginals,
    domain: Domain,
    targets: Mapping[str, PerCode],
    weights: Mapping[str, PerCode] | None,
    tol: float,
    max_sweeps: int,
) -> dict[str, np.ndarray]:
    """Weights on the target attributes under which the model's marginals equal the targets.

    ``marginals(weights) -> {attr: probabilities}`` evaluates the (conditioned) model times
    ``weights``. One attribute needs one step: w = target / marginal makes the marginal the
    target exactly. Several are raked (iterative proportional fitting, Deming & Stephan 1940):
    each attribute's weights are rescaled in turn until every marginal is within ``tol`` of its
    target (max abs difference). The result is the I-projection of the model onto the targets:
    of all distributions with those marginals, the closest to the model in KL, so every other
    attribute follows the model's conditional given the target attributes. ``weights`` are
    fixed factors kept in place (a target attribute's own factor is folded into its result).
    """
    wanted = {a: _check_target(domain, a, t) for a, t in targets.items()}
    fixed = {a: np.asarray(w, dtype=float) for a, w in (weights or {}).items()}
    current = {a: fixed.get(a, np.ones(domain.size(a))).copy() for a in wanted}

    def evaluate() -> dict[str, np.ndarray]:
        found = marginals({**fixed, **current})
        for attr, target in wanted.items():
            impossible = np.flatnonzero((target > 0) & (found[attr] == 0))
            if impossible.size:
                raise ZeroProbabilityError(
                    f"target for {attr!r} puts mass on code(s) {impossible.tolist()}, which the model "
                    "(given the evidence) gives probability zero",
                    [attr],
                )
        return found

    for _ in range(max_sweeps):
        found = evaluate()
        if max(np.abs(found[a] - t).max() for a, t in wanted.items()) <= tol:
            return current
        for k, (attr, target) in enumerate(wanted.items()):
            if k:
                found = evaluate()
            ratio = np.divide(target, found[attr], out=np.zeros_like(target), where=target > 0)
            w = current[attr] * ratio
            current[attr] = w / w.max()
    raise ModelError(
        f"targets on {list(wanted)} were not met within {tol} after {max_sweeps} sweeps of raking"
    )
