"""MST: McKenna, Miklau & Sheldon 2021, "Winning the NIST Contest: A scalable and general
approach to differentially private synthetic data".

The generator's share rho is split in three equal thirds: all 1-way marginals are measured;
the exponential mechanism picks a maximum spanning tree of the 2-way marginals that the
1-way model explains worst; those 2-way marginals are measured; Private-PGM estimates a
graphical model from all measurements, and the model is sampled.
"""

from __future__ import annotations

import itertools
import logging

import networkx as nx
import numpy as np

from dpsynth.data import PrivateTable
from dpsynth.data.scores import L1Error
from dpsynth.errors import BudgetExceeded
from dpsynth.generators.base import (
    MarginalGenerator,
    check_discrepancy,
    check_positive_int,
)
from dpsynth.generators.compression import merge_maps, merged_measurement, merged_size
from dpsynth.models import DEFAULT_MAX_CELLS, Domain, Measurement, estimate
from dpsynth.privacy.accountant import PlannedMeasurement
from dpsynth.privacy.budget import MARGINAL
from dpsynth.progress import advance

logger = logging.getLogger(__name__)

SELECTION_ITERS = 1000
"""Steps of the 1-way fit that the tree selection scores against (private-pgm's MST takes
2,500); on Adult 1,000 and 10,000 picked the same trees, and the 1-way fit approaches its
zero cells slowly, so more steps only cost time."""


class MST(MarginalGenerator):
    """Maximum-spanning-tree synthesizer.

    Parameters
    ----------
    compress : merge codes whose noisy 1-way count is below 3 sigma before the 2-way steps.
    max_iters : most trial steps of Private-PGM's mirror descent (private-pgm's MST takes 10,000).
    discrepancy : where the final fit stops between the least-squares floor of its residuals
        (0) and the noise's own level (1), see :func:`~dpsynth.models.estimate`; None fits until
        ``max_iters``. Fitted to the floor, the model fits the noise; the default 0.5 stops near
        the best step on Adult (see ``benchmarks/notes/2026-11-23-stopping-rule.md``).
    max_cells : refuse (ModelTooLarge) a model whose junction tree has more cells than this.

    Cost with d columns: the selection scores the pairs that join two parts of the tree in each
    of its d - 1 rounds (of the order of d^3 / 3 scores in all, each an exact count in the door), which
    dominates on wide tables; the fit of a tree of d - 1 pairs grows about linearly in d. The
    figures are in ``RESULTS.md``.
    """

    name = "mst"

    def __init__(self, *, compress: bool = True, max_iters: int = 10000, discrepancy: float | None = 0.5,
                 max_cells: int = DEFAULT_MAX_CELLS) -> None:
        self.compress = compress
        self.max_iters = max_iters
        self.discrepancy = discrepancy
        self.max_cells = max_cells


    def fit(self, table: PrivateTable, part: str = MARGINAL) -> MST:
        """Spend what is left of ``part`` on ``table`` and estimate the model."""
        self._check_params()
        accountant = table.accountant
        rho = accountant.rho_remaining(part)
        if rho <= 0:
            raise BudgetExceeded(f"part '{part}' has no budget left for MST")
        columns = list(table.require_schema().encoded_columns)
        sizes = table.sizes
        pairs = list(itertools.combinations(columns, 2))
        selections = len(columns) - 1 if len(pairs) > 1 else 0
        thirds = 3 if selections else 2
        scale = table.sensitivity_scale

        plan = [PlannedMeasurement(scale, 1.0)] * len(columns)
        sigmas = accountant.calibrate(part, plan, rho=rho / thirds)
        one_way = dict(zip(columns, table.marginals([(c,) for c in columns], sigmas, part)))
        merges = merge_maps(one_way, dict(zip(columns, sigmas))) if self.compress else {}
        domain = Domain(tuple(columns), tuple(merged_size(sizes[c], merges.get(c)) for c in columns))
        measurements = [
            merged_measurement(c, one_way[c], merges.get(c), s) for c, s in zip(columns, sigmas)
        ]

        if not pairs:
            tree = []
        elif selections:
            tree = self._select_tree(table, part, columns, measurements, domain, merges, rho / thirds)
        else:
            tree = pairs
        if tree:
            plan = [PlannedMeasurement(scale, 1.0)] * len(tree)
            remaining = accountant.rho_remaining(part)
            sigmas2 = accountant.calibrate(part, plan, rho=remaining)
            for pair, sigma in zip(tree, sigmas2):
                counts = table.marginal(pair, sigma, part, maps=merges)
                measurements.append(Measurement(pair, counts, sigma))
        logger.info("MST: estimating the model from %d measurements", len(measurements))
        model = estimate(domain, measurements, max_iters=self.max_iters, discrepancy=self.discrepancy,
                         max_cells=self.max_cells)
        self._set_fitted(model, table.require_schema(), merges, table.noise.sampling_rng, measurements)
        return self

    def _check_params(self) -> None:
        """Refuse bad settings before anything is measured, so no budget goes to a failed fit."""
        check_positive_int("max_iters", self.max_iters)
        check_positive_int("max_cells", self.max_cells)
        check_discrepancy(self.discrepancy)

    def _select_tree(self, table, part, columns, measurements, domain, merges, rho_select):
        """Kruskal's algorithm with each edge picked by the exponential mechanism.

        An edge's score is the L1 distance between its true 2-way marginal and the one the
        1-way model predicts; one row moves it by at most 1 (sensitivity 1).
        """
        independent = estimate(domain, measurements, max_iters=SELECTION_ITERS, max_cells=self.max_cells)
        predicted: dict[tuple[str, ...], np.ndarray] = {
            pair: independent.marginal(pair) for pair in itertools.combinations(columns, 2)
        }
        epsilon = float(np.sqrt(8.0 * rho_select / (len(columns) - 1)))
        components = nx.utils.UnionFind(columns)
        tree: list[tuple[str, ...]] = []
        for _ in range(len(columns) - 1):
            advance(len(tree), len(columns) - 1, "MST tree edges")
            candidates = [p for p in predicted if components[p[0]] != components[p[1]]]
            if len(candidates) == 1:
                choice = 0
            else:
                choice = table.select(
                    candidates,
                    L1Error(predicted.__getitem__),
                    epsilon=epsilon,
                    part=part,
                    label="MST edge selection",
                    maps=merges,
                )
            pair = candidates[choice]
            components.union(*pair)
            tree.append(pair)
        return tree
