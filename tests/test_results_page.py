"""benchmarks/RESULTS.md is what the committed rows under benchmarks/results/ give.

Runs benchmarks/report.py on the committed files only: no benchmark, no shared data.
"""

import csv
import importlib.util
import re
import shutil
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def report():
    spec = importlib.util.spec_from_file_location("results_report", BENCHMARKS / "report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_page_matches_rows(report):
    assert report.main(["--check"]) == 0, "run: python benchmarks/report.py"


def test_check_fails_when_a_row_changes(report, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(BENCHMARKS / "results", results)
    page = (BENCHMARKS / "RESULTS.md").read_text(encoding="utf-8")
    assert report.render(page, results) == page
    path = results / "counting.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("45.33", "46.33"), encoding="utf-8")
    assert report.render(page, results) != page


def test_every_row_says_when_and_where_it_was_recorded(report):
    for name in report.TABLES:
        with open(BENCHMARKS / "results" / f"{name}.csv", newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["date"]), (name, row)
                # A row summarising runs made at several commits names each of them.
                assert re.fullmatch(r"[0-9a-f]{7,40}(;[0-9a-f]{7,40})*", row["commit"]), (name, row)


def test_documents_speak_of_the_project():
    pages = [BENCHMARKS / "RESULTS.md", *sorted((BENCHMARKS / "notes").glob("*.md"))]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"\bsessions?\b|\b(I|we)\b", text), page.name
