"""Decisions on the exact rows and the ledger's failure paths.

A refusal that depends on the rows tells, by whether a release appears, whether a record is
there; so the release decides on public inputs and codes what does not fit. And once the door
has answered a measurement, the spend stays in the ledger whatever happens next.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from dpsynth.errors import LedgerError, PrivacyWarning, SchemaError
from dpsynth.privacy.budget import PrivacyUnit
from dpsynth.privacy.ledger import Ledger
from dpsynth.schema import Categorical, Identifier, Schema
from dpsynth.schema.infer import infer_schema
from dpsynth.workflows.release import HOLDOUT_SHARE, release, split_holdout
from tests.guarantee.neighbours import CANARY, base_table, seeded_release, with_record


def small(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.choice(["x", "y", "z"], n), "b": rng.choice(["u", "v"], n)})


SMALL_SCHEMA = Schema([Categorical("a", ("x", "y", "z")), Categorical("b", ("u", "v"))])


def test_delta_is_not_judged_on_the_exact_row_count(tmp_path):
    """999 rows and 1,000 rows at delta 1e-3: both release (the audit refused the second)."""
    for n in (999, 1000):
        record = seeded_release(small(n), tmp_path / str(n), delta=1e-3, schema=SMALL_SCHEMA)
        assert record["privacy"]["budget"]["delta"] == 1e-3


def test_values_outside_a_declared_schema_are_coded_not_refused(tmp_path):
    frame = with_record(small(500), "a", CANARY)
    record = seeded_release(frame, tmp_path / "out", schema=SMALL_SCHEMA)
    assert CANARY not in (tmp_path / "out" / "synthetic.csv").read_text()
    assert record["schema"]["provenance"] == "public"


def test_an_identifier_like_category_is_a_warning_not_a_refusal(tmp_path, caplog):
    frame = small(500).assign(code=[f"c{i}" for i in range(500)])
    schema = Schema([*SMALL_SCHEMA.columns, Categorical("code", ("c1", "c2"), other=True)])
    seeded_release(frame, tmp_path / "out", schema=schema)
    assert "looks like an identifier" in caplog.text


def test_rows_naming_no_person_are_left_out_not_refused(tmp_path):
    frame = small(600).assign(pid=[str(i) for i in range(600)])
    frame.loc[3, "pid"] = None
    schema = Schema([*SMALL_SCHEMA.columns, Identifier("pid", role="unit")])
    record = seeded_release(frame, tmp_path / "out", schema=schema)
    assert record["privacy"]["budget"]["unit"]["column"] == "pid"


def test_a_small_holdout_skips_the_audit_instead_of_refusing(tmp_path, caplog):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        result = release(small(600), epsilon=1, delta=1e-9, out=tmp_path / "out", schema=SMALL_SCHEMA, random_state=1,
                         audit="quick")
    assert result.certificate is None and "audit was skipped" in caplog.text
    assert result.record["audit"]["level"] == "quick"


@pytest.mark.parametrize("n", [5005, 2005, 19995])
def test_the_holdout_is_a_coin_per_record(n):
    """Adding a record never moves another record across the split (the audit's n = 5005 -> 5006)."""
    frame = pd.DataFrame({"row": np.arange(n + 1)})
    unit = PrivacyUnit()
    fit_d, _ = split_holdout(frame.iloc[:n], unit, np.random.default_rng(3))
    fit_d1, _ = split_holdout(frame, unit, np.random.default_rng(3))
    assert set(fit_d1["row"]) - {n} == set(fit_d["row"])
    assert abs(len(fit_d) / n - (1 - HOLDOUT_SHARE)) < 0.05


def test_persons_are_held_out_whole_by_their_own_coin():
    frame = pd.DataFrame({"pid": np.repeat(np.arange(3000), 2), "v": 1})
    fit, holdout = split_holdout(frame, PrivacyUnit("pid", 2), np.random.default_rng(0))
    assert not set(fit["pid"]) & set(holdout["pid"])
    assert holdout.groupby("pid").size().eq(2).all()


def test_a_schema_drafted_without_noise_needs_a_statement_and_qualifies_the_release(tmp_path):
    frame = small(800)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        drafted = infer_schema(frame)
    with pytest.raises(SchemaError, match="schema-public"):
        seeded_release(frame, tmp_path / "refused", schema=drafted)
    assert Ledger(tmp_path / "refused.ledger.sqlite").releases() == []
    record = seeded_release(frame, tmp_path / "out", schema=drafted, schema_public=True)
    assert "does not cover what the schema states" in record["statement"]
    assert record["schema"]["note"]


def _run(tmp_path, frame, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        return release(frame, epsilon=1, delta=1e-9, out=tmp_path / "out", random_state=1, audit="off",
                       ledger=tmp_path / "ledger.sqlite", **options)


def test_a_failed_ledger_commit_keeps_the_spend(tmp_path, monkeypatch):
    """The bundle is in place; the commit fails (a locked ledger): the spend must stay counted."""
    def locked(self, release_id, record):
        raise LedgerError("commit failed: database is locked")

    monkeypatch.setattr(Ledger, "commit", locked)
    with pytest.raises(LedgerError, match="stays counted"):
        _run(tmp_path, small(500), schema=SMALL_SCHEMA)
    assert (tmp_path / "out" / "release.json").exists()
    spent = Ledger(tmp_path / "ledger.sqlite").releases()
    assert len(spent) == 1 and spent[0]["epsilon"] == 1


def test_an_interrupt_after_the_first_measurement_keeps_the_spend(tmp_path, monkeypatch):
    """Ctrl-C after a noisy answer (say a -v log line of the selected cliques) must not refund."""
    from dpsynth.generators.mst import MST

    def interrupted(self, n_rows=None, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(MST, "sample", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, small(500), schema=SMALL_SCHEMA)
    assert len(Ledger(tmp_path / "ledger.sqlite").releases()) == 1
    assert not (tmp_path / "out").exists()


def test_a_failure_before_any_measurement_cancels_the_reservation(tmp_path, monkeypatch):
    from dpsynth.workflows import root as plan

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(plan, "discover_schema", broken)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, small(500))
    assert Ledger(tmp_path / "ledger.sqlite").releases() == []


def test_a_named_dataset_adds_up_across_encodings(tmp_path):
    """The cap follows the custodian's name for the data, not how it was read."""
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.set_cap(ledger.dataset_key(name="adult-2026"), 1.5)
    frame = base_table()
    seeded_release(frame, tmp_path / "one", dataset="adult-2026", ledger=ledger)
    reordered = frame[frame.columns[::-1]]
    with pytest.raises(Exception, match="cap"):
        seeded_release(reordered, tmp_path / "two", dataset="adult-2026", ledger=ledger)
