"""The release certificate: what was released, how it was attacked, and the policy's verdict.

A certificate is a versioned JSON document (``"dpsynth_certificate": "2"``). For a dpsynth
release its privacy statement is copied from the release record (the DP guarantee) and its
header names the release, the dataset and the dataset's lifetime spend in the ledger; for data
made by any other tool the statement is ``null`` and says so. Everything about attacks is a
description of this one release to its custodian, not part of the DP guarantee: the
certificate says that in words (:data:`DISCLAIMER`).

The certificate holds aggregates only (the verdict, the accounting, risk figures with their
intervals, fidelity scores, the shares of the real data the schema folds or clips). The
per-column views, with exact real shares per bar, go to a custodian annex
(:mod:`dpsynth.certificate.annex`) in a folder beside it, ``OUT.custodian/``, which is never shared.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dpsynth._version import __version__
from dpsynth.attacks.suite import AuditResult
from dpsynth.certificate.policy import Policy, evaluate_policy
from dpsynth.certificate.readings import audit_limits, membership_reading, risk_reading
from dpsynth.digest import sha256_file
from dpsynth.errors import LedgerError
from dpsynth.evaluate.fidelity import mean_kway_tvd
from dpsynth.evaluate.quality import column_shapes, mean_score, pair_trends
from dpsynth.evaluate.real_values import VALUE_RULE, real_value_fidelity, schema_loss
from dpsynth.privacy.ledger import Ledger
from dpsynth.schema import Schema, encode

logger = logging.getLogger(__name__)

CERTIFICATE_VERSION = "2"
CERTIFICATE_FILE = "certificate.json"
PAGE_FILE = "certificate.html"
DISCLAIMER = (
    "The attack results describe this release, attacked on the custodian's side with the attacks "
    "and sizes listed here. They are not part of the differential privacy guarantee, which comes "
    "only from the mechanisms and the accounting in the privacy statement. A PASS means these "
    "attacks found no evidence of leakage at these sample sizes; it does not prove privacy. The "
    "empirical epsilon figures are lower bounds found by attacks, never a guarantee. Every figure "
    "of the audit (row counts included) is computed from the real data without noise: it is for "
    "the custodian, and should be reviewed before the certificate is published with the data."
)
NOT_A_RELEASE = "not a dpsynth release: no differential privacy guarantee is stated for this data"
COMPOSITION = (
    "every mechanism is charged to one accountant before its noisy answer is returned; the parts' "
    "privacy curves (zCDP / Renyi DP) are added over a grid of orders and converted to (epsilon, "
    "delta) once, for the whole release"
)
FIDELITY_WAYS = (1, 2, 3)
# The certificate may be published with the data, so a share of the real data it states (folded
# or clipped by the schema) is not shown when it rests on fewer real rows than this. Ten is the
# smallest cell count common in statistical disclosure control rules for tables.
SMALL_COUNT = 10
# The annex sits beside the release folder, never inside it: the folder a custodian zips and
# shares then cannot carry it by accident.
ANNEX_SUFFIX = ".custodian"
ANNEX_NOTE = (
    f"The per-column views, with exact shares of the real data, are in the custodian annex "
    f"(annex.html and annex.json), written beside this folder under its name followed by "
    f"'{ANNEX_SUFFIX}': that folder must never be shared."
)


def annex_folder(out: Path) -> Path:
    """Where the custodian annex of the release or audit folder ``out`` is written."""
    out = out.absolute()
    return out.with_name(out.name + ANNEX_SUFFIX)


NO_LEDGER = "not known: no ledger was given (an audit), or it could not be read"


def _shares(parts: Mapping[str, Mapping[str, Any]]) -> tuple[dict[str, float], str]:
    """Each part's share of the joint total, and how it was found.

    Epsilon is not additive over parts (it is a concave function of the total zCDP rho, e.g.
    rho + 2 sqrt(rho log(1/delta)) for the classic conversion), so no per-part epsilons add up
    to the joint one; rho is additive under zCDP (Bun & Steinke 2016), so the joint total is
    attributed to the parts in proportion to their rho spent. A part charged outside zCDP (an
    RDP curve: DP-SGD) has no rho; then the shares are the budget's allocation.
    """
    used = {name: part for name, part in parts.items() if part.get("events")}
    if used and all(part.get("rho_spent") is not None for part in used.values()):
        rho = {name: float(part["rho_spent"]) for name, part in used.items()}
        total = math.fsum(rho.values())
        if total > 0:
            return {name: rho.get(name, 0.0) / total for name in parts}, "zCDP rho spent"
    weights = {name: float(part["fraction"]) if name in used else 0.0 for name, part in parts.items()}
    total = math.fsum(weights.values())
    return {name: (w / total if total else 0.0) for name, w in weights.items()}, "budget allocation"


def privacy_statement(record: Mapping[str, Any]) -> dict[str, Any]:
    """The privacy part of a release record, in the certificate's shape.

    ``parts`` give each part's share of the joint total (shares add up to one, so the drawn
    epsilon shares add up to the total) beside what the part would cost alone; ``naive_sum``
    is what converting each part alone and adding them up would state.
    """
    privacy = record["privacy"]
    budget = privacy["budget"]
    joint = float(privacy["joint"]["epsilon"])
    shares, share_basis = _shares(privacy["parts"])
    naive = privacy.get("naive_sum") or {
        "epsilon": math.fsum(part["epsilon_alone"] for part in privacy["parts"].values()),
        "delta": privacy["joint"]["delta"],
    }
    return {
        "statement": record["statement"],
        "unit": budget["unit"],
        "epsilon": budget["epsilon"],
        "delta": budget["delta"],
        "spent": {"epsilon": privacy["joint"]["epsilon"], "delta": privacy["joint"]["delta"]},
        "allocation": budget["allocation"],
        "parts": {
            name: {
                "fraction": part["fraction"],
                "share_of_total": shares[name],
                "epsilon_share": joint * shares[name],
                "epsilon_alone": part["epsilon_alone"],
                "events": part["events"],
            }
            for name, part in privacy["parts"].items()
        },
        "share_basis": share_basis,
        "naive_sum": {"epsilon": float(naive["epsilon"]), "delta": float(naive["delta"])},
        "saved_by_joint_accounting": float(naive["epsilon"]) - joint,
        "composition": COMPOSITION,
        "conversion": privacy["joint"]["conversion"],
        "schema_provenance": record["schema"]["provenance"],
        "noise_source": record["noise_source"],
        "method": record["method"],
        "release_id": record.get("release_id"),
    }


def _figure(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def fidelity(train: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> dict[str, Any]:
    """Fidelity of ``synthetic`` against ``train``, as aggregates only.

    ``real_values``: mean 1- and 2-way TVD on the real values (:mod:`dpsynth.evaluate.real_values`),
    the figure a reader should take; ``folded_view``: mean 1-, 2- and 3-way TVD on the schema's
    codes, which cannot see what the schema folds into "other" or clips; ``schema_loss``: how
    much of the training rows the schema folds or clips, per column and overall (a share resting
    on fewer than :data:`SMALL_COUNT` rows is not shown); the column-shape and pair-trend scores
    (:mod:`dpsynth.evaluate.quality`), per column and pair and as means.
    """
    real, fake = encode(train, schema).codes, encode(synthetic, schema).codes
    sizes = list(schema.domain_sizes().values())
    folded = {
        f"tvd_{k}way": _figure(mean_kway_tvd(real, fake, sizes, k) if real.shape[1] >= k else np.nan)
        for k in FIDELITY_WAYS
    }
    shapes = column_shapes(train, synthetic, schema)
    pairs = pair_trends(train, synthetic, schema)
    return {
        "real_values": {**real_value_fidelity(train, synthetic, schema), "rule": VALUE_RULE},
        "folded_view": {
            **folded,
            "rule": "the schema's codes: its bins, its categories with values outside them folded into "
                    "'other', values outside its bounds clipped to them",
        },
        "schema_loss": schema_loss(train, schema, SMALL_COUNT),
        "column_shape": _figure(mean_score(list(shapes.values()))),
        "pair_trend": _figure(mean_score(list(pairs.values()))),
        "column_shapes": {name: _figure(score) for name, score in shapes.items()},
        "pairs": [{"columns": list(pair), "score": _figure(score)} for pair, score in pairs.items()],
        "note": (
            "mean total variation distance between the marginals of the synthetic and training rows "
            "(0: identical, 1: disjoint), on the real values and on the schema's folded view; column shape "
            "(1 - KS statistic or 1 - TVD per column) and pair trend (correlation or contingency similarity "
            "per pair) as SDMetrics' QualityReport defines them (1: identical); read from the real data, not DP"
        ),
    }


def ledger_spend(ledger: Ledger, key: str) -> dict[str, Any] | None:
    """The dataset's lifetime spend in ``ledger`` and its cap, or None when the ledger cannot be read.

    Read after this release's reservation is counted, so it is included; open reservations of
    other releases count too, as the ledger counts them (their noisy output may be out). A
    ledger that fails here does not stop a release whose budget is spent: its commit says so.
    """
    try:
        spent, cap = ledger.spent(key), ledger.cap(key)
    except LedgerError as error:
        logger.warning("the certificate cannot state the lifetime spend: %s", error)
        return None
    return {
        "path": str(ledger.path),
        "epsilon": spent.epsilon,
        "delta": spent.delta,
        "n_releases": spent.n_releases,
        "cap": None if cap is None else {"epsilon": cap.epsilon, "delta": cap.delta},
        "basis": "basic composition over every release on this dataset in the ledger, this one included "
                 "(committed releases and open reservations, which count as spent)",
    }


def _header(
    record: Mapping[str, Any] | None, dataset: str | None, lifetime: Mapping[str, Any] | None, created_at: str
) -> dict[str, Any]:
    """What the certificate certifies: the release, the dataset, the date and the lifetime spend."""
    return {
        "release_id": None if record is None else record.get("release_id"),
        "dataset": dataset if dataset is not None else (
            None if record is None else record.get("input", {}).get("dataset")
        ),
        "date": created_at if record is None else record.get("created_at", created_at),
        "lifetime_spend": None if lifetime is None else dict(lifetime),
        "ledger_note": None if lifetime is not None else NO_LEDGER,
    }


def _with_readings(audit: dict[str, Any], policy: Policy, stated_epsilon: float | None) -> dict[str, Any]:
    """The audit's results, each membership attack and risk row with its one-line reading."""
    thresholds = policy.thresholds()
    for attack in audit["membership"]:
        attack["reading"] = membership_reading(attack, stated_epsilon, policy.membership_auc_max)
    for risk in audit["risks"]:
        risk["reading"] = risk_reading(risk, thresholds)
    return audit


