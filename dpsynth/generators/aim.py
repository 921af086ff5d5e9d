"""AIM: McKenna, Mullins, Sheldon & Miklau 2022, "AIM: An Adaptive and Iterative Mechanism for
Differentially Private Synthetic Data" (PVLDB 15(11)).

AIM spends its share rho in rounds. It first measures every 1-way marginal. Each round then

1. keeps the candidates (every non-empty subset of a workload clique) whose addition keeps the
   junction tree of the model within ``max_model_size * rho_used / rho`` MiB, so the model may
   only grow as fast as the budget is spent;
2. picks the candidate the current model explains worst with the exponential mechanism, on the
   score q_r = w_r * (||M_r(D) - M_r(p)||_1 - sqrt(2/pi) * sigma * n_r): the L1 error minus
   the error a measurement with noise sigma would itself leave (n_r cells), weighted by the
   candidate's relevance to the workload, w_r = sum over workload cliques s of |r & s|;
3. measures that marginal with Gaussian noise sigma and re-estimates the model with
   Private-PGM, warm-started from the last one;
4. anneals: when the new model moved the measured marginal by less than the noise it was
   measured with, the next rounds halve sigma and double epsilon (4 times the budget each).

Initial parameters follow the paper: with T rounds planned, sigma0 = sqrt(T / (2 * 0.9 *
rho)) and epsilon0 = sqrt(8 * 0.1 * rho / T), so one round costs rho / T, 90% of it on
measurement. The paper plans T = 16 d rounds; on wide tables the plan stops growing at
``ROUNDS_CAP`` (see :func:`planned_rounds`). When what is left would not pay for two more
rounds at the current parameters, the next round is the last and uses exactly what is left
(10% selection, 90% measurement).
Sensitivities here are per row; with a person column every Gaussian sigma is scaled by the
door's ``sensitivity_scale`` (the exponential mechanism's score sensitivity is scaled inside
the door), so the spend per round is the same whatever the unit of privacy.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Mapping, Sequence

import numpy as np

from dpsynth.data import PrivateTable
from dpsynth.data.scores import L1Error
from dpsynth.errors import BudgetExceeded, DataError, SchemaError
from dpsynth.generators.base import MarginalGenerator, check_positive_int
from dpsynth.generators.compression import merge_maps, merged_measurement, merged_size
from dpsynth.models import Domain, GraphicalModel, Measurement, estimate, model_size
from dpsynth.models.junction_tree import GraphSizes
from dpsynth.privacy.accountant import PlannedMeasurement
from dpsynth.privacy.budget import MARGINAL
from dpsynth.progress import advance
from dpsynth.validation import number

logger = logging.getLogger(__name__)

Clique = tuple[str, ...]

#: Share of each round's rho spent on measurement (the paper's alpha); the rest selects.
MEASURE_SHARE = 0.9
#: Model sizes are float64 cells; ``max_model_size`` is in MiB.
BYTES_PER_CELL = 8
MIB = 2**20
_BIAS = math.sqrt(2.0 / math.pi)  # E|N(0, 1)|: expected L1 error per cell of a measurement
#: An int workload k takes every k-way set of columns up to this many (Adult's 15 columns have
#: 455 3-way sets); beyond, this many drawn uniformly at random. Each round scores every subset
#: of every workload set and checks the model size each would give, so the number of sets
#: bounds a round's work: all 3-way sets of 50 columns are 19,600.
MAX_WORKLOAD = 500
#: The most rounds the default plan has: the paper's T = 16 d up to 10 columns. See
#: :func:`planned_rounds`; the accuracy and time it was chosen on are in
#: ``benchmarks/notes/2026-12-07-aim-wide-tables.md``.
ROUNDS_CAP = 16 * 10
#: The fewest rounds per column the default plan has (from 54 columns on), so the 1-way step
#: (0.9 d / T of rho) never takes more than 0.3 of the budget, however wide the table.
MIN_ROUNDS_PER_COLUMN = 3


class AIM(MarginalGenerator):
    """Adaptive and iterative workload-aware synthesizer (McKenna et al. 2022).

    Parameters
    ----------
    workload : an int k for every k-way set of columns (every column if there are fewer than
        k; ``MAX_WORKLOAD`` of them drawn uniformly at random, without looking at the data, when
        there are more), or a list of column sets; AIM selects among their non-empty subsets.
    max_model_size : the junction tree of the final model stays within this many MiB of
        float64 tables; the limit grows with the share of the budget spent.
    max_rounds : the paper's T, the number of rounds the budget is planned for (default
        :func:`planned_rounds`: 16 times the number of columns, at most ``ROUNDS_CAP``).
        Rounds that anneal cost more, so fewer rounds run. Must be at least the number of
        columns: the 1-way step costs 0.9 * d / T of rho.
    max_iters : Private-PGM iterations of the final estimation.
    round_iters : Private-PGM iterations of the warm-started estimation after each round (the
        final estimation runs ``max_iters``); most of a round's time. A refit stopped sooner
        moves the measured marginal less, so AIM anneals sooner and makes fewer selections: on
        Adult 100 matched 300 at epsilon 1 but lost 0.002 of 3-way distance at 3, and 1000 gained
        no more than the seeds' spread over 300 (see
        ``benchmarks/notes/2026-12-07-aim-wide-tables.md`` and
        ``benchmarks/notes/2026-12-03-aim-against-private-pgm.md``).
    refit_stop : stop a round's refit once an accepted step moves no measured cell by more than
        this share of the round's sigma (None: run ``round_iters`` steps). For large tables,
        whose refits are most of the cost: on Adult 0.05 cut the fit's time several-fold for a
        few per cent more 3-way distance, as a stopped refit makes AIM anneal sooner (see
        ``benchmarks/notes/2026-12-07-aim-refit-stop.md``).
    compress : merge codes whose noisy 1-way count is below 3 sigma0 after the 1-way step (MST's
        domain compression). Off by default: AIM's sigma0 is large (the 1-way step gets 0.9 / 16
        of rho), so it merges codes that the later, annealed rounds could have resolved; on
        Adult it costs accuracy at epsilon <= 1 and saves time and memory only at high epsilon
        (see ``benchmarks/notes/2026-11-23-design-measurements.md``).

    Cost with d columns: every round scores each candidate (a count in the door and a model
    marginal), checks the model size it would give (a triangulation of the model's graph) and
    refits the model (``round_iters`` steps over a junction tree that grows with the budget
    spent). The default workload keeps the candidates bounded (``MAX_WORKLOAD`` sets and their
    subsets) and the default plan the rounds (:func:`planned_rounds`); the figures are in
    ``RESULTS.md``.
    """

    name = "aim"

    def __init__(
        self,
        *,
        workload: int | Sequence[Sequence[str]] = 3,
        max_model_size: float = 80.0,
        max_rounds: int | None = None,
        max_iters: int = 1000,
        round_iters: int = 300,
        refit_stop: float | None = None,
        compress: bool = False,
    ) -> None:
        self.workload = workload
        self.max_model_size = max_model_size
        self.max_rounds = max_rounds
        self.max_iters = max_iters
        self.round_iters = round_iters
        self.refit_stop = refit_stop
        self.compress = compress


    # ------------------------------------------------------------------------ validation
    def _check_params(self, n_columns: int) -> int:
        """Validate the numeric parameters; return the number of planned rounds T."""
        for name in ("max_iters", "round_iters"):
            check_positive_int(name, getattr(self, name))
        if self.refit_stop is not None:
            number("refit_stop", self.refit_stop, low=0, low_open=True)
        size = self.max_model_size
        number("max_model_size (MiB)", size, low=0, low_open=True)
        rounds = planned_rounds(n_columns) if self.max_rounds is None else self.max_rounds
        if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < n_columns:
            raise DataError(
                f"max_rounds must be an integer at least the number of columns ({n_columns}): the "
                f"1-way step alone costs 0.9 * {n_columns} / max_rounds of the budget; got {rounds!r}"
            )
        return int(rounds)

    def _workload(self, columns: Sequence[str], rng: np.random.Generator) -> list[Clique]:
        """The workload cliques, each in column order, without repeats (``rng`` draws the sets
        of a large k-way workload; it is public randomness)."""
        order = {c: i for i, c in enumerate(columns)}
        if isinstance(self.workload, bool):
            raise DataError(f"workload must be an int or a list of column sets; got {self.workload!r}")
        if isinstance(self.workload, (int, np.integer)):
            if self.workload < 1:
                raise DataError(f"workload as an int must be at least 1 (k-way sets); got {self.workload!r}")
            k = min(int(self.workload), len(columns))
            if math.comb(len(columns), k) <= MAX_WORKLOAD:
                return list(itertools.combinations(columns, k))
            return _random_sets(len(columns), k, rng, columns)
        if isinstance(self.workload, (str, bytes)) or not isinstance(self.workload, Sequence):
            raise DataError(f"workload must be an int or a list of column sets; got {type(self.workload).__name__}")
        cliques: list[Clique] = []
        for clique in self.workload:
            if isinstance(clique, (str, bytes)) or not isinstance(clique, Sequence) or not clique:
                raise DataError(f"each workload entry must be a non-empty list of column names; got {clique!r}")
            for name in clique:
                if name not in order:
                    raise SchemaError(f"workload column {name!r} is not an encoded column of the schema")
            if len(set(clique)) != len(clique):
                raise DataError(f"workload entry {list(clique)} repeats a column")
            cliques.append(tuple(sorted(clique, key=order.__getitem__)))
        if not cliques:
            raise DataError("workload must contain at least one column set")
        return list(dict.fromkeys(cliques))

    # ------------------------------------------------------------------------------- fit
    def fit(self, table: PrivateTable, part: str = MARGINAL) -> AIM:
        """Spend what is left of ``part`` on ``table`` in rounds, and estimate the model."""
        columns = list(table.require_schema().encoded_columns)
        rounds = self._check_params(len(columns))
        workload = self._workload(columns, table.noise.rng)
        accountant = table.accountant
        rho = accountant.rho_remaining(part)
        if rho <= 0:
            raise BudgetExceeded(f"part '{part}' has no budget left for AIM")
        scale = table.sensitivity_scale
        sizes = table.sizes

        sigma = scale * math.sqrt(rounds / (2 * MEASURE_SHARE * rho))
        epsilon = math.sqrt(8 * (1 - MEASURE_SHARE) * rho / rounds)
        one_way = dict(zip(columns, table.marginals([(c,) for c in columns], [sigma] * len(columns), part)))
        merges = merge_maps(one_way, dict.fromkeys(columns, sigma)) if self.compress else {}
        domain = Domain(tuple(columns), tuple(merged_size(sizes[c], merges.get(c)) for c in columns))
        measurements = [merged_measurement(c, one_way[c], merges.get(c), sigma) for c in columns]
        model = estimate(domain, measurements, max_iters=self.round_iters, max_cells=None)

        candidates = _weights(workload)
        measured: list[Clique] = [(c,) for c in columns]
        max_cells = self.max_model_size * MIB / BYTES_PER_CELL
        hard_limit = max(int(max_cells), model_size(domain, measured))
        model_sizes = _ModelSizes()
        logger.info(
            "AIM: %d candidates, %d rounds planned, sigma0=%.4g, epsilon0=%.4g",
            len(candidates), rounds, sigma, epsilon,
        )

        t = 0
        while True:
            t += 1
            remaining = accountant.rho_remaining(part)
            cost = scale**2 / (2 * sigma**2) + epsilon**2 / 8
            last = remaining < 2 * cost
            if last:
                sigma = scale * math.sqrt(1 / (2 * MEASURE_SHARE * remaining))
                epsilon = math.sqrt(8 * (1 - MEASURE_SHARE) * remaining)
                cost = remaining
            used = min(1.0, (rho - remaining + cost) / rho)
            advance(round(1000 * (rho - remaining) / rho), 1000, "AIM rounds (budget spent, per mille)")
            allowed = self._allowed(domain, candidates, measured, used * max_cells, model_sizes)
            clique = self._select(table, part, model, allowed, candidates, sigma, epsilon, merges, t)
            if last:
                # Measure with whatever the selection left, exactly (calibrated so the charge is accepted).
                plan = [PlannedMeasurement(scale, 1.0)]
                sigma = accountant.calibrate(part, plan, rho=accountant.rho_remaining(part))[0]
            counts = table.marginal(clique, sigma, part, maps=merges)
            measurements.append(Measurement(clique, counts, sigma))
            if clique not in measured:
                measured.append(clique)
            before = model.marginal(clique)
            logger.info("AIM round %d: measured %s with sigma=%.4g (epsilon=%.4g)", t, clique, sigma, epsilon)
            if last:
                break
            # Stopping a refit early is post-processing of the same noisy counts.
            tol = 1e-9 if self.refit_stop is None else self.refit_stop * sigma / model.total
            model = estimate(
                domain, measurements, warm_start=model, max_iters=self.round_iters, max_cells=hard_limit, tol=tol
            )
            moved = float(np.abs(model.marginal(clique) - before).sum())
            if moved <= _BIAS * sigma * domain.cells(clique):
                sigma /= 2
                epsilon *= 2
                logger.info("AIM: annealing to sigma=%.4g, epsilon=%.4g", sigma, epsilon)

        logger.info("AIM: final estimation from %d measurements", len(measurements))
        model = estimate(domain, measurements, warm_start=model, max_iters=self.max_iters, max_cells=hard_limit)
        self._set_fitted(model, table.require_schema(), merges, table.noise.sampling_rng, measurements)
        return self

    @staticmethod
    def _allowed(
        domain: Domain, candidates: Mapping[Clique, float], measured: list[Clique], limit: float,
        sizes: _ModelSizes | None = None,
    ) -> list[Clique]:
        """Candidates whose measurement keeps the model within ``limit`` cells, or does not grow it.

        The junction tree depends only on the model's graph (attributes joined when measured
        together), so a candidate whose pairs are all joined already leaves the model as it is;
        a candidate with more cells than ``limit`` alone cannot fit (a clique of the tree holds
        it); the others are checked by the tree the model would need (public: it depends on
        clique names and domain sizes only), read from ``sizes`` while the graph is unchanged.
        """
        joined = {frozenset(pair) for clique in measured for pair in itertools.combinations(clique, 2)}
        sizes = _ModelSizes() if sizes is None else sizes
        sizes.graph(joined)
        allowed = []
        for candidate in candidates:
            if all(frozenset(pair) in joined for pair in itertools.combinations(candidate, 2)):
                allowed.append(candidate)
            elif domain.cells(candidate) <= limit and sizes.size(domain, measured, candidate, limit) <= limit:
                allowed.append(candidate)
        return allowed

    @staticmethod
    def _select(
        table: PrivateTable,
        part: str,
        model: GraphicalModel,
        allowed: list[Clique],
        candidates: Mapping[Clique, float],
        sigma: float,
        epsilon: float,
        merges: Mapping[str, np.ndarray],
        t: int,
    ) -> Clique:
        """The candidate picked by the exponential mechanism on AIM's quality score.

        Each candidate's model marginal is computed when it is scored and dropped after, so the
        selection holds one table at a time (all 3-way marginals of Adult together are 167 MB).
        """
        domain = model.domain
        # Public: computed from the model (post-processing), sigma and the candidates' names.
        weight = {r: candidates[r] for r in allowed}
        bias = {r: _BIAS * sigma * domain.cells(r) for r in allowed}

        # One row moves an L1 error by at most 1, so q_r moves by at most w_r; the set of
        # candidates is public, so the largest weight among them bounds every score's change
        # (the door's L1Error takes its sensitivity so).
        choice = table.select(
            allowed,
            L1Error(model.marginal, weight, bias),
            epsilon=epsilon,
            part=part,
            label=f"AIM round {t} selection",
            maps=merges,
        )
        return allowed[choice]


class _ModelSizes:
    """The model size each candidate would give, kept while the model's graph stays the same.

    Rounds that measure a clique whose pairs are all joined leave the graph, and so every
    candidate's junction tree, as they were; the next round's check then reads the sizes found.
    A new graph is triangulated per connected component (:class:`GraphSizes`), so a candidate
    costs one triangulation of the components it joins, and none when it was seen before
    joining the same components.
    """

    def __init__(self) -> None:
        self._edges: set[frozenset[str]] | None = None
        self._graph: GraphSizes | None = None
        self._sizes: dict[Clique, int] = {}

    def graph(self, edges: set[frozenset[str]]) -> None:
        """Start a round on the graph with these edges (forgetting sizes if it changed)."""
        if edges != self._edges:
            self._edges, self._graph, self._sizes = set(edges), None, {}

    def size(self, domain: Domain, measured: Sequence[Clique], candidate: Clique, limit: float) -> int:
        """The model size with ``candidate``, or a bound on it within ``limit`` (the limits of
        later rounds on the same graph are no smaller, so a kept bound still proves the fit)."""
        if candidate not in self._sizes:
            if self._graph is None:
                self._graph = GraphSizes(domain, measured)
            self._sizes[candidate] = self._graph.with_clique(candidate, limit)
        return self._sizes[candidate]


def planned_rounds(n_columns: int) -> int:
    """The rounds AIM's budget is planned for by default, from the column count alone.

    McKenna et al. (2022) plan T = 16 d rounds, each costing rho / T. Where annealing seldom
    fires (many rows, much structure: 100,000 rows of 50 columns), about T rounds run, and each
    refits a model whose size limit grows with the share of rho spent, so the time grows with
    T times the model's size, not with the candidates scored. Capping T at ``ROUNDS_CAP`` bounds
    the refits of large models; each round then measures with less noise (sigma0 grows as
    sqrt(T)). The 1-way step costs 0.9 d / T of rho, so T never falls below
    ``MIN_ROUNDS_PER_COLUMN`` d. The rule reads the column count only (public), never the data,
    and the accountant still charges exactly what each round spends.
    """
    return min(16 * n_columns, max(ROUNDS_CAP, MIN_ROUNDS_PER_COLUMN * n_columns))


def _random_sets(n: int, k: int, rng: np.random.Generator, columns: Sequence[str]) -> list[Clique]:
    """``MAX_WORKLOAD`` distinct k-way sets of ``columns`` drawn uniformly at random, in the
    order of their ranks among all k-way sets (column order within each)."""
    chosen: set[tuple[int, ...]] = set()
    while len(chosen) < MAX_WORKLOAD:
        chosen.add(tuple(sorted(rng.choice(n, size=k, replace=False).tolist())))
    return [tuple(columns[i] for i in c) for c in sorted(chosen)]


def _weights(workload: Sequence[Clique]) -> dict[Clique, float]:
    """The downward closure of the workload, each candidate r weighted by sum_s |r & s|.

    Candidates keep the column order of the workload cliques (domain order).
    """
    closure: dict[Clique, None] = {}
    for clique in workload:
        for k in range(1, len(clique) + 1):
            for subset in itertools.combinations(clique, k):
                closure[subset] = None
    return {r: float(sum(len(set(r) & set(s)) for s in workload)) for r in closure}
