"""Conditional sampling and reweighting against the brute-force joint of small models."""

import itertools

import numpy as np
import pytest
from scipy import stats

from dpsynth.models import Domain, Factor, GraphicalModel, ZeroProbabilityError

N_ROWS = 200_000
# Evidence on attributes in different cliques of the loopy model (C is in a 2-cycle, F in a 3-way clique).
EVIDENCE = {"C": [0, 2], "F": [1]}


def empirical(rows, domain, attrs):
    flat = np.ravel_multi_index(rows[:, [domain.index(a) for a in attrs]].T, domain.shape(attrs))
    return np.bincount(flat, minlength=domain.cells(attrs)).reshape(domain.shape(attrs)) / len(rows)


def restricted_joint(domain, joint, evidence=None, weights=None):
    """The brute-force joint times the evidence indicators and the weights, renormalised."""
    values = joint.values.copy()
    for attr, codes in (evidence or {}).items():
        mask = np.zeros(domain.size(attr))
        mask[codes] = 1.0
        values = values * Factor((attr,), mask).aligned(domain.attrs)
    for attr, w in (weights or {}).items():
        values = values * Factor((attr,), np.asarray(w, dtype=float)).aligned(domain.attrs)
    return Factor(domain.attrs, values / values.sum()), values.sum()


@pytest.fixture
def model(loopy_model):
    domain, potentials, _ = loopy_model
    return GraphicalModel(domain, potentials, total=300.0)


def test_conditional_marginals_match_enumeration(model, loopy_model):
    domain, _, joint = loopy_model
    expected, mass = restricted_joint(domain, joint, EVIDENCE)
    assert model.evidence_probability(EVIDENCE) == pytest.approx(mass, rel=1e-10)
    for size in (1, 2, 3):
        for attrs in itertools.combinations(domain.attrs, size):
            np.testing.assert_allclose(
                model.conditional_marginal(attrs, EVIDENCE), expected.sum(attrs).values, rtol=1e-9, atol=1e-14
            )


def test_conditional_sample_matches_the_exact_conditional(model, loopy_model):
    """Every row satisfies the evidence; chi-square over the joint's allowed cells at a 1e-4 false-alarm rate."""
    domain, _, joint = loopy_model
    rows = model.sample(N_ROWS, np.random.default_rng(21), evidence=EVIDENCE)
    assert rows.shape == (N_ROWS, len(domain)) and rows.dtype == np.int64
    assert np.isin(rows[:, domain.index("C")], EVIDENCE["C"]).all()
    assert np.all(rows[:, domain.index("F")] == 1)
    expected, _ = restricted_joint(domain, joint, EVIDENCE)
    allowed = expected.values.ravel() > 0
    observed = empirical(rows, domain, domain.attrs).ravel() * N_ROWS
    assert observed[~allowed].sum() == 0
    assert stats.chisquare(observed[allowed], expected.values.ravel()[allowed] * N_ROWS).pvalue > 1e-4
    # The test has power: the unconditional distribution of A differs by far more than the bound.
    bound = 5 / np.sqrt(N_ROWS)
    conditional_a = expected.sum(("A",)).values
    assert np.abs(empirical(rows, domain, ("A",)) - conditional_a).max() < bound
    assert np.abs(joint.sum(("A",)).values - conditional_a).max() > 3 * bound


def test_weights_reweight_the_joint_exactly(model, loopy_model):
    domain, _, joint = loopy_model
    weights = {"B": [0.2, 0.0, 3.0], "E": [1.0, 0.5]}
    expected, _ = restricted_joint(domain, joint, weights=weights)
    for attrs in [("B",), ("A", "C"), ("B", "E", "F"), domain.attrs]:
        np.testing.assert_allclose(
            model.conditional_marginal(attrs, weights=weights), expected.sum(attrs).values, rtol=1e-9, atol=1e-14
        )
    rows = model.sample(N_ROWS, np.random.default_rng(8), weights=weights)
    assert not np.any(rows[:, domain.index("B")] == 1)  # weight zero excludes the code
    allowed = expected.values.ravel() > 0
    observed = empirical(rows, domain, domain.attrs).ravel() * N_ROWS
    assert stats.chisquare(observed[allowed], expected.values.ravel()[allowed] * N_ROWS).pvalue > 1e-4


