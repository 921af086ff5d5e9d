"""Membership inference against a synthetic release: distance, density ratio and shadow models.

Attacks run on the custodian's side and read real rows: their results describe a release to its
custodian and are NOT part of the DP guarantee (the certificate says so). Each attack scores
records the generator saw (members: training rows) against records it did not see
(non-members: a control sample held out before fitting); a higher score means "more likely a
member". :func:`evaluate_scores` turns scores into an :class:`AttackResult`:

- ROC AUC with a DeLong interval (DeLong, DeLong and Clarke-Pearson 1988; computed with the
  midrank algorithm of Sun and Xu 2014); it collapses to a point when the classes are
  perfectly separated, where the TPR intervals and the epsilon bound still carry the
  uncertainty of the sample size;
- TPR at FPR 1% and 0.1%: the largest TPR whose empirical FPR is at most the level, as reported
  by Carlini et al. (2022, "Membership inference attacks from first principles"), with a
  Clopper–Pearson interval on the TPR at that threshold (the threshold itself is read off the
  same data, so the value is a description, not a test);
- a baseline: the AUC of a random guess (0.5) with the 95% range of AUCs under label
  permutations of the same scores;
- an empirical epsilon lower bound (:mod:`dpsynth.attacks.empirical_epsilon`) with a threshold
  chosen on a calibration split and evaluated on the held-apart rest, beside the largest bound
  that many evaluation records could show.

The attacks:

- :func:`distance_to_closest_record`: the score is minus the Gower distance to the nearest
  synthetic row (a baseline used throughout the synthetic-data literature).
- :func:`density_ratio`: DOMIAS (van Breugel, Sun, Qian and van der Schaar 2023): the score is
  log p_synthetic(x) - log p_reference(x). Both densities are kernel density estimates with the
  kernel exp(-d(x, y) / h) on the Gower distance d; that kernel is a product over columns of a
  Laplace kernel on range-scaled values and an Aitchison–Aitken style mismatch kernel on
  categories, so its (unknown) normalising constant is the same for both densities and cancels
  in the ratio. DOMIAS used Gaussian KDE and normalising flows on continuous features; this
  kernel handles mixed columns without an embedding.
- :func:`shadow_model_attack`: targeted shadow modelling after Stadler, Oprisanu and Troncoso
  (2022, "Synthetic data - anonymisation groundhog day") and TAPAS (Houssiau et al. 2022):
  refit the generator on shadow datasets with and without each target, featurise each output
  relative to the target, learn a classifier, and apply it to the real release.
  :func:`select_outlier_targets` gives the stated rule for choosing targets.
"""

from __future__ import annotations

import math
import multiprocessing
import pickle
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_curve

from dpsynth.attacks.empirical_epsilon import EpsilonAudit, audit_epsilon, clopper_pearson
from dpsynth.attacks.features import AttackEncoding, EncodedRows, iter_distance_blocks, nearest_neighbours
from dpsynth.errors import DataError
from dpsynth.progress import advance
from dpsynth.validation import integer, number

FPR_LEVELS = (0.01, 0.001)
ROC_POINTS = 200
PERMUTATION_BATCH_CELLS = 2**22
OUTLIER_NEIGHBOURS = 5
MIN_BANDWIDTH = 1e-3
BANDWIDTH_SAMPLE = 1000
BANDWIDTH_QUANTILE = 0.25
SHADOW_RADII = (0.0, 0.02, 0.05, 0.1)
SHADOW_TREES = 100


