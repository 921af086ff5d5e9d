"""The comparison report: one self-contained HTML page for a data custodian who is not a DP expert.

It says first, in plain words, that a comparison is an exploration that must not be published,
then what was compared, how close each method's synthetic data came to the real data, what the
attacks found, what each method cost in time and memory, and the full table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.report.columns import view_chart
from dpsynth.report.html import escape, page, paragraph, table
from dpsynth.report.svg import bar_chart, line_chart, scatter_chart

TITLE = "Comparison of synthetic-data methods"
# Figure columns of the sweep's table: (column, label, how to read it).
UTILITY = [
    ("tvd_1way", "1-way marginal distance",
     "how far single-column distributions are from the real ones (0 = identical, 1 = disjoint)"),
    ("tvd_2way", "2-way marginal distance", "the same for every pair of columns: the main closeness figure here"),
    ("tvd_3way", "3-way marginal distance", "the same for triples of columns (a sample of them on wide tables)"),
    ("wasserstein", "numeric distance", "how far numeric values moved, as a share of each column's range"),
    ("correlation_difference", "correlation difference",
     "how much the relationships between columns changed (0 = unchanged)"),
    ("column_shape", "column shape",
     "how alike each column's distribution is, 1 minus the KS statistic or the TVD (1 = the same), as SDMetrics "
     "defines it"),
    ("pair_trend", "pair trend",
     "how well the relation of each pair of columns is kept (1 = kept), as SDMetrics defines it"),
    ("tstr_auc", "model accuracy (train on synthetic)",
     "ROC AUC on real test rows of a model trained on the synthetic data"),
]
ATTACKS = [
    ("membership_auc", "membership attack AUC",
     "how well an attacker tells records used for training from others (0.5 = no better than a coin)"),
    ("membership_tpr_at_fpr_0.01", "membership true-positive rate at 1% false alarms",
     "share of training records an attacker spots while wrongly accusing at most 1 in 100 others"),
    ("epsilon_lower_bound", "measured epsilon lower bound",
     "the privacy loss the attacks demonstrate; it must stay below the epsilon spent"),
    ("singling_out_risk", "singling-out risk", "excess success at isolating one real person (0 = none)"),
    ("linkage_risk", "linkage risk", "excess success at linking records across sources (0 = none)"),
    ("inference_risk", "attribute-inference risk", "excess success at guessing a hidden attribute (0 = none)"),
]
# The summary table: mean over seeds of the successful runs, per method and epsilon, by header.
SUMMARY_COLUMNS = {
    "epsilon_spent": "epsilon spent",
    "tvd_1way": "1-way distance",
    "tvd_2way": "2-way distance",
    "tvd_3way": "3-way distance",
    "wasserstein": "numeric distance",
    "correlation_difference": "correlation difference",
    "column_shape": "column shape",
    "pair_trend": "pair trend",
    "tstr_auc": "model AUC",
    "membership_auc": "attack AUC",
    "epsilon_lower_bound": "measured epsilon bound",
    "fit_seconds": "seconds",
    "peak_memory_mb": "peak MiB",
}
WARNING_STYLE = "border: 2px solid #D55E00; background: #fff4ec; padding: .75rem 1rem; font-weight: 600"


def _ok(results: pd.DataFrame) -> pd.DataFrame:
    return results[results["status"] == "ok"]


def _finite(values: Any) -> bool:
    return bool(np.any(np.isfinite(pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float))))


def _means(results: pd.DataFrame, column: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per method, the epsilons and the mean of ``column`` over seeds of the successful runs."""
    ok = _ok(results)
    if column not in ok.columns:
        return {}
    out = {}
    for method, rows in ok.groupby("method", sort=True):
        means = pd.to_numeric(rows[column], errors="coerce").groupby(rows["epsilon"]).mean()
        out[str(method)] = (means.index.to_numpy(dtype=float), means.to_numpy(dtype=float))
    return out


def _chart_or_note(series: Mapping[str, tuple], make, note: str) -> str:
    if not series or not any(_finite(y) for _, y in series.values()):
        return paragraph(note)
    return make(series)


