"""DP-SGD through the door: charged before it runs, steps counted, noise and clipping as
accounted, and its accounting checked against dp-accounting and Opacus."""

import math
from fractions import Fraction

import dp_accounting
import numpy as np
import pandas as pd
import pytest
from dp_accounting.rdp.rdp_privacy_accountant import compute_epsilon
from hypothesis import given, settings
from hypothesis import strategies as st

from dpsynth.data import PrivateTable
from dpsynth.errors import BudgetError, BudgetExceeded
from dpsynth.privacy import dpsgd
from dpsynth.privacy.accountant import Accountant
from dpsynth.privacy.budget import Allocation, Budget, PrivacyUnit
from dpsynth.privacy.conversion import RDP_ORDERS, rdp_curve, rdp_epsilon
from dpsynth.privacy.dpsgd import DpsgdPlan, DpsgdTrainer, RowsInMemory, _clipped_sum
from dpsynth.privacy.events import (
    DiscreteSubsampledGaussianMechanism,
    GaussianMechanism,
    SubsampledGaussianMechanism,
)
from dpsynth.privacy.noise import NoiseSource
from dpsynth.schema import Categorical, Numeric, Schema


def tiny_table(accountant, n=200, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "age": rng.integers(18, 91, n),
        "color": rng.choice(["red", "green", "blue"], n),
    })
    schema = Schema((Numeric("age", 18, 90, integer=True, bins=8, missing=False),
                     Categorical("color", ("red", "green", "blue"), missing=False)))
    table = PrivateTable(frame, accountant, NoiseSource.from_random_state(np.random.default_rng(seed)))
    table.encode(schema)
    return table


def rows_as_gradients(width):
    """A per-row loss whose gradient at w = 0 is the row itself, and its parameters."""
    torch = pytest.importorskip("torch")

    def loss(params, row):
        return (params["w"] * row.to(torch.float64)).sum()

    return loss, {"w": torch.zeros(width, dtype=torch.float64, requires_grad=True)}


def zero_gradients(dimension):
    """A per-row loss with a zero gradient of ``dimension`` coordinates, and its parameters."""
    torch = pytest.importorskip("torch")
    return (lambda params, row: (params["w"] * 0.0).sum()), {"w": torch.zeros(dimension, requires_grad=True)}


@pytest.fixture
def per_row_gradients(monkeypatch):
    """The per-row gradients the trainer computes, as it clips them (one array per step)."""
    import dpsynth.privacy.dpsgd as dpsgd

    seen = []

    def recording(per_sample, clipping_norm):
        seen.append(per_sample.detach().numpy().copy())
        return _clipped_sum(per_sample, clipping_norm)

    monkeypatch.setattr(dpsgd, "_clipped_sum", recording)
    return seen


def neural_accountant(epsilon=2.0, delta=1e-6, neural=0.5):
    return Accountant(Budget(epsilon, delta, Allocation({"marginal": 1 - neural, "neural": neural})))


@pytest.mark.filterwarnings("ignore::dpsynth.errors.PrivacyWarning")
def test_door_charges_the_whole_run_first_and_runs_exactly_the_charged_steps(per_row_gradients):
    accountant = neural_accountant()
    table = tiny_table(accountant)
    plan = DpsgdPlan(0.1, 7, 3.0, clipping_norm=1.0, dimension=3)
    trainer = table.dpsgd(plan, fine_bins=4)
    (charge,) = accountant.charges
    assert charge.part == "neural" and charge.event.steps == 7  # charged before any step
    assert charge.event.noise_multiplier == 3.0 and not charge.event.pld_supported
    loss, params = rows_as_gradients(3)  # age code, color code, age within-bin position
    for _ in range(7):
        trainer.step(loss, params)
    assert trainer.steps_run == trainer.steps_charged == charge.event.steps == 7
    assert trainer.finish() == 7
    with pytest.raises(BudgetExceeded, match="not charged"):
        trainer.step(loss, params)
    rows = np.concatenate(per_row_gradients)
    assert rows.shape[1] == 3 and rows[:, 2].min() >= 0 and rows[:, 2].max() <= 3
    sizes = [len(b) for b in per_row_gradients]
    assert 0 < np.mean(sizes) < 60  # Poisson samples at rate 0.1 of 200 rows