# --------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class AttackResult:
    """How well one attack told members from non-members, with intervals and a baseline.

    ``tpr_at_fpr`` maps each FPR level to (TPR, lower, upper); intervals are at the
    ``confidence`` of :func:`evaluate_scores`. ``roc_fpr`` and ``roc_tpr`` are at most
    :data:`ROC_POINTS` points of the ROC curve, for plotting.
    """

    name: str
    parameters: dict[str, Any]
    auc: float
    auc_interval: tuple[float, float]
    tpr_at_fpr: dict[float, tuple[float, float, float]]
    n_members: int
    n_nonmembers: int
    baseline_auc: float
    baseline_interval: tuple[float, float]
    roc_fpr: list[float]
    roc_tpr: list[float]
    epsilon_audit: EpsilonAudit

    @property
    def epsilon_lower_bound(self) -> float:
        """Empirical epsilon lower bound (on the evaluation split; see :class:`EpsilonAudit`)."""
        return self.epsilon_audit.epsilon_lower_bound

    @property
    def max_certifiable_epsilon(self) -> float:
        """The largest bound an attack could show with this evaluation split's sizes."""
        return self.epsilon_audit.max_certifiable_epsilon

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready values (FPR levels as text keys)."""
        return {
            "name": self.name,
            "parameters": self.parameters,
            "n_members": self.n_members,
            "n_nonmembers": self.n_nonmembers,
            "auc": {"value": self.auc, "lower": self.auc_interval[0], "upper": self.auc_interval[1]},
            "baseline_auc": {
                "value": self.baseline_auc,
                "lower": self.baseline_interval[0],
                "upper": self.baseline_interval[1],
            },
            "tpr_at_fpr": {
                str(level): {"value": value, "lower": lower, "upper": upper}
                for level, (value, lower, upper) in self.tpr_at_fpr.items()
            },
            "epsilon_lower_bound": self.epsilon_lower_bound,
            "max_certifiable_epsilon": self.max_certifiable_epsilon,
            "epsilon_audit": self.epsilon_audit.to_dict(),
            "roc": {"fpr": self.roc_fpr, "tpr": self.roc_tpr},
        }


def _delong(members: np.ndarray, nonmembers: np.ndarray) -> tuple[float, float]:
    """AUC and its DeLong variance from midranks (Sun and Xu 2014)."""
    m, n = len(members), len(nonmembers)
    combined = stats.rankdata(np.concatenate([members, nonmembers]))
    placement_members = (combined[:m] - stats.rankdata(members)) / n
    placement_nonmembers = 1 - (combined[m:] - stats.rankdata(nonmembers)) / m
    variance = placement_members.var(ddof=1) / m + placement_nonmembers.var(ddof=1) / n
    return float(placement_members.mean()), float(variance)


def _tpr_at_fpr(
    members: np.ndarray, nonmembers: np.ndarray, level: float, confidence: float
) -> tuple[float, float, float]:
    """Largest TPR with at most floor(level * n_nonmembers) false positives, with its CP interval."""
    allowed = math.floor(level * len(nonmembers) + 1e-9)
    descending = np.sort(nonmembers)[::-1]
    cut = descending[allowed] if allowed < len(descending) else -np.inf
    hits = int(np.count_nonzero(members > cut))
    return (hits / len(members), *clopper_pearson(hits, len(members), confidence))


def _permutation_interval(
    members: np.ndarray, nonmembers: np.ndarray, rng: np.random.Generator, n_permutations: int, confidence: float
) -> tuple[float, float]:
    """Central ``confidence`` range of the AUC when member labels are shuffled over the scores."""
    m, n = len(members), len(nonmembers)
    ranks = stats.rankdata(np.concatenate([members, nonmembers]))
    batch = max(1, PERMUTATION_BATCH_CELLS // (m + n))
    aucs = []
    for start in range(0, n_permutations, batch):
        shuffled = rng.permuted(np.tile(ranks, (min(batch, n_permutations - start), 1)), axis=1)
        aucs.append((shuffled[:, :m].sum(axis=1) - m * (m + 1) / 2) / (m * n))
    tail = (1 - confidence) / 2
    lower, upper = np.quantile(np.concatenate(aucs), [tail, 1 - tail])
    return float(lower), float(upper)


def _thinned_roc(members: np.ndarray, nonmembers: np.ndarray) -> tuple[list[float], list[float]]:
    labels = np.concatenate([np.ones(len(members), dtype=bool), np.zeros(len(nonmembers), dtype=bool)])
    fpr, tpr, _ = roc_curve(labels, np.concatenate([members, nonmembers]))
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(ROC_POINTS, len(fpr))).round().astype(int))
    return fpr[keep].tolist(), tpr[keep].tolist()


def _check_scores(name: str, scores: Any) -> np.ndarray:
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 1 or len(scores) < 2:
        raise DataError(f"{name} must be a 1-d array of at least two scores")
    if np.isnan(scores).any():
        raise DataError(f"{name} must not contain NaN")
    return scores


def evaluate_scores(
    name: str,
    parameters: dict[str, Any],
    member_scores: Any,
    nonmember_scores: Any,
    rng: np.random.Generator,
    *,
    delta: float = 0.0,
    confidence: float = 0.95,
    calibration_fraction: float = 0.5,
    n_permutations: int = 1000,
) -> AttackResult:
    """Summarise attack scores (higher = more likely a member) as an :class:`AttackResult`.

    ``rng`` draws the label permutations of the baseline and the calibration split of the
    epsilon audit. ``delta`` is the release's delta, used in the epsilon bound.
    """
    members = _check_scores("member_scores", member_scores)
    nonmembers = _check_scores("nonmember_scores", nonmember_scores)
    if not isinstance(rng, np.random.Generator):
        raise DataError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    integer("n_permutations", n_permutations)
    auc, variance = _delong(members, nonmembers)
    half_width = stats.norm.ppf((1 + confidence) / 2) * math.sqrt(variance)
    labels = np.concatenate([np.ones(len(members), dtype=bool), np.zeros(len(nonmembers), dtype=bool)])
    audit = audit_epsilon(
        np.concatenate([members, nonmembers]),
        labels,
        rng,
        calibration_fraction=calibration_fraction,
        delta=delta,
        confidence=confidence,
    )
    roc_fpr, roc_tpr = _thinned_roc(members, nonmembers)
    evaluation = {
        "confidence": confidence,
        "auc_interval": "DeLong",
        "baseline_interval": f"label permutation ({n_permutations})",
        "tpr_interval": "Clopper-Pearson at the empirical threshold",
        "epsilon_calibration_fraction": calibration_fraction,
        "delta": delta,
    }
    return AttackResult(
        name=name,
        parameters={**parameters, "evaluation": evaluation},
        auc=auc,
        auc_interval=(float(max(0.0, auc - half_width)), float(min(1.0, auc + half_width))),
        tpr_at_fpr={level: _tpr_at_fpr(members, nonmembers, level, confidence) for level in FPR_LEVELS},
        n_members=len(members),
        n_nonmembers=len(nonmembers),
        baseline_auc=0.5,
        baseline_interval=_permutation_interval(members, nonmembers, rng, n_permutations, confidence),
        roc_fpr=roc_fpr,
        roc_tpr=roc_tpr,
        epsilon_audit=audit,
    )


# --------------------------------------------------------------------------------- distance and density
def distance_to_closest_record(
    members: pd.DataFrame,
    nonmembers: pd.DataFrame,
    synthetic: pd.DataFrame,
    encoding: AttackEncoding,
    rng: np.random.Generator,
    *,
    delta: float = 0.0,
    confidence: float = 0.95,
) -> AttackResult:
    """Score each record by minus its Gower distance to the closest synthetic row.

    Closer means more likely a member. Only the order of scores matters for every reported
    figure, so ranking a distance against the non-members' distribution gives the same result.
    """
    synthetic_rows = encoding.transform(synthetic)

    def scores(frame: pd.DataFrame) -> np.ndarray:
        return -nearest_neighbours(encoding.transform(frame), synthetic_rows)[0][:, 0]

    parameters = {"distance": "Gower", "n_synthetic": len(synthetic)}
    return evaluate_scores(
        "distance_to_closest_record",
        parameters,
        scores(members),
        scores(nonmembers),
        rng,
        delta=delta,
        confidence=confidence,
    )


def _log_kernel_density(queries: EncodedRows, candidates: EncodedRows, bandwidth: float) -> np.ndarray:
    """log of mean_j exp(-d(query, candidate_j) / bandwidth), by a running log-sum-exp over blocks."""
    shift = np.full(len(queries), np.inf)
    total = np.zeros(len(queries))
    for rows, _, distances in iter_distance_blocks(queries, candidates):
        new_shift = np.minimum(shift[rows], distances.min(axis=1))
        total[rows] *= np.exp((new_shift - shift[rows]) / bandwidth)
        total[rows] += np.exp((new_shift[:, None] - distances) / bandwidth).sum(axis=1)
        shift[rows] = new_shift
    return -shift / bandwidth + np.log(total) - math.log(len(candidates))


def default_bandwidth(reference: EncodedRows, synthetic: EncodedRows, rng: np.random.Generator) -> float:
    """The first quartile of the Gower distances from reference rows to their nearest synthetic row.

    Computed on at most :data:`BANDWIDTH_SAMPLE` reference rows drawn with ``rng``, and at
    least :data:`MIN_BANDWIDTH`; it reads no member (reference rows are public or held out).
    A quartile rather than the median keeps the kernel local, so it separates the members of a
    generator that copies its training rows more clearly, while a generator that saw no
    training row stays at guessing with either (see
    ``benchmarks/notes/2026-11-23-design-measurements.md``).
    """
    sample = rng.choice(len(reference), size=min(BANDWIDTH_SAMPLE, len(reference)), replace=False)
    nearest = nearest_neighbours(reference.take(sample), synthetic)[0][:, 0]
    return max(float(np.quantile(nearest, BANDWIDTH_QUANTILE)), MIN_BANDWIDTH)


def density_ratio(
    members: pd.DataFrame,
    nonmembers: pd.DataFrame,
    synthetic: pd.DataFrame,
    reference: pd.DataFrame,
    encoding: AttackEncoding,
    rng: np.random.Generator,
    *,
    bandwidth: float | None = None,
    delta: float = 0.0,
    confidence: float = 0.95,
) -> AttackResult:
    """DOMIAS: score = log p_synthetic(x) - log p_reference(x) by kernel density estimates.

    ``reference`` is a public or held-out sample disjoint from the members and non-members;
    the kernel is exp(-d / bandwidth) on the Gower distance (see the module docstring), with
    ``bandwidth`` from :func:`default_bandwidth` unless given.
    """
    synthetic_rows, reference_rows = encoding.transform(synthetic), encoding.transform(reference)
    bandwidth_given = bandwidth is not None
    if bandwidth is None:
        bandwidth = default_bandwidth(reference_rows, synthetic_rows, rng)
    else:
        number("bandwidth", bandwidth, low=0.0, low_open=True)

    def scores(frame: pd.DataFrame) -> np.ndarray:
        rows = encoding.transform(frame)
        return _log_kernel_density(rows, synthetic_rows, bandwidth) - _log_kernel_density(
            rows, reference_rows, bandwidth
        )

    parameters = {
        "density": "kernel exp(-gower / bandwidth)",
        "bandwidth_rule": "given" if bandwidth_given else "first quartile of reference-to-synthetic nearest distances",
        "bandwidth": float(bandwidth),
        "n_synthetic": len(synthetic),
        "n_reference": len(reference),
    }
    return evaluate_scores(
        "density_ratio", parameters, scores(members), scores(nonmembers), rng, delta=delta, confidence=confidence
    )


# --------------------------------------------------------------------------------- shadow models
def select_outlier_targets(
    frame: pd.DataFrame, encoding: AttackEncoding, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Positions (for ``frame.iloc``) of the ``n`` most outlying rows, most outlying first.

    The rule: a row's outlier score is its mean Gower distance to its
    :data:`OUTLIER_NEIGHBOURS` (5) nearest other rows of ``frame``; the ``n`` rows with the
    largest scores are chosen, ties broken at random with ``rng``. Outliers are the records a
    generator is most likely to leak (Stadler et al. 2022; Meeus et al. 2023 rank targets by
    the same kind of neighbour distance).
    """
    integer("n", n, high=len(frame))
    if len(frame) <= OUTLIER_NEIGHBOURS:
        raise DataError(f"select_outlier_targets needs more than {OUTLIER_NEIGHBOURS} rows")
    rows = encoding.transform(frame)
    distances = nearest_neighbours(rows, rows, k=OUTLIER_NEIGHBOURS + 1)[0]
    # A row is its own nearest neighbour at distance 0; dropping one zero leaves any true duplicate.
    score = distances[:, 1:].mean(axis=1)
    order = np.lexsort((rng.random(len(frame)), -score))
    return order[:n]


