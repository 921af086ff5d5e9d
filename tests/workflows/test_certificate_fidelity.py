"""The certificate's fidelity block: aggregates on the real values and on the schema's folded view,
what the schema folds or clips; the per-column views with exact real shares go to the custodian
annex only; the release record's schema warnings are shown when there are any."""

import json
from xml.etree import ElementTree

import pandas as pd
import pytest

from dpsynth.attacks.suite import run_attacks
from dpsynth.certificate.annex import WARNING, build_annex, render_annex
from dpsynth.certificate.document import ANNEX_NOTE, SMALL_COUNT, build_certificate, fidelity
from dpsynth.certificate.page import render_certificate
from dpsynth.certificate.policy import load_policy
from dpsynth.schema import Categorical, Numeric, Schema

SCHEMA = Schema([Numeric("age", 0, 100, integer=True, bins=10), Categorical("colour", ("red", "blue", "green"))])
# A schema as DP discovery may find it at a small epsilon: one category, the rest folded into
# "other", and an upper bound below most ages.
FOLDING = Schema([Numeric("age", 0, 40, integer=True, bins=4), Categorical("colour", ("c0",), other=True)])
WARNINGS = [{"column": "age", "problem": "its bounds hold about 26% of its noisy count",
             "fix": "declare the column in a schema"}]


def table(n: int, rare: int = 3) -> pd.DataFrame:
    colours = ["red"] * (n - rare) + ["green"] * rare
    return pd.DataFrame({"age": [20 + (7 * i) % 60 for i in range(n)], "colour": colours})


def spread(n: int) -> pd.DataFrame:
    """Ten colours in equal shares, ages 20 to 79 (most above FOLDING's upper bound)."""
    return pd.DataFrame({"age": [20 + i % 60 for i in range(n)], "colour": [f"c{i % 10}" for i in range(n)]})


def collapsed(n: int) -> pd.DataFrame:
    """What the folded view cannot tell from ``spread``: the same c0 share, every other colour one
    value, and every age above 40 at one value."""
    return pd.DataFrame({
        "age": [20 + i % 60 if 20 + i % 60 <= 40 else 75 for i in range(n)],
        "colour": ["c0" if i % 10 == 0 else "c9" for i in range(n)],
    })


def record() -> dict:
    return {
        "statement": "This release is (1, 1e-09)-differentially private.",
        "noise_source": "os-entropy",
        "schema": {"provenance": "dp"},
        "method": {"name": "mst", "params": {}},
        "release_id": "r1",
        "created_at": "2026-12-07T00:00:00+00:00",
        "input": {"dataset": "people"},
        "privacy": {
            "budget": {"epsilon": 1.0, "delta": 1e-9, "allocation": {"marginal": 1.0},
                       "unit": {"relation": "one record"}},
            "joint": {"epsilon": 0.99, "delta": 1e-9, "conversion": "Canonne-Kamath-Steinke 2020"},
            "parts": {"marginal": {"fraction": 1.0, "epsilon_alone": 0.99, "rho_spent": 0.01,
                                   "events": [{"mechanism": "gaussian"}]}},
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
    return made, train, synthetic


def test_fidelity_on_the_real_values_sees_what_the_folded_view_cannot():
    block = fidelity(spread(600), collapsed(600), FOLDING)
    # On the schema's codes the two tables are the same: c1..c9 fold into "other", ages clip to 40.
    assert block["folded_view"]["tvd_1way"] == pytest.approx(0, abs=1e-12)
    assert block["folded_view"]["tvd_2way"] == pytest.approx(0, abs=1e-12)
    # On the real values: colours c1..c8 (80% of rows) are missing from the synthetic rows.
    assert block["real_values"]["tvd_1way"] > 0.5 and block["real_values"]["tvd_2way"] > 0.5
    assert "quantiles" in block["real_values"]["rule"] and "folded" in block["folded_view"]["rule"]
    loss = {row["column"]: row for row in block["schema_loss"]["columns"]}
    assert loss["colour"]["folded"] == pytest.approx(0.9)
    assert loss["age"]["above_bounds"] == pytest.approx(39 / 60) and loss["age"]["below_bounds"] == 0
    assert block["schema_loss"]["rows"] == pytest.approx(1 - (1 / 10) * (21 / 60), abs=0.02)
    json.dumps(block)


def test_a_small_folded_or_clipped_count_is_not_shown():
    real = table(200, rare=3)
    schema = Schema([Numeric("age", 0, 100, integer=True, bins=10), Categorical("colour", ("red",), other=True)])
    loss = fidelity(real, real, schema)["schema_loss"]
    colour = next(row for row in loss["columns"] if row["column"] == "colour")
    # 3 green rows fold into "other": fewer than SMALL_COUNT, so the share is not stated.
    assert colour["folded"] is None and loss["suppressed_below"] == SMALL_COUNT and loss["rows"] is None


def test_the_certificate_holds_aggregates_and_the_annex_the_real_shares(certificates):
    made, train, synthetic = certificates
    certificate = made["release"]
    assert "columns" not in certificate["fidelity"]
    assert set(certificate["fidelity"]["column_shapes"]) == {"age", "colour"}
    assert certificate["annex"] == ANNEX_NOTE and "must never be shared" in ANNEX_NOTE
    annex = build_annex(train, synthetic, SCHEMA, certificate)
    colour = next(view for view in annex["columns"] if view["column"] == "colour")
    # The annex stays with the custodian: the 3 green rows' real share is stated exactly.
    assert colour["labels"] == ["red", "blue", "green"] and colour["real"][2] == pytest.approx(3 / 200)
    assert annex["release"]["release_id"] == "r1" and annex["warning"] == WARNING
    html = render_annex(json.loads(json.dumps(annex)))
    ElementTree.fromstring(html.split("\n", 1)[1])
    assert "Do not share this folder" in html and "colour: categorical" in html


def test_the_page_shows_both_views_the_loss_and_the_worst_pairs(certificates):
    html = render_certificate(certificates[0]["release"])
    ElementTree.fromstring(html.split("\n", 1)[1])
    assert "on the real values" in html and "on the schema&#x27;s folded view" in html
    assert "pairs kept worst" in html and "age and colour" in html
    assert ".custodian&#x27;: that folder must never be shared" in html and "represents every training value as it is" in html


def test_schema_warnings_are_copied_and_shown_when_present(certificates):
    document = json.loads(json.dumps(certificates[0]["release"]))
    assert document["schema_warnings"] == WARNINGS
    html = render_certificate(document)
    assert "Schema warnings" in html and "its bounds hold about 26% of its noisy count" in html
    assert "declare the column in a schema" in html


@pytest.mark.parametrize("name", ["quiet", "other tool"])
def test_no_schema_warnings_no_section(certificates, name):
    assert "schema_warnings" not in certificates[0][name]
    assert "Schema warnings" not in render_certificate(certificates[0][name])


def test_the_page_lists_what_the_schema_folds_or_clips_per_column(certificates):
    document = dict(certificates[0]["release"], fidelity=fidelity(spread(600), collapsed(600), FOLDING))
    html = render_certificate(document)
    assert "folds into &#x27;other&#x27; or clips" in html and "Per column:" in html
    assert "<td>colour</td><td>90.0%</td><td>0.0%</td><td>0.0%</td>" in html
    assert "<td>age</td><td>0.0%</td><td>0.0%</td><td>65.0%</td>" in html
