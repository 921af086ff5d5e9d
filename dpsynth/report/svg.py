"""Dependency-free SVG charts for reports: lines (ROC, utility against epsilon), grouped bars, scatter.

Missing values (NaN, infinity) are drawn as gaps: a line breaks, a point or band is left out, a bar
shows "n/a". A chart with no finite value at all raises :class:`~dpsynth.errors.DataError`, since
an empty frame would read as "all zero". Colours are the Okabe–Ito palette (Okabe & Ito 2008,
"Color Universal Design"), distinguishable under the common colour-vision deficiencies; series
also differ by dash and marker shape so they survive greyscale printing. Every text is escaped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from dpsynth.errors import DataError
from dpsynth.report.axes import Scale, format_number, make_scale
from dpsynth.report.html import escape

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
_DASHES = ("", "7 3", "2 3", "9 3 2 3")
_MARKERS = ("circle", "square", "triangle", "diamond")
_FONT = 12
_CHAR = 0.6 * _FONT  # average glyph width, to fit labels into the space they have
_MAX_MARKERS = 30  # lines with more points (ROC curves) are drawn without markers

Pair = tuple[Sequence[float], Sequence[float]]


@dataclass(frozen=True)
class _Frame:
    """Pixel box of the plot area, and where the legend starts."""

    left: float
    top: float
    right: float
    bottom: float
    legend_x: float
    legend_chars: int


def _frame(width: int, height: int, names: Sequence[str]) -> _Frame:
    if width < 240 or height < 160:
        raise DataError(f"chart width and height must be at least 240 and 160 pixels; got {width}x{height}")
    chars = min(max(len(n) for n in names), 24)
    legend_w = min(chars * _CHAR + 34, width * 0.35)
    right = width - 14 - legend_w
    return _Frame(64.0, 36.0, right, height - 50.0, right + 12, round((legend_w - 34) / _CHAR))


def _truncate(text: str, max_chars: int) -> str:
    max_chars = max(max_chars, 3)
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def _f(v: float) -> str:
    return f"{v:.1f}"


def _arrays(name: str, pair: Pair, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Two equally long 1-D float arrays from a pair of sequences (names the series if not)."""
    try:
        first, second = pair
        a = np.asarray(first, dtype=float).ravel()
        b = np.asarray(second, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what} {name!r} must be a pair of number sequences") from exc
    if a.size != b.size:
        raise DataError(f"{what} {name!r} has {a.size} x values and {b.size} y values")
    return a, b


def _check_log(name: str, x: np.ndarray) -> None:
    finite = x[np.isfinite(x)]
    if np.any(finite <= 0):
        raise DataError(f"series {name!r} has x values at or below zero, which a log axis cannot show")


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of consecutive True values."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def _path(px: np.ndarray, py: np.ndarray) -> str:
    return "M" + " L".join(f"{_f(a)} {_f(b)}" for a, b in zip(px, py, strict=True))


def _marker(shape: str, x: float, y: float, colour: str, r: float = 3.5) -> str:
    if shape == "circle":
        return f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{r}" fill="{colour}"/>'
    if shape == "square":
        return f'<rect x="{_f(x - r)}" y="{_f(y - r)}" width="{2 * r}" height="{2 * r}" fill="{colour}"/>'
    if shape == "triangle":
        pts = [(x, y - 1.2 * r), (x + 1.1 * r, y + 0.8 * r), (x - 1.1 * r, y + 0.8 * r)]
    else:
        pts = [(x, y - 1.3 * r), (x + 1.3 * r, y), (x, y + 1.3 * r), (x - 1.3 * r, y)]
    points = " ".join(f"{_f(a)},{_f(b)}" for a, b in pts)
    return f'<polygon points="{points}" fill="{colour}"/>'


def _style(index: int) -> tuple[str, str, str]:
    """Colour, dash pattern and marker shape of the series at ``index``."""
    return PALETTE[index % len(PALETTE)], _DASHES[index % len(_DASHES)], _MARKERS[index % len(_MARKERS)]


