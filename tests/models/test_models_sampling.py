"""Sampling matches the model's marginals; fitted models round-trip through dict, JSON and npz."""

import itertools
import json

import numpy as np
import pytest

from dpsynth.models import Domain, GraphicalModel

N_ROWS = 200_000


def empirical(rows, domain, attrs):
    """Empirical probabilities of ``attrs`` in sampled rows, shaped like a marginal."""
    flat = np.ravel_multi_index(rows[:, [domain.index(a) for a in attrs]].T, domain.shape(attrs))
    return np.bincount(flat, minlength=domain.cells(attrs)).reshape(domain.shape(attrs)) / len(rows)


@pytest.fixture
def loopy_graphical_model(loopy_model):
    domain, potentials, _ = loopy_model
    return GraphicalModel(domain, potentials, total=500.0)


def test_samples_match_one_and_two_way_marginals(loopy_graphical_model):
    model = loopy_graphical_model
    domain = model.domain
    rows = model.sample(N_ROWS, np.random.default_rng(11))
    assert rows.shape == (N_ROWS, len(domain)) and rows.dtype == np.int64
    assert np.all((rows >= 0) & (rows < np.array(domain.sizes)))
    # Each probability's standard error is at most 0.5 / sqrt(n); 5 / sqrt(n) is 10 of them.
    bound = 5 / np.sqrt(N_ROWS)
    for size in (1, 2):
        for attrs in itertools.combinations(domain.attrs, size):
            deviation = np.abs(empirical(rows, domain, attrs) - model.marginal(attrs) / model.total).max()
            assert deviation < bound, (attrs, deviation)


def test_three_way_sample_matches_the_exact_joint(loopy_model):
    """A chi-square goodness-of-fit test over the full joint (216 cells), at a 1e-4 false-alarm rate."""
    from scipy import stats

    domain, potentials, joint = loopy_model
    rows = GraphicalModel(domain, potentials, total=1.0).sample(N_ROWS, np.random.default_rng(5))
    observed = empirical(rows, domain, domain.attrs).ravel() * N_ROWS
    expected = joint.values.ravel() * N_ROWS
    assert stats.chisquare(observed, expected).pvalue > 1e-4


def test_same_seed_same_sample(loopy_graphical_model):
    first = loopy_graphical_model.sample(1000, np.random.default_rng(3))
    again = loopy_graphical_model.sample(1000, np.random.default_rng(3))
    other = loopy_graphical_model.sample(1000, np.random.default_rng(4))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_sample_arguments_are_checked(loopy_graphical_model):
    assert loopy_graphical_model.sample(0, np.random.default_rng(0)).shape == (0, 6)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        loopy_graphical_model.sample(10, 0)
    with pytest.raises(ValueError, match="n_rows"):
        loopy_graphical_model.sample(-1, np.random.default_rng(0))


def test_near_zero_cells_are_never_drawn():
    domain = Domain.from_dict({"a": 3, "b": 4})
    potentials = {("a", "b"): np.where(np.eye(3, 4) > 0, 0.0, -700.0)}
    rows = GraphicalModel(domain, potentials, total=1.0).sample(50_000, np.random.default_rng(1))
    assert np.all(rows[:, 1] == rows[:, 0])


def test_round_trip_through_json_and_npz(loopy_graphical_model, tmp_path):
    model = loopy_graphical_model
    restored = GraphicalModel.from_dict(json.loads(json.dumps(model.to_dict())))
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = GraphicalModel.load(path)
    for other in (restored, loaded):
        assert other.domain == model.domain and other.total == model.total
        for attrs in [("A", "C"), ("D", "E", "F"), ("B",)]:
            np.testing.assert_allclose(other.marginal(attrs), model.marginal(attrs), rtol=1e-12)
        rows = other.sample(100, np.random.default_rng(9))
        np.testing.assert_array_equal(rows, model.sample(100, np.random.default_rng(9)))


def test_model_rejects_bad_potentials(loopy_model):
    domain, _, _ = loopy_model
    with pytest.raises(ValueError, match="shape"):
        GraphicalModel(domain, {("A", "B"): np.zeros((3, 2))}, total=1.0)
    with pytest.raises(ValueError, match="finite"):
        GraphicalModel(domain, {("A",): np.array([0.0, -np.inf])}, total=1.0)


def test_draws_are_stratified_within_each_separator_group_and_each_row_stays_exact(loopy_graphical_model):
    """Every separator group's counts of each value are n p rounded down or up, where
    independent draws would scatter them by about sqrt(n p); and a single row, drawn many
    times, still follows the model's marginal."""
    model = loopy_graphical_model
    domain, tree = model.domain, model.junction_tree
    rows = model.sample(5000, np.random.default_rng(3))
    root = tree.cliques[tree.order[0]]
    expected = 5000 * model.marginal(root) / model.total
    counts = empirical(rows, domain, root) * 5000
    assert np.all(np.abs(counts - expected) < 1 + 1e-9)
    rng = np.random.default_rng(4)
    singles = np.concatenate([model.sample(1, rng) for _ in range(4000)])
    attr = domain.attrs[-1]
    probabilities = model.marginal((attr,)) / model.total
    observed = empirical(singles, domain, (attr,))
    assert np.all(np.abs(observed - probabilities) < 4 * np.sqrt(probabilities * (1 - probabilities) / 4000) + 1e-3)
