"""Charts of a comparison sweep's repeated runs: each mean with the spread of its seeds, labelled
points that never overlap, and narrow horizontal bars that stay readable on a phone.

Axes are fixed where a figure has a meaning of its own: the caller names values the axis must
hold (0 for a distance, 0.5 and 1 for an AUC), so that one run's noise is never zoomed into a
trend. An interval is the lowest to the highest seed, said so in the legend; a point of one
seed has none, and the legend says n=1. Drawing conventions are those of :mod:`dpsynth.report.svg`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from dpsynth.errors import DataError
from dpsynth.report.axes import Scale, format_number, make_scale
from dpsynth.report.html import escape
from dpsynth.report.placement import Box, marker_box, place_labels, text_box, text_width
from dpsynth.report.svg import (
    _diagonal,
    _f,
    _Frame,
    _frame,
    _legend,
    _marker,
    _path,
    _style,
    _svg,
    _truncate,
    _x_axis,
    _y_axis,
)

INTERVAL_NOTE = "bar: min to max of seeds"
SINGLE_NOTE = "n=1: one seed, no bar"
FLAG_NOTE = "⚠ a run warned"
LABEL_FONT = 10
# Where along its line a guide's label is tried, as a share of the free width: right end first.
GUIDE_SPOTS = (1.0, 0.0, 0.5, 0.75, 0.25, 0.875, 0.625, 0.375, 0.125)
MARKER_RADIUS = 3.5
# Average glyph width of the 11-pixel category labels of horizontal bars.
CATEGORY_GLYPH = 6.6


@dataclass(frozen=True)
class Spread:
    """Per point: the mean over repeated runs (seeds), the lowest and the highest run, and the
    number of runs behind it."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: np.ndarray

    def __post_init__(self) -> None:
        names = ("mean", "low", "high", "n")
        arrays = [np.asarray(getattr(self, name), dtype=float).ravel() for name in names]
        if len({a.size for a in arrays}) != 1:
            raise DataError("a spread needs as many lows, highs and run counts as means")
        for name, array in zip(names, arrays, strict=True):
            object.__setattr__(self, name, array)

    @property
    def banded(self) -> np.ndarray:
        """Where an interval is drawn: more than one run and finite ends."""
        return (self.n > 1) & np.isfinite(self.low) & np.isfinite(self.high)

    def counts(self) -> str:
        """The runs per point as the legend states them: "n=3", or "n=1-3" when they differ."""
        n = self.n[self.n > 0].astype(int)
        if not n.size:
            return "n=0"
        return f"n={n.min()}" if n.min() == n.max() else f"n={n.min()}-{n.max()}"


@dataclass(frozen=True)
class Guide:
    """A labelled horizontal reference line at ``value`` (the random-guess AUC of 0.5)."""

    value: float
    label: str


def _error_bar(at: float, low: float, high: float, colour: str, vertical: bool = True, cap: float = 4.0) -> str:
    """An interval from pixel ``low`` to ``high`` with end caps, across the point at pixel ``at``."""
    if vertical:
        d = (f"M{_f(at)} {_f(low)} L{_f(at)} {_f(high)} M{_f(at - cap)} {_f(low)} L{_f(at + cap)} {_f(low)} "
             f"M{_f(at - cap)} {_f(high)} L{_f(at + cap)} {_f(high)}")
    else:
        d = (f"M{_f(low)} {_f(at)} L{_f(high)} {_f(at)} M{_f(low)} {_f(at - cap)} L{_f(low)} {_f(at + cap)} "
             f"M{_f(high)} {_f(at - cap)} L{_f(high)} {_f(at + cap)}")
    return f'<path class="interval" d="{d}" stroke="{colour}" stroke-width="1.3" fill="none"/>'


def _flag(x: float, y: float) -> str:
    """The ring around a point one of whose runs warned."""
    return f'<circle class="flag" cx="{_f(x)}" cy="{_f(y)}" r="7.5" fill="none" stroke="#222" stroke-width="1.5"/>'