def _legend(frame: _Frame, names: Sequence[str], kind: str, extra: Sequence[str] = ()) -> str:
    """Swatch and name per series (``kind`` is "line", "bar" or "point"); ``extra`` are guide lines."""
    out = ['<g class="legend">']
    for i, name in enumerate([*names, *extra]):
        y = frame.top + 8 + 18 * i
        x = frame.legend_x
        colour, dash, shape = _style(i)
        if i >= len(names):
            swatch = (f'<line x1="{_f(x)}" y1="{_f(y)}" x2="{_f(x + 22)}" y2="{_f(y)}" stroke="#888" '
                      'stroke-dasharray="4 4"/>')
        elif kind == "bar":
            swatch = f'<rect x="{_f(x + 4)}" y="{_f(y - 6)}" width="14" height="12" fill="{colour}"/>'
        elif kind == "line":
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            swatch = (f'<line x1="{_f(x)}" y1="{_f(y)}" x2="{_f(x + 22)}" y2="{_f(y)}" stroke="{colour}" '
                      f'stroke-width="2"{dash_attr}/>')
        else:
            swatch = _marker(shape, x + 11, y, colour)
        label = escape(_truncate(name, frame.legend_chars))
        out.append(f"<g><title>{escape(name)}</title>{swatch}"
                   f'<text x="{_f(x + 28)}" y="{_f(y + 4)}">{label}</text></g>')
    out.append("</g>")
    return "".join(out)


def _y_axis(frame: _Frame, ys: Scale, y_label: str) -> str:
    out = ['<g class="y-axis">']
    for label, py in zip(ys.labels, ys(ys.ticks), strict=True):
        out.append(f'<line x1="{_f(frame.left)}" y1="{_f(py)}" x2="{_f(frame.right)}" y2="{_f(py)}" '
                   f'stroke="#e6e6e6"/>')
        out.append(f'<text x="{_f(frame.left - 6)}" y="{_f(py + 4)}" text-anchor="end">{escape(label)}</text>')
    mid = (frame.top + frame.bottom) / 2
    out.append(f'<text x="16" y="{_f(mid)}" text-anchor="middle" transform="rotate(-90 16 {_f(mid)})">'
               f"{escape(y_label)}</text>")
    out.append(f'<line x1="{_f(frame.left)}" y1="{_f(frame.top)}" x2="{_f(frame.left)}" '
               f'y2="{_f(frame.bottom)}" stroke="#333"/></g>')
    return "".join(out)


def _x_axis(frame: _Frame, xs: Scale, x_label: str) -> str:
    out = ['<g class="x-axis">']
    for label, px in zip(xs.labels, xs(xs.ticks), strict=True):
        out.append(f'<line x1="{_f(px)}" y1="{_f(frame.top)}" x2="{_f(px)}" y2="{_f(frame.bottom)}" '
                   f'stroke="#f0f0f0"/>')
        out.append(f'<text x="{_f(px)}" y="{_f(frame.bottom + 16)}" text-anchor="middle">{escape(label)}</text>')
    mid = (frame.left + frame.right) / 2
    out.append(f'<text x="{_f(mid)}" y="{_f(frame.bottom + 38)}" text-anchor="middle">{escape(x_label)}</text>')
    out.append(f'<line x1="{_f(frame.left)}" y1="{_f(frame.bottom)}" x2="{_f(frame.right)}" '
               f'y2="{_f(frame.bottom)}" stroke="#333"/></g>')
    return "".join(out)


def _svg(width: int, height: int, title: str, description: str, body: str) -> str:
    """The outer ``<svg>`` with an accessible name (``<title>``) and description (``<desc>``)."""
    ident = "chart-" + hashlib.sha1((escape(title) + body).encode()).hexdigest()[:10]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="{ident}-title {ident}-desc" '
        f'font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="{_FONT}" fill="#222">'
        f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(description)}</desc>'
        f'<rect width="{width}" height="{height}" fill="#fff"/>'
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">{escape(title)}</text>'
        f"{body}</svg>"
    )


def _no_finite(title: str) -> DataError:
    return DataError(f"chart {title!r} has no finite value to draw")


def _diagonal(xs: Scale, ys: Scale) -> str:
    """The chance line y = x over the part of the frame where both axes hold it."""
    low, high = max(xs.low, ys.low), min(xs.high, ys.high)
    if xs.log:
        low = max(low, xs.low)
    if low >= high:
        return ""
    t = np.geomspace(low, high, 64) if xs.log else np.array([low, high])
    return f'<path d="{_path(xs(t), ys(t))}" fill="none" stroke="#888" stroke-dasharray="4 4"/>'


