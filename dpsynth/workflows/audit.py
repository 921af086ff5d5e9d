"""``dpsynth audit``: attack synthetic data made by any tool and certify what was found.

The custodian gives the real rows the generator was trained on, a holdout of real rows it never
saw, and the synthetic table. Nothing is released: the audit reads real data on the custodian's
side, so without a schema it may infer one from the tables without noise (the certificate
says so). The shadow-model attack needs a refit of the generator and is skipped for other
tools' data. ``certificate.json`` and ``certificate.html`` (aggregates only) and the custodian
annex (``annex.json`` and ``annex.html``: per-column views with exact real shares, never to be
shared) are written into two new folders, each at once: ``OUT`` and, beside it, ``OUT.custodian``.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from dpsynth.attacks.suite import AuditResult, run_attacks
from dpsynth.certificate.annex import ANNEX_FILE, ANNEX_PAGE, build_annex, render_annex
from dpsynth.certificate.document import CERTIFICATE_FILE, PAGE_FILE, annex_folder, build_certificate
from dpsynth.certificate.page import render_certificate
from dpsynth.certificate.policy import Policy, load_policy
from dpsynth.data.load import read_input
from dpsynth.errors import DataError, PrivacyWarning
from dpsynth.schema import Schema, infer_schema
from dpsynth.validation import number
from dpsynth.workflows.bundle import check_out_dir, staged_folder

logger = logging.getLogger(__name__)

# Real rows share whole value combinations by chance (Adult has about fifty exact duplicates;
# coarse columns share far more), so a holdout row equal to a training row is not by itself a
# training record. A holdout is refused only when it shares more rows with the training data
# than real rows share with each other: above the 99.9% binomial quantile at the larger of the
# real-versus-real match rate and OVERLAP_SHARE, and more than MAX_CHANCE_OVERLAP rows.
OVERLAP_SHARE = 0.01
MAX_CHANCE_OVERLAP = 2
OVERLAP_QUANTILE = 0.999
EXTERNAL_HOLDOUT_RULE = "given by the custodian as rows the generator never saw (checked by row hashes)"


@dataclass(frozen=True)
class AuditOutcome:
    """What an audit wrote: its folder, the certificate and the attack results."""

    out: Path
    certificate: dict[str, Any]
    result: AuditResult

    @property
    def verdict(self) -> str:
        """PASS or FAIL under the policy."""
        return self.certificate["verdict"]


def _frame(argument: str, data: Any, na_values: Sequence[str]) -> pd.DataFrame:
    try:
        frame = read_input(data, na_values).frame
    except DataError as error:
        raise DataError(f"{argument}: {error}") from None
    if len(frame) == 0:
        raise DataError(f"{argument} has no rows")
    return frame


def _check_columns(real: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema | None) -> None:
    """Every table must hold the columns the audit compares; name the ones that differ."""
    if schema is not None:
        needed = list(schema.encoded_columns)
        for argument, frame in (("real", real), ("holdout", holdout), ("synthetic", synthetic)):
            absent = [name for name in needed if name not in frame.columns]
            if absent:
                raise DataError(f"{argument} lacks column(s) {absent} of the schema")
        return
    expected = list(real.columns)
    for argument, frame in (("holdout", holdout), ("synthetic", synthetic)):
        absent = [name for name in expected if name not in frame.columns]
        extra = [name for name in frame.columns if name not in expected]
        if absent or extra:
            raise DataError(
                f"the columns of {argument} do not match the real data's: "
                f"missing {absent}, not in the real data {extra}"
            )


def count_overlap(real: pd.DataFrame, holdout: pd.DataFrame, columns: Sequence[str]) -> int:
    """How many holdout rows equal some real row on ``columns`` (by row hashes; only the count is kept)."""
    columns = list(columns)
    real_hashes = pd.util.hash_pandas_object(real[columns], index=False).to_numpy()
    holdout_hashes = pd.util.hash_pandas_object(holdout[columns], index=False).to_numpy()
    return int(np.count_nonzero(np.isin(holdout_hashes, real_hashes)))


def chance_overlap(real: pd.DataFrame, size: int, columns: Sequence[str]) -> float:
    """Share of ``size`` real rows (a fixed random sample) equal to one of the other real rows."""
    size = min(size, len(real) // 2)
    if size < 1:
        return 0.0
    picked = np.zeros(len(real), dtype=bool)
    picked[np.random.default_rng(0).choice(len(real), size, replace=False)] = True
    return count_overlap(real[~picked], real[picked], columns) / size


def check_holdout(real: pd.DataFrame, holdout: pd.DataFrame, columns: Sequence[str]) -> None:
    """Refuse a holdout that shares more rows with the training data than chance explains."""
    overlap = count_overlap(real, holdout, columns)
    if overlap == 0:
        return
    chance = chance_overlap(real, len(holdout), columns)
    limit = stats.binom.ppf(OVERLAP_QUANTILE, len(holdout), max(chance, OVERLAP_SHARE))
    if overlap > max(MAX_CHANCE_OVERLAP, limit):
        raise DataError(
            f"{overlap} of the {len(holdout)} holdout rows also occur in the training data, more than real "
            f"rows share by chance ({chance:.1%} of them equal another): the holdout must be rows the "
            "generator never saw (a control set drawn before fitting)"
        )
    logger.warning(
        "%d of the %d holdout rows equal a training row on every column; real rows share values this "
        "often by chance (%.1f%% equal another real row), so the holdout is used",
        overlap, len(holdout), 100 * chance,
    )


def _schema(schema: Schema | str | os.PathLike | None, frames: Sequence[pd.DataFrame]) -> tuple[Schema, str]:
    if isinstance(schema, Schema):
        return schema, "given by the custodian"
    if schema is not None:
        return Schema.load(schema), f"given by the custodian ({Path(schema).name})"
    with warnings.catch_warnings():
        # Not DP, and stated as such in the certificate: the audit releases nothing.
        warnings.simplefilter("ignore", PrivacyWarning)
        inferred = infer_schema(pd.concat(frames, ignore_index=True))
    return inferred, (
        "inferred from the real, holdout and synthetic rows without noise (not DP; acceptable because "
        "the audit runs on the custodian's side and releases nothing)"
    )


def audit(
    real: Any,
    holdout: Any,
    synthetic: Any,
    *,
    out: str | os.PathLike,
    schema: Schema | str | os.PathLike | None = None,
    level: str = "standard",
    policy: Policy | str | os.PathLike | None = None,
    stated_epsilon: float | None = None,
    na_values: Sequence[str] = (),
    random_state: None | int | np.random.Generator = None,
) -> AuditOutcome:
    """Attack ``synthetic`` (trained on ``real``; ``holdout`` never seen) and certify it into ``out``.

    Tables are pandas, polars or pyarrow tables, or files (CSV, Parquet, Arrow, Excel).
    ``stated_epsilon`` is the epsilon the producing tool claims, if any: then the empirical
    epsilon bound is checked against it. ``policy`` is a
    :class:`Policy`, a policy file, or None for the default.
    """
    if stated_epsilon is not None:
        number("stated_epsilon", stated_epsilon, low=0.0, low_open=True)
    out_dir = check_out_dir(out)
    check_out_dir(annex_folder(out_dir))
    frames = {
        argument: _frame(argument, data, na_values)
        for argument, data in (("real", real), ("holdout", holdout), ("synthetic", synthetic))
    }
    if schema is None:
        _check_columns(frames["real"], frames["holdout"], frames["synthetic"], None)
    used, schema_source = _schema(schema, list(frames.values()))
    _check_columns(frames["real"], frames["holdout"], frames["synthetic"], used)
    check_holdout(frames["real"], frames["holdout"], used.encoded_columns)
    policy = policy if isinstance(policy, Policy) else load_policy(policy)
    result = run_attacks(
        frames["real"], frames["holdout"], frames["synthetic"], used, level=level, random_state=random_state
    )
    files = {
        argument: path
        for argument, path in (("real", real), ("holdout", holdout), ("synthetic", synthetic))
        if isinstance(path, (str, os.PathLike))
    }
    certificate = build_certificate(
        result,
        policy,
        train=frames["real"],
        synthetic=frames["synthetic"],
        schema=used,
        holdout_rule=EXTERNAL_HOLDOUT_RULE,
        schema_source=schema_source,
        stated_epsilon=stated_epsilon,
        files=files,
        dataset=Path(real).name if isinstance(real, (str, os.PathLike)) else None,
    )
    annex = build_annex(frames["real"], frames["synthetic"], used, certificate)
    with staged_folder(out_dir) as staging:
        write_certificate(staging, certificate)
    write_annex(out_dir, annex)
    return AuditOutcome(out_dir, certificate, result)


def write_certificate(folder: Path, certificate: dict[str, Any]) -> None:
    """Write ``certificate.json`` and ``certificate.html`` into ``folder``."""
    (folder / CERTIFICATE_FILE).write_text(json.dumps(certificate, indent=2) + "\n", encoding="utf-8")
    (folder / PAGE_FILE).write_text(render_certificate(certificate), encoding="utf-8")


def write_annex(out: Path, annex: dict[str, Any]) -> None:
    """Write the custodian annex (``annex.json``, ``annex.html``) of the folder ``out`` into the
    folder beside it (:func:`~dpsynth.certificate.document.annex_folder`), at once."""
    with staged_folder(annex_folder(out)) as staging:
        (staging / ANNEX_FILE).write_text(json.dumps(annex, indent=2) + "\n", encoding="utf-8")
        (staging / ANNEX_PAGE).write_text(render_annex(annex), encoding="utf-8")
