"""The stacked bar of the certificate's privacy spend: the drawn parts add up to the total."""

import xml.etree.ElementTree as ET

import pytest

from dpsynth.errors import DataError
from dpsynth.report.svg import stacked_bar

SVG = "{http://www.w3.org/2000/svg}"


def test_parts_are_drawn_in_proportion_end_to_end_and_the_reference_apart():
    root = ET.fromstring(stacked_bar({"domain": 0.25, "marginal": 0.75}, title="spend",
                                     total_label="joint epsilon", reference=("naive sum", 1.25)))
    parts = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    widths = [float(r.get("width")) for r in parts]
    assert widths[1] == pytest.approx(3 * widths[0], rel=0.01)
    # One bar: the second part starts where the first ends.
    assert float(parts[1].get("x")) == pytest.approx(float(parts[0].get("x")) + widths[0], abs=0.2)
    reference = [line for line in root.iter(f"{SVG}line") if line.get("stroke-dasharray") == "4 4"
                 and line.find(f"{SVG}title") is not None]
    assert len(reference) == 1 and reference[0].find(f"{SVG}title").text == "naive sum: 1.25"
    # The reference (1.25) lies beyond the bar's end (1.0), on the same scale.
    end = float(parts[1].get("x")) + widths[1]
    assert float(reference[0].get("x1")) == pytest.approx(float(parts[0].get("x")) + 1.25 * sum(widths), abs=0.5)
    assert float(reference[0].get("x1")) > end


@pytest.mark.parametrize("parts", [{}, {"a": -1.0}, {"a": float("nan")}])
def test_parts_that_cannot_be_drawn_are_refused(parts):
    with pytest.raises(DataError, match="spend"):
        stacked_bar(parts, title="spend", total_label="t")