def line_chart(
    series: Mapping[str, Pair],
    *,
    title: str,
    x_label: str,
    y_label: str,
    log_x: bool = False,
    diagonal: bool = False,
    bands: Mapping[str, Pair] | None = None,
    width: int = 480,
    height: int = 320,
) -> str:
    """Lines of ``{name: (x, y)}``; ``bands`` shades ``{name: (lower, upper)}`` along that series' x.

    ``diagonal`` adds the chance line y = x (ROC curves); ``log_x`` puts x on a log10 axis.
    NaN in a series breaks its line; NaN in a band leaves a gap in the shading.
    """
    if not series:
        raise DataError(f"chart {title!r} needs at least one series")
    data = {str(name): _arrays(str(name), pair, "series") for name, pair in series.items()}
    shaded: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, pair in (bands or {}).items():
        if str(name) not in data:
            raise DataError(f"band {name!r} has no series of the same name")
        lower, upper = _arrays(str(name), pair, "band")
        if lower.size != data[str(name)][0].size:
            raise DataError(f"band {name!r} has {lower.size} values; its series has {data[str(name)][0].size}")
        shaded[str(name)] = lower, upper
    if log_x:
        for name, (x, _) in data.items():
            _check_log(name, x)
    if not any(np.any(np.isfinite(x) & np.isfinite(y)) for x, y in data.values()):
        raise _no_finite(title)
    frame = _frame(width, height, [*data, "chance (y = x)"] if diagonal else list(data))
    all_x = np.concatenate([x for x, _ in data.values()])
    all_y = np.concatenate([y for _, y in data.values()] + [np.concatenate(b) for b in shaded.values()])
    xs = make_scale(all_x, frame.left, frame.right, log=log_x)
    ys = make_scale(all_y, frame.bottom, frame.top)
    body = [_y_axis(frame, ys, y_label), _x_axis(frame, xs, x_label)]
    if diagonal:
        body.append(_diagonal(xs, ys))
    for i, (name, (x, y)) in enumerate(data.items()):
        colour, dash, shape = _style(i)
        if name in shaded:
            lower, upper = shaded[name]
            ok = np.isfinite(x) & np.isfinite(lower) & np.isfinite(upper)
            for start, stop in _runs(ok):
                px = xs(x[start:stop])
                top = np.stack([px, ys(upper[start:stop])], 1)
                pts = np.concatenate([top, np.stack([px, ys(lower[start:stop])], 1)[::-1]])
                points = " ".join(f"{_f(a)},{_f(b)}" for a, b in pts)
                body.append(f'<polygon points="{points}" fill="{colour}" fill-opacity="0.18" stroke="none"/>')
        ok = np.isfinite(x) & np.isfinite(y)
        px, py = xs(x), ys(y)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        group = [f'<g class="series"><title>{escape(name)}</title>']
        for start, stop in _runs(ok):
            if stop - start > 1:
                group.append(f'<path d="{_path(px[start:stop], py[start:stop])}" fill="none" stroke="{colour}" '
                             f'stroke-width="2" stroke-linejoin="round"{dash_attr}/>')
            if stop - start == 1 or ok.sum() <= _MAX_MARKERS:
                group.extend(_marker(shape, a, b, colour) for a, b in zip(px[start:stop], py[start:stop], strict=True))
        group.append("</g>")
        body.append("".join(group))
    body.append(_legend(frame, list(data), "line", ["chance (y = x)"] if diagonal else []))
    description = f"Line chart of {y_label} against {x_label}: {', '.join(data)}."
    return _svg(width, height, title, description, "".join(body))


