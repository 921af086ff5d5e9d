"""Private-PGM: the graphical model that best explains a set of noisy marginals.

McKenna, Sheldon & Miklau (2019), "Graphical-model based estimation and inference for
differential privacy". Given noisy marginals y_m with Gaussian noise std sigma_m, find clique
marginals mu in (total times) the marginal polytope minimising

    L(mu) = sum_m ||mu_m - y_m||_2^2 / (2 sigma_m^2),

the negative Gaussian log-likelihood of the measurements and private-pgm's L2 loss (it divides
each residual by its sigma before squaring). A measurement with half the noise counts four
times as much, which matters when an adaptive method anneals sigma between rounds: weighting
by 1/sigma_m instead underweights AIM's most precise measurements and cost it accuracy at low
epsilon (see ``benchmarks/notes/2026-12-03-aim-against-private-pgm.md``). Where a measurement's
cells differ in variance (domain compression's merged cell sums k noisy counts: variance k
sigma_m^2), each cell's squared residual is divided by its own variance, as private-pgm does by
scaling that cell's query row by 1 / sqrt(k) (McKenna, Miklau & Sheldon 2021, MST).
The minimiser is represented by a graphical model whose cliques are the measured ones.

The solver is entropic mirror descent over the marginal polytope (the paper's Algorithm 1):
theta <- theta - alpha * dL/dmu, with belief propagation as the oracle mapping potentials theta
to marginals mu. A step is accepted when the loss falls by at least half of what its linear
model predicts, L(mu') <= L(mu) + <dL/dmu, mu' - mu> / 2 (Armijo's rule); otherwise alpha
halves. After an accepted step alpha doubles, so the next trial probes a step twice as long
(the backtracking line search of private-pgm's mirror descent, which tracks the local curvature,
often far below the worst case on these losses, instead of creeping up to it), except right
after a halving, when the doubled step has just failed: then alpha stays, which saves the trial
that would fail again (on noisy Adult marginals the same trials reached a lower loss than
doubling every time, or growing 5% per step; see
``benchmarks/notes/2026-11-23-design-measurements.md``). The rule always
lets alpha <= 1 / (2 L) pass, where L = total * sum_m 1/sigma_m^2 (the largest cell weight of
each measurement): by Pinsker's inequality L is
the loss's smoothness relative to the mirror map's Bregman divergence total * KL (Lu, Freund &
Nesterov 2018), and that divergence is at most the symmetrised one, alpha times the predicted
decrease. So steps never fall below 1 / (4 L), and the loss never increases. The search starts
at 1 / (2 L), or, warm-started from a model this module fitted, at the step that fit ended with
(relative to its own 1 / (2 L)), so an adaptive method's refits keep the step they had learnt.

Convergence is linear when the target marginals are well inside the polytope, but slow in cells
whose fitted mass goes to zero (the optimum of noisy marginals sits on the polytope's boundary,
which entropic steps only approach), and slow for one-way margins of large attributes when
started from the uniform model; so the default start is the independence model of the noisy
one-way margins, and ``max_iters`` bounds the work, as in private-pgm.

Fitting noisy marginals to convergence also fits their noise: the descent starts from the
independence model and moves towards the least-squares fit, which on a tree of measured cliques
matches every noisy marginal as closely as non-negativity allows. Stopping on the way shrinks
towards independence. ``discrepancy`` picks the stop in the spirit of the discrepancy principle of
iterative regularisation (Morozov 1966; Engl, Hanke & Neubauer 1996, ch. 6), which stops once
the residuals are as small as the noise's. The residuals' chi-square sum_m ||mu_m - y_m||^2 /
sigma_m^2 is about the number of measured cells at the true marginals, and falls to a floor F
at the least-squares fit. A first pass finds F; the second retraces the same (deterministic)
descent and stops once the chi-square is ``discrepancy`` of the way from F back up to the cell
count. Both passes read only the noisy marginals and their public sigmas, so this is
post-processing like the rest of the fit. The half-way point, MST's default, stops near the
best step on Adult at every epsilon tried, where fitting to convergence fits the noise (see
``benchmarks/notes/2026-11-23-stopping-rule.md``). PrivBayes's families overlap less, its floor
sits further below the noise level, and its best stop is nearer the floor (its default is 0.02).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from dpsynth.errors import ModelError
from dpsynth.models.domain import Domain
from dpsynth.models.factor import Factor
from dpsynth.models.inference import calibrate
from dpsynth.models.junction_tree import (
    DEFAULT_MAX_CELLS,
    build_junction_tree,
    maximal_cliques,
)
from dpsynth.models.measurement import Measurement, estimate_total, independent_start
from dpsynth.models.model import GraphicalModel, tree_potentials
from dpsynth.validation import integer

logger = logging.getLogger(__name__)

Clique = tuple[str, ...]

FLAT = 1e-3
FLAT_WINDOW = 100
"""The ``discrepancy`` rule's first pass takes the chi-square as at its floor once
``FLAT_WINDOW`` trials lower it by less than ``FLAT`` times the measured cells; the target moves
by half of what is left, against a gap of about half the cells between floor and noise level."""
SNAPSHOT_INTERVAL = 100
MAX_SNAPSHOTS = 16
"""The first pass keeps its state every ``SNAPSHOT_INTERVAL`` trials (the interval doubling
whenever ``MAX_SNAPSHOTS`` are kept), so memory stays within 16 sets of potentials and the
second pass retraces at most an eighth of the first."""


@dataclass
class _Fit:
    """What mirror descent keeps of one set of potentials: residuals mu_m - y_m and the loss."""

    residuals: list[Factor]
    loss: float


class _Loss:
    """The Private-PGM loss of fixed measurements, evaluated through one junction tree."""

    def __init__(self, domain: Domain, measurements: Sequence[Measurement], cliques: list[Clique],
                 total: float, max_cells: int | None) -> None:
        self.domain, self.total = domain, total
        self.tree = build_junction_tree(domain, cliques, max_cells)
        self.observed = [m.factor(domain) for m in measurements]
        self.weights = [m.weights(domain) for m in measurements]
        # Each measurement is read from (and its gradient sent to) a potential clique holding it,
        # whose marginal is in turn read from the junction-tree clique with fewest cells holding it.
        self.home = [next(c for c in cliques if set(m.clique) <= set(c)) for m in measurements]
        self.slot = {c: self.tree.holding(c) for c in self.home}
        self.tables: list[Factor] | None = None

    def fit(self, theta: Mapping[Clique, np.ndarray]) -> _Fit:
        # The loss keeps only residuals, so every fit reuses one set of tables (see tree_potentials).
        self.tables = tree_potentials(self.domain, self.tree, theta, out=self.tables)
        beliefs, _ = calibrate(self.tree, self.tables, overwrite=True)
        # One exp per junction-tree clique that holds a measurement, however many read it, in
        # place: the beliefs are the loss's scratch tables, and the fit keeps only the residuals.
        for i in set(self.slot.values()):
            np.exp(beliefs[i].values, out=beliefs[i].values)
            beliefs[i].values *= self.total
        counts = {c: beliefs[i].sum(c) for c, i in self.slot.items()}
        residuals = [counts[c].sum(y.attrs) - y for c, y in zip(self.home, self.observed)]
        loss = sum(float(np.sum(w * r.values**2)) / 2 for w, r in zip(self.weights, residuals))
        return _Fit(residuals, loss)

    def gradient(self, fit: _Fit, cliques: list[Clique]) -> dict[Clique, np.ndarray]:
        """dL/dmu on each potential clique: each weighted residual, constant along other axes."""
        grad = {c: np.zeros(self.domain.shape(c)) for c in cliques}
        for c, w, r in zip(self.home, self.weights, fit.residuals):
            grad[c] = grad[c] + Factor(r.attrs, w * r.values).aligned(c)
        return grad

    def chi_square(self, fit: _Fit) -> float:
        """sum_m ||mu_m - y_m||^2 / sigma_m^2: about the number of measured cells at the truth."""
        return sum(float(np.sum(w * r.values**2)) for w, r in zip(self.weights, fit.residuals))

    def slope(self, new: _Fit, old: _Fit) -> float:
        """<dL/dmu, mu' - mu> at the old point: the change the linear model predicts."""
        return sum(float(np.sum(w * r.values * (a.values - r.values)))
                   for w, a, r in zip(self.weights, new.residuals, old.residuals))

    def curvature(self, new: _Fit, old: _Fit) -> float:
        """L(mu') - L(mu) - <dL/dmu, mu' - mu>: exact for a quadratic, and free of cancellation."""
        return sum(float(np.sum(w * (a.values - b.values) ** 2)) / 2
                   for w, a, b in zip(self.weights, new.residuals, old.residuals))


