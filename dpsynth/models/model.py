"""A fitted graphical model: log-potentials on cliques, scaled to an estimated record count.

The distribution is p(x) proportional to exp(sum over cliques C of theta_C(x_C)); marginals are
reported as counts (probabilities times ``total``). The model is post-processing of noisy
measurements, so it may be saved and shared with a release.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np

from dpsynth.errors import ArgumentTypeError, ModelError
from dpsynth.models.conditioning import (
    Codes,
    PerCode,
    Restricted,
    ZeroProbabilityError,
    rebalance_weights,
    restrict,
)
from dpsynth.models.domain import Domain
from dpsynth.models.factor import Factor
from dpsynth.models.inference import calibrate, clique_probabilities, marginal_probabilities
from dpsynth.models.junction_tree import JunctionTree, build_junction_tree
from dpsynth.models.sampling import sample_rows


def tree_potentials(
    domain: Domain,
    tree: JunctionTree,
    potentials: Mapping[tuple[str, ...], np.ndarray],
    out: list[Factor] | None = None,
) -> list[Factor]:
    """Sum each clique's log-potential into the junction-tree clique with fewest cells holding it.

    The tables are new (one set, filled in place), so :func:`calibrate` may overwrite them; or
    ``out``'s tables, overwritten. A fit that takes thousands of steps passes the same ``out``
    each time: fresh tables of a model of millions of cells cost a page fault per 4 KiB on first
    touch, a large share of AIM's time at high epsilon (see
    ``benchmarks/notes/2026-11-23-marginal-engine.md``).
    """
    if out is None:
        out = [Factor(c, np.empty(domain.shape(c))) for c in tree.cliques]
    filled = [False] * len(out)
    for clique, values in potentials.items():
        i = tree.holding(clique)
        aligned = Factor(clique, values).aligned(out[i].attrs)
        if filled[i]:
            out[i].values += aligned
        else:
            np.copyto(out[i].values, aligned)  # broadcasts over the clique's other axes
            filled[i] = True
    for table, done in zip(out, filled):
        if not done:
            table.values.fill(0.0)
    return out


class GraphicalModel:
    """Markov random field over ``domain`` with log-potentials on ``potentials``' cliques.

    Treat it as immutable: calibration is computed once, on first use, and cached.
    """

    def __init__(
        self, domain: Domain, potentials: Mapping[tuple[str, ...], np.ndarray], total: float
    ) -> None:
        self.domain = domain
        self.potentials: dict[tuple[str, ...], np.ndarray] = {}
        for clique, values in potentials.items():
            clique = tuple(clique)
            values = np.asarray(values, dtype=float)
            if values.shape != domain.shape(clique):
                raise ModelError(
                    f"potential on {clique} has shape {values.shape}; expected {domain.shape(clique)}"
                )
            if not np.all(np.isfinite(values)):
                raise ModelError(f"potential on {clique} must be finite (no structural zeros)")
            self.potentials[clique] = values
        self.total = float(total)
        if not (np.isfinite(self.total) and self.total > 0):
            raise ModelError(f"total must be positive and finite; got {total!r}")
        #: The estimator's last step size (relative to its always-safe step), set by
        #: :func:`~dpsynth.models.estimation.estimate` so a warm-started refit resumes with it;
        #: not saved with the model.
        self.step_size: float | None = None

    @property
    def cliques(self) -> list[tuple[str, ...]]:
        return list(self.potentials)

    @cached_property
    def junction_tree(self) -> JunctionTree:
        return build_junction_tree(self.domain, self.cliques, max_cells=None)

    @cached_property
    def _calibrated(self) -> tuple[list[Factor], float]:
        tree = self.junction_tree
        return calibrate(tree, tree_potentials(self.domain, tree, self.potentials), overwrite=True)

    @cached_property
    def _probabilities(self) -> list[Factor]:
        return clique_probabilities(self._calibrated[0])

    @property
    def log_partition(self) -> float:
        return self._calibrated[1]

    def marginal(self, attrs: Sequence[str]) -> np.ndarray:
        """Expected counts over ``attrs`` (an axis per attribute, in the order given); sums to total."""
        attrs = tuple(attrs)
        for a in attrs:
            self.domain.index(a)
        return self.total * marginal_probabilities(self.junction_tree, self._probabilities, attrs)

    def sample(
        self,
        n_rows: int,
        rng: np.random.Generator,
        evidence: Mapping[str, Codes] | None = None,
        weights: Mapping[str, PerCode] | None = None,
    ) -> np.ndarray:
        """``n_rows`` independent rows of integer codes, shape (n_rows, len(domain)), in domain order.

        With ``evidence`` ({attribute: allowed codes}) the rows are drawn exactly from the model's
        conditional distribution given that each such attribute takes one of its allowed codes;
        with ``weights`` ({attribute: one non-negative weight per code}) from the model times
        those per-code factors, renormalised (the attribute's distribution is reweighted and the
        other attributes follow conditionally). Both are post-processing of the fitted model (no
        privacy cost) and exact, not rejection: the potentials are restricted to the kept codes
        (see :mod:`dpsynth.models.conditioning`), re-calibrated, and sampled. Raises
        ZeroProbabilityError (a ValueError) when the evidence has probability zero.
        """
        if not isinstance(rng, np.random.Generator):
            raise ArgumentTypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
        if int(n_rows) != n_rows or n_rows < 0:
            raise ModelError(f"n_rows must be a non-negative integer; got {n_rows!r}")
        if not evidence and not weights:
            return sample_rows(self.domain, self.junction_tree, self._calibrated[0], int(n_rows), rng)
        restricted = self.restrict(evidence, weights)
        rows = sample_rows(restricted.domain, restricted.tree, restricted.beliefs, int(n_rows), rng)
        return restricted.to_full(rows)

    def restrict(
        self,
        evidence: Mapping[str, Codes] | None = None,
        weights: Mapping[str, PerCode] | None = None,
    ) -> Restricted:
        """The model given ``evidence`` and times ``weights``, calibrated on its kept codes.

        The building block of the conditional methods; ``log_mass`` is log P(evidence) when no
        weights are given.
        """
        return restrict(self.domain, self.junction_tree, self.potentials, self.log_partition, evidence, weights)

    def conditional_marginal(
        self,
        attrs: Sequence[str],
        evidence: Mapping[str, Codes] | None = None,
        weights: Mapping[str, PerCode] | None = None,
    ) -> np.ndarray:
        """Probabilities over ``attrs`` (axes in that order; they sum to 1) given ``evidence``
        and times ``weights``, as in :meth:`sample`; codes the evidence rules out get 0.

        Unlike :meth:`marginal` these are probabilities, not counts.
        """
        attrs = tuple(attrs)
        for a in attrs:
            self.domain.index(a)
        return self.restrict(evidence, weights).probabilities(self.domain, attrs)

    def evidence_probability(self, evidence: Mapping[str, Codes]) -> float:
        """P(each evidence attribute takes one of its allowed codes) under the model."""
        try:
            return float(np.exp(self.restrict(evidence).log_mass))
        except ZeroProbabilityError:
            return 0.0

    def rebalance_weights(
        self,
        targets: Mapping[str, PerCode],
        evidence: Mapping[str, Codes] | None = None,
        weights: Mapping[str, PerCode] | None = None,
        tol: float = 1e-10,
        max_sweeps: int = 1000,
    ) -> dict[str, np.ndarray]:
        """Per-code weights on the ``targets``' attributes that give them those marginals.

        ``targets`` maps an attribute to the distribution (one probability per code, summing to
        1 within 1e-6) it should have under the model given ``evidence`` and times the fixed
        ``weights``. Pass ``{**weights, **result}`` to :meth:`sample` or
        :meth:`conditional_marginal`. For one attribute the weights are target / conditional
        marginal (exact in one step); for several, raking (iterative proportional fitting) until
        every marginal is within ``tol``. Post-processing: no privacy cost. Raises
        ZeroProbabilityError when a target puts mass on a code of probability zero.
        """
        targets = dict(targets)
        for a in targets:
            self.domain.index(a)

        def marginals(current: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
            restricted = self.restrict(evidence, current)
            return {a: restricted.probabilities(self.domain, (a,)) for a in targets}

        return rebalance_weights(marginals, self.domain, targets, weights, tol, max_sweeps)

    def _header(self) -> dict[str, Any]:
        cliques = [list(c) for c in self.potentials]
        return {"domain": self.domain.to_dict(), "cliques": cliques, "total": self.total}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able description (nested lists); :meth:`from_dict` inverts it."""
        return {**self._header(), "potentials": [v.tolist() for v in self.potentials.values()]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GraphicalModel:
        """The model :meth:`to_dict` described; potentials may be lists or arrays."""
        potentials = {tuple(c): v for c, v in zip(data["cliques"], data["potentials"])}
        return cls(Domain.from_dict(data["domain"]), potentials, data["total"])

    def save(self, path: str | os.PathLike) -> None:
        """Write the model to an ``.npz`` file: arrays as arrays, the rest as one JSON header."""
        header = self._header()
        arrays = {f"potential_{i}": v for i, v in enumerate(self.potentials.values())}
        # numpy's stubs type savez_compressed's **kwds so that mypy matches them to allow_pickle: bool.
        np.savez_compressed(path, header=np.array(json.dumps(header)), **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: str | os.PathLike) -> GraphicalModel:
        """The model :meth:`save` wrote (no pickles are read)."""
        with np.load(path, allow_pickle=False) as archive:
            header = json.loads(str(archive["header"]))
            potentials = [archive[f"potential_{i}"] for i in range(len(header["cliques"]))]
        return cls.from_dict({**header, "potentials": potentials})