def bar_chart(
    categories: Sequence[str],
    series: Mapping[str, Sequence[float] | np.ndarray],
    *,
    intervals: Mapping[str, Sequence[tuple[float, float]]] | None = None,
    title: str,
    y_label: str,
    width: int = 480,
    height: int = 320,
) -> str:
    """Grouped bars: one group per category, one bar per series, optional ``(low, high)`` error bars.

    A NaN value draws no bar and writes "n/a" in its place; a NaN interval draws no error bar.
    """
    names = [str(c) for c in categories]
    if not names or not series:
        raise DataError(f"chart {title!r} needs at least one category and one series")
    values: dict[str, np.ndarray] = {}
    for name, given in series.items():
        try:
            values[str(name)] = np.asarray(given, dtype=float).ravel()
        except (TypeError, ValueError) as exc:
            raise DataError(f"series {name!r} must be a sequence of numbers") from exc
        if values[str(name)].size != len(names):
            raise DataError(f"series {name!r} has {values[str(name)].size} values for {len(names)} categories")
    errors: dict[str, np.ndarray] = {}
    for name, pairs in (intervals or {}).items():
        if str(name) not in values:
            raise DataError(f"intervals {name!r} have no series of the same name")
        try:
            errors[str(name)] = np.asarray(pairs, dtype=float).reshape(len(names), 2)
        except (TypeError, ValueError) as exc:
            raise DataError(f"intervals {name!r} must be {len(names)} (low, high) pairs") from exc
    if not any(np.any(np.isfinite(v)) for v in values.values()):
        raise _no_finite(title)
    frame = _frame(width, height, list(values))
    all_y = np.concatenate([*values.values(), *(e.ravel() for e in errors.values())])
    ys = make_scale(all_y, frame.bottom, frame.top, include=(0.0,))
    body = [_y_axis(frame, ys, y_label)]
    band = (frame.right - frame.left) / len(names)
    bar_w = 0.8 * band / len(values)
    zero = float(ys(0.0))
    for i, (name, vals) in enumerate(values.items()):
        colour = _style(i)[0]
        left = frame.left + band * (0.1 + np.arange(len(names))) + i * bar_w
        top = ys(vals)
        group = [f'<g class="series"><title>{escape(name)}</title>']
        for j, (x, y, v) in enumerate(zip(left, top, vals, strict=True)):
            if not np.isfinite(v):
                group.append(f'<text x="{_f(x + bar_w / 2)}" y="{_f(zero - 4)}" text-anchor="middle" '
                             f'font-size="10" fill="#666">n/a</text>')
                continue
            tip = f"{name}, {names[j]}: {format_number(v)}"
            group.append(f'<rect x="{_f(x + 1)}" y="{_f(min(y, zero))}" width="{_f(max(bar_w - 2, 1))}" '
                         f'height="{_f(abs(zero - y))}" fill="{colour}"><title>{escape(tip)}</title></rect>')
        if name in errors:
            low, high = ys(errors[name][:, 0]), ys(errors[name][:, 1])
            for x, lo, hi in zip(left + bar_w / 2, low, high, strict=True):
                if np.isfinite(lo) and np.isfinite(hi):
                    cap = bar_w * 0.2
                    group.append(f'<path d="M{_f(x)} {_f(lo)} L{_f(x)} {_f(hi)} M{_f(x - cap)} {_f(lo)} '
                                 f'L{_f(x + cap)} {_f(lo)} M{_f(x - cap)} {_f(hi)} L{_f(x + cap)} {_f(hi)}" '
                                 f'stroke="#222" stroke-width="1.5" fill="none"/>')
        group.append("</g>")
        body.append("".join(group))
    chars = int(band / _CHAR)
    for j, name in enumerate(names):
        x = frame.left + band * (j + 0.5)
        body.append(f'<g><title>{escape(name)}</title><text x="{_f(x)}" y="{_f(frame.bottom + 16)}" '
                    f'text-anchor="middle">{escape(_truncate(name, chars))}</text></g>')
    body.append(f'<line x1="{_f(frame.left)}" y1="{_f(zero)}" x2="{_f(frame.right)}" y2="{_f(zero)}" stroke="#333"/>')
    body.append(_legend(frame, list(values), "bar"))
    description = f"Bar chart of {y_label} for {', '.join(names)}: {', '.join(values)}."
    return _svg(width, height, title, description, "".join(body))