def _guide_lines(frame: _Frame, ys: Scale, guides: Sequence[Guide], avoid: Sequence[Box]) -> tuple[str, list[Box]]:
    """Each guide as a dashed line across the frame, with its label above or below the line at its
    right end, left end or in between, wherever it meets no box of ``avoid`` nor another guide's
    label (where no place is free, the legend alone names it); and the labels' boxes, which point
    labels must keep clear of."""
    out: list[str] = []
    boxes: list[Box] = []
    for guide in guides:
        y = float(ys(guide.value))
        width = text_width(guide.label, LABEL_FONT)
        room = frame.right - frame.left - 8 - width
        spots = [(frame.left + 4 + room * share, y + dy) for share in GUIDE_SPOTS for dy in (-5.0, 5.0 + LABEL_FONT)]
        area = Box(frame.left, frame.top, frame.right, frame.bottom)
        free = [(x, ty) for x, ty in spots if text_box(x, ty, guide.label, LABEL_FONT).inside(area)
                and not any(text_box(x, ty, guide.label, LABEL_FONT).overlaps(b) for b in (*avoid, *boxes))]
        text = ""
        if free:
            x, ty = free[0]
            boxes.append(text_box(x, ty, guide.label, LABEL_FONT))
            text = f'<text x="{_f(x)}" y="{_f(ty)}" font-size="{LABEL_FONT}" fill="#444">{escape(guide.label)}</text>'
        out.append(f'<g class="guide"><title>{escape(guide.label)}</title><line x1="{_f(frame.left)}" y1="{_f(y)}" '
                   f'x2="{_f(frame.right)}" y2="{_f(y)}" stroke="#555" stroke-dasharray="6 4"/>{text}</g>')
    return "".join(out), boxes


def _notes(spreads: Sequence[Spread], flagged: bool) -> list[str]:
    notes = []
    if any(s.banded.any() for s in spreads):
        notes.append(INTERVAL_NOTE)
    if any(np.any(s.n == 1) for s in spreads):
        notes.append(SINGLE_NOTE)
    if flagged:
        notes.append(FLAG_NOTE)
    return notes


def _legend_notes(frame: _Frame, first_row: int, notes: Sequence[str]) -> str:
    """The legend's last rows: what an interval, a lone point and a ring mean."""
    out = []
    for i, note in enumerate(notes):
        x, y = frame.legend_x, frame.top + 8 + 18 * (first_row + i)
        if note == INTERVAL_NOTE:
            swatch = _error_bar(x + 11, y - 6, y + 6, "#222")
        elif note == SINGLE_NOTE:
            swatch = _marker("circle", x + 11, y, "#222")
        else:
            swatch = _flag(x + 11, y)
        out.append(f'<g class="legend-note"><title>{escape(note)}</title>{swatch}<text x="{_f(x + 28)}" '
                   f'y="{_f(y + 4)}">{escape(_truncate(note, frame.legend_chars))}</text></g>')
    return "".join(out)


def _flags(name: str, flagged: Mapping[str, Sequence[bool]] | None, size: int) -> np.ndarray:
    given = np.asarray((flagged or {}).get(name, [False] * size), dtype=bool).ravel()
    if given.size != size:
        raise DataError(f"flags {name!r} have {given.size} values for {size} points")
    return given


def _values(spreads: Sequence[Spread]) -> np.ndarray:
    return np.concatenate([np.concatenate([s.mean, s.low[s.banded], s.high[s.banded]]) for s in spreads])


