"""Private-PGM estimation: exact recovery, denoising real marginals, warm starts, input checks."""

import numpy as np
import pytest

from dpsynth.errors import ModelError, ModelTooLarge
from dpsynth.models import (
    Domain,
    GraphicalModel,
    Measurement,
    estimate,
    estimate_total,
    independent_start,
)

# A spanning tree of Adult (the maximum mutual-information tree MST would pick), fixed here.
ADULT_TREE = [
    ("age", "marital-status"), ("age", "hours-per-week"), ("age", "fnlwgt"), ("age", "capital-loss"),
    ("workclass", "occupation"), ("education-num", "occupation"), ("education-num", "native-country"),
    ("marital-status", "relationship"), ("occupation", "hours-per-week"), ("relationship", "sex"),
    ("relationship", "income>50K"), ("race", "native-country"), ("capital-gain", "income>50K"),
]


def true_marginal(data, domain, clique):
    """Exact counts of ``clique`` in ``data`` (flat, C order), by bincount on the flat cell index."""
    flat = np.ravel_multi_index(data[:, [domain.index(a) for a in clique]].T, domain.shape(clique))
    return np.bincount(flat, minlength=domain.cells(clique)).astype(float)


def exact_measurements(joint, total, cliques):
    return [Measurement(c, total * joint.sum(c).values, sigma=1.0) for c in cliques]


def test_exact_marginals_of_a_tree_are_recovered(tree_distribution):
    domain, joint, edges = tree_distribution
    cliques = [*edges[:-1], edges[-1][::-1], *((a,) for a in domain.attrs)]  # one edge axis-reversed
    measurements = exact_measurements(joint, 1000.0, cliques)
    model = estimate(domain, measurements, tol=1e-12, max_iters=5000)
    assert model.total == pytest.approx(1000.0)
    for m in measurements:
        np.testing.assert_allclose(model.marginal(m.clique), m.values, rtol=1e-6)
    total_variation = 0.5 * np.abs(model.marginal(domain.attrs) / 1000.0 - joint.values).sum()
    assert total_variation < 1e-6


def test_total_is_the_inverse_variance_weighted_mean():
    one = Measurement(("a",), [60.0, 40.0], sigma=1.0)  # total 100, variance 2
    two = Measurement(("a", "b"), np.full(8, 13.75), sigma=2.0)  # total 110, variance 32
    assert estimate_total([one, two]) == pytest.approx((100 / 2 + 110 / 32) / (1 / 2 + 1 / 32))
    assert estimate_total([Measurement(("a",), [-5.0, 1.0], sigma=1.0)]) == 1.0


def test_measurements_are_weighted_by_inverse_variance():
    """Two measurements of one margin, sigma 1 and 2, with the same total: the fit is their
    inverse-variance mean (weights 4 : 1), the maximum-likelihood combination, not the
    1/sigma-weighted one (2 : 1) that would give the noisier measurement twice its due."""
    domain = Domain(("a",), (3,))
    precise = Measurement(("a",), [50.0, 30.0, 20.0], sigma=1.0)
    noisy = Measurement(("a",), [20.0, 30.0, 50.0], sigma=2.0)
    model = estimate(domain, [precise, noisy], max_iters=2000, tol=0.0)
    expected = (4 * precise.values + noisy.values) / 5
    np.testing.assert_allclose(model.marginal(("a",)).ravel(), expected, atol=1e-6)