def test_rebalance_weights_give_the_target_marginal(model, loopy_model):
    """One attribute: target / marginal, exactly; the weighted joint is the brute-force reweighting."""
    domain, _, joint = loopy_model
    target = np.array([0.5, 0.3, 0.2])
    weights = model.rebalance_weights({"B": target})
    marginal_b = joint.sum(("B",)).values
    np.testing.assert_allclose(weights["B"] / weights["B"].max(), (target / marginal_b) / (target / marginal_b).max())
    expected, _ = restricted_joint(domain, joint, weights=weights)
    np.testing.assert_allclose(expected.sum(("B",)).values, target, atol=1e-12)
    found = model.conditional_marginal(("B", "D"), weights=weights)
    np.testing.assert_allclose(found, expected.sum(("B", "D")).values, atol=1e-12)
    # The other attributes keep the model's conditional law given B.
    given_b = joint.sum(("B", "D")).values / marginal_b[:, None]
    np.testing.assert_allclose(expected.sum(("B", "D")).values / target[:, None], given_b, rtol=1e-9)
    rows = model.sample(N_ROWS, np.random.default_rng(4), weights=weights)
    assert np.abs(empirical(rows, domain, ("B",)) - target).max() < 5 / np.sqrt(N_ROWS)


def test_raking_meets_several_targets_under_evidence(model, loopy_model):
    domain, _, joint = loopy_model
    targets = {"B": [0.6, 0.0, 0.4], "E": [0.25, 0.75]}
    evidence = {"F": [0, 2]}
    weights = model.rebalance_weights(targets, evidence=evidence)
    assert weights["B"][1] == 0
    expected, _ = restricted_joint(domain, joint, evidence, weights)
    for attr, target in targets.items():
        np.testing.assert_allclose(expected.sum((attr,)).values, target, atol=1e-9)
        np.testing.assert_allclose(model.conditional_marginal((attr,), evidence, weights), target, atol=1e-9)
    rows = model.sample(N_ROWS, np.random.default_rng(6), evidence=evidence, weights=weights)
    assert np.isin(rows[:, domain.index("F")], [0, 2]).all()
    for attr, target in targets.items():
        assert np.abs(empirical(rows, domain, (attr,)) - target).max() < 5 / np.sqrt(N_ROWS)


def test_zero_probability_evidence_raises():
    # Code 1 of "a" has probability exp(-1000) / ..., which is 0.0 in float64: the marginal reports 0.
    domain = Domain.from_dict({"a": 3, "b": 2})
    model = GraphicalModel(domain, {("a",): np.array([0.0, -1000.0, 0.0]), ("a", "b"): np.zeros((3, 2))}, total=10.0)
    assert model.marginal(("a",))[1] == 0.0
    with pytest.raises(ZeroProbabilityError, match=r"\['a'\].*zero probability"):
        model.sample(10, np.random.default_rng(0), evidence={"a": [1]})
    with pytest.raises(ValueError, match="zero probability"):
        model.conditional_marginal(("b",), {"a": [1]})
    assert model.evidence_probability({"a": [1]}) == 0.0
    with pytest.raises(ZeroProbabilityError, match="keep no code"):
        model.sample(10, np.random.default_rng(0), evidence={"a": []})
    with pytest.raises(ZeroProbabilityError, match="keep no code"):
        model.sample(10, np.random.default_rng(0), evidence={"a": [0]}, weights={"a": [0.0, 1.0, 1.0]})
    with pytest.raises(ZeroProbabilityError, match="target for 'a'"):
        model.rebalance_weights({"a": [0.5, 0.5, 0.0]})
    # Rare but representable codes are fine, and drawn exactly.
    rows = model.sample(100, np.random.default_rng(0), evidence={"a": [0, 1]})
    assert np.all(rows[:, 0] == 0)


def test_bad_evidence_and_weights_are_refused(model):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="not in the domain"):
        model.sample(10, rng, evidence={"Z": [0]})
    with pytest.raises(ValueError, match=r"0\.\.1"):
        model.sample(10, rng, evidence={"A": [2]})
    with pytest.raises(ValueError, match="integer codes"):
        model.sample(10, rng, evidence={"A": [0.5]})
    with pytest.raises(ValueError, match="shape"):
        model.sample(10, rng, weights={"A": [1.0]})
    with pytest.raises(ValueError, match="non-negative"):
        model.sample(10, rng, weights={"A": [1.0, -1.0]})
    with pytest.raises(ValueError, match="sum to 1"):
        model.rebalance_weights({"A": [0.5, 0.6]})


def test_plain_sampling_is_unchanged_and_seeded(model):
    plain = model.sample(500, np.random.default_rng(3))
    np.testing.assert_array_equal(plain, model.sample(500, np.random.default_rng(3), evidence=None, weights={}))
    first = model.sample(500, np.random.default_rng(3), evidence=EVIDENCE)
    np.testing.assert_array_equal(first, model.sample(500, np.random.default_rng(3), evidence=EVIDENCE))
    # Evidence that allows every code is no evidence at all.
    everything = {"A": [0, 1]}
    found = model.conditional_marginal(("B", "C"), everything)
    np.testing.assert_allclose(found, model.marginal(("B", "C")) / model.total)