def interval_chart(
    series: Mapping[str, tuple[Sequence[float] | np.ndarray, Spread]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    log_x: bool = False,
    y_include: Sequence[float] = (),
    guides: Sequence[Guide] = (),
    diagonal: str | None = None,
    flagged: Mapping[str, Sequence[bool]] | None = None,
    width: int = 640,
    height: int = 340,
) -> str:
    """Lines through each series' means ``{name: (x, spread)}``, an interval at every point of
    several runs; the y axis holds ``y_include`` whatever the data. ``guides`` are labelled
    reference lines, ``diagonal`` names the line y = x, ``flagged`` rings points whose runs warned."""
    if not series:
        raise DataError(f"chart {title!r} needs at least one series")
    data = {}
    for name, (x, spread) in series.items():
        xs_ = np.asarray(x, dtype=float).ravel()
        if xs_.size != spread.mean.size:
            raise DataError(f"series {name!r} has {xs_.size} x values and {spread.mean.size} means")
        if log_x and np.any(xs_[np.isfinite(xs_)] <= 0):
            raise DataError(f"series {name!r} has x values at or below zero, which a log axis cannot show")
        data[str(name)] = (xs_, spread, _flags(str(name), flagged, xs_.size))
    if not any(np.any(np.isfinite(x) & np.isfinite(s.mean)) for x, s, _ in data.values()):
        raise DataError(f"chart {title!r} has no finite value to draw")
    spreads = [s for _, s, _ in data.values()]
    notes = _notes(spreads, any(f.any() for _, _, f in data.values()))
    names = [f"{name} ({s.counts()})" for name, (_, s, _) in data.items()]
    extra = [*(g.label for g in guides), *([diagonal] if diagonal else [])]
    frame = _frame(width, height, [*names, *extra, *notes])
    xs = make_scale(np.concatenate([x for x, _, _ in data.values()]), frame.left, frame.right, log=log_x)
    ys = make_scale(_values(spreads), frame.bottom, frame.top, include=tuple(y_include))
    markers = [marker_box(px, py, MARKER_RADIUS + 4) for x, s, _ in data.values()
               for px, py in zip(xs(x), ys(s.mean), strict=True) if np.isfinite(px) and np.isfinite(py)]
    guide_svg, _ = _guide_lines(frame, ys, guides, markers)
    body = [_y_axis(frame, ys, y_label), _x_axis(frame, xs, x_label), guide_svg]
    if diagonal:
        body.append(_diagonal(xs, ys))
    for i, (name, (x, spread, flags)) in enumerate(data.items()):
        colour, dash, shape = _style(i)
        ok = np.isfinite(x) & np.isfinite(spread.mean)
        px, py = xs(x), ys(spread.mean)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        group = [f'<g class="series"><title>{escape(name)}</title>']
        if ok.sum() > 1:
            group.append(f'<path d="{_path(px[ok], py[ok])}" fill="none" stroke="{colour}" stroke-width="2" '
                         f'stroke-linejoin="round"{dash_attr}/>')
        for k in np.flatnonzero(ok):
            if spread.banded[k]:
                group.append(_error_bar(px[k], float(ys(spread.low[k])), float(ys(spread.high[k])), colour))
            group.append(_marker(shape, px[k], py[k], colour, MARKER_RADIUS))
            if flags[k]:
                group.append(_flag(px[k], py[k]))
        group.append("</g>")
        body.append("".join(group))
    body.append(_legend(frame, names, "line", extra))
    body.append(_legend_notes(frame, len(names) + len(extra), notes))
    description = f"Line chart of the mean {y_label} over seeds against {x_label}: {', '.join(names)}."
    return _svg(width, height, title, description, "".join(body))


def spread_scatter(
    points: Mapping[str, tuple[Spread, Spread]],
    *,
    labels: Mapping[str, Sequence[str]],
    title: str,
    x_label: str,
    y_label: str,
    x_include: Sequence[float] = (),
    y_include: Sequence[float] = (),
    guides: Sequence[Guide] = (),
    flagged: Mapping[str, Sequence[bool]] | None = None,
    width: int = 640,
    height: int = 380,
) -> str:
    """Each series' points ``{name: (x spread, y spread)}`` at their means, with an interval along
    each axis where there are several runs, joined in the given order by a faint line; every
    point's label sits beside it without overlapping another label or point (a label with no free
    place nearby is left out). The axes hold ``x_include`` and ``y_include`` whatever the data."""
    if not points:
        raise DataError(f"chart {title!r} needs at least one series")
    data = {}
    for name, (sx, sy) in points.items():
        texts = [str(t) for t in labels.get(name, [""] * sx.mean.size)]
        if sx.mean.size != sy.mean.size or len(texts) != sx.mean.size:
            raise DataError(f"series {name!r} needs as many y values and labels as x values")
        data[str(name)] = (sx, sy, texts, _flags(str(name), flagged, sx.mean.size))
    if not any(np.any(np.isfinite(sx.mean) & np.isfinite(sy.mean)) for sx, sy, _, _ in data.values()):
        raise DataError(f"chart {title!r} has no finite value to draw")
    spreads = [s for sx, sy, _, _ in data.values() for s in (sx, sy)]
    notes = _notes(spreads, any(f.any() for *_, f in data.values()))
    names = [f"{name} ({sy.counts()})" for name, (_, sy, _, _) in data.items()]
    frame = _frame(width, height, [*names, *(g.label for g in guides), *notes])
    xs = make_scale(_values([sx for sx, *_ in data.values()]), frame.left, frame.right, include=tuple(x_include))
    ys = make_scale(_values([sy for _, sy, *_ in data.values()]), frame.bottom, frame.top, include=tuple(y_include))
    markers = [marker_box(px, py, MARKER_RADIUS + 4) for sx, sy, _, _ in data.values()
               for px, py in zip(xs(sx.mean), ys(sy.mean), strict=True) if np.isfinite(px) and np.isfinite(py)]
    guide_svg, guide_boxes = _guide_lines(frame, ys, guides, markers)
    body = [_y_axis(frame, ys, y_label), _x_axis(frame, xs, x_label), guide_svg]
    anchors, texts_all, owners = [], [], []
    for i, (name, (sx, sy, texts, flags)) in enumerate(data.items()):
        colour, _, shape = _style(i)
        ok = np.isfinite(sx.mean) & np.isfinite(sy.mean)
        px, py = xs(sx.mean), ys(sy.mean)
        group = [f'<g class="series"><title>{escape(name)}</title>']
        if ok.sum() > 1:
            group.append(f'<path d="{_path(px[ok], py[ok])}" fill="none" stroke="{colour}" stroke-opacity="0.35"/>')
        for k in np.flatnonzero(ok):
            if sx.banded[k]:
                group.append(_error_bar(py[k], float(xs(sx.low[k])), float(xs(sx.high[k])), colour, vertical=False))
            if sy.banded[k]:
                group.append(_error_bar(px[k], float(ys(sy.low[k])), float(ys(sy.high[k])), colour))
            group.append(_marker(shape, px[k], py[k], colour, MARKER_RADIUS))
            if flags[k]:
                group.append(_flag(px[k], py[k]))
            if texts[k]:
                anchors.append((float(px[k]), float(py[k])))
                texts_all.append(texts[k])
                owners.append(colour)
        group.append("</g>")
        body.append("".join(group))
    area = Box(frame.left + 1, frame.top, frame.right, frame.bottom - 1)
    obstacles = [marker_box(x, y, MARKER_RADIUS + 1) for x, y in anchors] + guide_boxes
    placed = place_labels(anchors, texts_all, LABEL_FONT, area, obstacles)
    label_svg = ['<g class="point-labels">']
    for (x, y), text, colour, spot in zip(anchors, texts_all, owners, placed, strict=True):
        if spot is None:
            continue
        if spot.leader:
            tx = min(max(x, spot.box.left), spot.box.right)
            ty = min(max(y, spot.box.top), spot.box.bottom)
            label_svg.append(f'<line x1="{_f(x)}" y1="{_f(y)}" x2="{_f(tx)}" y2="{_f(ty)}" stroke="{colour}" '
                             'stroke-width="0.8"/>')
        label_svg.append(f'<text x="{_f(spot.x)}" y="{_f(spot.y)}" font-size="{LABEL_FONT}">{escape(text)}</text>')
    label_svg.append("</g>")
    body.append("".join(label_svg))
    body.append(_legend(frame, names, "point", [g.label for g in guides]))
    body.append(_legend_notes(frame, len(names) + len(guides), notes))
    description = f"Scatter chart of the mean {y_label} against the mean {x_label} over seeds: {', '.join(names)}."
    return _svg(width, height, title, description, "".join(body))


def hbar_chart(
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    x_label: str,
    width: int = 340,
) -> str:
    """Grouped horizontal bars, one row of bars per category: narrow enough for a phone's screen
    at full size, as tall as its categories need. A NaN value draws "n/a"."""
    names = [str(c) for c in categories]
    values = {str(k): np.asarray(v, dtype=float).ravel() for k, v in series.items()}
    if not names or not values:
        raise DataError(f"chart {title!r} needs at least one category and one series")
    for name, vals in values.items():
        if vals.size != len(names):
            raise DataError(f"series {name!r} has {vals.size} values for {len(names)} categories")
    if not any(np.any(np.isfinite(v)) for v in values.values()):
        raise DataError(f"chart {title!r} has no finite value to draw")
    # The legend wraps into rows of swatches under the title.
    rows, x, legend = 0, 8.0, []
    for i, name in enumerate(values):
        text = _truncate(name, 20)
        item = 18 + text_width(text, 11) + 12
        if x + item > width - 8 and x > 8:
            rows, x = rows + 1, 8.0
        y = 40 + 16 * rows
        legend.append(f'<g><title>{escape(name)}</title><rect x="{_f(x)}" y="{_f(y - 9)}" width="12" height="10" '
                      f'fill="{_style(i)[0]}"/><text x="{_f(x + 16)}" y="{_f(y)}" font-size="11">{escape(text)}'
                      "</text></g>")
        x += item
    top = 40 + 16 * (rows + 1)
    label_chars = max(4, min(max(len(n) for n in names), int(0.36 * width / CATEGORY_GLYPH)))
    left = 10 + label_chars * CATEGORY_GLYPH
    right = width - 16.0
    bar = 5.0 if len(values) > 3 else 7.0
    group = bar * len(values) + 7
    bottom = top + group * len(names)
    height = int(bottom + 42)
    xs = make_scale(np.concatenate(list(values.values())), left, right, include=(0.0,))
    body = [f'<g class="legend">{"".join(legend)}</g>']
    for px, label in zip(xs(xs.ticks), xs.labels, strict=True):
        body.append(f'<line x1="{_f(px)}" y1="{_f(top)}" x2="{_f(px)}" y2="{_f(bottom)}" stroke="#eee"/><text '
                    f'x="{_f(px)}" y="{_f(bottom + 14)}" text-anchor="middle" font-size="11">{escape(label)}</text>')
    body.append(f'<text x="{_f((left + right) / 2)}" y="{_f(bottom + 32)}" text-anchor="middle" font-size="11">'
                f"{escape(x_label)}</text>")
    zero = float(xs(0.0))
    for j, category in enumerate(names):
        y0 = top + group * j + 3
        body.append(f'<g><title>{escape(category)}</title><text x="{_f(left - 6)}" y="{_f(y0 + group / 2)}" '
                    f'text-anchor="end" font-size="11">{escape(_truncate(category, label_chars))}</text></g>')
        for i, (name, vals) in enumerate(values.items()):
            top_y, v = y0 + bar * i, float(vals[j])
            if not np.isfinite(v):
                body.append(f'<text x="{_f(zero + 2)}" y="{_f(top_y + bar)}" font-size="7" fill="#666">n/a</text>')
                continue
            tip = f"{name}, {category}: {format_number(v)}"
            end = float(xs(v))
            body.append(f'<rect x="{_f(min(zero, end))}" y="{_f(top_y)}" width="{_f(max(abs(end - zero), 0.5))}" '
                        f'height="{_f(bar - 0.6)}" fill="{_style(i)[0]}"><title>{escape(tip)}</title></rect>')
    body.append(f'<line x1="{_f(zero)}" y1="{_f(top)}" x2="{_f(zero)}" y2="{_f(bottom)}" stroke="#333"/>')
    description = f"Horizontal bar chart of {x_label} for {len(names)} categories: {', '.join(values)}."
    return _svg(width, height, _truncate(title, int(width / 8.5)), description, "".join(body))
