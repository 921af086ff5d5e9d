"""Point labels that never overlap: each label beside its point, or further out with a leader line.

A greedy search over candidate positions around each point, nearest first (the greedy baseline of
point-feature label placement, Christensen, Marks & Shieber 1995, "An empirical study of
algorithms for point-feature label placement", ACM TOG 14(3)): a candidate is taken when its box
stays inside the plot area and meets neither a label placed before nor any point's marker. A
label that finds no free place is left out (the chart's table holds every value), so that what
is drawn is never unreadable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Width of a glyph as a share of the font size: generous for digits, "=" and Greek letters in
# the sans-serif fonts browsers fall back to, so an estimated box holds the drawn text.
GLYPH_WIDTH = 0.7
WIDE_GLYPHS = frozenset("⚠WMmw")
# Distances from the point (pixels) tried in turn; beyond the first a leader line is drawn.
RADII = (5.0, 12.0, 20.0, 30.0, 42.0)
# Directions tried at each distance, as (dx, dy) signs: right and left first, then above, below.
DIRECTIONS = ((1, -1), (1, 1), (-1, -1), (-1, 1), (1, 0), (-1, 0), (0, -1), (0, 1))


@dataclass(frozen=True)
class Box:
    """An axis-aligned pixel box (y grows downwards)."""

    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: Box) -> bool:
        return (self.left < other.right and other.left < self.right
                and self.top < other.bottom and other.top < self.bottom)

    def inside(self, other: Box) -> bool:
        return (self.left >= other.left and self.right <= other.right
                and self.top >= other.top and self.bottom <= other.bottom)


@dataclass(frozen=True)
class Label:
    """Where a label's text goes: ``x``, ``y`` of its baseline's start, and whether a leader line
    joins it to its point."""

    x: float
    y: float
    box: Box
    leader: bool


def text_width(text: str, size: float) -> float:
    """Estimated drawn width of ``text`` at font ``size``."""
    return size * sum(1.0 if ch in WIDE_GLYPHS else GLYPH_WIDTH for ch in text)


def text_box(x: float, y: float, text: str, size: float) -> Box:
    """The box of ``text`` drawn from baseline start ``(x, y)`` (ascender above, descender below)."""
    return Box(x, y - 0.95 * size, x + text_width(text, size), y + 0.3 * size)


def marker_box(x: float, y: float, radius: float) -> Box:
    return Box(x - radius, y - radius, x + radius, y + radius)


def place_labels(
    points: Sequence[tuple[float, float]], texts: Sequence[str], size: float, area: Box, obstacles: Sequence[Box] = ()
) -> list[Label | None]:
    """A place for each point's text, or None where no free place is near enough."""
    placed: list[Box] = []
    out: list[Label | None] = []
    for (px, py), text in zip(points, texts, strict=True):
        width, height = text_width(text, size), 1.25 * size
        found = None
        for radius in RADII:
            for sx, sy in DIRECTIONS:
                # The box's corner (or edge middle) nearest the point sits ``radius`` away from it.
                left = px + radius if sx > 0 else px - radius - width if sx < 0 else px - width / 2
                top = py - radius - height if sy < 0 else py + radius if sy > 0 else py - height / 2
                box = Box(left, top, left + width, top + height)
                if box.inside(area) and not any(box.overlaps(b) for b in (*placed, *obstacles)):
                    found = Label(left, top + 0.95 * size, box, radius > RADII[0])
                    break
            if found is not None:
                break
        if found is not None:
            placed.append(found.box)
        out.append(found)
    return out