def test_each_rows_gradient_depends_on_that_row_alone():
    """The door computes per-row gradients by vmap: changing one row moves only its own."""
    from dpsynth.privacy.dpsgd import _per_row_gradients

    torch = pytest.importorskip("torch")

    def loss(params, row):
        return (params["w"] * row.to(torch.float64)).sum() ** 2

    params = {"w": torch.full((2,), 0.5, dtype=torch.float64)}
    batch = np.array([[1, 2], [3, 4], [5, 6]])
    changed = batch.copy()
    changed[1] = [30, 40]
    before, after = _per_row_gradients(loss, params, batch), _per_row_gradients(loss, params, changed)
    assert torch.equal(before[[0, 2]], after[[0, 2]]) and not torch.equal(before[1], after[1])


@pytest.mark.filterwarnings("ignore::dpsynth.errors.PrivacyWarning")
def test_finish_refuses_a_run_that_stopped_early():
    table = tiny_table(neural_accountant())
    trainer = table.dpsgd(DpsgdPlan(0.1, 3, 3.0, 1.0, 4), fine_bins=2)
    trainer.step(*zero_gradients(4))
    with pytest.raises(BudgetError, match="1 steps but 3"):
        trainer.finish()


@pytest.mark.filterwarnings("ignore::dpsynth.errors.PrivacyWarning")
def test_door_refuses_dpsgd_beyond_the_share_and_for_person_level_units():
    accountant = neural_accountant(epsilon=1.0, neural=0.3)
    table = tiny_table(accountant)
    with pytest.raises(BudgetExceeded, match="neural"):
        table.dpsgd(DpsgdPlan(0.5, 1000, 0.5, 1.0, 4), fine_bins=2)
    assert accountant.charges == ()
    budget = Budget(1.0, 1e-6, Allocation({"neural": 1.0}), PrivacyUnit("person", 2))
    frame = pd.DataFrame({"person": [1, 1, 2], "color": ["red", "blue", "red"]})
    person_table = PrivateTable(frame, Accountant(budget), NoiseSource(0))
    with pytest.raises(BudgetError, match="one row per unit"):
        person_table.dpsgd(DpsgdPlan(0.5, 2, 1.0, 1.0, 4), fine_bins=2)


@pytest.mark.filterwarnings("ignore::dpsynth.errors.PrivacyWarning")
def test_noise_is_discrete_gaussian_on_the_grid_with_the_accounted_sigma():
    table = tiny_table(neural_accountant(epsilon=50.0))
    dimension = 40_000
    plan = DpsgdPlan(0.05, 1, 0.8, clipping_norm=2.0, dimension=dimension)
    assert plan.sensitivity == pytest.approx(2.0 * 1.01)  # C + gamma sqrt(d), gamma = 0.01 C / sqrt(d)
    trainer = table.dpsgd(plan, fine_bins=2)
    noisy = trainer.step(*zero_gradients(dimension))
    lattice = noisy / plan.grid
    assert np.allclose(lattice, np.round(lattice), atol=1e-6)  # every coordinate on gamma Z
    # sigma = 0.8 * 2.02; the sample std of 40,000 draws is within 3% of it (about 9 sd).
    assert np.std(noisy) == pytest.approx(0.8 * 2.02, rel=0.03)
    assert abs(np.mean(noisy)) < 5 * 0.8 * 2.02 / math.sqrt(dimension)


@settings(max_examples=500, deadline=None)
@given(st.floats(min_value=0.0, max_value=1.0, exclude_min=True))
def test_inclusion_probability_never_exceeds_the_accounted_rate(rate):
    plan = DpsgdPlan(rate, 1, 1.0, clipping_norm=1.0, dimension=3)
    realised = Fraction(plan.inclusion_threshold, 2**63)
    assert realised <= Fraction(rate) < realised + Fraction(1, 2**63)
    if rate >= 2**-10:
        assert realised == Fraction(rate)


