"""The release certificate: what was released, how it was attacked, and the policy's verdict.

A certificate is a versioned JSON document (``"dpsynth_certificate": "1"``). For a dpsynth
release its privacy statement is copied from the release record (the DP guarantee); for data
made by any other tool it is ``null`` and says so. Everything about attacks is a description
of this one release to its custodian, not part of the DP guarantee: the certificate says that
in words (:data:`DISCLAIMER`).
"""

from __future__ import annotations

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
from dpsynth.digest import sha256_file
from dpsynth.evaluate.fidelity import mean_kway_tvd
from dpsynth.evaluate.quality import mean_score, pair_trends
from dpsynth.evaluate.views import column_views
from dpsynth.schema import Schema, encode

CERTIFICATE_VERSION = "1"
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
# The certificate may be published with the data, so its per-column views show no real share
# of a bar that holds fewer real rows than this (synthetic shares, DP outputs, are all shown).
# Ten is the smallest cell count common in statistical disclosure control rules for tables.
SMALL_COUNT = 10


def privacy_statement(record: Mapping[str, Any]) -> dict[str, Any]:
    """The privacy part of a release record, in the certificate's shape."""
    privacy = record["privacy"]
    budget = privacy["budget"]
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
                "epsilon_alone": part["epsilon_alone"],
                "events": part["events"],
            }
            for name, part in privacy["parts"].items()
        },
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
    """Fidelity of ``synthetic`` against ``train``: mean 1-, 2- and 3-way TVD on the schema's codes,
    the column-shape and pair-trend scores (:mod:`dpsynth.evaluate.quality`), and a view per column.

    The views' bars are the schema's (public) bins and categories; a real share below
    :data:`SMALL_COUNT` rows is suppressed, and no spike is read from the data.
    """
    real, fake = encode(train, schema).codes, encode(synthetic, schema).codes
    sizes = list(schema.domain_sizes().values())
    figures: dict[str, Any] = {}
    for k in FIDELITY_WAYS:
        figures[f"tvd_{k}way"] = _figure(mean_kway_tvd(real, fake, sizes, k) if real.shape[1] >= k else np.nan)
    views = column_views(train, synthetic, schema, min_count=SMALL_COUNT)
    pairs = pair_trends(train, synthetic, schema)
    figures["column_shape"] = _figure(mean_score([view.shape for view in views]))
    figures["pair_trend"] = _figure(mean_score(list(pairs.values())))
    figures["columns"] = [view.to_dict() for view in views]
    figures["pairs"] = [{"columns": list(pair), "score": _figure(score)} for pair, score in pairs.items()]
    figures["suppressed_below"] = SMALL_COUNT
    figures["note"] = (
        "mean total variation distance between the marginals of the synthetic and training rows "
        "on the schema's codes (0: identical, 1: disjoint); column shape (1 - KS statistic or 1 - TVD "
        "per column) and pair trend (correlation or contingency similarity per pair) as SDMetrics' "
        "QualityReport defines them (1: identical); read from the real data, not DP"
    )
    return figures


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
) -> dict[str, Any]:
    """The certificate of one audited synthetic table (see the module docstring).

    ``record`` is the dpsynth release record, or None for data from another tool (then no
    epsilon is stated and the policy's non-DP checks apply, unless the caller gives
    ``stated_epsilon``: the epsilon another tool claims, checked but not verified). ``files`` maps names to the audited
    files, hashed with sha256. ``holdout_rule`` states how the control rows were chosen and
    ``schema_source`` where the schema came from. The record's ``schema_warnings`` (columns DP
    discovery represented poorly, each with its problem and fix) are copied when there are any.
    """
    if record is not None:
        stated_epsilon = float(record["privacy"]["budget"]["epsilon"])
        note = "the DP guarantee is the privacy statement above"
    elif stated_epsilon is not None:
        note = f"{NOT_A_RELEASE}; the producer claims epsilon {stated_epsilon:g}, which dpsynth cannot verify"
    else:
        note = NOT_A_RELEASE
    verdict, reasons, checks = evaluate_policy(audit, stated_epsilon, policy)
    document: dict[str, Any] = {
        "dpsynth_certificate": CERTIFICATE_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
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
        "audit": audit.to_dict(),
        "fidelity": fidelity(train, synthetic, schema),
        "disclaimer": DISCLAIMER,
    }
    warned = [] if record is None else list(record.get("schema_warnings") or [])
    if warned:
        document["schema_warnings"] = [
            {"column": str(w["column"]), "problem": str(w["problem"]), "fix": str(w["fix"])} for w in warned
        ]
    return document
