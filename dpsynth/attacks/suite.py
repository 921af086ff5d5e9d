"""The attack suite: every attack of :mod:`dpsynth.attacks` against one synthetic table, in one call.

The suite runs on the custodian's side and reads real rows: training rows (``train``, which the
generator saw) and a control sample (``holdout``, drawn from the same data before fitting and
never shown to the generator). Its results describe one release to its custodian; they are NOT
part of the DP guarantee.

What runs, with the sizes set by ``level`` (members and non-members per side are capped by the
holdout's size; members are a random sample of ``train`` as large as the non-members; the
Anonymeter attacks are capped by the holdout's size too):

==========  ===================  ==================  ===================  ========================
level       membership records   Anonymeter attacks  inference secrets    shadow model: targets per
            per side (at most)   per evaluator                            side x refits, rows each
==========  ===================  ==================  ===================  ========================
quick       500                  500                 3 columns at random  not run (seconds only)
standard    1,000                2,000               every column         not run (see below)
thorough    2,000                5,000               every column         10 x 16, 5,000 rows
==========  ===================  ==================  ===================  ========================

``standard`` runs no shadow refits: they were nearly all of its cost (6 targets x 8 refits of the
generator) and cannot move its verdict. Half of a side's targets calibrate the threshold, and Clopper-Pearson
at 95% on 2 members against 2 non-members bounds epsilon at 0 even for a perfect attack, nor does
an AUC on fewer than HEADLINE_RECORDS targets per side enter the summary.

- membership inference: distance to the closest synthetic record and DOMIAS density ratio
  (reference density from training rows that are not among the evaluated members, so no row
  is its own reference), and the targeted shadow-model attack when a ``refit`` is given. Its
  targets are the most outlying members and non-members by the rule of
  :func:`dpsynth.attacks.membership.select_outlier_targets`, applied to the evaluated members
  and non-members together; its shadow population is every other training and holdout row.
- exact copies of the rows that occur once among the training and holdout rows
  (:mod:`dpsynth.attacks.copies`): a generator that memorises a few rare records copies more
  of the training ones than of the held-out ones; and the same among the rarest rows, counting
  the rare held-out rows it did not copy too (:mod:`dpsynth.attacks.rare_copies`); and whether
  the values no other real row shares appear for training rows only (:mod:`dpsynth.attacks.unique_values`).
- singling out (univariate and multivariate), linkage and attribute inference of each secret
  column from all the others; Anonymeter style, training rows against the holdout as control.
  For linkage the encoded columns, sorted by their number of codes (largest first, ties in
  schema order), are dealt alternately into the attacker's two halves, so that both halves
  hold some of the most identifying columns.

The empirical epsilon lower bound of the summary is the largest over the membership attacks,
each at 95%; several attacks together raise the chance that one bound is spuriously high
(at most the sum of their 5% error rates).
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.attacks.copies import CopyResult, unique_copies
from dpsynth.attacks.features import AttackEncoding
from dpsynth.attacks.inference import attribute_inference
from dpsynth.attacks.linkage import linkage
from dpsynth.attacks.membership import (
    AttackResult,
    density_ratio,
    distance_to_closest_record,
    select_outlier_targets,
    shadow_model_attack,
)
from dpsynth.attacks.rare_copies import RareCopyResult, rare_copies
from dpsynth.attacks.risk import RiskResult
from dpsynth.attacks.singling_out import singling_out
from dpsynth.attacks.unique_values import UniqueValueResult, unique_values
from dpsynth.errors import DataError
from dpsynth.random_state import check_random_state
from dpsynth.schema import Schema

logger = logging.getLogger(__name__)

Refit = Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]


@dataclass(frozen=True)
class Level:
    """The sizes of one audit level (see the table of the module docstring)."""

    membership_records: int
    n_attacks: int
    inference_secrets: int | None
    shadow_targets: int
    shadow_refits: int
    shadow_rows: int


LEVELS = {
    "quick": Level(500, 500, 3, 0, 0, 0),
    "standard": Level(1000, 2000, None, 0, 0, 0),
    "thorough": Level(2000, 5000, None, 10, 16, 5000),
}
MIN_ROWS = 10
HEADLINE_RECORDS = 10
PREDICTABLE_SECRET = 0.8
# Each summary risk and the prefix of the attacks' names it is the largest of.
RISK_FAMILIES = {
    "singling_out_risk": "singling_out", "linkage_risk": "linkage", "inference_risk": "attribute_inference"
}
DEFAULT_JOBS = min(2, os.cpu_count() or 1)


@dataclass(frozen=True)
class AuditResult:
    """Every attack's result on one synthetic table, with what was skipped and why."""

    level: str
    parameters: dict[str, Any]
    membership: tuple[AttackResult, ...]
    risks: tuple[RiskResult, ...]
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    copies: CopyResult | None = None
    rare: RareCopyResult | None = None
    values: UniqueValueResult | None = None

    def summary(self) -> dict[str, float]:
        """Headline figures: the strongest membership attack and the upper risk bounds.

        ``membership_auc`` and the TPRs are maxima over the membership attacks evaluated on at
        least :data:`HEADLINE_RECORDS` members and as many non-members (a shadow-model attack on
        a few targets is reported in full, but its AUC on 3 against 3 says nothing on its own);
        ``epsilon_lower_bound`` is the largest empirical bound of all of them (never a
        guarantee) beside the largest bound their sample sizes could show. Each risk is the
        upper end of its interval, the largest over modes or secret columns; a secret column
        that the control already guesses right more often than :data:`PREDICTABLE_SECRET`
        counts only when its risk interval excludes 0, since (attack - control) / (1 - control)
        divides by a small number there and its interval reaches about 0.5 at 1,000 attacks
        with no leak at all (Adult's capital-gain, capital-loss, education-num). A risk that was
        not measured is NaN. Which of these figures may decide a verdict is
        :meth:`risk_statuses`' business.
        """
        headline = [r for r in self.membership if min(r.n_members, r.n_nonmembers) >= HEADLINE_RECORDS]
        figures = {
            "membership_auc": max(r.auc for r in headline),
            "membership_auc_upper": max(r.auc_interval[1] for r in headline),
            "membership_tpr_at_fpr_0.01": max(r.tpr_at_fpr[0.01][0] for r in headline),
            "membership_tpr_at_fpr_0.001": max(r.tpr_at_fpr[0.001][0] for r in headline),
            "epsilon_lower_bound": max(r.epsilon_lower_bound for r in self.membership),
            "max_certifiable_epsilon": max(r.max_certifiable_epsilon for r in self.membership),
        }
        for key, prefix in RISK_FAMILIES.items():
            uppers = [r.risk_interval[1] for r in self._family(prefix)]
            figures[key] = max(uppers) if uppers else float("nan")
        return {key: float(value) for key, value in figures.items()}

    def _family(self, prefix: str) -> list[RiskResult]:
        return [r for r in self.risks if r.name.startswith(prefix) and _assessable(r)]

    def risk_statuses(self) -> dict[str, dict[str, Any]]:
        """What stands behind each summary risk, as ``{status, n_attacks, attacks_requested}``.

        ``measured``: some conclusive attack beat its random-guess baseline; of those, the one
        whose interval has the largest lower end (the evidence a policy judges) gives ``risk_low``
        and ``risk``, the ends of its interval, with the ``attack`` and secret ``column``.
        ``not above baseline``: every conclusive attack did no
        better than guessing, so the data gave it nothing (this passes a policy). ``inconclusive``:
        too few attacks could be made to bound the risk (Anonymeter's univariate singling out on
        small domains, say): the certificate says so and it never decides a verdict alone.
        ``not run``: no attack of the kind ran.
        """
        statuses = {}
        for key, prefix in RISK_FAMILIES.items():
            family = self._family(prefix)
            conclusive = [r for r in family if r.conclusive]
            if any(_meaningful(r) for r in family):
                status = "measured"
            elif conclusive:
                status = "not above baseline"
            else:
                status = "inconclusive" if family else "not run"
            statuses[key] = {
                "status": status,
                "n_attacks": sum(r.n_attacks for r in family),
                "attacks_requested": sum(int(r.parameters.get("n_attacks_requested", r.n_attacks)) for r in family),
            }
            if status == "measured":
                worst = max((r for r in family if _meaningful(r)), key=lambda r: r.risk_interval)
                statuses[key]["risk"] = worst.risk_interval[1]
                statuses[key]["risk_low"] = worst.risk_interval[0]
                statuses[key]["attack"] = worst.name
                statuses[key]["column"] = worst.parameters.get("secret")
        return statuses

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (NaN in the summary written as null)."""
        return {
            "level": self.level,
            "parameters": self.parameters,
            "summary": {k: (None if np.isnan(v) else v) for k, v in self.summary().items()},
            "risk_statuses": self.risk_statuses(),
            "membership": [result.to_dict() for result in self.membership],
            "risks": [result.to_dict() for result in self.risks],
            "unique_copies": None if self.copies is None else self.copies.to_dict(),
            "rare_copies": None if self.rare is None else self.rare.to_dict(),
            "unique_values": None if self.values is None else self.values.to_dict(),
            "skipped": dict(self.skipped),
            "seconds": dict(self.seconds),
        }


def _meaningful(result: RiskResult) -> bool:
    """A risk result that can count against a release: conclusive and better than guessing."""
    return _assessable(result) and result.conclusive and result.beats_baseline


def _assessable(result: RiskResult) -> bool:
    """Whether a risk enters the summary (see :meth:`AuditResult.summary`)."""
    if result.name != "attribute_inference" or result.control.value <= PREDICTABLE_SECRET:
        return True
    return result.risk_interval[0] > 0


@dataclass(frozen=True)
class SeededRefit:
    """Adapts a ``refit(train, rng)`` to the ``(train, seed)`` form the shadow attack sends to workers."""

    refit: Refit

    def __call__(self, train: pd.DataFrame, seed: int) -> pd.DataFrame:
        return self.refit(train, np.random.default_rng(seed))


def _check_inputs(train: Any, holdout: Any, synthetic: Any, schema: Any) -> None:
    if not isinstance(schema, Schema):
        raise DataError(f"schema must be a Schema; got {type(schema).__name__}")
    for argument, frame in (("train", train), ("holdout", holdout), ("synthetic", synthetic)):
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"{argument} must be a pandas DataFrame; got {type(frame).__name__}")
        absent = [name for name in schema.encoded_columns if name not in frame.columns]
        if absent:
            raise DataError(f"{argument} lacks column(s) {absent} of the schema")
        if len(frame) < MIN_ROWS:
            raise DataError(f"{argument} has {len(frame)} rows; the attacks need at least {MIN_ROWS}")


def _timed(seconds: dict[str, float], name: str, attack: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = attack()
    seconds[name] = time.perf_counter() - start
    return result


def run_attacks(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    *,
    level: str = "standard",
    refit: Refit | None = None,
    refit_description: str | None = None,
    delta: float = 0.0,
    random_state: None | int | np.random.Generator = None,
    n_jobs: int = DEFAULT_JOBS,
) -> AuditResult:
    """Attack ``synthetic`` (made from ``train``; ``holdout`` never seen) at ``level``.

    ``refit(train, rng)`` re-fits the same generator on a shadow training set and returns a
    synthetic table; without it the shadow-model attack is skipped and the result says why.
    ``refit_description`` states what a refit is (for example "MST at the release's epsilon
    on 1,000 rows"); shadow refits run in ``n_jobs`` processes, so ``refit`` must be
    picklable when ``n_jobs > 1``. ``delta`` is the release's delta (0 for non-DP data), used
    in the empirical epsilon bounds. Levels are described in the module docstring.
    """
    if level not in LEVELS:
        raise DataError(f"level must be one of {sorted(LEVELS)}; got {level!r}")
    _check_inputs(train, holdout, synthetic, schema)
    if refit is not None and not callable(refit):
        raise DataError("refit must be a callable (train: DataFrame, rng: Generator) -> DataFrame, or None")
    sizes = LEVELS[level]
    rng = check_random_state(random_state)
    encoding = AttackEncoding(schema)
    seconds: dict[str, float] = {}
    skipped: dict[str, str] = {}

    n = min(sizes.membership_records, len(holdout), len(train))
    member_rows = rng.choice(len(train), size=n, replace=False)
    nonmember_rows = rng.choice(len(holdout), size=n, replace=False)
    members, nonmembers = train.iloc[member_rows], holdout.iloc[nonmember_rows]
    membership = [
        _timed(
            seconds,
            "distance_to_closest_record",
            lambda: distance_to_closest_record(members, nonmembers, synthetic, encoding, rng, delta=delta),
        )
    ]
    reference_pool = np.setdiff1d(np.arange(len(train)), member_rows)
    if len(reference_pool) >= MIN_ROWS:
        reference = train.iloc[rng.choice(reference_pool, size=min(n, len(reference_pool)), replace=False)]
        membership.append(
            _timed(
                seconds,
                "density_ratio",
                lambda: density_ratio(members, nonmembers, synthetic, reference, encoding, rng, delta=delta),
            )
        )
    else:
        skipped["density_ratio"] = f"fewer than {MIN_ROWS} training rows are left for the reference density"

    shadow_reason = _shadow_skip_reason(sizes, refit, n)
    if shadow_reason is None:
        assert refit is not None  # _shadow_skip_reason gives a reason when there is no refit
        membership.append(
            _timed(
                seconds,
                "shadow_model",
                lambda: _shadow(
                    train, holdout, synthetic, member_rows, nonmember_rows, encoding, sizes, refit, rng, n_jobs, delta
                ),
            )
        )
    else:
        skipped["shadow_model"] = shadow_reason

    copies = _timed(seconds, "unique_copies", lambda: unique_copies(train, holdout, synthetic, schema))
    rare = _timed(seconds, "rare_copies", lambda: rare_copies(train, holdout, synthetic, schema))
    values = _timed(seconds, "unique_values", lambda: unique_values(train, holdout, synthetic, schema))
    risks = _risks(train, holdout, synthetic, schema, sizes, rng, seconds, skipped)
    parameters = {
        "level": level,
        "n_train": len(train),
        "n_holdout": len(holdout),
        "n_synthetic": len(synthetic),
        "n_members": n,
        "n_nonmembers": n,
        "members": "a uniform random sample of the training rows, as many as the non-members",
        "nonmembers": "a uniform random sample of the holdout rows",
        "density_reference": "training rows not among the evaluated members, as many as the members",
        "refit": refit_description if refit is not None else None,
        "delta": float(delta),
        "sizes": {
            "membership_records": sizes.membership_records,
            "n_attacks": sizes.n_attacks,
            "inference_secrets": sizes.inference_secrets or "every column",
            "shadow_targets_per_side": sizes.shadow_targets,
            "shadow_refits_per_target": sizes.shadow_refits,
            "shadow_rows": sizes.shadow_rows,
        },
    }
    return AuditResult(level, parameters, tuple(membership), tuple(risks), skipped, seconds, copies, rare, values)


def _shadow_skip_reason(sizes: Level, refit: Refit | None, n: int) -> str | None:
    if sizes.shadow_targets == 0:
        return "this audit level runs no shadow refits"
    if refit is None:
        return (
            "no refit of the generator was given (an audit of data from another tool cannot refit it): "
            "the shadow-model attack needs one"
        )
    if n < 2 * sizes.shadow_targets:
        return f"fewer than {2 * sizes.shadow_targets} evaluated records per side to choose targets from"
    return None


def _shadow(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    member_rows: np.ndarray,
    nonmember_rows: np.ndarray,
    encoding: AttackEncoding,
    sizes: Level,
    refit: Refit,
    rng: np.random.Generator,
    n_jobs: int,
    delta: float,
) -> AttackResult:
    """The shadow-model attack on the most outlying evaluated members and non-members."""
    n, k = len(member_rows), sizes.shadow_targets
    evaluated = pd.concat([train.iloc[member_rows], holdout.iloc[nonmember_rows]], ignore_index=True)
    order = select_outlier_targets(evaluated, encoding, len(evaluated), rng)
    member_targets = order[order < n][:k]
    nonmember_targets = order[order >= n][:k] - n
    targets = pd.concat(
        [train.iloc[member_rows[member_targets]], holdout.iloc[nonmember_rows[nonmember_targets]]], ignore_index=True
    )
    population = pd.concat(
        [
            train.iloc[np.setdiff1d(np.arange(len(train)), member_rows[member_targets])],
            holdout.iloc[np.setdiff1d(np.arange(len(holdout)), nonmember_rows[nonmember_targets])],
        ],
        ignore_index=True,
    )
    shadow_rows = min(sizes.shadow_rows, len(train), len(population))
    result = shadow_model_attack(
        SeededRefit(refit),
        population,
        synthetic,
        targets,
        np.arange(2 * k) < k,
        n_shadows=sizes.shadow_refits,
        shadow_size=shadow_rows,
        encoding=encoding,
        rng=rng,
        n_jobs=n_jobs,
        delta=delta,
    )
    result.parameters.update(
        target_rule=(
            f"the {k} most outlying evaluated members and the {k} most outlying non-members: largest mean "
            "Gower distance to their 5 nearest neighbours among all evaluated records"
        ),
        reduced_size=shadow_rows < len(train),
        n_train=len(train),
    )
    return result


def _risks(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    sizes: Level,
    rng: np.random.Generator,
    seconds: dict[str, float],
    skipped: dict[str, str],
) -> list[RiskResult]:
    """The Anonymeter-style evaluators: singling out, linkage, attribute inference."""
    tables = (train, holdout, synthetic, schema)
    columns = list(schema.encoded_columns)
    n_targets = min(sizes.n_attacks, len(train), len(holdout))
    risks = []
    for mode in ("univariate", "multivariate"):
        name = f"singling_out_{mode}"
        n_cols = min(3, len(columns))
        try:
            risks.append(
                _timed(
                    seconds,
                    name,
                    functools.partial(
                        singling_out, *tables, n_attacks=sizes.n_attacks, mode=mode, n_cols=n_cols, random_state=rng
                    ),
                )
            )
        except DataError as error:
            # Raised when no predicate singles out a synthetic record (the inputs were checked).
            skipped[name] = str(error)
    if len(columns) < 2:
        skipped["linkage"] = skipped["attribute_inference"] = "the schema has fewer than two encoded columns"
        return risks
    by_size = sorted(columns, key=lambda name: -schema.domain_sizes()[name])
    halves = (by_size[0::2], by_size[1::2])
    risks.append(
        _timed(seconds, "linkage", lambda: linkage(*tables, halves, n_attacks=n_targets, random_state=rng))
    )
    secrets = columns
    if sizes.inference_secrets is not None and len(columns) > sizes.inference_secrets:
        secrets = [columns[i] for i in sorted(rng.choice(len(columns), size=sizes.inference_secrets, replace=False))]
    start = time.perf_counter()
    for secret in secrets:
        risks.append(attribute_inference(*tables, secret, n_attacks=n_targets, random_state=rng))
    seconds["attribute_inference"] = time.perf_counter() - start
    return risks
