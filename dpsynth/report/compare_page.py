"""The comparison report: one self-contained HTML page for a data custodian who is not a DP expert.

It says first, in plain words, that a comparison is an exploration that must not be published,
then what was compared, what the runs warned about, how close each method's synthetic data came
to the real data (overall and column by column), what the attacks found, what each method cost
in time and memory, and summary tables. Every figure is the mean over a sweep's seeds with the
lowest and highest seed beside it; axes have fixed, meaningful ranges (distances from 0, AUCs
from the random guess of 0.5 to 1), so that one run's noise never reads as a trend.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.report.axes import format_number
from dpsynth.report.html import escape, figure, page, paragraph, table
from dpsynth.report.svg import bar_chart
from dpsynth.report.sweep_charts import Guide, Spread, hbar_chart, interval_chart, spread_scatter

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
# The summary, one narrow table per question so that each fits a phone, a laptop and a printed
# page: (heading, {figure column: header}). Means over the seeds of the successful runs.
SUMMARY_TABLES = [
    ("Closeness (lower is closer)", {
        "tvd_1way": "1-way distance", "tvd_2way": "2-way distance", "tvd_3way": "3-way distance",
        "wasserstein": "numeric distance", "correlation_difference": "correlation difference",
    }),
    ("Quality scores and model (higher is better); time and memory", {
        "column_shape": "column shape", "pair_trend": "pair trend", "tstr_auc": "model AUC",
        "fit_seconds": "seconds", "peak_memory_mb": "peak MiB",
    }),
    ("Privacy", {
        "epsilon_spent": "epsilon spent", "membership_auc": "attack AUC",
        "epsilon_lower_bound": "measured epsilon bound",
    }),
]
WARNING_STYLE = "border: 2px solid #D55E00; background: #fff4ec; padding: .75rem 1rem; font-weight: 600"
RANDOM_GUESS = Guide(0.5, "random guess (AUC 0.5)")
AUC_RANGE = (0.5, 1.0)
WARNED = "⚠"
# A run record joins its fit warnings with this separator (dpsynth.workflows.runs).
WARNING_SEPARATOR = " | "
SEEDS_NOTE = (
    "Each point is the mean over the sweep's seeds; its bar runs from the lowest to the highest seed, "
    "and a point of a single seed (n=1) has no bar. Distances start at 0; AUCs run from 0.5, a random "
    "guess, to 1."
)
# The compare page's own layout, added to the shared stylesheet: summary and per-column tables
# become one card per row on a narrow screen, the column charts sit in a grid of phone-sized
# cells, and the printed page keeps every table inside A4's width.
CSS = """
table.cards { width: auto; }
table.cards td:first-child { white-space: nowrap; }
div.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(20rem, 1fr)); gap: .5rem 1.5rem; }
div.charts svg { margin: .25rem 0; }
@media (max-width: 40rem) {
  table.cards, table.cards tbody, table.cards tr, table.cards td { display: block; width: auto; }
  table.cards thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.cards tr { border: 1px solid #ddd; border-radius: 4px; margin: .5rem 0; padding: .2rem .6rem; }
  table.cards td { display: flex; justify-content: space-between; gap: 1rem; border: 0; padding: .12rem 0;
    text-align: right; }
  table.cards td::before { content: attr(data-label); font-weight: 600; text-align: left; }
}
@media print {
  @page { size: A4; margin: 12mm; }
  table.cards { font-size: 8pt; }
  table.cards th, table.cards td { padding: .1rem .3rem; }
  div.charts { display: block; }
  div.charts svg { max-height: 9cm; width: auto; }
  section { break-inside: auto; }
}
"""


def _ok(results: pd.DataFrame) -> pd.DataFrame:
    return results[results["status"] == "ok"]


def _finite(values: Any) -> bool:
    return bool(np.any(np.isfinite(pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float))))


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def _spreads(results: pd.DataFrame, column: str) -> dict[str, tuple[np.ndarray, Spread]]:
    """Per method, the epsilons and the spread of ``column`` over the seeds of its successful runs."""
    ok = _ok(results)
    if column not in ok.columns:
        return {}
    out = {}
    for method, rows in ok.groupby("method", sort=True):
        stats = _numbers(rows, column).groupby(rows["epsilon"].astype(float)).agg(["mean", "min", "max", "count"])
        spread = Spread(*(stats[key].to_numpy(dtype=float) for key in ("mean", "min", "max", "count")))
        out[str(method)] = (stats.index.to_numpy(dtype=float), spread)
    return out


def _warnings(results: pd.DataFrame) -> dict[str, list[tuple[str, float, int]]]:
    """Each kind of fit warning of the successful runs, in order of first appearance (its first
    text), with the runs (method, epsilon, seed) that gave it. Texts that differ only in their
    figures (a noise ratio per run) are one kind."""
    kinds: dict[str, str] = {}
    out: dict[str, list[tuple[str, float, int]]] = {}
    if "warnings" not in results.columns:
        return out
    for row in _ok(results).itertuples():
        text = row.warnings
        if not isinstance(text, str):
            continue
        for warning in filter(None, (part.strip() for part in text.split(WARNING_SEPARATOR))):
            shown = kinds.setdefault(re.sub(r"\d+(\.\d+)?", "#", warning), warning)
            out.setdefault(shown, []).append((str(row.method), float(row.epsilon), int(row.seed)))  # type: ignore[arg-type]
    return out


def _warned(warnings: Mapping[str, Sequence[tuple[str, float, int]]]) -> dict[tuple[str, float], list[int]]:
    """Per method and epsilon, the numbers (from 1) of the warnings one of its runs gave."""
    out: dict[tuple[str, float], list[int]] = {}
    for number, runs in enumerate(warnings.values(), start=1):
        for method, epsilon, _ in runs:
            numbers = out.setdefault((method, epsilon), [])
            if number not in numbers:
                numbers.append(number)
    return out


def _flags(series: Mapping[str, tuple[np.ndarray, Spread]], warned: Mapping[tuple[str, float], list[int]]):
    return {name: [(name, float(e)) in warned for e in x] for name, (x, _) in series.items()}


def _marks(method: str, epsilon: float, warned: Mapping[tuple[str, float], list[int]]) -> str:
    """" ⚠1" after a method's name where one of its runs at ``epsilon`` gave warning 1."""
    numbers = warned.get((method, float(epsilon)), [])
    return "".join(f" {WARNED}{n}" for n in numbers)


def _epsilon_chart(
    results: pd.DataFrame,
    column: str,
    label: str,
    warned: Mapping[tuple[str, float], list[int]],
    *,
    y_include: Sequence[float] = (0.0,),
    guides: Sequence[Guide] = (),
    diagonal: str | None = None,
) -> str:
    """Mean of ``column`` per method against epsilon, with the spread of its seeds."""
    series = _spreads(results, column)
    if not series or not any(_finite(spread.mean) for _, spread in series.values()):
        return paragraph(f"No successful run has a {label} figure.")
    epsilons = np.unique(np.concatenate([x for x, _ in series.values()]))
    log = bool(np.all(epsilons > 0))
    include = [*y_include, *(epsilons if diagonal else ())]
    return figure(interval_chart(
        series, title=f"{label} against epsilon", x_label="epsilon (log scale)" if log else "epsilon",
        y_label=label, log_x=log, y_include=include, guides=guides, diagonal=diagonal,
        flagged=_flags(series, warned),
    ))


def _tradeoff_chart(results: pd.DataFrame, warned: Mapping[tuple[str, float], list[int]]) -> str:
    closeness, attack = _spreads(results, "tvd_2way"), _spreads(results, "membership_auc")
    if not attack or not any(_finite(s.mean) for _, s in attack.values()):
        return paragraph("The attacks did not run, so there is nothing to plot against closeness.")
    points, labels = {}, {}
    for method in sorted(set(closeness) & set(attack)):
        (x_eps, x_spread), (y_eps, y_spread) = closeness[method], attack[method]
        if not np.array_equal(x_eps, y_eps):
            continue
        points[method] = (x_spread, y_spread)
        labels[method] = [f"ε={e:g}{_marks(method, e, warned)}" for e in x_eps]
    flags = {m: [(m, float(e)) in warned for e in closeness[m][0]] for m in points}
    if not any(np.any(np.isfinite(sx.mean) & np.isfinite(sy.mean)) for sx, sy in points.values()):
        return paragraph("No successful run has both an attack result and a distance.")
    return paragraph(
        "Each point is one method at one epsilon (its label): further right is further from the real data, "
        "higher is an attack that does better than a random guess. " + SEEDS_NOTE
    ) + figure(spread_scatter(
        points, labels=labels, title="Attack success against distance from the real data",
        x_label="2-way marginal distance (lower = closer)", y_label="membership attack AUC",
        x_include=(0.0,), y_include=AUC_RANGE, guides=[RANDOM_GUESS], flagged=flags, width=880, height=440,
    ))


def _cost_chart(results: pd.DataFrame, column: str, label: str) -> str:
    ok = _ok(results)
    if ok.empty or not _finite(ok[column]):
        return paragraph(f"No successful run recorded its {label}.")
    stats = _numbers(ok, column).groupby([ok["epsilon"], ok["method"]]).agg(["mean", "min", "max"])
    means = stats["mean"].unstack("method")
    categories = [f"ε={e:g}" for e in means.index]
    series = {str(m): means[m].to_numpy(dtype=float) for m in means.columns}
    intervals = {str(m): list(zip(stats["min"].unstack("method")[m], stats["max"].unstack("method")[m], strict=True))
                 for m in means.columns}
    return figure(bar_chart(categories, series, intervals=intervals, width=640, height=320,
                             title=f"{label} per method (mean; line: lowest to highest seed)", y_label=label))


def _cards(html: str, columns: Sequence[str]) -> str:
    """A table of :func:`table` that turns into one card per row on a narrow screen: each cell
    carries its column's name, which the narrow layout shows beside the value."""

    def labelled(row: str) -> str:
        names = iter(columns)
        return re.sub("<td", lambda _: f'<td data-label="{escape(next(names))}"', row)

    return "<tr>".join(labelled(row) for row in html.split("<tr>")).replace("<table>", '<table class="cards">', 1)


def _card_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    return _cards(table(rows, columns), columns)


def _rounded(value: Any) -> Any:
    """A figure to 3 significant digits, so that a summary table stays narrow."""
    v = float(value)
    return v if not np.isfinite(v) or v == 0 else float(f"{v:.3g}")


def _summary(results: pd.DataFrame, warned: Mapping[tuple[str, float], list[int]]) -> str:
    """Per method and epsilon: successful runs and the mean of each figure over them, by question."""
    out = []
    groups = list(results.groupby(["method", "epsilon"], sort=True))
    for heading, figures in SUMMARY_TABLES:
        shown = {c: h for c, h in figures.items() if c in results.columns and _finite(results[c])}
        if not shown:
            continue
        rows = []
        for (method, epsilon), group in groups:
            ok = _ok(group)
            marks = _marks(str(method), float(epsilon), warned)  # type: ignore[arg-type]
            row = {"method": f"{method}{marks}", "epsilon": epsilon,
                   "runs ok": f"{len(ok)}/{len(group)}"}
            row.update({h: _rounded(_numbers(ok, c).mean()) for c, h in shown.items()})
            rows.append(row)
        out.append(f"<h3>{escape(heading)}</h3>" + _card_table(rows, ["method", "epsilon", "runs ok", *shown.values()]))
    return "".join(out)


def _warnings_section(warnings: Mapping[str, Sequence[tuple[str, float, int]]]) -> str:
    items = []
    for number, (text, runs) in enumerate(warnings.items(), start=1):
        by_point: dict[tuple[str, float], list[int]] = {}
        for method, epsilon, seed in runs:
            by_point.setdefault((method, epsilon), []).append(seed)
        where = "; ".join(f"{m} ε={e:g} (seed {', '.join(map(str, sorted(s)))})" for (m, e), s in by_point.items())
        first = " (the figures quoted are the first run's)" if len(runs) > 1 else ""
        items.append(f"<li><strong>{WARNED}{number}</strong> {escape(text)}{escape(first)}. "
                     f"<em>Runs:</em> {escape(where)}.</li>")
    return paragraph(
        f"Some runs warned that their result is not to be trusted. The marks {WARNED}1, {WARNED}2, ... follow "
        "the method's name in the tables and the point's label in the charts, where a ring circles the point."
    ) + f'<ol class="warnings">{"".join(items)}</ol>'


def _glossary(rows: Sequence[tuple[str, str, str]], present: Sequence[str]) -> str:
    items = "".join(f"<li><strong>{escape(label)}</strong>: {escape(text)}.</li>"
                    for column, label, text in rows if column in present)
    return f"<ul>{items}</ul>" if items else ""


def _overview(results: pd.DataFrame, settings: Mapping[str, Any]) -> str:
    data, split = settings.get("data", {}), settings.get("split", {})
    methods = ", ".join(sorted(results["method"].astype(str).unique())) or "none"
    epsilons = ", ".join(f"{e:g}" for e in sorted(results["epsilon"].unique()))
    seeds = ", ".join(str(int(s)) for s in sorted(results["seed"].dropna().unique())) if "seed" in results else "?"
    failed = int((results["status"] != "ok").sum())
    facts = [
        {"what": "data", "value": f"{data.get('source', '?')} ({data.get('rows', '?')} rows)"},
        {"what": "rows used to train the generators", "value": split.get("fit_rows")},
        {"what": "rows held out for the attacks", "value": split.get("holdout_rows")},
        {"what": "rows held out to test models", "value": split.get("test_rows")},
        {"what": "methods", "value": methods},
        {"what": "epsilons", "value": epsilons},
        {"what": "seeds (repetitions)", "value": seeds},
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


def _share_value(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _column_scores(
    shown: Mapping[str, RunKey],
    views: Mapping[RunKey, Sequence[Mapping[str, Any]]],
    pairs: Mapping[RunKey, Sequence[Sequence[Any]]],
    columns: Sequence[str],
) -> tuple[str, str]:
    """Per column and method at the charted epsilon, the column shape and the mean pair trend of
    the pairs the column is in (means over the seeds at that epsilon); and each method's weakest pairs."""
    shape_rows, trend_rows, weakest = [], [], []
    header = {method: f"{method} ε={key[1]:g}" for method, key in shown.items()}
    for column in columns:
        shape_row: dict[str, Any] = {"column": column}
        trend_row: dict[str, Any] = {"column": column}
        for method, key in shown.items():
            runs = [k for k in views if k[0] == method and k[1] == key[1]]
            shapes = [v["shape"] for k in runs for v in views[k] if v["column"] == column and v["shape"] is not None]
            shape_row[header[method]] = _rounded(np.mean(shapes)) if shapes else None
            trends = [s for k in runs for a, b, s in pairs.get(k, ()) if column in (a, b) and s is not None]
            trend_row[header[method]] = _rounded(np.mean(trends)) if trends else None
        shape_rows.append(shape_row)
        trend_rows.append(trend_row)
    for method, key in shown.items():
        scored = [(a, b, s) for a, b, s in pairs.get(key, ()) if s is not None]
        for a, b, s in sorted(scored, key=lambda item: item[2])[:3]:
            weakest.append({"method": header[method], "pair": f"{a} × {b}", "pair trend": _rounded(s)})
    shapes_html = _card_table(shape_rows, ["column", *header.values()])
    trends_html = _card_table(trend_rows, ["column", *header.values()]) if any(pairs.get(k) for k in shown.values()) \
        else ""
    if weakest:
        trends_html += paragraph("The three pairs each method keeps worst (first seed):") + _card_table(
            weakest, ["method", "pair", "pair trend"])
    return shapes_html, trends_html


def _columns(
    results: pd.DataFrame,
    views: Mapping[RunKey, Sequence[Mapping[str, Any]]],
    pairs: Mapping[RunKey, Sequence[Sequence[Any]]],
) -> str:
    """Column shapes and pair trends per column and method, and a chart per column: real beside
    each method's synthetic."""
    shown = _shown_runs(results, views)
    if not shown:
        return paragraph("No successful run recorded per-column views.")
    reference = views[next(iter(shown.values()))]
    shapes, trends = _column_scores(shown, views, pairs, [view["column"] for view in reference])
    text = paragraph(
        "How well each column, and each column's relations with the others, come through, at each method's "
        "largest epsilon (mean over its seeds; 1 = as in the real data): the column shape compares the "
        "column's distribution with the real one, the pair trend averages the pair scores of the pairs the "
        "column is in."
    )
    charts = []
    for position, first in enumerate(reference):
        columns = [views[key][position] for key in shown.values()]
        labels = _union([view["labels"] for view in columns])
        # The real shares are the same in every run's view; a bar only some runs have is 0 in the rest.
        real: dict[str, Any] = {}
        for view in columns:
            real.update(zip(view["labels"], view["real"], strict=True))
        series = {"real": [_share_value(real[label]) for label in labels],
                  **{method: _aligned(views[key][position], labels) for method, key in shown.items()}}
        charts.append(hbar_chart(labels, series, title=f"{first['column']}: {first['kind']}",
                                 x_label="share of rows"))
    return (
        text
        + "<h3>Column shape</h3>" + shapes
        + ("<h3>Pair trend</h3>" + trends if trends else "")
        + "<h3>Real against synthetic, column by column</h3>"
        + paragraph(
            "The share of rows in each bin or category in the real training rows and in each method's synthetic "
            "rows at "
            + ", ".join(f"{method} ε={key[1]:g}" for method, key in shown.items())
            + " (first seed). Values that hold a large share of the real rows (spikes), missing cells, values "
            "outside the schema's bounds and values outside its categories have bars of their own."
        )
        + f'<div class="charts">{"".join(charts)}</div>'
    )


def compare_page(
    results: pd.DataFrame,
    settings: Mapping[str, Any],
    views: Mapping[RunKey, Sequence[Mapping[str, Any]]] | None = None,
    pairs: Mapping[RunKey, Sequence[Sequence[Any]]] | None = None,
) -> str:
    """The comparison report of a sweep's tidy ``results`` table and its ``settings`` as HTML;
    ``views`` adds each run's per-column views (:mod:`dpsynth.evaluate.views`) and ``pairs`` its
    pair-trend scores (``[first, second, score]``), by run key."""
    warning = settings.get("warning", "")
    columns = list(results.columns)
    warnings = _warnings(results)
    warned = _warned(warnings)
    closeness = (
        paragraph("Lower distances mean synthetic data closer to the real data. " + SEEDS_NOTE)
        + _epsilon_chart(results, "tvd_2way", "2-way marginal distance", warned)
        + _epsilon_chart(results, "correlation_difference", "correlation difference", warned)
    )
    if "tstr_auc" in columns and _finite(results["tstr_auc"]):
        target = settings.get("target")
        guides = [RANDOM_GUESS]
        if "real_auc" in columns and _finite(results["real_auc"]):
            real_auc = float(_numbers(results, "real_auc").dropna().iloc[0])
            guides.append(Guide(real_auc, f"train on real data: {format_number(round(real_auc, 3))}"))
        closeness += paragraph(
            f"A fixed model was trained on each synthetic table to predict '{target}' and tested on "
            "real rows it never saw; the line 'train on real data' is the same model trained on the real rows. "
            "Higher is better."
        ) + _epsilon_chart(results, "tstr_auc", "model accuracy (AUC)", warned, y_include=AUC_RANGE, guides=guides)
    closeness += _glossary(UTILITY, columns)
    if "membership_auc" in columns and _finite(results["membership_auc"]):
        attacks = (
            paragraph(
                "The attacks play an adversary who holds the synthetic data and some real records, "
                "and tries to tell whether a person's record was used. An AUC near 0.5 means the "
                "attacker does no better than a random guess; the axis runs from 0.5 to 1 so that noise "
                "between seeds is not read as a leak."
            )
            + _epsilon_chart(results, "membership_auc", "membership attack AUC", warned, y_include=AUC_RANGE,
                             guides=[RANDOM_GUESS])
            + _epsilon_chart(results, "epsilon_lower_bound", "measured epsilon lower bound", warned,
                             diagonal="epsilon spent (y = x)")
            + _glossary(ATTACKS, columns)
        )
    else:
        attacks = paragraph(
            "No attack ran in this comparison (not requested, or the attack suite is not part of this "
            "version): only closeness to the real data is shown."
        )
    failed = results[results["status"] != "ok"]
    failures = (
        _card_table(failed.to_dict("records"), ["method", "epsilon", "seed", "stage", "error", "message"])  # type: ignore[arg-type]
        if len(failed) else paragraph("Every run finished.")
    )
    sections = [("Not for publication", f'<p style="{WARNING_STYLE}">{escape(warning)}</p>')]
    if warnings:
        sections.append(("Warnings from the runs", _warnings_section(warnings)))
    sections += [
        ("What was compared", _overview(results, settings)),
        ("How close the synthetic data is to the real data", closeness),
        ("Column by column", _columns(results, views or {}, pairs or {})),
        ("What the attacks found", attacks),
        ("Closeness against attack success", _tradeoff_chart(results, warned)),
        ("Time and memory", paragraph(
            "Wall time of fitting and sampling, and the peak memory of the process that ran it "
            "(it includes the Python interpreter and the loaded data)."
        ) + _cost_chart(results, "fit_seconds", "seconds")
            + _cost_chart(results, "peak_memory_mb", "peak memory (MiB)")),
        ("Failed runs", failures),
        ("Summary of results", paragraph(
            "Means over the successful runs of each method and epsilon, to 3 significant digits. Every run, "
            "with all its figures, is in results.csv and results.json beside this report."
        ) + _summary(results, warned)),
    ]
    lead = (
        "Which method, at which privacy level, gives synthetic data close enough to the real data "
        "while resisting attacks? This exploration compares them; it is not itself a release."
    )
    html = page(f"{TITLE} (exploration, not for publication)", sections, lead=lead)
    return html.replace("</head>", f"<style>{CSS}</style>\n</head>", 1)


def write_compare_report(
    results: pd.DataFrame,
    settings: Mapping[str, Any],
    path: str | os.PathLike,
    views: Mapping[RunKey, Sequence[Mapping[str, Any]]] | None = None,
    pairs: Mapping[RunKey, Sequence[Sequence[Any]]] | None = None,
) -> Path:
    """Write :func:`compare_page` to ``path`` (UTF-8) and return the path."""
    path = Path(path)
    path.write_text(compare_page(results, settings, views, pairs), encoding="utf-8")
    return path