def _epsilon_chart(
    results: pd.DataFrame, column: str, label: str, reference: float | None = None, diagonal: str | None = None
) -> str:
    """Mean of ``column`` per method against epsilon; ``reference`` adds a flat line "train on
    real data", ``diagonal`` a line y = epsilon named by it."""
    series = _means(results, column)
    epsilons = np.unique(np.concatenate([x for x, _ in series.values()])) if series else np.array([])
    if reference is not None and series:
        series["train on real data"] = (epsilons, np.full(epsilons.size, reference))
    if diagonal is not None and series:
        series[diagonal] = (epsilons, epsilons)
    log = bool(series) and all(np.all(x > 0) for x, _ in series.values())
    return _chart_or_note(
        series,
        lambda s: line_chart(s, title=f"{label} against epsilon", x_label="epsilon (log scale)" if log else "epsilon",
                             y_label=label, log_x=log, width=640, height=340),
        f"No successful run has a {label} figure.",
    )


def _tradeoff_chart(results: pd.DataFrame, attack: str, utility: str) -> str:
    ok = _ok(results)
    if attack not in ok.columns or utility not in ok.columns:
        return paragraph("The attacks did not run, so there is nothing to plot against closeness.")
    points, labels = {}, {}
    for method, rows in ok.groupby("method", sort=True):
        means = rows.groupby("epsilon")[[utility, attack]].mean(numeric_only=True)
        points[str(method)] = (means[utility].to_numpy(dtype=float), means[attack].to_numpy(dtype=float))
        labels[str(method)] = [f"ε={e:g}" for e in means.index]
    return _chart_or_note(
        points,
        lambda s: scatter_chart(s, labels=labels, title="Attack success against distance from the real data",
                                x_label="2-way marginal distance (lower = closer)",
                                y_label="membership attack AUC", width=640, height=360),
        "No successful run has both an attack result and a distance.",
    )


def _cost_chart(results: pd.DataFrame, column: str, label: str) -> str:
    ok = _ok(results)
    if ok.empty or not _finite(ok[column]):
        return paragraph(f"No successful run recorded its {label}.")
    means = ok.groupby(["epsilon", "method"])[column].mean().unstack("method")
    categories = [f"ε={e:g}" for e in means.index]
    series = {str(m): means[m].to_numpy(dtype=float) for m in means.columns}
    return bar_chart(categories, series, title=f"{label} per method", y_label=label, width=640, height=320)


def _summary(results: pd.DataFrame) -> str:
    """Per method and epsilon: successful runs and the mean of each figure over them."""
    shown = {c: label for c, label in SUMMARY_COLUMNS.items() if c in results.columns and _finite(results[c])}
    rows = []
    for (method, epsilon), group in results.groupby(["method", "epsilon"], sort=True):
        ok = _ok(group)
        row = {"method": method, "epsilon": epsilon, "runs ok": f"{len(ok)}/{len(group)}"}
        row.update({label: pd.to_numeric(ok[c], errors="coerce").mean() for c, label in shown.items()})
        rows.append(row)
    body = table(rows, ["method", "epsilon", "runs ok", *shown.values()])
    return f'<div style="overflow-x: auto">{body}</div>'


def _glossary(rows: Sequence[tuple[str, str, str]], present: Sequence[str]) -> str:
    items = "".join(f"<li><strong>{escape(label)}</strong>: {escape(text)}.</li>"
                    for column, label, text in rows if column in present)
    return f"<ul>{items}</ul>" if items else ""


