"""The hybrid generator: both parts under one accountant (joint epsilon within the total, at
most the naive sum, equal to dp-accounting's on the same events), steps counted, coarsened
high-cardinality columns restored by the network, save/load."""

import dp_accounting
import numpy as np
import pandas as pd
import pytest

from dpsynth.privacy.conversion import RdpAccountant
from tests.generators.test_neural import SMALL, mixed_table

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def fitted():
    from dpsynth.generators import create

    table, accountant, schema = mixed_table({"marginal": 0.7, "neural": 0.3}, epsilon=2.0)
    generator = create("hybrid", random_state=0, max_marginal_size=8, **SMALL).fit(table)
    return generator, accountant, schema


def test_joint_epsilon_is_within_the_total_below_the_naive_sum_and_matches_dp_accounting(fitted):
    _, accountant, _ = fitted
    report = accountant.report()
    joint, naive = report["joint"]["epsilon"], report["naive_sum"]["epsilon"]
    assert joint <= 2.0
    assert joint < naive
    assert set(report["parts"]) == {"marginal", "neural"}
    events = [c.event.to_dp_accounting() for c in accountant.charges for _ in range(c.count)]
    # dp-accounting composes the marginal events itself; its subclass adds the discrete DP-SGD
    # curve (Zhu & Wang 2019), which dp-accounting refuses so it is never read as a continuous one.
    reference = RdpAccountant()
    reference.compose(dp_accounting.ComposedDpEvent(events))
    assert joint == pytest.approx(reference.get_epsilon(accountant.delta_for_curve), rel=0.01)


def test_the_neural_part_runs_exactly_the_charged_steps(fitted):
    generator, accountant, _ = fitted
    neural = accountant.report()["parts"]["neural"]["events"]
    assert [e["mechanism"] for e in neural] == ["subsampled_discrete_gaussian"]  # no extra count
    assert neural[0]["steps"] == generator.training_["steps"] == generator.training_["steps_run"]
    marginal = accountant.report()["parts"]["marginal"]["events"]
    assert marginal and all(e["mechanism"] != "subsampled_discrete_gaussian" for e in marginal)


def test_backbone_sees_coarse_codes_and_the_network_restores_the_detail(fitted):
    generator, _, _ = fitted
    assert generator.groups_ == {"city": 4}  # 30 codes > 8: groups of 4, 8 of them
    assert generator.coarse_schema_["city"].size == 8
    assert generator.coarse_schema_["age"].size == generator.schema_["age"].size
    sample = generator.sample(600, random_state=3)
    assert set(sample["city"]) <= {f"c{i}" for i in range(30)}
    within = {int(city[1:]) % 4 for city in sample["city"]}
    assert len(within) > 1  # the codes within a group come from the network, not one representative
    assert sample["age"].between(18, 90).all()
    assert sample["age"].nunique() > 6  # more values than the 6 bins the backbone knows


def test_same_seed_same_rows_and_save_load_round_trips(fitted, tmp_path):
    from dpsynth.generators.hybrid import HybridGenerator

    generator, _, _ = fitted
    first = generator.sample(40, random_state=5)
    pd.testing.assert_frame_equal(first, generator.sample(40, random_state=5))
    generator.save(tmp_path / "hybrid.json")
    loaded = HybridGenerator.load(tmp_path / "hybrid.json")
    pd.testing.assert_frame_equal(first, loaded.sample(40, random_state=5))
    assert np.array_equal(loaded.network_.params["w1"], generator.network_.params["w1"])


def test_refuses_before_spending_when_the_network_would_have_nothing_to_learn():
    from dpsynth.data import PrivateTable
    from dpsynth.errors import DataError
    from dpsynth.generators import create
    from dpsynth.privacy.accountant import Accountant
    from dpsynth.privacy.budget import Allocation, Budget
    from dpsynth.privacy.noise import NoiseSource
    from dpsynth.schema import Categorical, Schema

    accountant = Accountant(Budget(1.0, 1e-6, Allocation({"marginal": 0.8, "neural": 0.2})))
    table = PrivateTable(pd.DataFrame({"color": ["red", "blue"] * 20}), accountant, NoiseSource())
    table.encode(Schema((Categorical("color", ("red", "blue"), missing=False),)))
    with pytest.raises(DataError, match="nothing to learn"):
        create("hybrid").fit(table)
    assert accountant.charges == ()


def test_backbone_parameters_it_does_not_take_are_refused_before_any_charge():
    from dpsynth.errors import DataError
    from dpsynth.generators import create

    table, accountant, _ = mixed_table({"marginal": 0.7, "neural": 0.3}, epsilon=2.0)
    with pytest.raises(DataError, match=r"method 'mst' has no parameter\(s\) \['workload'\]"):
        create("hybrid", backbone="mst", backbone_params={"workload": 2}, **SMALL).fit(table)
    assert accountant.charges == ()
