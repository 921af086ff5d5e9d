"""The comparison report: self-contained, honest about being an exploration, and readable."""

import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from dpsynth.report.compare_page import compare_page, write_compare_report
from dpsynth.workflows.compare import WARNING

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


def results(attacks: bool = True) -> pd.DataFrame:
    rows = []
    for i, method in enumerate(["mst", "aim", "privbayes"]):
        for epsilon in (0.3, 1.0, 3.0, 10.0):
            row = {"method": method, "epsilon": epsilon, "seed": 0, "status": "ok", "epsilon_spent": epsilon,
                   "tvd_1way": 0.05 / epsilon**0.5, "tvd_2way": 0.1 / epsilon**0.5 + 0.01 * i,
                   "tvd_3way": 0.2 / epsilon**0.5, "wasserstein": 0.02, "correlation_difference": 0.05 / epsilon,
                   "tstr_auc": 0.8 + 0.01 * epsilon, "real_auc": 0.92, "fit_seconds": 2.0 + i,
                   "peak_memory_mb": 200.0 + 50 * i}
            if attacks:
                row.update(membership_auc=0.5 + 0.005 * epsilon, epsilon_lower_bound=0.0)
            rows.append(row)
    rows.append({"method": "aim", "epsilon": 10.0, "seed": 1, "status": "failed", "stage": "fit",
                 "error": "ModelTooLarge", "message": "the junction tree needs too many cells"})
    return pd.DataFrame(rows)


def parse(html: str) -> ET.Element:
    return ET.fromstring(html.split("\n", 1)[1])


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


def test_columns_are_drawn_real_beside_each_method_with_their_shapes():
    html = compare_page(results(), SETTINGS, views())
    parse(html)
    section = html[html.index("Column by column"):html.index("What the attacks found")]
    assert "age: integer" in section and "= 40" in section and "missing" in section
    assert "above the upper bound" in section
    assert "mst ε=10" in section and "aim ε=10" in section
    assert "0.9" in section and "0.8" in section


def test_without_views_the_column_section_says_so():
    assert "No successful run recorded per-column views." in compare_page(results(), SETTINGS)