def test_a_cell_summing_k_noisy_counts_weighs_one_kth():
    """Domain compression's merged cell adds k noisy counts (variance k sigma^2): with
    precision 1/k the fit is each cell's inverse-variance mean under the fixed total, the
    Lagrange solution mu_i = (p_i y1_i + y2_i + lambda) / (p_i + 1)."""
    domain = Domain(("a",), (3,))
    precision = np.array([1.0, 1.0, 0.25])
    merged = Measurement(("a",), [50.0, 30.0, 20.0], sigma=1.0, precision=precision)
    other = Measurement(("a",), [20.0, 30.0, 50.0], sigma=1.0)
    total = 100.0
    model = estimate(domain, [merged, other], total=total, max_iters=4000, tol=0.0)
    lam = (total - np.sum((precision * merged.values + other.values) / (precision + 1))) / np.sum(1 / (precision + 1))
    expected = (precision * merged.values + other.values + lam) / (precision + 1)
    np.testing.assert_allclose(model.marginal(("a",)).ravel(), expected, atol=1e-5)
    assert estimate_total([merged]) == pytest.approx(100.0)
    assert merged.total_variance() == pytest.approx(6.0)  # 1 + 1 + 4 counts' worth


def test_merged_codes_carry_their_count_of_summed_cells():
    from dpsynth.generators.compression import merged_measurement

    merge = np.array([0, 2, 1, 2, 2])
    measurement = merged_measurement("a", np.array([5.0, 1.0, 7.0, -1.0, 2.0]), merge, sigma=2.0)
    np.testing.assert_allclose(measurement.values, [5.0, 7.0, 2.0])
    np.testing.assert_allclose(measurement.precision, [1.0, 1.0, 1 / 3])
    assert merged_measurement("a", np.array([1.0, 2.0]), None, sigma=2.0).precision is None
    with pytest.raises(ModelError, match="precision"):
        Measurement(("a",), [1.0, 2.0], sigma=1.0, precision=[1.0, 0.0])


def test_noisy_adult_marginals_are_denoised(adult):
    """The point of Private-PGM: the fitted marginals are closer to the truth than the noisy ones."""
    data, domain = adult
    rng = np.random.default_rng(2024)
    sigma = 10.0
    cliques = [(a,) for a in domain.attrs] + ADULT_TREE
    truth = {c: true_marginal(data, domain, c) for c in cliques}
    measurements = [Measurement(c, truth[c] + rng.normal(0, sigma, truth[c].size), sigma) for c in cliques]
    model = estimate(domain, measurements, max_iters=1000)

    noisy_error = {m.clique: np.abs(m.values - truth[m.clique]).sum() for m in measurements}
    fitted_error = {c: np.abs(model.marginal(c).ravel() - truth[c]).sum() for c in cliques}
    assert np.mean(list(fitted_error.values())) < 0.5 * np.mean(list(noisy_error.values()))
    for size in (1, 2):  # better on average for 1-way and 2-way alike
        subset = [c for c in cliques if len(c) == size]
        assert np.mean([fitted_error[c] for c in subset]) < np.mean([noisy_error[c] for c in subset])
    sd_total = (1 / sum(1 / (sigma**2 * m.values.size) for m in measurements)) ** 0.5
    assert abs(model.total - len(data)) < 5 * sd_total


def test_warm_start_continues_from_the_given_potentials(tree_distribution):
    domain, joint, edges = tree_distribution
    measurements = exact_measurements(joint, 500.0, edges)
    first = estimate(domain, measurements, max_iters=400)
    warm = estimate(domain, measurements, warm_start=first, max_iters=1)
    cold = estimate(domain, measurements, max_iters=1)

    def gap(model):
        return max(np.abs(model.marginal(m.clique) - m.values).max() for m in measurements)

    assert gap(warm) <= gap(first) < 0.01 * gap(cold)

    # A warm start may come from a model on other cliques: the new model covers both sets.
    extra = exact_measurements(joint, 500.0, [("a", "c")])
    grown = estimate(domain, measurements + extra, warm_start=first.potentials, max_iters=50)
    assert ("a", "c") in grown.cliques
    assert all(any(set(c) <= set(g) for g in grown.cliques) for c in first.cliques)
    assert gap(grown) < gap(cold)