def _overview(results: pd.DataFrame, settings: Mapping[str, Any]) -> str:
    data, split = settings.get("data", {}), settings.get("split", {})
    methods = ", ".join(sorted(results["method"].astype(str).unique())) or "none"
    epsilons = ", ".join(f"{e:g}" for e in sorted(results["epsilon"].unique()))
    failed = int((results["status"] != "ok").sum())
    facts = [
        {"what": "data", "value": f"{data.get('source', '?')} ({data.get('rows', '?')} rows)"},
        {"what": "rows used to train the generators", "value": split.get("fit_rows")},
        {"what": "rows held out for the attacks", "value": split.get("holdout_rows")},
        {"what": "rows held out to test models", "value": split.get("test_rows")},
        {"what": "methods", "value": methods},
        {"what": "epsilons", "value": epsilons},
        {"what": "delta", "value": settings.get("delta")},
        {"what": "runs", "value": f"{len(results)} ({failed} failed)"},
        {"what": "schema", "value": settings.get("schema", {}).get("statement", "")},
        {"what": "real values the schema keeps as they are",
         "value": _share(settings.get("schema", {}).get("coverage"))},
        {"what": "attack level", "value": settings.get("audit")},
        {"what": "noise", "value": settings.get("noise")},
    ]
    return (
        paragraph(
            "Each method turned the real training rows into synthetic rows at each privacy level "
            "epsilon. A smaller epsilon means stronger privacy and more noise, so the synthetic "
            "data usually drifts further from the real data."
        )
        + table(facts, ["what", "value"])
        + paragraph(
            "Every closeness figure below compares the data as the schema sees it: values outside a "
            "column's bounds are moved to the nearest bound and rare categories become 'other'. "
            "The share of real values the schema keeps as they are says how much that hides."
        )
    )


def _share(value: Any) -> str:
    return "not measured" if value is None else f"{100 * float(value):.1f}%"


# A run's key in the views given to the page: (method, epsilon, seed).
RunKey = tuple[str, float, int]


def _shown_runs(results: pd.DataFrame, views: Mapping[RunKey, Sequence[Mapping[str, Any]]]) -> dict[str, RunKey]:
    """Per method, the successful run drawn in the column charts: the largest epsilon, its first seed."""
    shown: dict[str, RunKey] = {}
    ok = _ok(results).sort_values(["method", "epsilon", "seed"], ascending=[True, False, True])
    for row in ok.itertuples():
        key = (str(row.method), float(row.epsilon), int(row.seed))  # type: ignore[arg-type]
        if key in views and key[0] not in shown:
            shown[key[0]] = key
    return shown


def _union(label_lists: Sequence[Sequence[str]]) -> list[str]:
    """Every bar of the views in axis order: a bar one view lacks goes after the bar it follows elsewhere."""
    union: list[str] = []
    for labels in label_lists:
        for i, label in enumerate(labels):
            if label not in union:
                union.insert(union.index(labels[i - 1]) + 1 if i else 0, label)
    return union


def _aligned(view: Mapping[str, Any], labels: Sequence[str]) -> list[float]:
    """A view's synthetic shares on ``labels`` (0 where it has no such bar)."""
    shares = dict(zip(view["labels"], view["synthetic"], strict=True))
    return [shares.get(label, 0.0) for label in labels]


def _columns(results: pd.DataFrame, views: Mapping[RunKey, Sequence[Mapping[str, Any]]]) -> str:
    """Column shapes per method and epsilon, and a chart per column: real beside each method's synthetic."""
    shown = _shown_runs(results, views)
    if not shown:
        return paragraph("No successful run recorded per-column views.")
    shapes: dict[str, dict[str, list[float]]] = {}
    for (method, epsilon, _), run in views.items():
        for view in run:
            if view["shape"] is not None:
                shapes.setdefault(view["column"], {}).setdefault(f"{method} ε={epsilon:g}", []).append(view["shape"])
    headers = sorted({h for by_run in shapes.values() for h in by_run})
    rows = [{"column": column, **{h: float(np.mean(by_run[h])) for h in by_run}} for column, by_run in shapes.items()]
    text = paragraph(
        "Column shape per column (mean over seeds), then one chart per column: the share of rows in each "
        "bin or category in the real training rows and in each method's synthetic rows at "
        + ", ".join(f"{method} ε={key[1]:g}" for method, key in shown.items())
        + " (first seed). Values that hold a large share of the real rows (spikes), missing cells, values "
        "outside the schema's bounds and values outside its categories have bars of their own."
    )
    charts = []
    for position, reference in enumerate(views[next(iter(shown.values()))]):
        columns = [views[key][position] for key in shown.values()]
        labels = _union([view["labels"] for view in columns])
        # The real shares are the same in every run's view; a bar only some runs have is 0 in the rest.
        real: dict[str, Any] = {}
        for view in columns:
            real.update(zip(view["labels"], view["real"], strict=True))
        series = {"real": [real[label] for label in labels],
                  **{method: _aligned(views[key][position], labels) for method, key in shown.items()}}
        charts.append(view_chart(reference["column"], reference["kind"], reference["axis"], labels, series, None))
    body = table(rows, ["column", *headers])
    return text + f'<div style="overflow-x: auto">{body}</div>' + "".join(charts)


