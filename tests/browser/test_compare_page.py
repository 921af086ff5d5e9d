"""The comparison report as Chromium draws it: tables that fit a phone, a laptop and an A4 page,
point labels that do not overlap as drawn, column charts at full size on a phone, and the neural
generator's warning beside its rows and points.

The report comes from one small ``dpsynth compare`` (the shipped Adult example, subsampled; the
neural generator at one epoch, so that its budget cannot buy a useful model and it warns), and a
crowded page (5 methods x 4 epsilons x 3 seeds) is made from a results table for the labels.
Marked ``browser`` like tests/browser/test_pages.py, whose browser fixture and page check it uses.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dpsynth.datasets import example_path
from dpsynth.report.compare_page import write_compare_report
from tests.browser.test_pages import _dpsynth, browser, check_page, screenshots  # noqa: F401 - fixtures
from tests.report.test_compare_page import SETTINGS, results

pytestmark = pytest.mark.browser

WIDTHS = (390, 1280)
# A4 (210 mm) less the compare page's 12 mm print margins, in CSS pixels (96 per inch).
PRINT_WIDTH = round((210 - 2 * 12) / 25.4 * 96)
SCATTER = "Attack success against distance from the real data"
READABLE = 0.7


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("compare")
    data, _ = example_path("adult")
    columns = ["age", "workclass", "education", "sex", "hours-per-week", "income"]
    small = pd.read_csv(data, usecols=columns, dtype=str, keep_default_na=False).sample(1500, random_state=0)
    small.to_csv(root / "small.csv", index=False)
    _dpsynth("compare", "small.csv", "--methods", "mst,neural", "--epsilons", "1,3", "--seeds", "2",
             "--audit", "quick", "--jobs", "2", "--target", "income", "--seed", "0", "--param", "neural.epochs=1",
             "--out", "sweep", cwd=root)
    crowded = results(methods=("mst", "aim", "privbayes", "neural", "hybrid"), seeds=3)
    write_compare_report(crowded, SETTINGS, root / "crowded.html")
    return {"sweep": root / "sweep" / "report.html", "crowded": root / "crowded.html"}


# Every table's width against the block it sits in, and every chart's drawn width against its
# own: a table wider than its block is cut off (or scrolls); a column chart drawn smaller than its
# size, or another chart drawn at less than READABLE of it, has text too small to read (those
# scroll sideways in their own block on a phone instead).
_FIT = """
() => {
  const tables = [...document.querySelectorAll("table")].map((t) => ({
    what: (t.closest("section") || document.body).id + " table " + t.querySelector("th, td").textContent,
    width: t.scrollWidth, room: t.parentElement.clientWidth}));
  const drawn = (selector) => [...document.querySelectorAll(selector)].map((s) => ({
    what: s.querySelector("title").textContent, drawn: s.getBoundingClientRect().width,
    size: s.viewBox.baseVal.width}));
  return {tables, charts: drawn("div.charts svg"), figures: drawn("div.figure svg")};
}
"""

# The drawn boxes of the scatter's point labels.
_LABELS = """
(title) => {
  const svg = [...document.querySelectorAll("svg")].find((s) => s.querySelector("title").textContent === title);
  return [...svg.querySelectorAll("g.point-labels text")].map((t) => {
    const b = t.getBoundingClientRect();
    return {text: t.textContent, left: b.left, top: b.top, right: b.right, bottom: b.bottom};
  });
}
"""


def _open(browser, path: Path, width: int, media: str = "screen"):  # noqa: F811 - the fixture
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.emulate_media(media=media)
    page.goto(path.as_uri(), wait_until="load")
    return context, page


def _assert_fits(layout: dict, where: str) -> None:
    for table in layout["tables"]:
        assert table["width"] <= table["room"] + 1, f"{where}: {table['what']} is {table['width']} px " \
                                                    f"wide in {table['room']} px"
    for chart in layout["charts"]:
        assert chart["drawn"] >= chart["size"] - 1, f"{where}: chart {chart['what']!r} drawn at " \
                                                    f"{chart['drawn']:.0f} of {chart['size']:.0f} px"
    for chart in layout["figures"]:
        assert chart["drawn"] >= READABLE * chart["size"], f"{where}: chart {chart['what']!r} drawn at " \
                                                           f"{chart['drawn']:.0f} of {chart['size']:.0f} px"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["sweep", "crowded"])
def test_every_table_fits_on_screen(browser, reports, screenshots, name, width):  # noqa: F811
    check_page(browser, reports[name].as_uri(), width, screenshots / f"compare-{name}-{width}.png")
    context, page = _open(browser, reports[name], width)
    try:
        _assert_fits(page.evaluate(_FIT), f"{name} at {width} px")
    finally:
        context.close()


@pytest.mark.parametrize("name", ["sweep", "crowded"])
def test_every_table_fits_the_printed_page(browser, reports, screenshots, name):  # noqa: F811
    context, page = _open(browser, reports[name], PRINT_WIDTH, media="print")
    try:
        layout = page.evaluate(_FIT)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        pdf = page.pdf(format="A4")
    finally:
        context.close()
    (screenshots / f"compare-{name}.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + \
        pdf.count(b"/Type/Page") >= 2
    assert scroll <= PRINT_WIDTH, f"the printed {name} page is {scroll} px wide on a {PRINT_WIDTH} px page"
    _assert_fits({"tables": layout["tables"], "charts": [], "figures": []}, f"{name} in print")


@pytest.mark.parametrize("name", ["sweep", "crowded"])
def test_scatter_labels_do_not_overlap_as_drawn(browser, reports, name):  # noqa: F811
    context, page = _open(browser, reports[name], 1280)
    try:
        labels = page.evaluate(_LABELS, SCATTER)
    finally:
        context.close()
    assert labels
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            apart = a["right"] <= b["left"] or b["right"] <= a["left"] or a["bottom"] <= b["top"] or \
                b["bottom"] <= a["top"]
            assert apart, f"{name}: labels {a['text']!r} and {b['text']!r} overlap as drawn"


def test_the_neural_warning_is_beside_its_rows_and_points(browser, reports):  # noqa: F811
    context, page = _open(browser, reports["sweep"], 1280)
    try:
        warnings = page.inner_text("#warnings-from-the-runs")
        methods = page.eval_on_selector_all("#summary-of-results td[data-label='method']",
                                            "(cells) => cells.map((c) => c.textContent)")
        labels = [label["text"] for label in page.evaluate(_LABELS, SCATTER)]
        rings = page.eval_on_selector_all("g.series circle.flag", "(rings) => rings.length")
    finally:
        context.close()
    assert "⚠1" in warnings and "cannot buy a useful neural model" in warnings
    assert set(methods) == {"mst", "neural ⚠1"}
    assert sorted(label for label in labels if "⚠" in label) == ["ε=1 ⚠1", "ε=3 ⚠1"]
    assert rings >= 2
