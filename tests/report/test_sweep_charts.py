"""Charts of a sweep's repeated runs: fixed axes, intervals, non-overlapping labels, phone-sized bars."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from dpsynth.errors import DataError
from dpsynth.report.placement import Box, marker_box, place_labels
from dpsynth.report.sweep_charts import Guide, Spread, hbar_chart, interval_chart, spread_scatter

SVG = "{http://www.w3.org/2000/svg}"


def spread(mean, n=2, width=0.01) -> Spread:
    mean = np.asarray(mean, dtype=float)
    return Spread(mean, mean - width, mean + width, np.full(mean.size, n))


def y_ticks(svg: str) -> list[str]:
    axis = ET.fromstring(svg).find(f".//{SVG}g[@class='y-axis']")
    return ["".join(t.itertext()) for t in axis.iter(f"{SVG}text")][:-1]


def test_included_values_fix_the_axis_whatever_the_data():
    # Means of 0.50-0.54 on an axis made to hold 0.5 and 1: the ticks are 0.5 ... 1.0, not 0.50 ... 0.54.
    svg = interval_chart({"mst": ([1.0, 3.0], spread([0.51, 0.54]))}, title="t", x_label="x", y_label="AUC",
                         y_include=(0.5, 1.0), guides=[Guide(0.5, "random guess")])
    assert y_ticks(svg) == ["0.5", "0.6", "0.7", "0.8", "0.9", "1.0"]
    # A seed below the guess extends the axis rather than being cut off.
    low = Spread(np.array([0.5]), np.array([0.43]), np.array([0.57]), np.array([3]))
    assert y_ticks(interval_chart({"m": ([1.0], low)}, title="t", x_label="x", y_label="y",
                                  y_include=(0.5, 1.0)))[0] == "0.4"


def test_spread_states_its_counts_and_checks_its_lengths():
    assert spread([1, 2], n=3).counts() == "n=3"
    assert Spread(np.ones(2), np.ones(2), np.ones(2), np.array([1, 3])).counts() == "n=1-3"
    assert list(Spread(np.ones(2), np.ones(2), np.ones(2), np.array([1, 3])).banded) == [False, True]
    with pytest.raises(DataError, match="as many"):
        Spread(np.ones(2), np.ones(1), np.ones(2), np.ones(2))


def test_scatter_leaves_out_a_label_that_has_no_free_place_rather_than_overlap():
    # Forty points on one spot: the labels that fit go around it, the rest are left out.
    points = {"m": (spread(np.full(40, 0.1)), spread(np.full(40, 0.6)))}
    svg = spread_scatter(points, labels={"m": [f"ε={i}" for i in range(40)]}, title="t", x_label="x", y_label="y",
                         x_include=(0.0,), y_include=(0.5, 1.0))
    texts = ET.fromstring(svg).find(f".//{SVG}g[@class='point-labels']").findall(f"{SVG}text")
    assert 0 < len(texts) < 40


def test_place_labels_keeps_clear_of_obstacles_and_the_area():
    area = Box(0, 0, 200, 100)
    obstacle = [marker_box(100, 50, 4)]
    placed = place_labels([(100, 50), (100, 50), (195, 5)], ["first", "second", "edge"], 10, area, obstacle)
    boxes = [p.box for p in placed if p is not None]
    assert len(boxes) == 3
    for i, box in enumerate(boxes):
        assert box.inside(area) and not box.overlaps(obstacle[0])
        assert not any(box.overlaps(other) for other in boxes[i + 1:])
    assert not placed[0].leader


def test_hbar_chart_is_phone_sized_and_grows_downwards():
    categories = [f"category {i}" for i in range(30)]
    series = {"real": np.linspace(0, 0.1, 30), "mst": np.full(30, 0.03), "aim": np.r_[np.nan, np.full(29, 0.02)]}
    root = ET.fromstring(hbar_chart(categories, series, title="age: integer", x_label="share of rows"))
    assert int(root.get("width")) == 340 and int(root.get("height")) > 30 * 3 * 5
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == 89  # one NaN draws "n/a" instead
    assert "n/a" in ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    with pytest.raises(DataError, match="'mst' has 2 values for 30 categories"):
        hbar_chart(categories, {"mst": [0.1, 0.2]}, title="t", x_label="x")