def test_invalid_measurements_are_rejected():
    domain = Domain.from_dict({"a": 2, "b": 3})
    with pytest.raises(ValueError, match=r"\('a', 'b'\) has 5 values"):
        estimate(domain, [Measurement(("a", "b"), np.zeros(5), sigma=1.0)])
    with pytest.raises(ValueError, match="sigma must be positive"):
        Measurement(("a",), [1.0, 2.0], sigma=0.0)
    with pytest.raises(ValueError, match="'c' is not in the domain"):
        estimate(domain, [Measurement(("a", "c"), np.zeros(6), sigma=1.0)])
    with pytest.raises(ValueError, match="at least one measurement"):
        estimate(domain, [])
    with pytest.raises(ValueError, match="max_iters"):
        estimate(domain, [Measurement(("a",), [1.0, 2.0], sigma=1.0)], max_iters=0)


def test_estimate_refuses_a_model_over_the_cell_limit():
    domain = Domain.from_dict({"a": 50, "b": 50, "c": 50})
    measurements = [Measurement(c, np.ones(2500), sigma=1.0) for c in [("a", "b"), ("b", "c"), ("a", "c")]]
    with pytest.raises(ModelTooLarge, match=r"largest clique is \('a', 'b', 'c'\)"):
        estimate(domain, measurements, max_cells=10_000)


def test_fitted_model_is_a_graphical_model_over_the_measured_cliques(tree_distribution):
    domain, joint, edges = tree_distribution
    model = estimate(domain, exact_measurements(joint, 100.0, edges + [("a",)]), max_iters=5)
    assert isinstance(model, GraphicalModel)
    assert sorted(model.cliques) == sorted(edges)


def test_independent_start_pools_every_measurement_of_an_attribute():
    domain = Domain.from_dict({"a": 2, "b": 2})
    one_way = Measurement(("a",), [30.0, 10.0], sigma=1.0)  # per-cell variance 1
    two_way = Measurement(("b", "a"), [[20.0, 0.0], [20.0, -10.0]], sigma=1.0)  # onto a: 2 per cell
    start = independent_start(domain, [one_way, two_way], total=40.0)
    pooled_a = (np.array([30.0, 10.0]) + 0.5 * np.array([40.0, -10.0])) / 1.5
    np.testing.assert_allclose(np.exp(start[("a",)]), pooled_a / pooled_a.sum())
    np.testing.assert_allclose(np.exp(start[("b",)]), [20.0 / 30.0, 10.0 / 30.0])  # from the 2-way alone
    negative = independent_start(domain, [Measurement(("a",), [-5.0, 45.0], sigma=1.0)], total=40.0)
    floor = 1e-3 * 40.0 / 2  # 0.1% of a uniform cell
    np.testing.assert_allclose(np.exp(negative[("a",)]), np.array([floor, 45.0]) / (45.0 + floor))


def test_step_size_doubles_after_accepted_steps_and_warm_starts_resume_it(tree_distribution):
    domain, joint, edges = tree_distribution
    measurements = exact_measurements(joint, 500.0, edges)
    first = estimate(domain, measurements, max_iters=30)
    # Halvings and doublings of the safe step 1 / (2 L): a power of two, grown well past it.
    assert first.step_size >= 4 and np.log2(first.step_size) == int(np.log2(first.step_size))
    # One trial from a model starts at its step: accepted it doubles, rejected it halves.
    warm = estimate(domain, measurements, warm_start=first, max_iters=1)
    assert warm.step_size in (2 * first.step_size, first.step_size / 2)
    # Bare potentials carry no step: the search starts at the safe step again.
    cold = estimate(domain, measurements, warm_start=first.potentials, max_iters=1)
    assert cold.step_size in (2.0, 0.5)
    assert GraphicalModel.from_dict(first.to_dict()).step_size is None


def test_a_trial_step_with_a_non_finite_loss_is_refused(tree_distribution, monkeypatch):
    """A NaN in the Armijo test must fail it (the step halves, the potentials stay), not pass it."""
    from dpsynth.models import estimation

    domain, joint, edges = tree_distribution
    measurements = exact_measurements(joint, 500.0, edges)
    start = estimate(domain, measurements, max_iters=1, tol=0.0)
    monkeypatch.setattr(estimation._Loss, "curvature", lambda self, new, old: float("nan"))
    refit = estimate(domain, measurements, warm_start=start, max_iters=1, tol=0.0)
    assert refit.step_size == start.step_size / 2
    for clique, values in start.potentials.items():
        np.testing.assert_array_equal(refit.potentials[clique], values)


