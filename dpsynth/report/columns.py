"""Charts of per-column views: the share of rows in each bar, real beside synthetic, one chart a column.

Built from the plain form of :class:`dpsynth.evaluate.views.ColumnView` (a dict), so the
certificate page can draw them from its JSON document alone. A suppressed real share (None)
is drawn as "n/a". Bars follow the view's order: bins by value (a time axis for dates), then
values outside the bounds, "other" and missing cells.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dpsynth.report.axes import format_number
from dpsynth.report.svg import bar_chart

AXIS_LABELS = {"time": "time (bin start)", "value": "value", "category": "category"}


def _share(value: Any) -> float:
    return float("nan") if value is None else float(value)


def view_chart(
    column: str, kind: str, axis: str, bar_labels: Sequence[str], series: Mapping[str, Sequence[Any]], shape: Any
) -> str:
    """One column's bars: ``series`` maps a name (real, a method) to its share per bar."""
    score = "" if shape is None else f" (column shape {format_number(round(float(shape), 3))})"
    width = max(560, min(1600, 14 * len(bar_labels) * (len(series) + 1)))
    return bar_chart(
        list(bar_labels),
        {name: [_share(v) for v in shares] for name, shares in series.items()},
        title=f"{column}: {kind}{score}",
        y_label=f"share of rows, by {AXIS_LABELS.get(axis, axis)}",
        width=width,
        height=300,
    )


def real_and_synthetic_chart(view: Mapping[str, Any]) -> str:
    """The chart of one view dict: real beside synthetic."""
    return view_chart(
        view["column"], view["kind"], view["axis"], view["labels"],
        {"real": view["real"], "synthetic": view["synthetic"]}, view["shape"],
    )
