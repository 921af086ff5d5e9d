"""HTML blocks: escaping, tables and a complete page that loads nothing from outside."""

import xml.etree.ElementTree as ET

import numpy as np

from dpsynth.report import escape, line_chart, page, paragraph, table
from dpsynth.report.html import details


def parse_page(html: str) -> ET.Element:
    assert html.startswith("<!DOCTYPE html>\n")
    return ET.fromstring(html.split("\n", 1)[1])


def test_escape_handles_markup_quotes_and_control_characters():
    assert escape('<a href="x">\'&\x00') == "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;"
    assert escape(3) == "3"


def test_table_formats_numbers_missing_values_and_escapes():
    html = table([{"name": "<b>", "value": 0.123456}, {"name": "x", "count": np.int64(7), "value": float("nan")}])
    root = ET.fromstring(html)
    assert [th.text for th in root.iter("th")] == ["name", "value", "count"]
    rows = [[td.text for td in tr.iter("td")] for tr in root.find(".//tbody")]
    assert rows == [["<b>", "0.1235", "—"], ["x", "—", "7"]]
    assert [td.get("class") for td in root.find(".//tbody")[0]] == [None, "num", None]
    # A table wider than a phone scrolls inside its own block, not the page.
    assert root.tag == "div" and root.get("class") == "table-wrap" and root[0].tag == "table"


def test_details_is_collapsed_by_default_and_escapes_its_summary():
    root = ET.fromstring(details("a <b>", table([{"x": 1}])))
    assert root.tag == "details" and root.get("open") is None
    assert root.find("summary").text == "a <b>" and root.find(".//table") is not None


def test_table_with_chosen_columns_and_no_rows():
    assert [th.text for th in ET.fromstring(table([], columns=["a", "b"])).iter("th")] == ["a", "b"]
    assert "No rows" in table([])


def test_page_is_complete_self_contained_and_escaped():
    chart = line_chart({"s": ([1, 2], [1, 2])}, title="c", x_label="x", y_label="y")
    html = page("Release <1>", [("Budget & spend", table([{"part": "marginal", "epsilon": 0.9}])),
                                ("Chart", chart), ("Chart", paragraph("<i>note</i>"))], lead="a <lead>")
    root = parse_page(html)
    assert root.find("head/title").text == "Release <1>"
    assert root.find("body/header/h1").text == "Release <1>"
    assert root.find("head/style") is not None
    sections = root.findall("body/main/section")
    assert [s.get("id") for s in sections] == ["budget-spend", "chart", "chart-2"]
    assert sections[2].find("p").text == "<i>note</i>"
    for element in root.iter():  # nothing is loaded from outside the file
        assert not element.get("src") and not element.get("href")
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert "default-src 'none'" in html