def target_features(targets: EncodedRows, synthetic: EncodedRows, radii: Sequence[float] = SHADOW_RADII) -> np.ndarray:
    """Features of a synthetic table relative to each target, one row per target.

    Columns: the Gower distance to the closest synthetic row (1 when the table is empty);
    log(1 + number of synthetic rows within each radius) (counts, not fractions, so that a
    near copy weighs the same in tables of different sizes); the fraction of synthetic rows
    with the target's exact code vector; and for each column the fraction of synthetic rows
    sharing the target's code (TAPAS-style counting queries, Houssiau et al. 2022).
    """
    closest = np.ones(len(targets))
    counts = np.zeros((len(targets), len(radii)))
    for rows, _, distances in iter_distance_blocks(targets, synthetic):
        closest[rows] = np.minimum(closest[rows], distances.min(axis=1))
        counts[rows] += (distances[:, :, None] <= np.asarray(radii, dtype=np.float32)).sum(axis=1)
    size = max(len(synthetic), 1)
    _, inverse = np.unique(np.concatenate([targets.codes, synthetic.codes]), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    exact = np.bincount(inverse[len(targets) :], minlength=inverse.max() + 1)[inverse[: len(targets)]] / size
    marginal = np.column_stack(
        [
            np.bincount(synthetic.codes[:, j], minlength=column_size)[targets.codes[:, j]] / size
            for j, column_size in enumerate(targets.encoding.schema.domain_sizes().values())
        ]
    )
    return np.column_stack([closest, np.log1p(counts), exact, marginal])


class _ShadowTask(NamedTuple):
    """One refit: a shadow training set of population rows, with the target inserted or not."""

    target: int
    inserted: bool
    rows: np.ndarray
    position: int
    seed: int


@dataclass(frozen=True)
class _ShadowWork:
    """What every refit needs; sent once to each worker process."""

    fit_sample: Callable[[pd.DataFrame, int], pd.DataFrame]
    population: pd.DataFrame
    targets: pd.DataFrame
    encoding: AttackEncoding
    radii: tuple[float, ...]

    def features(self, task: _ShadowTask) -> np.ndarray:
        training = self.population.iloc[task.rows]
        if task.inserted:
            target = self.targets.iloc[[task.target]]
            training = pd.concat([training.iloc[: task.position], target, training.iloc[task.position + 1 :]])
        synthetic = self.fit_sample(training.reset_index(drop=True), task.seed)
        # All targets at once: one row alone may miss a whole column, which encoding refuses.
        target_rows = self.encoding.transform(self.targets).take([task.target])
        return target_features(target_rows, self.encoding.transform(synthetic), self.radii)[0]


_WORK: _ShadowWork | None = None


def _install(work: _ShadowWork) -> None:
    global _WORK
    _WORK = work


def _run(task: _ShadowTask) -> np.ndarray:
    assert _WORK is not None  # set by _install, each worker's initializer
    return _WORK.features(task)


def _shadow_features(work: _ShadowWork, tasks: list[_ShadowTask], n_jobs: int) -> np.ndarray:
    """Features of every refit, in task order: in this process, or in ``n_jobs`` spawned ones."""
    features = []
    if n_jobs == 1:
        for task in tasks:
            features.append(work.features(task))
            advance(len(features), len(tasks), "shadow refits")
        return np.array(features)
    context = multiprocessing.get_context("spawn")
    chunksize = max(1, len(tasks) // (4 * n_jobs))
    with ProcessPoolExecutor(n_jobs, mp_context=context, initializer=_install, initargs=(work,)) as pool:
        for feature in pool.map(_run, tasks, chunksize=chunksize):
            features.append(feature)
            advance(len(features), len(tasks), "shadow refits")
    return np.array(features)


def _shadow_tasks(
    n_targets: int, n_shadows: int, shadow_size: int, n_population: int, rng: np.random.Generator
) -> list[_ShadowTask]:
    """``n_shadows`` tasks per target, the first half with the target inserted at a random position."""
    count = n_targets * n_shadows
    inserted = np.tile(np.arange(n_shadows) < n_shadows // 2, n_targets)
    positions = rng.integers(shadow_size, size=count)
    seeds = rng.integers(2**63 - 1, size=count)
    rows = [rng.choice(n_population, size=shadow_size, replace=False) for _ in range(count)]
    return [
        _ShadowTask(i // n_shadows, bool(inserted[i]), rows[i], int(positions[i]), int(seeds[i])) for i in range(count)
    ]


def _classifier_score(features: np.ndarray, inserted: np.ndarray, released: np.ndarray, seed: int) -> float:
    """Probability "inserted" that a random forest trained on shadow features gives the release."""
    classifier = RandomForestClassifier(n_estimators=SHADOW_TREES, random_state=seed)
    classifier.fit(features, inserted)
    return float(classifier.predict_proba(released[None, :])[0, list(classifier.classes_).index(True)])


def _check_shadow_arguments(
    fit_sample: Any,
    population: pd.DataFrame,
    targets: pd.DataFrame,
    in_training: np.ndarray,
    n_shadows: Any,
    shadow_size: Any,
    n_jobs: Any,
) -> None:
    if not callable(fit_sample):
        raise DataError("fit_sample must be a callable (train: DataFrame, seed: int) -> DataFrame")
    for name, value, least in (("n_shadows", n_shadows, 4), ("shadow_size", shadow_size, 1), ("n_jobs", n_jobs, 1)):
        integer(name, value, low=least)
    if shadow_size > len(population):
        raise DataError(f"shadow_size ({shadow_size}) must not exceed the population's rows ({len(population)})")
    if in_training.shape != (len(targets),):
        raise DataError("target_in_training must hold one boolean per target")
    if np.count_nonzero(in_training) < 2 or np.count_nonzero(~in_training) < 2:
        raise DataError("the shadow attack needs at least two targets in training and two not in training")
    if n_jobs > 1:
        try:
            pickle.dumps(fit_sample)
        except (pickle.PicklingError, AttributeError, TypeError) as error:
            raise DataError(
                "fit_sample must be picklable to run in worker processes (a module-level function or "
                f"functools.partial of one); pickling failed with {type(error).__name__}"
            ) from None


def shadow_model_attack(
    fit_sample: Callable[[pd.DataFrame, int], pd.DataFrame],
    population: pd.DataFrame,
    released: pd.DataFrame,
    targets: pd.DataFrame,
    target_in_training: Sequence[bool] | np.ndarray,
    n_shadows: int,
    shadow_size: int,
    encoding: AttackEncoding,
    rng: np.random.Generator,
    n_jobs: int = 2,
    *,
    delta: float = 0.0,
    confidence: float = 0.95,
) -> AttackResult:
    """Targeted shadow-model attack (Stadler et al. 2022; TAPAS, Houssiau et al. 2022).

    For each target: ``n_shadows`` training sets of ``shadow_size`` rows are drawn from
    ``population`` (which must not contain the targets); in the first half the target replaces
    a random row. ``fit_sample(train, seed)`` refits the generator and returns a synthetic table
    (it must be picklable for ``n_jobs > 1``: refits run in ``n_jobs`` spawned processes). Each
    output is featurised relative to the target (:func:`target_features`), a random forest
    learns "target inserted" from the shadow features, and the target's score is its
    probability on the features of the real ``released`` table. Members are the targets with
    ``target_in_training`` true. ``parameters`` records ``shadow_size`` beside the released
    table's size: refits at a size below the real training set's are at reduced size, and the
    caller states the training size with the result.
    """
    in_training = np.asarray(target_in_training, dtype=bool)
    _check_shadow_arguments(fit_sample, population, targets, in_training, n_shadows, shadow_size, n_jobs)
    work = _ShadowWork(fit_sample, population, targets, encoding, SHADOW_RADII)
    tasks = _shadow_tasks(len(targets), n_shadows, shadow_size, len(population), rng)
    features = _shadow_features(work, tasks, n_jobs).reshape(len(targets), n_shadows, -1)
    inserted = np.arange(n_shadows) < n_shadows // 2
    released_features = target_features(encoding.transform(targets), encoding.transform(released), SHADOW_RADII)
    seeds = rng.integers(2**32, size=len(targets))
    scores = np.array(
        [_classifier_score(features[t], inserted, released_features[t], int(seeds[t])) for t in range(len(targets))]
    )
    parameters = {
        "n_targets": len(targets),
        "n_shadows": n_shadows,
        "shadow_size": shadow_size,
        "n_released": len(released),
        "n_population": len(population),
        "classifier": f"random forest ({SHADOW_TREES} trees)",
        "features": "closest distance, counts within radii, exact-match and per-column frequencies",
        "radii": list(SHADOW_RADII),
    }
    return evaluate_scores(
        "shadow_model",
        parameters,
        scores[in_training],
        scores[~in_training],
        rng,
        delta=delta,
        confidence=confidence,
    )
