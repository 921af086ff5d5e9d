"""Plan equality: on neighbouring tables D and D + one crafted record, with the same seed,
everything in a release that is not a noisy answer must be identical.

A field that differs and is not downstream of noise is a leak: it tells, with certainty,
whether the crafted record is there. Each crafted record targets one of the ways one record
used to change a release deterministically (a dtype that turned a column's kind, a fraction
that turned a column non-integer, an exact count behind a decision, a hash of the table).
"""

import json
import re

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
def discovered_d(base, tmp_path_factory):
    return seeded_release(base, tmp_path_factory.mktemp("d") / "out")


@pytest.fixture(scope="module")
def declared_d(base, public_schema, tmp_path_factory):
    return seeded_release(base, tmp_path_factory.mktemp("d") / "out", schema=public_schema)


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_a_crafted_record_changes_no_plan_under_dp_discovery(case, base, discovered_d, tmp_path):
    column, value = CRAFTED[case]
    neighbour = seeded_release(with_record(base, column, value), tmp_path / "out")
    assert plan_view(neighbour, public_schema=False) == plan_view(discovered_d, public_schema=False)


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_a_crafted_record_changes_no_plan_with_a_public_schema(case, base, public_schema, declared_d, tmp_path):
    column, value = CRAFTED[case]
    neighbour = seeded_release(with_record(base, column, value), tmp_path / "out", schema=public_schema)
    assert plan_view(neighbour, public_schema=True) == plan_view(declared_d, public_schema=True)


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
    again = seeded_release(base, tmp_path / "again", seed=8)
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
