"""PrivBayes: Zhang, Cormode, Procopiuc, Srivastava & Xiao (2017), "PrivBayes: Private Data
Release via Bayesian Networks", ACM Transactions on Database Systems 42(4), article 25.

A Bayesian network of low degree is learned greedily, each parent set picked by the
exponential mechanism; the marginal of every attribute with its parents is measured with the
discrete Gaussian; a graphical model consistent with all measured marginals is estimated with
Private-PGM and sampled. What is new here against the paper, and why, is listed in
:class:`PrivBayes`'s docstring.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Mapping, Sequence

import networkx as nx
import numpy as np

from dpsynth.data import PrivateTable
from dpsynth.data.scores import IndependenceGap
from dpsynth.errors import BudgetError, BudgetExceeded, DataError
from dpsynth.generators.base import (
    MarginalGenerator,
    check_discrepancy,
    check_positive_int,
)
from dpsynth.models import Domain, Measurement, estimate, model_size
from dpsynth.models.junction_tree import GraphSizes
from dpsynth.privacy.accountant import PlannedMeasurement
from dpsynth.privacy.budget import MARGINAL
from dpsynth.progress import advance
from dpsynth.validation import number

logger = logging.getLogger(__name__)

#: At most this many (child, parents) candidates are scored per step; beyond it a uniformly
#: random subset is kept (public randomness: it never looks at the data).
MAX_CANDIDATES = 1000

#: At most about this many candidates are scored over the whole search (d - 1 steps): each
#: costs an exact count and a junction-tree size check, so on wide tables a step scores
#: ``MAX_SCORED // (d - 1)`` (at least ``MIN_CANDIDATES``); up to 16 columns every step
#: keeps ``MAX_CANDIDATES``.
MAX_SCORED = 15_000
MIN_CANDIDATES = 100

#: Refuse, before any budget is spent, settings under which one child could have more
#: feasible parent sets than this (they are enumerated at every step).
MAX_PARENT_SETS = 50_000

#: Default cap on the cells of one measured marginal (child with its parents).
DEFAULT_MAX_CELLS_PER_CONDITIONAL = 2**13

#: Default cap on the cells of the junction tree of the estimated model (8 MiB as float64):
#: the mirror descent of Private-PGM touches every cell at each of its ``max_iters`` steps.
DEFAULT_MAX_MODEL_CELLS = 2**20

#: Default ``discrepancy`` stop of the fit: on Adult, PUMS and German credit it did better than
#: the former fixed 1,000 steps on average, and larger fractions stopped too early on the small
#: tables (``benchmarks/bench_stopping.py --method privbayes``; see
#: ``benchmarks/notes/2026-11-23-stopping-rule.md``).
DEFAULT_DISCREPANCY = 0.02


def parent_cap(n_columns: int) -> int:
    """The most parents ``degree=None`` allows: the largest k whose parent sets of at most k
    among the other ``n_columns - 1`` columns number at most ``MAX_PARENT_SETS``.

    It depends on the column count alone (public), so the enumeration of maximal parent sets
    stays bounded however wide the table is; with up to 16 columns (2**15 sets) every size of
    set is allowed, as in the paper's rule.
    """
    pool, count = n_columns - 1, 0
    for k in range(pool + 1):
        count += math.comb(pool, k)
        if count > MAX_PARENT_SETS:
            return max(k - 1, 1)
    return max(pool, 1)


def candidates_per_step(n_columns: int) -> int:
    """How many candidates a step of the search scores at most (public: the column count alone)."""
    return min(MAX_CANDIDATES, max(MIN_CANDIDATES, MAX_SCORED // max(n_columns - 1, 1)))


def maximal_parent_sets(
    pool: Sequence[str], sizes: Mapping[str, int], cell_limit: float, max_size: int | None = None,
    limit: int | None = None,
) -> list[tuple[str, ...]]:
    """The maximal Pi among ``pool`` with prod(sizes[Pi]) <= ``cell_limit`` and |Pi| <= ``max_size``.

    Both conditions hold for every subset of a set that meets them, so a feasible set is
    maximal when no single attribute can be added to it. Sets keep ``pool``'s order. With
    ``limit``, raises DataError once more feasible sets than that are found.
    """
    pool = list(pool)
    max_size = len(pool) if max_size is None else min(max_size, len(pool))
    feasible: list[tuple[tuple[str, ...], int]] = []

    def grow(start: int, current: tuple[str, ...], cells: int) -> None:
        feasible.append((current, cells))
        if limit is not None and len(feasible) > limit:
            raise DataError(
                f"more than {limit:,} feasible parent sets: set degree, or lower "
                "max_cells_per_conditional"
            )
        if len(current) == max_size:
            return
        for j in range(start, len(pool)):
            grown = cells * sizes[pool[j]]
            if grown <= cell_limit:
                grow(j + 1, (*current, pool[j]), grown)

    if cell_limit >= 1:
        grow(0, (), 1)
    else:
        feasible.append(((), 1))
    out = []
    for parents, cells in feasible:
        if len(parents) == max_size:
            out.append(parents)
            continue
        rest = [sizes[a] for a in pool if a not in parents]
        if not rest or cells * min(rest) > cell_limit:
            out.append(parents)
    return out


class PrivBayes(MarginalGenerator):
    """Bayesian-network synthesizer (Zhang et al. 2017, ACM TODS), on the Private-PGM engine.

    ``fit(table, part)`` spends what is left of ``part``: a share ``structure_share`` (the
    paper's beta) learns the network, the rest measures its d conditionals (child with
    parents) with equal discrete Gaussian noise, calibrated so the part is spent exactly.

    Network learning (the paper's greedy algorithm). The first attribute is drawn uniformly at
    random (no privacy cost). At each of the d - 1 further steps every pair (X, Pi) with X not
    yet in the network and Pi a maximal allowed parent set among the attributes already in it
    is a candidate, and the exponential mechanism picks one with epsilon = sqrt(8 rho_s /
    (d - 1)), so the d - 1 selections (each epsilon^2/8-zCDP) spend exactly rho_s = beta *
    rho. Only the last step can have a single candidate (one child left with one allowed
    parent set, e.g. a child larger than the cell bound); it is then decided without a
    selection, and what that selection would have spent goes to the measurements.

    Score. :func:`dpsynth.data.scores.r_score`, the paper's R on the count scale, with sensitivity 2 per added or
    removed row (proved there). R is the score of the paper's extension to non-binary
    attributes: its F, designed for binary ones, needs a combinatorial optimisation over the
    joint distribution that does not scale to large domains. Mutual information was not used:
    its sensitivity (the paper bounds it at about (2/n) log n for n rows) depends on the
    private n, and on the count scale n I(X; Pi) it grows like log n, so under dpsynth's
    add/remove neighbours it has no fixed bound to calibrate the exponential mechanism to.

    Allowed parent sets. With ``degree=k``, Pi has at most k parents and the child with its
    parents at most ``max_cells_per_conditional`` cells; when everything fits the maximal sets
    are exactly the subsets of size min(k, |V|), as in the paper. With ``degree=None``, the
    paper's theta-usefulness rule for general domains picks the parent sets, with at most
    :func:`parent_cap` parents (a bound from the column count that keeps the enumeration of
    parent sets within ``MAX_PARENT_SETS`` on wide tables): a conditional is
    useful when its average count per cell is at least ``theta`` times its noise standard
    deviation, i.e. cells(X, Pi) <= n_hat / (theta * sigma), with sigma the measurements'
    noise (known before any selection) and n_hat the total of the first measured marginal (a
    DP row estimate; the first attribute, having no parents, is measured before the
    selections). Candidates are the maximal parent sets under that bound (and the cap), so a
    small child gets several parents and a large one few or none. A candidate whose addition
    would make the model's junction tree exceed ``max_cells`` is replaced by its largest
    subsets that fit; if more than :func:`candidates_per_step` remain (1,000 up to 16 columns,
    fewer on wider tables so that the search scores about ``MAX_SCORED`` in all), a uniformly
    random subset (drawn without looking at the data) is scored.

    Consistent post-processing. Instead of the paper's normalisation of each noisy conditional
    on its own (clip negatives, divide by the parent count), one graphical model is estimated
    from all measured (X, Pi) marginals with Private-PGM (:func:`dpsynth.models.estimate`),
    which makes them consistent with each other; that model is sampled (``sample``).

    Cost with d columns: d - 1 steps, each scoring at most :func:`candidates_per_step` candidates
    (an exact count and a junction-tree size check each), so the search grows about linearly
    in d with the defaults; the figures are in ``RESULTS.md``.

    Parameters
    ----------
    degree : largest number of parents (None: the theta-usefulness rule above, with at most
        :func:`parent_cap` parents).
    structure_share : share of the part's rho spent learning the network (the paper's beta),
        strictly between 0 and 1.
    theta : the usefulness threshold of ``degree=None`` (the paper's default 4).
    max_iters : most trial steps of Private-PGM's mirror descent.
    discrepancy : where the fit stops between the least-squares floor of its residuals (0) and
        the noise's own level (1), as MST's (see :func:`~dpsynth.models.estimate`); None fits
        until ``max_iters``. PrivBayes's measured families overlap little, so the model can
        follow their noise closely and its best stop sits nearer the floor than MST's: see
        ``DEFAULT_DISCREPANCY``.
    max_cells_per_conditional : largest number of cells of one measured marginal.
    max_cells : largest number of cells of the estimated model's junction tree.

    Attributes (after ``fit``)
    --------------------------
    network_ : networkx.DiGraph over the encoded columns, an edge from each parent to its child.
    conditionals_ : the network as a public list of (child, parents), in the order learned.
    degree_ : the largest number of parents in the learned network.
    cell_limit_ : the bound on a conditional's cells used in the search (DP: from n_hat).
    """

    name = "privbayes"

    def __init__(
        self,
        *,
        degree: int | None = None,
        structure_share: float = 0.3,
        theta: float = 4.0,
        max_iters: int = 10000,
        discrepancy: float | None = DEFAULT_DISCREPANCY,
        max_cells_per_conditional: int = DEFAULT_MAX_CELLS_PER_CONDITIONAL,
        max_cells: int = DEFAULT_MAX_MODEL_CELLS,
    ) -> None:
        self.degree = degree
        self.structure_share = structure_share
        self.theta = theta
        self.max_iters = max_iters
        self.discrepancy = discrepancy
        self.max_cells_per_conditional = max_cells_per_conditional
        self.max_cells = max_cells


    # ------------------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        if self.degree is not None:
            check_positive_int("degree", self.degree)
        share = self.structure_share
        number("structure_share", share, low=0, high=1, low_open=True, high_open=True, error=BudgetError)
        theta = self.theta
        number("theta", theta, low=0, low_open=True)
        check_positive_int("max_iters", self.max_iters)
        check_discrepancy(self.discrepancy)
        check_positive_int("max_cells_per_conditional", self.max_cells_per_conditional)
        check_positive_int("max_cells", self.max_cells)

    def _check_feasible(self, domain: Domain) -> None:
        """Refuse, before spending anything, settings the model or the enumeration cannot take."""
        base = model_size(domain, [])
        if base > self.max_cells:
            raise DataError(
                f"max_cells={self.max_cells:,} is below the {base:,} cells of the one-way tables alone"
            )
        sizes = domain.to_dict()
        for child in domain.attrs:
            others = [a for a in domain.attrs if a != child]
            maximal_parent_sets(
                others, sizes, self.max_cells_per_conditional / sizes[child], self._max_parents(len(domain)),
                limit=MAX_PARENT_SETS,
            )

    def _max_parents(self, n_columns: int) -> int:
        """``degree``, or for the theta rule the cap that keeps the enumeration bounded."""
        return parent_cap(n_columns) if self.degree is None else self.degree

    # --------------------------------------------------------------------------------- fit
    def fit(self, table: PrivateTable, part: str = MARGINAL) -> PrivBayes:
        """Spend what is left of ``part`` on ``table``: learn the network, measure, estimate."""
        self._check_params()
        accountant = table.accountant
        rho = accountant.rho_remaining(part)
        if rho <= 0:
            raise BudgetExceeded(f"part '{part}' has no budget left for PrivBayes")
        columns = list(table.require_schema().encoded_columns)
        sizes = table.sizes
        domain = Domain(tuple(columns), tuple(sizes[c] for c in columns))
        self._check_feasible(domain)
        rng = table.noise.rng
        d = len(columns)
        scale = table.sensitivity_scale

        rho_structure = self.structure_share * rho if d > 1 else 0.0
        sigma = accountant.calibrate(part, [PlannedMeasurement(scale, 1.0)] * d, rho=rho - rho_structure)[0]
        first = columns[int(rng.integers(d))]
        first_counts = table.marginal((first,), sigma, part)
        measurements = [Measurement((first,), first_counts, sigma)]
        network: list[tuple[str, tuple[str, ...]]] = [(first, ())]
        logger.info("PrivBayes: network root %s", first)

        if self.degree is None:
            n_hat = max(float(first_counts.sum()), 1.0)
            cell_limit = min(float(self.max_cells_per_conditional), n_hat / (self.theta * sigma))
        else:
            cell_limit = float(self.max_cells_per_conditional)
        self.cell_limit_ = cell_limit
        if d > 1:
            epsilon = math.sqrt(8.0 * rho_structure / (d - 1))
            network = self._learn(table, part, domain, network, cell_limit, epsilon, rng)

        remaining = network[1:]
        if remaining:
            plan = [PlannedMeasurement(scale, 1.0)] * len(remaining)
            sigmas = accountant.calibrate(part, plan, rho=accountant.rho_remaining(part))
            cliques = [(child, *parents) for child, parents in remaining]
            for clique, s, counts in zip(cliques, sigmas, table.marginals(cliques, sigmas, part)):
                measurements.append(Measurement(clique, counts, s))
        logger.info("PrivBayes: estimating the model from %d measurements", len(measurements))
        model = estimate(domain, measurements, max_iters=self.max_iters, discrepancy=self.discrepancy,
                         max_cells=self.max_cells)
        self._set_fitted(model, table.require_schema(), {}, table.noise.sampling_rng, measurements)
        self._set_network(network)
        return self

    def _learn(self, table, part, domain, network, cell_limit, epsilon, rng):
        """The greedy network search: one exponential-mechanism selection per added attribute."""
        sizes = domain.to_dict()
        d = len(domain)
        max_parents = self._max_parents(d)
        per_step = candidates_per_step(d)

        while len(network) < d:
            advance(len(network), d, "PrivBayes network")
            inside = [child for child, _ in network]
            cliques = [(child, *parents) for child, parents in network]
            candidates = [
                (child, *parents)
                for child in domain.attrs
                if child not in inside
                for parents in maximal_parent_sets(inside, sizes, cell_limit / sizes[child], max_parents)
            ]
            if len(candidates) > per_step:
                keep = np.sort(rng.choice(len(candidates), size=per_step, replace=False))
                candidates = [candidates[i] for i in keep]
            graph = GraphSizes(domain, cliques)
            candidates = self._within_model_size(candidates, functools.partial(self._fits, domain, graph))
            if len(candidates) == 1:
                choice = 0
            else:
                choice = table.select(
                    candidates,
                    IndependenceGap(),
                    epsilon=epsilon,
                    part=part,
                    label="PrivBayes parent set selection",
                )
            child, *parents = candidates[choice]
            network.append((child, tuple(parents)))
            logger.info("PrivBayes step %d/%d: %s <- %s", len(network) - 1, d - 1, child, tuple(parents))
        return network

    def _fits(self, domain: Domain, graph: GraphSizes, candidate: tuple[str, ...]) -> bool:
        """Whether adding ``candidate`` keeps the junction tree within ``max_cells``: the verdict of
        :func:`model_size`, with a triangulation of the components the candidate joins only, and
        the second greedy order only when the first does not fit."""
        if domain.cells(candidate) > self.max_cells:
            return False  # a clique of any junction tree holds it
        return graph.with_clique(candidate, self.max_cells) <= self.max_cells

    @staticmethod
    def _within_model_size(candidates, fits):
        """Candidates whose clique keeps the junction tree within max_cells, the others replaced
        by their largest subsets (same child, fewer parents) that do. Public: uses sizes only."""
        out: dict[tuple[str, ...], None] = {}
        for candidate in candidates:
            level = [candidate]
            while level:
                good = [c for c in level if fits(c)]
                if good:
                    out.update(dict.fromkeys(good))
                    break
                level = list(dict.fromkeys(
                    c[:i] + c[i + 1:] for c in level for i in range(1, len(c))
                ))
        return list(out)

    # ------------------------------------------------------------------------ the network
    def _set_network(self, network: Sequence[tuple[str, Sequence[str]]]) -> None:
        self.conditionals_ = [(str(child), tuple(parents)) for child, parents in network]
        graph = nx.DiGraph()
        for order, (child, parents) in enumerate(self.conditionals_):
            graph.add_node(child, order=order)
            graph.add_edges_from((parent, child) for parent in parents)
        self.network_ = graph

    @property
    def degree_(self) -> int:
        """The largest number of parents in the learned network."""
        self._check_fitted()
        return max(len(parents) for _, parents in self.conditionals_)

    def _extra_state(self) -> dict[str, object]:
        return {"network": [[child, list(parents)] for child, parents in self.conditionals_]}

    def _restore_extra(self, state) -> None:
        if "network" not in state:
            raise DataError("the saved model has no PrivBayes network")
        self._set_network([(child, tuple(parents)) for child, parents in state["network"]])