def estimate(
    domain: Domain,
    measurements: Sequence[Measurement],
    *,
    total: float | None = None,
    warm_start: GraphicalModel | Mapping[Sequence[str], np.ndarray] | None = None,
    max_iters: int = 1000,
    tol: float = 1e-9,
    discrepancy: float | None = None,
    max_cells: int | None = DEFAULT_MAX_CELLS,
) -> GraphicalModel:
    """Fit the graphical model minimising the Private-PGM loss over ``measurements``.

    ``total`` is the record count the marginals are scaled to (default: :func:`estimate_total`).
    ``warm_start`` gives initial log-potentials (a previous model, or ``{clique: array}``) so an
    adaptive method can refine its last fit; their cliques join the model (a model also passes
    on its final step size, see the module notes). Without one the fit starts from
    :func:`independent_start`. Stops after ``max_iters`` trial steps (one belief
    propagation each), or once an accepted step moves no fitted cell by more than ``tol *
    total``. With ``discrepancy`` in [0, 1] it fits twice: first to find the floor F of the
    residuals' chi-square, then from the same start until the chi-square falls to F +
    ``discrepancy`` x (cells - F), cells being the number of measured cells (see the module
    notes; 0 stops at the floor). Raises ModelTooLarge, before fitting, if the junction tree
    exceeds ``max_cells``.
    """
    if not measurements:
        raise ModelError("estimate needs at least one measurement")
    integer("max_iters", max_iters, error=ModelError)
    total = estimate_total(measurements) if total is None else float(total)
    if not (np.isfinite(total) and total > 0):
        raise ModelError(f"total must be positive and finite; got {total!r}")
    if discrepancy is not None and not (0.0 <= discrepancy <= 1.0):
        raise ModelError(f"discrepancy must be between 0 and 1, or None; got {discrepancy!r}")
    cells = sum(m.values.size for m in measurements)
    step = 1.0  # alpha in units of the always-accepted step 1 / (2 L)
    if warm_start is None:
        initial = independent_start(domain, measurements, total)
    elif isinstance(warm_start, GraphicalModel):
        initial = warm_start.potentials
        step = warm_start.step_size or step
    else:
        initial = {tuple(c): v for c, v in warm_start.items()}
    cliques = maximal_cliques(domain, [m.clique for m in measurements] + list(initial))
    loss = _Loss(domain, measurements, cliques, total, max_cells)

    theta = {c: np.zeros(domain.shape(c)) for c in cliques}
    for clique, values in initial.items():
        home = next(c for c in cliques if set(clique) <= set(c))
        theta[home] = theta[home] + Factor(clique, values).aligned(home)

    safe = 0.5 / (total * sum(float(np.max(w)) for w in loss.weights))
    if discrepancy is None:
        theta, alpha, _ = _descend(loss, cliques, theta, step * safe, max_iters, tol)
    else:
        # First pass: the chi-square after each trial, down to (about) its least-squares floor.
        # The descent is deterministic, so the second pass retraces it and stops at the target.
        # The second pass resumes from the last snapshot of the first at or before the stop, so
        # it retraces at most one snapshot interval (the descent's state is theta, alpha, halved).
        # A stop at the first pass's last trial (as when its floor stays above the cell count: a
        # large table, whose noise is small next to its counts, fitted up to ``max_iters``) keeps
        # the first pass's end state instead of retracing it.
        snapshots: list[_Snapshot] = []
        last_theta, last_alpha, history = _descend(loss, cliques, theta, step * safe, max_iters, tol,
                                                   flat=FLAT * cells, track=True, snapshots=snapshots)
        floor = min(history)
        target = floor + discrepancy * max(cells - floor, 0.0)
        stop = next(k for k, chi in enumerate(history) if chi <= target)
        resume = max((s for s in snapshots if s.trials <= stop), key=lambda s: s.trials)
        theta, alpha = resume.theta, resume.alpha
        if stop == len(history) - 1:
            theta, alpha = last_theta, last_alpha
        elif stop > resume.trials:
            theta, alpha, _ = _descend(loss, cliques, theta, alpha, stop - resume.trials, tol, halved=resume.halved,
                                       track=True)
    model = GraphicalModel(domain, theta, total)
    model.step_size = alpha / safe
    return model


