"""The comparison report: self-contained, honest about being an exploration, and readable:
fixed axes, seeds' spread, labels that never overlap, warnings beside what they concern."""

import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from dpsynth.report.compare_page import compare_page, write_compare_report
from dpsynth.report.placement import text_box
from dpsynth.report.sweep_charts import FLAG_NOTE, INTERVAL_NOTE, LABEL_FONT, SINGLE_NOTE
from dpsynth.workflows.compare import WARNING

SVG = "{http://www.w3.org/2000/svg}"
SETTINGS = {
    "warning": WARNING,
    "data": {"source": "adult.csv", "rows": 1000},
    "split": {"fit_rows": 720, "holdout_rows": 80, "test_rows": 200},
    "delta": 1e-9,
    "target": "income",
    "audit": "quick",
    "noise": "os-entropy",
    "schema": {"provenance": "dp", "statement": "discovered once under DP"},
}
UNDERPOWERED = ("the 'neural' part's budget cannot buy a useful neural model at this table size: DP-SGD's noise is "
                "{:.1f}x the level at which it learns: its samples may be close to uniform noise")


def results(attacks: bool = True, methods=("mst", "aim", "privbayes"), epsilons=(0.3, 1.0, 3.0, 10.0),
            seeds: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for i, method in enumerate(methods):
        for epsilon in epsilons:
            for seed in range(seeds):
                jitter = 0.004 * rng.standard_normal() if seeds > 1 else 0.0
                row = {"method": method, "epsilon": epsilon, "seed": seed, "status": "ok", "epsilon_spent": epsilon,
                       "tvd_1way": 0.05 / epsilon**0.5, "tvd_2way": 0.1 / epsilon**0.5 + 0.01 * i + jitter,
                       "tvd_3way": 0.2 / epsilon**0.5, "wasserstein": 0.02, "correlation_difference": 0.05 / epsilon,
                       "column_shape": 0.9, "pair_trend": 0.8, "tstr_auc": 0.8 + 0.01 * epsilon, "real_auc": 0.92,
                       "fit_seconds": 2.0 + i + seed, "peak_memory_mb": 200.0 + 50 * i, "warnings": ""}
                if attacks:
                    row.update(membership_auc=0.5 + 0.005 * epsilon + jitter, epsilon_lower_bound=0.0)
                if method == "neural":
                    row["warnings"] = UNDERPOWERED.format(2.0 + seed + epsilon / 10)
                rows.append(row)
    rows.append({"method": methods[-1], "epsilon": epsilons[-1], "seed": seeds, "status": "failed", "stage": "fit",
                 "error": "ModelTooLarge", "message": "the junction tree needs too many cells"})
    return pd.DataFrame(rows)


def parse(html: str) -> ET.Element:
    return ET.fromstring(html.split("\n", 1)[1])


def section(html: str, heading: str) -> ET.Element:
    root = parse(html)
    for element in root.iter("section"):
        if element.find("h2").text == heading:
            return element
    raise AssertionError(f"no section {heading!r}")


def chart(html: str, title: str) -> ET.Element:
    for svg in parse(html).iter(f"{SVG}svg"):
        if svg.find(f"{SVG}title").text == title:
            return svg
    raise AssertionError(f"no chart {title!r}")


def texts(element: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in element.iter(f"{SVG}text")]


def test_page_is_self_contained_and_says_it_is_not_for_publication():
    html = compare_page(results(), SETTINGS)
    root = parse(html)
    assert html.count(WARNING) == 1 and "(exploration, not for publication)" in root.find("head/title").text
    assert html.count("<svg") >= 8  # 3 closeness, 2 attacks, trade-off, time, memory
    assert "<script" not in html and "src=" not in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html
    assert "ModelTooLarge" in html and "the junction tree needs too many cells" in html
    assert "train on real data" in html and "epsilon spent" in html


def test_page_without_attacks_or_successes_says_so():
    html = compare_page(results(attacks=False), SETTINGS)
    parse(html)
    assert "No attack ran in this comparison" in html
    failed = results().assign(status="failed")
    html = compare_page(failed, SETTINGS)
    parse(html)
    assert "<svg" not in html and "No successful run" in html


def boxes_of_point_labels(svg: ET.Element) -> list:
    group = svg.find(f".//{SVG}g[@class='point-labels']")
    return [(t.text, text_box(float(t.get("x")), float(t.get("y")), t.text, float(t.get("font-size"))))
            for t in group.findall(f"{SVG}text")]


def test_scatter_labels_of_a_crowded_sweep_do_not_overlap():
    # 5 methods x 4 epsilons, close together: every label placed, and no two label boxes meet.
    crowded = results(methods=("mst", "aim", "privbayes", "neural", "hybrid"), seeds=3)
    svg = chart(compare_page(crowded, SETTINGS), "Attack success against distance from the real data")
    labelled = boxes_of_point_labels(svg)
    assert len(labelled) == 20
    for i, (text, box) in enumerate(labelled):
        assert re.fullmatch(r"ε=\d+(\.\d+)?( ⚠1)?", text)
        for other_text, other in labelled[i + 1:]:
            assert not box.overlaps(other), f"labels {text!r} and {other_text!r} overlap"
    markers = [(float(c.get("cx")), float(c.get("cy"))) for c in svg.iter(f"{SVG}circle") if c.get("r") == "3.5"]
    for text, box in labelled:
        for x, y in markers:
            assert not (box.left < x < box.right and box.top < y < box.bottom), f"label {text!r} hides a point"


def test_auc_axes_run_from_the_random_guess_to_one_with_the_guess_drawn():
    # Attack AUCs of 0.50-0.54 must not be zoomed into a steep trend: the axis stays 0.5 to 1.
    html = compare_page(results(), SETTINGS)
    for title in ("membership attack AUC against epsilon", "Attack success against distance from the real data",
                  "model accuracy (AUC) against epsilon"):
        svg = chart(html, title)
        ticks = texts(svg.find(f".//{SVG}g[@class='y-axis']"))[:-1]
        assert ticks[0] == "0.5" and ticks[-1] == "1.0", (title, ticks)
        guide = svg.find(f".//{SVG}g[@class='guide']")
        assert guide.find(f"{SVG}title").text == "random guess (AUC 0.5)"
        assert "random guess (AUC 0.5)" in texts(svg.find(f".//{SVG}g[@class='legend']"))
        axis = svg.find(f".//{SVG}g[@class='y-axis']")
        half = [t for t in axis.findall(f"{SVG}text") if t.text == "0.5"][0]
        assert float(guide.find(f"{SVG}line").get("y1")) == pytest.approx(float(half.get("y")) - 4, abs=0.2)


def test_distance_axes_start_at_zero():
    html = compare_page(results(), SETTINGS)
    for title, axis in (("2-way marginal distance against epsilon", "y"), ("correlation difference against epsilon",
                                                                          "y"),
                        ("Attack success against distance from the real data", "x")):
        ticks = texts(chart(html, title).find(f".//{SVG}g[@class='{axis}-axis']"))[:-1]
        assert float(ticks[0]) == 0.0, (title, ticks)


def test_several_seeds_draw_an_interval_and_one_seed_says_n_1():
    several = chart(compare_page(results(seeds=3), SETTINGS), "2-way marginal distance against epsilon")
    assert INTERVAL_NOTE in texts(several) and SINGLE_NOTE not in texts(several)
    assert "mst (n=3)" in texts(several)
    assert len(several.findall(f".//{SVG}g[@class='series']/{SVG}path[@class='interval']")) == 12

    single = chart(compare_page(results(seeds=1), SETTINGS), "2-way marginal distance against epsilon")
    assert SINGLE_NOTE in texts(single) and INTERVAL_NOTE not in texts(single)
    assert "mst (n=1)" in texts(single)
    assert not single.findall(f".//{SVG}path[@class='interval']")


def test_interval_spans_the_lowest_to_the_highest_seed():
    frame = results(methods=("mst",), epsilons=(1.0, 3.0), seeds=3)
    frame.loc[frame["method"].eq("mst") & frame["epsilon"].eq(1.0), "tvd_2way"] = [0.1, 0.2, 0.6]
    svg = chart(compare_page(frame, SETTINGS), "2-way marginal distance against epsilon")
    axis = svg.find(f".//{SVG}g[@class='y-axis']")
    ticks = {float(t.text): float(t.get("y")) - 4 for t in axis.findall(f"{SVG}text")[:-1]}
    to_pixel = np.poly1d(np.polyfit(list(ticks), list(ticks.values()), 1))
    bar = svg.find(f".//{SVG}path[@class='interval']").get("d")
    ys = sorted({float(v) for v in re.findall(r"[ML][\d.]+ ([\d.]+)", bar)})
    assert ys[0] == pytest.approx(to_pixel(0.6), abs=0.2) and ys[-1] == pytest.approx(to_pixel(0.1), abs=0.2)
    circles = svg.findall(f".//{SVG}g[@class='series']/{SVG}circle")
    assert float(circles[0].get("cy")) == pytest.approx(to_pixel(0.3), abs=0.2)  # the mean


def test_neural_warning_is_shown_beside_its_rows_and_points():
    html = compare_page(results(methods=("mst", "neural"), seeds=2), SETTINGS)
    warnings = section(html, "Warnings from the runs")
    (item,) = warnings.iter("li")
    text = "".join(item.itertext())
    assert text.startswith("⚠1 the 'neural' part's budget cannot buy a useful neural model")
    assert "neural ε=0.3 (seed 0, 1)" in text and "mst" not in text
    summary = section(html, "Summary of results")
    cells = {"".join(td.itertext()) for td in summary.iter("td") if td.get("data-label") == "method"}
    assert cells == {"mst", "neural ⚠1"}
    svg = chart(html, "Attack success against distance from the real data")
    labels = [t for t, _ in boxes_of_point_labels(svg)]
    assert sorted(labels) == sorted([f"ε={e:g}" for e in (0.3, 1, 3, 10)] + [f"ε={e:g} ⚠1" for e in (0.3, 1, 3, 10)])
    assert FLAG_NOTE in texts(svg)
    assert len(svg.findall(f".//{SVG}g[@class='series']/{SVG}circle[@class='flag']")) == 4
    distance = chart(html, "2-way marginal distance against epsilon")
    assert len(distance.findall(f".//{SVG}g[@class='series']/{SVG}circle[@class='flag']")) == 4


def test_without_warnings_there_is_no_warning_section():
    html = compare_page(results(), SETTINGS)
    assert "Warnings from the runs" not in html and FLAG_NOTE not in html


def test_summary_is_split_into_narrow_tables_that_turn_into_cards():
    summary = section(compare_page(results(), SETTINGS), "Summary of results")
    tables = list(summary.iter("table"))
    assert len(tables) == 3
    for table in tables:
        assert table.get("class") == "cards"
        headers = ["".join(th.itertext()) for th in table.iter("th")]
        assert len(headers) <= 8
        for row in table.find("tbody").iter("tr"):
            assert [td.get("data-label") for td in row.iter("td")] == headers


@pytest.mark.slow
def test_report_renders_in_headless_chromium(tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    page = write_compare_report(results(), SETTINGS, tmp_path / "report.html")
    shot = tmp_path / "report.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1000,3000",
         f"--screenshot={shot}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1000, 3000)
    # A blank page of this size compresses to about 10 KB; text and charts make it far larger.
    assert len(data) > 100_000


def views() -> dict:
    """Per-column views of two runs at epsilon 10, in the form dpsynth.evaluate.views writes."""
    def view(synthetic, shape):
        return {"column": "age", "kind": "integer", "axis": "value", "labels": ["0 to 49", "= 40", "50 to 99", "missing"],
                "real": [0.2, 0.5, 0.2, 0.1], "synthetic": synthetic, "shape": shape}
    return {("mst", 10.0, 0): [view([0.3, 0.4, 0.3, 0.0], 0.9)],
            ("aim", 10.0, 0): [dict(view([0.2, 0.4, 0.3, 0.0, 0.1], 0.8), real=[0.2, 0.5, 0.2, 0.0, 0.1],
                                    labels=["0 to 49", "= 40", "50 to 99", "above the upper bound", "missing"])]}


PAIRS = {("mst", 10.0, 0): [["age", "sex", 0.9], ["age", "income", 0.7], ["sex", "income", 0.5]],
         ("aim", 10.0, 0): [["age", "sex", 0.8], ["age", "income", None], ["sex", "income", 0.6]]}


def test_columns_are_drawn_real_beside_each_method_with_their_scores():
    html = compare_page(results(), SETTINGS, views(), PAIRS)
    columns = section(html, "Column by column")
    text = " ".join(columns.itertext())
    assert "age: integer" in text and "= 40" in text and "missing" in text
    assert "above the upper bound" in text
    tables = list(columns.iter("table"))
    shapes, trends, weakest = ({td.get("data-label"): "".join(td.itertext()) for td in t.find("tbody").iter("td")}
                               for t in tables)
    assert shapes == {"column": "age", "aim ε=10": "0.8", "mst ε=10": "0.9"}
    assert trends == {"column": "age", "aim ε=10": "0.8", "mst ε=10": "0.8"}  # mean of the pairs age is in
    rows = [[td.text for td in tr.iter("td")] for tr in tables[2].find("tbody").iter("tr")]
    assert rows[0] == ["aim ε=10", "sex × income", "0.6"] and len(rows) == 5
    # The column charts are phone-sized, in a grid of their own.
    (grid,) = [d for d in columns.iter("div") if d.get("class") == "charts"]
    assert all(int(svg.get("width")) <= 350 for svg in grid.iter(f"{SVG}svg"))


def test_without_views_the_column_section_says_so():
    assert "No successful run recorded per-column views." in compare_page(results(), SETTINGS)


def test_label_estimate_holds_the_drawn_text():
    # The placement's box of "ε=10 ⚠1" must be at least as wide as Chromium draws it (measured:
    # about 0.65 of the font size per glyph, 0.9 for the warning sign).
    box = text_box(0, 0, "ε=10 ⚠1", LABEL_FONT)
    assert box.right - box.left >= LABEL_FONT * (0.67 * 6 + 0.9)
