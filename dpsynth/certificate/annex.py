"""The custodian annex: per-column views with exact shares of the real data, kept out of the certificate.

The certificate beside a release holds aggregates only, so that it can be reviewed and passed on
with the data. What a reviewer of fidelity column by column needs, the share of real rows in
every bin, category and spike (values of the data), goes here instead: ``annex.json`` and
``annex.html`` in ``OUT.custodian/``, beside the release (or audit) folder ``OUT`` and not inside
it, so sharing the release folder never shares the annex. The annex reads the real data without
noise and suppresses nothing: that folder must never be shared.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from dpsynth.evaluate.real_values import schema_loss
from dpsynth.evaluate.views import column_views
from dpsynth.report.columns import real_and_synthetic_chart
from dpsynth.report.html import escape, figure, page, paragraph, table
from dpsynth.schema import Schema

ANNEX_VERSION = "1"
ANNEX_FILE = "annex.json"
ANNEX_PAGE = "annex.html"
WARNING = (
    "Do not share this folder. This annex shows exact shares of the real rows in every bin, category "
    "and frequent value of each column, read without noise: it is for the data custodian only, outside "
    "the differential privacy guarantee. The certificate in the folder beside it holds aggregates only."
)


def build_annex(
    train: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema, certificate: Mapping[str, Any]
) -> dict[str, Any]:
    """The annex of ``certificate``: a view per column (spikes included) and the exact schema loss."""
    return {
        "dpsynth_custodian_annex": ANNEX_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "release": dict(certificate["release"]),
        "certificate": "../certificate.json",
        "warning": WARNING,
        "columns": [view.to_dict() for view in column_views(train, synthetic, schema, find_spikes=True)],
        "schema_loss": schema_loss(train, schema),
    }


def _loss_rows(loss: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "column": row["column"],
            "folded (outside the categories)": row["folded"],
            "below the lower bound": row["below_bounds"],
            "above the upper bound": row["above_bounds"],
        }
        for row in loss["columns"]
    ]


def render_annex(annex: Mapping[str, Any]) -> str:
    """The annex as one self-contained HTML page."""
    text = paragraph(
        "Each chart shows the share of rows in each bin or category of one column, in the real training "
        "rows and in the synthetic rows, with missing cells, values outside the schema's bounds, values "
        "outside its categories and frequent exact values as bars of their own. The column shape is 1 minus "
        "the Kolmogorov-Smirnov statistic (numbers, dates) or 1 minus the total variation distance "
        "(categories): 1 means the same distribution."
    )
    charts = "".join(figure(real_and_synthetic_chart(view)) for view in annex["columns"]) or paragraph("No column.")
    release = annex["release"]
    lead = f"release {release.get('release_id') or '(none)'}, dataset {release.get('dataset') or '(unnamed)'}"
    sections = [
        ("Do not share", f'<p class="warning"><strong>{escape(annex["warning"])}</strong></p>'),
        ("Columns, real beside synthetic", text + charts),
        ("What the schema folds or clips, exactly", table(_loss_rows(annex["schema_loss"]))),
    ]
    return page("Custodian annex: not to be shared", sections, lead=lead)