class RiggedBatchDraws:
    """A Generator whose 63-bit batch draws are given; every other draw comes from a real one."""

    def __init__(self, batch_draws):
        self.batch_draws, self.rng = batch_draws, np.random.default_rng(0)

    def integers(self, low, high=None, size=None, dtype=np.int64):
        if high == 2**63:
            return np.array(self.batch_draws, dtype=dtype)
        return self.rng.integers(low, high, size=size, dtype=dtype)


def test_a_row_joins_the_batch_iff_its_draw_is_below_the_threshold(per_row_gradients):
    plan = DpsgdPlan(0.3, 1, 1.0, clipping_norm=1.0, dimension=2)
    threshold = plan.inclusion_threshold
    rows = np.arange(8).reshape(4, 2)
    trainer = DpsgdTrainer(RowsInMemory(rows), plan, RiggedBatchDraws([0, threshold - 1, threshold, 2**63 - 1]))
    trainer.step(*rows_as_gradients(2))
    assert np.array_equal(per_row_gradients[0], rows[:2])


def test_rounding_moves_the_sum_by_at_most_the_inflated_sensitivity():
    rng = np.random.default_rng(1)
    plan = DpsgdPlan(0.1, 1, 1.0, clipping_norm=1.0, dimension=50, grid_fraction=0.5)
    for _ in range(200):
        total = rng.normal(0, 3, 50)
        row = rng.normal(0, 1, 50)
        row *= rng.uniform(0, 1) / np.linalg.norm(row)
        moved = plan.grid * np.linalg.norm(np.rint((total + row) / plan.grid) - np.rint(total / plan.grid))
        assert moved <= plan.sensitivity + 1e-12


def test_clipped_sum_clips_each_row_and_zeroes_non_finite_rows():
    grads = np.array([[3.0, 4.0], [0.3, 0.4], [np.nan, 1.0]])
    total = _clipped_sum(grads, clipping_norm=1.0)
    assert total == pytest.approx([0.6 + 0.3, 0.8 + 0.4], rel=1e-5)
    torch = pytest.importorskip("torch")
    assert _clipped_sum(torch.tensor(grads, dtype=torch.float32), 1.0) == pytest.approx(total, rel=1e-5)


def test_calibration_gives_the_smallest_multiplier_on_the_full_grid():
    # Calibration speed is measured by benchmarks/bench_calibrate.py, not asserted here.
    accountant = Accountant(Budget(1.0, 1e-6, Allocation({"marginal": 0.5, "neural": 0.5})))
    multiplier = accountant.calibrate_subsampled_gaussian("neural", 0.01, 1000)
    event = DiscreteSubsampledGaussianMechanism
    assert accountant.can_charge("neural", event(0.01, multiplier, 1000))
    assert not accountant.can_charge("neural", event(0.01, multiplier * 0.997, 1000))
    continuous = accountant.calibrate_subsampled_gaussian(
        "neural", 0.01, 1000, mechanism=SubsampledGaussianMechanism
    )
    assert accountant.can_charge("neural", SubsampledGaussianMechanism(0.01, continuous, 1000))
    assert not accountant.can_charge("neural", SubsampledGaussianMechanism(0.01, continuous * 0.997, 1000))
    # The sound curve for discrete noise is looser, so it needs more noise (measured: 1.51x here).
    assert 1.0 < multiplier / continuous < 2.0


@pytest.mark.parametrize(
    ("epsilon", "allocation", "rate", "steps"),
    [
        (1.0, {"domain": 0.1, "neural": 0.9}, 0.0131, 153),
        (3.0, {"domain": 0.1, "marginal": 0.72, "neural": 0.18}, 0.0131, 153),
        (1.0, {"domain": 0.1, "marginal": 0.72, "neural": 0.18}, 0.0131, 153),
        (0.3, {"neural": 1.0}, 0.05, 400),
    ],
)
def test_calibrate_then_charge_spends_the_neural_share_and_never_more(epsilon, allocation, rate, steps):
    accountant = Accountant(Budget(epsilon, 1e-9, Allocation(allocation)))
    multiplier = accountant.calibrate_subsampled_gaussian("neural", rate, steps)
    plan = DpsgdPlan(rate, steps, multiplier, clipping_norm=1.0, dimension=1000)
    accountant.charge("neural", plan.event())  # never refused after calibration
    for part in allocation:
        if part != "neural":
            accountant.charge(part, GaussianMechanism(1 / math.sqrt(2 * accountant.rho_remaining(part))))
    assert accountant.spent().epsilon <= epsilon
    # The share is used, not wasted: the joint RDP figure is within 1% of the budget.
    assert accountant._joint_check_epsilon(accountant._total) == pytest.approx(epsilon, rel=1e-2)
    # The conversion's best order is inside the grid, not at its end.
    _, order = compute_epsilon(RDP_ORDERS, accountant._total.curve, accountant.delta_for_curve)
    assert RDP_ORDERS[0] < order < RDP_ORDERS[-1]