def compare_page(
    results: pd.DataFrame,
    settings: Mapping[str, Any],
    views: Mapping[RunKey, Sequence[Mapping[str, Any]]] | None = None,
) -> str:
    """The comparison report of a sweep's tidy ``results`` table and its ``settings`` as HTML;
    ``views`` adds each run's per-column views (:mod:`dpsynth.evaluate.views`), by run key."""
    warning = settings.get("warning", "")
    columns = list(results.columns)
    reference = None
    if "real_auc" in results.columns and _finite(results["real_auc"]):
        reference = float(pd.to_numeric(results["real_auc"], errors="coerce").dropna().iloc[0])
    closeness = (
        paragraph("Lower distances mean synthetic data closer to the real data.")
        + _epsilon_chart(results, "tvd_2way", "2-way marginal distance")
        + _epsilon_chart(results, "correlation_difference", "correlation difference")
    )
    if "tstr_auc" in columns and _finite(results["tstr_auc"]):
        target = settings.get("target")
        closeness += paragraph(
            f"A fixed model was trained on each synthetic table to predict '{target}' and tested on "
            "real rows it never saw; the line 'train on real data' is the same model trained on the real rows. "
            "Higher is better."
        ) + _epsilon_chart(results, "tstr_auc", "model accuracy (AUC)", reference)
    closeness += _glossary(UTILITY, columns)
    if "membership_auc" in columns and _finite(results["membership_auc"]):
        attacks = (
            paragraph(
                "The attacks play an adversary who holds the synthetic data and some real records, "
                "and tries to tell whether a person's record was used. An AUC near 0.5 means the "
                "attacker does no better than a coin toss."
            )
            + _epsilon_chart(results, "membership_auc", "membership attack AUC")
            + _epsilon_chart(results, "epsilon_lower_bound", "measured epsilon lower bound", diagonal="epsilon spent")
            + _glossary(ATTACKS, columns)
        )
    else:
        attacks = paragraph(
            "No attack ran in this comparison (not requested, or the attack suite is not part of this "
            "version): only closeness to the real data is shown."
        )
    failed = results[results["status"] != "ok"]
    failures = (
        # pandas-stubs types a record's keys as Hashable; these are the results' column names (str).
        table(failed.to_dict("records"), ["method", "epsilon", "seed", "stage", "error", "message"])  # type: ignore[arg-type]
        if len(failed) else paragraph("Every run finished.")
    )
    sections = [
        ("Not for publication", f'<p style="{WARNING_STYLE}">{escape(warning)}</p>'),
        ("What was compared", _overview(results, settings)),
        ("How close the synthetic data is to the real data", closeness),
        ("Column by column", _columns(results, views or {})),
        ("What the attacks found", attacks),
        ("Closeness against attack success", _tradeoff_chart(results, "membership_auc", "tvd_2way")),
        ("Time and memory", paragraph(
            "Wall time of fitting and sampling, and the peak memory of the process that ran it "
            "(it includes the Python interpreter and the loaded data)."
        ) + _cost_chart(results, "fit_seconds", "seconds")
            + _cost_chart(results, "peak_memory_mb", "peak memory (MiB)")),
        ("Failed runs", failures),
        ("Summary of results", paragraph(
            "Means over the successful runs of each method and epsilon. Every run, with all its "
            "figures, is in results.csv and results.json beside this report."
        ) + _summary(results)),
    ]
    lead = (
        "Which method, at which privacy level, gives synthetic data close enough to the real data "
        "while resisting attacks? This exploration compares them; it is not itself a release."
    )
    return page(f"{TITLE} (exploration, not for publication)", sections, lead=lead)


def write_compare_report(
    results: pd.DataFrame,
    settings: Mapping[str, Any],
    path: str | os.PathLike,
    views: Mapping[RunKey, Sequence[Mapping[str, Any]]] | None = None,
) -> Path:
    """Write :func:`compare_page` to ``path`` (UTF-8) and return the path."""
    path = Path(path)
    path.write_text(compare_page(results, settings, views), encoding="utf-8")
    return path

