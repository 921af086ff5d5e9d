"""The certificate's fidelity block: column views and scores in its JSON and on its page, small
real counts suppressed, and the release record's schema warnings shown when there are any."""

import json
from xml.etree import ElementTree

import pandas as pd
import pytest

from dpsynth.attacks.suite import run_attacks
from dpsynth.certificate.document import SMALL_COUNT, build_certificate, fidelity
from dpsynth.certificate.page import render_certificate
from dpsynth.certificate.policy import load_policy
from dpsynth.schema import Categorical, Numeric, Schema

SCHEMA = Schema([Numeric("age", 0, 100, integer=True, bins=10), Categorical("colour", ("red", "blue", "green"))])
WARNINGS = [{"column": "age", "problem": "its bounds hold about 26% of its noisy count",
             "fix": "declare the column in a schema"}]


def table(n: int, rare: int = 3) -> pd.DataFrame:
    colours = ["red"] * (n - rare) + ["green"] * rare
    return pd.DataFrame({"age": [20 + (7 * i) % 60 for i in range(n)], "colour": colours})


def record() -> dict:
    return {
        "statement": "This release is (1, 1e-09)-differentially private.",
        "noise_source": "os-entropy",
        "schema": {"provenance": "dp"},
        "method": {"name": "mst", "params": {}},
        "release_id": 1,
        "privacy": {
            "budget": {"epsilon": 1.0, "delta": 1e-9, "allocation": {"marginal": 1.0},
                       "unit": {"relation": "one record"}},
            "joint": {"epsilon": 0.99, "delta": 1e-9, "conversion": "Canonne-Kamath-Steinke 2020"},
            "parts": {"marginal": {"fraction": 1.0, "epsilon_alone": 0.99, "events": [{"mechanism": "gaussian"}]}},
        },
        "schema_warnings": WARNINGS,
    }


@pytest.fixture(scope="module")
def certificates():
    train, holdout = table(200), table(60, rare=0)
    synthetic = table(200, rare=40)
    audit = run_attacks(train, holdout, synthetic, SCHEMA, level="quick", random_state=0)
    made = {}
    for name, given in (("release", record()), ("quiet", dict(record(), schema_warnings=[])), ("other tool", None)):
        made[name] = build_certificate(audit, load_policy(), train=train, synthetic=synthetic, schema=SCHEMA,
                                       holdout_rule="r", schema_source="s", record=given)
    return made


def test_fidelity_has_a_view_per_column_and_scores():
    block = fidelity(table(200), table(200, rare=40), SCHEMA)
    assert [view["column"] for view in block["columns"]] == ["age", "colour"]
    colour = block["columns"][1]
    assert colour["labels"] == ["red", "blue", "green"]
    # 3 real rows are green: below the small-count rule, so the real share is not shown; synthetic is.
    assert colour["real"][2] is None and colour["synthetic"][2] == pytest.approx(0.2)
    assert block["suppressed_below"] == SMALL_COUNT
    # Real present colours: red 197/200, green 3/200; synthetic red 160/200, green 40/200.
    assert colour["shape"] == pytest.approx(1 - 37 / 200)
    assert block["pairs"] == [{"columns": ["age", "colour"], "score": pytest.approx(block["pair_trend"])}]
    assert block["column_shape"] == pytest.approx((block["columns"][0]["shape"] + colour["shape"]) / 2)
    json.dumps(block)


def test_the_page_draws_each_column_and_lists_the_worst_pairs(certificates):
    html = render_certificate(certificates["release"])
    ElementTree.fromstring(html.split("\n", 1)[1])
    assert "Fidelity, column by column" in html and "age: integer" in html and "colour: categorical" in html
    assert "pairs kept worst" in html and "age and colour" in html
    assert "n/a" in html


def test_schema_warnings_are_copied_and_shown_when_present(certificates):
    document = json.loads(json.dumps(certificates["release"]))
    assert document["schema_warnings"] == WARNINGS
    html = render_certificate(document)
    assert "Schema warnings" in html and "its bounds hold about 26% of its noisy count" in html
    assert "declare the column in a schema" in html


@pytest.mark.parametrize("name", ["quiet", "other tool"])
def test_no_schema_warnings_no_section(certificates, name):
    assert "schema_warnings" not in certificates[name]
    assert "Schema warnings" not in render_certificate(certificates[name])
