"""Shared fixtures for the model engine: small exact distributions and the Adult table."""

import json

import numpy as np
import pytest

from dpsynth.models import Domain, Factor
from tests.conftest import shared_data


@pytest.fixture(scope="session")
def adult():
    """Private-pgm's Adult as integer codes (48,842 rows) and its public domain. The estimation
    tests' limits were set on its domain sizes, so they skip where ../shared is absent."""
    folder = shared_data("adult", "private-pgm")
    domain = Domain.from_dict(json.loads((folder / "adult-domain.json").read_text()))
    data = np.loadtxt(folder / "adult.csv", delimiter=",", skiprows=1, dtype=np.int64)
    return data, domain


@pytest.fixture
def tree_distribution():
    """A tree-structured joint on 5 attributes (sizes 2..6): p(a) p(b|a) p(c|b) p(d|b) p(e|d).

    Conditionals are Dirichlet(5) draws, so no cell is extremely rare; returns the domain, the
    joint as a Factor of probabilities, and the tree's edges.
    """
    rng = np.random.default_rng(7)
    domain = Domain(("a", "b", "c", "d", "e"), (3, 5, 2, 6, 4))

    def conditional(parent: int, child: int) -> np.ndarray:
        return rng.dirichlet(np.full(child, 5.0), size=parent)

    joint = np.einsum(
        "a,ab,bc,bd,de->abcde", rng.dirichlet(np.full(3, 5.0)),
        conditional(3, 5), conditional(5, 2), conditional(5, 6), conditional(6, 4),
    )
    return domain, Factor(domain.attrs, joint), [("a", "b"), ("b", "c"), ("b", "d"), ("d", "e")]


def _brute_force_joint(domain: Domain, potentials: dict) -> Factor:
    """The normalised joint over the whole (small) domain, by summing potentials on a full table."""
    log_joint = Factor.zeros(domain, domain.attrs)
    for clique, values in potentials.items():
        log_joint = log_joint + Factor(clique, values)
    probs = np.exp(log_joint.values - log_joint.values.max())
    return Factor(domain.attrs, probs / probs.sum())


@pytest.fixture
def loopy_model():
    """Random potentials on a model with a cycle and a 3-way clique, and its brute-force joint.

    Cliques A-B, B-C, C-D, D-A, (D, E, F): the junction tree needs fill-in, and (A, C) or (B, E)
    lie in no single clique, so every inference path is exercised. Small enough to enumerate.
    """
    domain = Domain(("A", "B", "C", "D", "E", "F"), (2, 3, 4, 3, 2, 3))
    cliques = [("A", "B"), ("B", "C"), ("C", "D"), ("D", "A"), ("D", "E", "F")]
    rng = np.random.default_rng(3)
    potentials = {c: rng.normal(size=domain.shape(c)) for c in cliques}
    return domain, potentials, _brute_force_joint(domain, potentials)