def _loss(model, measurements):
    """The Private-PGM loss of ``model`` on ``measurements`` (the module's weighting)."""
    return sum(np.sum((model.marginal(m.clique).ravel() - m.values) ** 2) / (2 * m.sigma**2) for m in measurements)


def test_noisy_adult_fit_gets_close_in_few_trials_and_refits_keep_improving(adult):
    """The step rule's point: 100 trials reach within 2x of the loss 1,000 reach (growing by 5%
    per accepted step only got within 2.8x), and a 40-trial warm-started refit of a converged fit
    still improves it by more than 0.1% (restarting from the safe step managed 0.015%)."""
    data, domain = adult
    rng = np.random.default_rng(0)
    cliques = ADULT_TREE + [(a,) for a in domain.attrs]
    noisy = [true_marginal(data, domain, c) + rng.normal(0.0, 20.0, domain.cells(c)) for c in cliques]
    measurements = [Measurement(c, y, sigma=20.0) for c, y in zip(cliques, noisy)]
    short = estimate(domain, measurements, max_iters=100, tol=0.0)
    long = estimate(domain, measurements, max_iters=1000, tol=0.0)
    assert _loss(short, measurements) < 2.0 * _loss(long, measurements)
    refit = estimate(domain, measurements, warm_start=long, max_iters=40, tol=0.0)
    assert _loss(refit, measurements) < 0.999 * _loss(long, measurements)


def test_discrepancy_stop_ends_before_the_fit_chases_the_noise(adult):
    """Stopped half-way from the least-squares floor of the residuals' chi-square back up to the
    cell count (the floor as its first pass finds it), the fit is closer to the true 2-way marginals (measured or not) than the same
    descent run to the floor."""
    data, domain = adult
    rng = np.random.default_rng(1)
    sigma = 40.0
    cliques = ADULT_TREE + [(a,) for a in domain.attrs]
    measurements = [Measurement(c, true_marginal(data, domain, c) + rng.normal(0.0, sigma, domain.cells(c)), sigma)
                    for c in cliques]
    cells = sum(m.values.size for m in measurements)
    converged = estimate(domain, measurements, max_iters=3000)
    stopped = estimate(domain, measurements, max_iters=3000, discrepancy=0.5)
    assert _chi_square(converged, measurements) < _chi_square(stopped, measurements) < cells

    def pair_error(model):
        pairs = [(a, b) for i, a in enumerate(domain.attrs) for b in domain.attrs[i + 1:]]
        return np.mean([np.abs(model.marginal(p).ravel() - true_marginal(data, domain, p)).sum() for p in pairs])

    assert pair_error(stopped) < 0.95 * pair_error(converged)


def test_discrepancy_second_pass_resumes_exactly_from_a_snapshot(adult, monkeypatch):
    """Resuming from the first pass's last snapshot before the stop gives the very model that
    retracing the whole descent from the start gives (snapshots every 7 trials, at most 4, so
    they are thinned; a huge interval means no snapshot past the start)."""
    import dpsynth.models.estimation as estimation

    data, domain = adult
    rng = np.random.default_rng(2)
    cliques = ADULT_TREE + [(a,) for a in domain.attrs]
    measurements = [Measurement(c, true_marginal(data, domain, c) + rng.normal(0.0, 30.0, domain.cells(c)), 30.0)
                    for c in cliques]
    monkeypatch.setattr(estimation, "SNAPSHOT_INTERVAL", 7)
    monkeypatch.setattr(estimation, "MAX_SNAPSHOTS", 4)
    resumed = estimate(domain, measurements, max_iters=400, discrepancy=0.3)
    monkeypatch.setattr(estimation, "SNAPSHOT_INTERVAL", 10**9)
    retraced = estimate(domain, measurements, max_iters=400, discrepancy=0.3)
    assert resumed.step_size == retraced.step_size
    for clique in retraced.potentials:
        np.testing.assert_array_equal(resumed.potentials[clique], retraced.potentials[clique])


