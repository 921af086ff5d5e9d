"""Plan equality: on neighbouring tables D and D + one crafted record, with the same seed,
everything in a release that is not a noisy answer must be identical.

A field that differs and is not downstream of noise is a leak: it tells, with certainty,
whether the crafted record is there. Each crafted record targets one of the ways one record
used to change a release deterministically (a dtype that turned a column's kind, a fraction
that turned a column non-integer, an exact count behind a decision, a hash of the table).
"""

import json
import re

import numpy as np
import pandas as pd
import pytest

from dpsynth.datasets import example_path
from dpsynth.schema import Schema
from tests.guarantee.neighbours import CANARY, COLUMNS, CRAFTED, base_table, plan_view, seeded_release, with_record


@pytest.fixture(scope="module")
def base():
    return base_table()


@pytest.fixture(scope="module")
def public_schema():
    """The shipped Adult schema (public) restricted to the harness's columns."""
    shipped = Schema.load(example_path("adult")[1])
    return Schema([shipped[name] for name in COLUMNS], provenance="public")


@pytest.fixture(scope="module")
def discovered_d(releases_of_d):
    return releases_of_d("mst", {}, None)


# The slower generators and the audited path run the cases that used to flip a plan.
FLIPPERS = ["text in a numeric column", "missing numeric cell", "new category"]
SETTINGS = [
    *[("mst", case, {}) for case in sorted(CRAFTED)],
    *[("privbayes", case, {}) for case in sorted(CRAFTED)],
    *[("aim", case, {"method_params": {"workload": 2}}) for case in FLIPPERS],
    *[("mst", case, {"audit": "quick"}) for case in FLIPPERS],
]


def _label(setting):
    method, case, options = setting
    return f"{method}-{case}" + ("-audited" if options.get("audit") else "")


@pytest.fixture(scope="module")
def releases_of_d(base, public_schema, tmp_path_factory):
    """The record of D for each (method, options, schema), made once."""
    cache = {}

    def release_of_d(method, options, schema):
        key = (method, repr(options), schema is not None)
        if key not in cache:
            out = tmp_path_factory.mktemp("d") / "out"
            cache[key] = seeded_release(base, out, method=method, schema=schema, **options)
        return cache[key]

    return release_of_d


@pytest.mark.parametrize("declared", [False, True], ids=["dp-schema", "public-schema"])
@pytest.mark.parametrize("setting", SETTINGS, ids=[_label(s) for s in SETTINGS])
def test_a_crafted_record_changes_no_plan(setting, declared, base, public_schema, releases_of_d, tmp_path):
    method, case, options = setting
    schema = public_schema if declared else None
    column, value = CRAFTED[case]
    neighbour = seeded_release(with_record(base, column, value), tmp_path / "out", method=method, schema=schema,
                               **options)
    assert plan_view(neighbour, declared) == plan_view(releases_of_d(method, options, schema), declared)


@pytest.mark.parametrize("case", FLIPPERS)
def test_a_crafted_record_in_a_csv_file_changes_no_plan(case, base, tmp_path):
    """The same through the file reader, which reads every cell as text."""
    column, value = CRAFTED[case]
    records = []
    for name, frame in (("d", base), ("d_prime", with_record(base, column, value))):
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False)
        records.append(seeded_release(path, tmp_path / name, dataset="adult-slice"))
    assert plan_view(records[1], False) == plan_view(records[0], False)


def test_kinds_do_not_follow_one_cell(discovered_d):
    """The audit's reproducer: one text cell in age or one missing hours cell changed the kinds."""
    kinds = {name: (kind, integer) for name, kind, integer in plan_view(discovered_d, False)["kinds"]}
    assert kinds["age"] == ("numeric", True)
    assert kinds["hours-per-week"] == ("numeric", True)
    assert kinds["workclass"][0] == "categorical"


def test_the_record_holds_no_digest_of_the_data(discovered_d, base, tmp_path):
    """release.json names the dataset, never hashes it; the only digests are of the output files."""
    text = json.dumps(discovered_d)
    assert "fingerprint" not in text
    digests = set(re.findall(r"[0-9a-f]{64}", text))
    assert digests == {value.split(":")[1] for value in discovered_d["outputs"].values()}
    again = seeded_release(base, tmp_path / "again", random_state=8)
    assert again["input"] == discovered_d["input"]


def test_a_person_with_many_rows_changes_no_plan(base, tmp_path):
    """A new person with K rows, under a person-level unit."""
    people = base.assign(pid=[str(i // 2) for i in range(len(base))])
    newcomer = people.iloc[:5].assign(pid="new-person", workclass=CANARY)
    options = {"privacy_unit": "pid", "max_rows_per_unit": 2}
    d = seeded_release(people, tmp_path / "d", **options)
    d_prime = seeded_release(
        pd.concat([people, newcomer], ignore_index=True), tmp_path / "d2", **options
    )
    assert plan_view(d_prime, False) == plan_view(d, False)


@pytest.mark.slow
@pytest.mark.parametrize(
    "method,params", [("hybrid", {"epochs": 1, "backbone": "mst"}), ("neural", {"epochs": 1})], ids=["hybrid", "neural"]
)
def test_a_crafted_record_changes_no_plan_of_the_dpsgd_generators(method, params, base, tmp_path):
    """The DP-SGD generators (torch, the neural extra) on the case that used to flip a kind."""
    pytest.importorskip("torch", reason="the hybrid and neural generators need the neural extra")
    column, value = CRAFTED["text in a numeric column"]
    options = {"method": method, "method_params": params}
    d = seeded_release(base, tmp_path / "d", **options)
    d_prime = seeded_release(with_record(base, column, value), tmp_path / "d2", **options)
    assert plan_view(d_prime, False) == plan_view(d, False)


def test_a_missing_cell_in_a_bool_column_changes_no_kind(tmp_path):
    """One None turns a bool column into an object one; its other cells must stay non-numbers."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"flag": rng.random(3000) < 0.3, "colour": rng.choice(["red", "blue"], 3000)})
    neighbour = pd.concat([frame, pd.DataFrame({"flag": [None], "colour": ["red"]})], ignore_index=True)
    assert frame["flag"].dtype == bool and neighbour["flag"].dtype == object
    d, d_prime = seeded_release(frame, tmp_path / "d"), seeded_release(neighbour, tmp_path / "d2")
    assert plan_view(d_prime, False) == plan_view(d, False)
    assert plan_view(d, False)["kinds"][0] == ("flag", "categorical", None)


def test_a_text_cell_in_a_float_column_changes_no_category(tmp_path):
    """One text cell turns a float column of codes into an object one; the other cells' forms
    (3.0 reads as "3") must not change with it."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"code": rng.choice([1.0, 2.0, 3.0, np.nan], 3000), "colour": rng.choice(["r", "b"], 3000)})
    neighbour = pd.concat([frame, pd.DataFrame({"code": [CANARY], "colour": ["r"]})], ignore_index=True)
    assert neighbour["code"].dtype == object
    kinds = {"code": "categorical", "colour": "categorical"}
    d = seeded_release(frame, tmp_path / "d", schema=kinds)
    d_prime = seeded_release(neighbour, tmp_path / "d2", schema=kinds)
    codes = [c for c in d["schema"]["definition"]["columns"] if c["name"] == "code"][0]["categories"]
    codes_prime = [c for c in d_prime["schema"]["definition"]["columns"] if c["name"] == "code"][0]["categories"]
    assert codes == codes_prime == ["1", "2", "3"]
