"""Belief propagation and marginals against brute-force enumeration of the joint."""

import itertools

import numpy as np
import pytest

from dpsynth.models import Domain, Factor, GraphicalModel


def test_log_partition_matches_enumeration(loopy_model):
    domain, potentials, _ = loopy_model
    log_joint = Factor.zeros(domain, domain.attrs)
    for clique, values in potentials.items():
        log_joint = log_joint + Factor(clique, values)
    expected = float(np.log(np.exp(log_joint.values).sum()))
    assert GraphicalModel(domain, potentials, total=1.0).log_partition == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("size", [1, 2, 3])
def test_every_marginal_matches_enumeration(loopy_model, size):
    """All 1-, 2- and 3-way marginals, in clique or not (those go through variable elimination)."""
    domain, potentials, joint = loopy_model
    model = GraphicalModel(domain, potentials, total=250.0)
    for attrs in itertools.permutations(domain.attrs, size):
        expected = 250.0 * joint.sum(attrs).values
        np.testing.assert_allclose(model.marginal(attrs), expected, rtol=1e-10, atol=1e-12)


def test_full_joint_and_empty_marginal(loopy_model):
    domain, potentials, joint = loopy_model
    model = GraphicalModel(domain, potentials, total=10.0)
    reversed_attrs = domain.attrs[::-1]
    expected = 10.0 * joint.transpose(reversed_attrs).values
    np.testing.assert_allclose(model.marginal(reversed_attrs), expected, rtol=1e-10)
    assert model.marginal(()) == pytest.approx(10.0)


def test_overlapping_marginals_are_consistent(loopy_model):
    domain, potentials, _ = loopy_model
    model = GraphicalModel(domain, potentials, total=1234.0)
    cliques = model.junction_tree.cliques
    for first, second in itertools.combinations(cliques, 2):
        shared = tuple(a for a in first if a in second)
        mu_first, mu_second = model.marginal(first), model.marginal(second)
        assert mu_first.sum() == pytest.approx(1234.0) and mu_second.sum() == pytest.approx(1234.0)
        if shared:
            def onto(mu, clique, shared=shared):
                return mu.sum(axis=tuple(i for i, a in enumerate(clique) if a not in shared))

            np.testing.assert_allclose(onto(mu_first, first), onto(mu_second, second), rtol=1e-10)


def test_marginal_rejects_unknown_attribute(loopy_model):
    domain, potentials, _ = loopy_model
    with pytest.raises(ValueError, match="'Z' is not in the domain"):
        GraphicalModel(domain, potentials, total=1.0).marginal(("A", "Z"))


def test_marginal_across_cliques_survives_a_separator_cell_of_denormal_mass():
    """A fit at the polytope's boundary leaves cells of mass near e^-740 (denormal): their
    inverse overflows to inf, and inf times 0 made the whole marginal NaN."""
    domain = Domain(("a", "b", "c"), (2, 3, 2))
    rng = np.random.default_rng(0)
    ab, bc = rng.normal(size=(2, 3)), rng.normal(size=(3, 2))
    ab[:, 0] -= 740.0
    model = GraphicalModel(domain, {("a", "b"): ab, ("b", "c"): bc}, total=100.0)
    joint = np.exp(ab[:, :, None] + bc[None, :, :])
    expected = 100.0 * joint.sum(axis=1) / joint.sum()
    np.testing.assert_allclose(model.marginal(("a", "c")), expected, rtol=1e-10)