def test_joint_epsilon_matches_dp_accounting_and_beats_the_naive_sum():
    accountant = Accountant(Budget(2.0, 1e-6, Allocation({"marginal": 0.6, "neural": 0.4})))
    sigma = 1 / math.sqrt(2 * accountant.rho_allowance("marginal"))
    accountant.charge("marginal", GaussianMechanism(sigma))
    plan = DpsgdPlan(0.02, 300, accountant.calibrate_subsampled_gaussian("neural", 0.02, 300), 1.0, 100)
    accountant.charge("neural", plan.event())
    spent = accountant.spent()
    assert spent.epsilon <= 2.0
    assert spent.epsilon < accountant.naive_sum().epsilon
    assert "Renyi" in spent.conversion  # never the continuous Gaussian's PLD for discrete noise
    continuous = SubsampledGaussianMechanism(plan.sampling_rate, plan.noise_multiplier, plan.steps)
    reference = dp_accounting.rdp.RdpAccountant()  # its own default orders
    reference.compose(dp_accounting.ComposedDpEvent([GaussianMechanism(sigma).to_dp_accounting(),
                                                     continuous.to_dp_accounting()]))
    # The sound curve is at least the continuous Gaussian's, which dp-accounting computes.
    assert spent.epsilon >= reference.get_epsilon(1e-6) * (1 - 1e-3)
    # dp-accounting cannot mistake the discrete event for the continuous one.
    with pytest.raises(dp_accounting.UnsupportedEventError):
        dp_accounting.rdp.RdpAccountant().compose(plan.event().to_dp_accounting())
    report = accountant.report()
    (event,) = report["parts"]["neural"]["events"]
    assert event["mechanism"] == "subsampled_discrete_gaussian" and event["steps"] == 300
    assert report["naive_sum"]["epsilon"] > report["joint"]["epsilon"]


@pytest.mark.parametrize(("rate", "multiplier", "steps"), [(0.01, 1.1, 1000), (0.004, 0.8, 5000)])
def test_dpsgd_curve_agrees_with_opacus_within_one_percent(rate, multiplier, steps):
    pytest.importorskip("opacus")
    from opacus.accountants.analysis.rdp import compute_rdp, get_privacy_spent

    orders = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 256))
    curve = compute_rdp(q=rate, noise_multiplier=multiplier, steps=steps, orders=orders)
    opacus_epsilon, _ = get_privacy_spent(orders=orders, rdp=curve, delta=1e-6)
    ours = rdp_epsilon(rdp_curve(SubsampledGaussianMechanism(rate, multiplier, steps)), 1e-6)
    assert ours == pytest.approx(opacus_epsilon, rel=0.01)


def test_the_batch_coins_are_one_stream_at_any_block_size(per_row_gradients, monkeypatch):
    """Coins drawn in blocks of 3 pick the same batch as coins drawn at once."""
    plan = DpsgdPlan(0.3, 2, 1.0, clipping_norm=1.0, dimension=2)
    rows = np.arange(40).reshape(20, 2)
    batches = []
    for block in (1 << 20, 3):
        monkeypatch.setattr(dpsgd, "COIN_BLOCK", block)
        DpsgdTrainer(RowsInMemory(rows), plan, np.random.default_rng(4)).step(*rows_as_gradients(2))
        batches.append(per_row_gradients[-1])
    assert len(batches[0]) and np.array_equal(*batches)