def scatter_chart(
    points: Mapping[str, Pair],
    *,
    title: str,
    x_label: str,
    y_label: str,
    log_x: bool = False,
    labels: Mapping[str, Sequence[str]] | None = None,
    width: int = 480,
    height: int = 320,
) -> str:
    """Points of ``{name: (x, y)}``, each optionally labelled with ``labels[name][i]``.

    Points with a NaN coordinate are left out (with their label).
    """
    if not points:
        raise DataError(f"chart {title!r} needs at least one series")
    data = {str(name): _arrays(str(name), pair, "series") for name, pair in points.items()}
    texts: dict[str, list[str]] = {}
    for name, names in (labels or {}).items():
        if str(name) not in data:
            raise DataError(f"labels {name!r} have no series of the same name")
        texts[str(name)] = [str(t) for t in names]
        if len(texts[str(name)]) != data[str(name)][0].size:
            raise DataError(f"labels {name!r} has {len(texts[str(name)])} labels for {data[str(name)][0].size} points")
    if log_x:
        for name, (x, _) in data.items():
            _check_log(name, x)
    if not any(np.any(np.isfinite(x) & np.isfinite(y)) for x, y in data.values()):
        raise _no_finite(title)
    frame = _frame(width, height, list(data))
    xs = make_scale(np.concatenate([x for x, _ in data.values()]), frame.left, frame.right, log=log_x)
    ys = make_scale(np.concatenate([y for _, y in data.values()]), frame.bottom, frame.top)
    body = [_y_axis(frame, ys, y_label), _x_axis(frame, xs, x_label)]
    for i, (name, (x, y)) in enumerate(data.items()):
        colour, _, shape = _style(i)
        ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        px, py = xs(x[ok]), ys(y[ok])
        group = [f'<g class="series"><title>{escape(name)}</title>']
        group.extend(_marker(shape, a, b, colour) for a, b in zip(px, py, strict=True))
        if name in texts:
            group.extend(f'<text x="{_f(a + 6)}" y="{_f(b - 6)}" font-size="10">{escape(texts[name][k])}</text>'
                         for a, b, k in zip(px, py, ok, strict=True))
        group.append("</g>")
        body.append("".join(group))
    body.append(_legend(frame, list(data), "point"))
    description = f"Scatter chart of {y_label} against {x_label}: {', '.join(data)}."
    return _svg(width, height, title, description, "".join(body))


def stacked_bar(
    parts: Mapping[str, float],
    *,
    title: str,
    total_label: str,
    reference: tuple[str, float] | None = None,
    width: int = 640,
    height: int = 170,
) -> str:
    """One horizontal bar cut into ``parts`` (they add up to the drawn total, ``total_label``);
    ``reference`` marks another value (label, value) beside it, as a dashed line."""
    values = {str(name): float(value) for name, value in parts.items()}
    if not values or not all(np.isfinite(v) and v >= 0 for v in values.values()):
        raise DataError(f"chart {title!r} needs parts with finite values at or above zero")
    total = sum(values.values())
    frame = _frame(width, height, [*values, total_label])
    extra = (reference[1],) if reference is not None else ()
    xs = make_scale(np.array([0.0, total, *extra]), frame.left, frame.right)
    top, bar_h = frame.top + 20, 34.0
    body = [_x_axis(frame, xs, total_label)]
    start = 0.0
    for i, (name, value) in enumerate(values.items()):
        x0, x1 = float(xs(start)), float(xs(start + value))
        tip = f"{name}: {format_number(value)}"
        body.append(f'<rect x="{_f(x0)}" y="{_f(top)}" width="{_f(max(x1 - x0, 0.5))}" height="{_f(bar_h)}" '
                    f'fill="{_style(i)[0]}" stroke="#fff"><title>{escape(tip)}</title></rect>')
        start += value
    guides = []
    if reference is not None:
        x = float(xs(reference[1]))
        body.append(f'<line x1="{_f(x)}" y1="{_f(frame.top)}" x2="{_f(x)}" y2="{_f(frame.bottom)}" stroke="#888" '
                    f'stroke-dasharray="4 4"><title>{escape(f"{reference[0]}: {format_number(reference[1])}")}'
                    "</title></line>")
        guides.append(reference[0])
    body.append(_legend(frame, list(values), "bar", guides))
    description = f"Stacked bar of {total_label} ({format_number(total)}): {', '.join(values)}."
    return _svg(width, height, title, description, "".join(body))