def test_discrepancy_must_be_a_fraction():
    measurement = Measurement(("a",), [60.0, 40.0], sigma=1.0)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="discrepancy"):
            estimate(Domain(("a",), (2,)), [measurement], discrepancy=bad)


def _chi_square(model, measurements):
    return sum(float(np.sum((model.marginal(m.clique).ravel() - m.values) ** 2)) / m.sigma**2 for m in measurements)


def _noisy_adult_tree(adult, sigma, seed):
    data, domain = adult
    rng = np.random.default_rng(seed)
    cliques = ADULT_TREE + [(a,) for a in domain.attrs]
    return domain, [Measurement(c, true_marginal(data, domain, c) + rng.normal(0.0, sigma, domain.cells(c)), sigma)
                    for c in cliques]


def _counting_trials(monkeypatch):
    """Record the trial steps of each pass of :func:`estimate` (one list entry per pass)."""
    import dpsynth.models.estimation as estimation

    passes: list[int] = []
    descend = estimation._descend

    def counted(*args, **kwargs):
        theta, alpha, history = descend(*args, **kwargs)
        passes.append(len(history) - 1)
        return theta, alpha, history

    monkeypatch.setattr(estimation, "_descend", counted)
    return passes


@pytest.mark.parametrize("scale", [100.0, 1000.0])
def test_measurements_in_other_units_take_the_same_steps(adult, monkeypatch, scale):
    """Counts and their noise multiplied by one factor (the same table counted in other units) give
    the same steps in both passes of the stop and the same distribution: step sizes, tolerance and
    stopping rule are free of the scale."""
    domain, measurements = _noisy_adult_tree(adult, 30.0, 3)
    passes = _counting_trials(monkeypatch)
    model = estimate(domain, measurements, max_iters=2000, discrepancy=0.5)
    scaled = [Measurement(m.clique, scale * m.values, scale * m.sigma) for m in measurements]
    rescaled = estimate(domain, scaled, max_iters=2000, discrepancy=0.5)
    assert passes[: len(passes) // 2] == passes[len(passes) // 2:]
    for clique in model.cliques:
        np.testing.assert_allclose(rescaled.marginal(clique) / scale, model.marginal(clique), rtol=1e-6, atol=1e-6)


def test_the_descent_path_is_free_of_the_total(adult):
    """Counts multiplied by 1000 under the same noise (a table 1000 times larger) follow the same
    path of distributions step by step: the step sizes are normalised by the total. Only the stop
    reads the noise level, which is smaller next to the larger counts."""
    domain, measurements = _noisy_adult_tree(adult, 30.0, 4)
    larger = [Measurement(m.clique, 1000.0 * m.values, m.sigma) for m in measurements]
    for steps in (10, 200):
        small = estimate(domain, measurements, max_iters=steps)
        large = estimate(domain, larger, max_iters=steps)
        for clique in small.cliques:
            np.testing.assert_allclose(large.marginal(clique) / large.total, small.marginal(clique) / small.total,
                                       rtol=1e-6, atol=1e-9)


def test_a_stop_at_the_first_pass_end_keeps_its_state(adult, monkeypatch):
    """Counts large next to their noise keep the chi-square above the cell count for all the
    trials allowed: the stop is the first pass's last trial, whose state is kept without a second
    pass, and it is the model that many plain trials give."""
    domain, measurements = _noisy_adult_tree(adult, 0.01, 5)
    passes = _counting_trials(monkeypatch)
    stopped = estimate(domain, measurements, max_iters=60, discrepancy=0.5)
    assert passes == [60]
    plain = estimate(domain, measurements, max_iters=60)
    assert stopped.step_size == plain.step_size
    for clique in plain.potentials:
        np.testing.assert_array_equal(stopped.potentials[clique], plain.potentials[clique])