def build_certificate(
    audit: AuditResult,
    policy: Policy,
    *,
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    holdout_rule: str,
    schema_source: str,
    record: Mapping[str, Any] | None = None,
    stated_epsilon: float | None = None,
    files: Mapping[str, str | os.PathLike] | None = None,
    dataset: str | None = None,
    lifetime: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The certificate of one audited synthetic table (see the module docstring).

    ``record`` is the dpsynth release record, or None for data from another tool (then no
    epsilon is stated and the policy's non-DP checks apply, unless the caller gives
    ``stated_epsilon``: the epsilon another tool claims, checked but not verified). ``files`` maps names to the audited
    files, hashed with sha256. ``holdout_rule`` states how the control rows were chosen and
    ``schema_source`` where the schema came from. The record's ``schema_warnings`` (columns DP
    discovery represented poorly, each with its problem and fix) are copied when there are any.
    ``dataset`` names the data (default: the record's dataset label) and ``lifetime`` is its
    spend in the ledger (:func:`ledger_spend`), or None where there is no ledger (an audit).
    """
    if record is not None:
        stated_epsilon = float(record["privacy"]["budget"]["epsilon"])
        note = "the DP guarantee is the privacy statement above"
    elif stated_epsilon is not None:
        note = f"{NOT_A_RELEASE}; the producer claims epsilon {stated_epsilon:g}, which dpsynth cannot verify"
    else:
        note = NOT_A_RELEASE
    verdict, reasons, checks = evaluate_policy(audit, stated_epsilon, policy)
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    document: dict[str, Any] = {
        "dpsynth_certificate": CERTIFICATE_VERSION,
        "created_at": created_at,
        "release": _header(record, dataset, lifetime, created_at),
        "library": {"name": "dpsynth", "version": __version__},
        "subject": "dpsynth release" if record is not None else "synthetic data from another tool",
        "privacy": None if record is None else privacy_statement(record),
        "privacy_note": note,
        "stated_epsilon": stated_epsilon,
        "schema": {"provenance": schema.provenance, "source": schema_source},
        "data": {
            "n_train": audit.parameters["n_train"],
            "n_holdout": audit.parameters["n_holdout"],
            "n_synthetic": audit.parameters["n_synthetic"],
            "holdout_rule": holdout_rule,
        },
        "files": {name: sha256_file(Path(path)) for name, path in (files or {}).items()},
        "verdict": verdict,
        "reasons": reasons,
        "checks": checks,
        "policy": {
            "source": policy.source,
            "thresholds": policy.thresholds(),
            "documentation": policy.documentation,
        },
        "audit": _with_readings(audit.to_dict(), policy, stated_epsilon),
        "audit_limits": audit_limits(
            policy.thresholds(),
            audit.parameters["n_holdout"] / (audit.parameters["n_train"] + audit.parameters["n_holdout"]),
            stated_epsilon,
        ),
        "fidelity": fidelity(train, synthetic, schema),
        "annex": ANNEX_NOTE,
        "disclaimer": DISCLAIMER,
    }
    warned = [] if record is None else list(record.get("schema_warnings") or [])
    if warned:
        document["schema_warnings"] = [
            {"column": str(w["column"]), "problem": str(w["problem"]), "fix": str(w["fix"])} for w in warned
        ]
    return document