@dataclass
class _Snapshot:
    """The whole state of the descent after ``trials`` trial steps, to resume it exactly."""

    trials: int
    theta: dict[Clique, np.ndarray]
    alpha: float
    halved: bool


def _descend(loss: _Loss, cliques: list[Clique], theta: dict[Clique, np.ndarray], alpha: float, max_iters: int,
             tol: float, flat: float | None = None, halved: bool = False, track: bool = False,
             snapshots: list[_Snapshot] | None = None) -> tuple[dict[Clique, np.ndarray], float, list[float]]:
    """Mirror descent with the module's line search for up to ``max_iters`` trial steps: the
    potentials, the step it ended on, and, with ``track``, the chi-square at the start and after
    each trial (empty without: a sum over every measurement per step, which only the
    ``discrepancy`` stop reads). With ``flat`` (which needs ``track``) it also stops once the
    last ``FLAT_WINDOW`` trials lowered the chi-square by less than ``flat``. ``halved`` says
    the last trial before ``theta`` was refused. With ``snapshots`` it appends its state every
    ``interval`` trials, keeping at most ``MAX_SNAPSHOTS`` (when full, every other one goes and
    the interval doubles)."""
    fit = loss.fit(theta)
    grad = loss.gradient(fit, cliques)
    history = [loss.chi_square(fit)] if track else []
    interval = SNAPSHOT_INTERVAL
    if snapshots is not None:
        snapshots.append(_Snapshot(0, theta, alpha, halved))
    trials = 0
    for trials in range(1, max_iters + 1):
        done = trials - 1  # the state here is the one after ``done`` trials
        if snapshots is not None and done and done % interval == 0:
            if len(snapshots) == MAX_SNAPSHOTS:
                snapshots[:] = snapshots[::2]
                interval *= 2
            if done % interval == 0:
                snapshots.append(_Snapshot(done, theta, alpha, halved))
        trial_theta = {c: theta[c] - alpha * grad[c] for c in cliques}
        trial = loss.fit(trial_theta)
        # Armijo fails (written so that a non-finite trial fails too, rather than passing)
        if not loss.curvature(trial, fit) <= -0.5 * loss.slope(trial, fit):
            alpha, halved = alpha / 2, True
            if track:
                history.append(history[-1])
            continue
        moved = max(float(np.abs(a.values - b.values).max()) for a, b in zip(trial.residuals, fit.residuals))
        theta, fit = trial_theta, trial
        alpha, halved = (alpha if halved else 2 * alpha), False
        grad = loss.gradient(fit, cliques)
        if track:
            history.append(loss.chi_square(fit))
        if moved <= tol * loss.total:
            break
        if flat is not None and trials > FLAT_WINDOW and history[-FLAT_WINDOW - 1] - history[-1] < flat:
            break
    logger.debug("Private-PGM: %d trial steps, loss %.6g, step size %.3g", trials, fit.loss, alpha)
    return theta, alpha, history
