"""Domain bookkeeping and factor arithmetic against direct numpy computations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dpsynth.models import Domain, Factor
from dpsynth.models.factor import logsumexp


def test_domain_keeps_order_and_sizes():
    domain = Domain.from_dict({"x": 3, "y": 2, "z": 4})
    assert domain.attrs == ("x", "y", "z")
    assert domain.shape(("z", "x")) == (4, 3)
    assert domain.cells(("x", "y", "z")) == 24
    assert domain.cells(()) == 1
    assert domain.canonical(["z", "x", "z"]) == ("x", "z")
    assert Domain.from_dict(domain.to_dict()) == domain


def test_domain_rejects_bad_input():
    with pytest.raises(ValueError, match="'w' is not in the domain"):
        Domain.from_dict({"x": 3}).size("w")
    with pytest.raises(ValueError, match="sizes must be >= 1"):
        Domain(("x",), (0,))
    with pytest.raises(ValueError, match="unique"):
        Domain(("x", "x"), (2, 2))


def test_binary_ops_broadcast_on_the_union():
    domain = Domain.from_dict({"a": 2, "b": 3, "c": 4})
    rng = np.random.default_rng(0)
    f = Factor(("b", "a"), rng.normal(size=(3, 2)))
    g = Factor(("c", "b"), rng.normal(size=(4, 3)))
    h = (f + g).transpose(("a", "b", "c"))
    expected = f.values.T[:, :, None] + g.values.T[None, :, :]
    np.testing.assert_allclose(h.values, expected)
    expanded = f.expand(domain, ("a", "b", "c")).values
    np.testing.assert_allclose(expanded, np.broadcast_to(f.values.T[:, :, None], (2, 3, 4)))


def test_sum_and_logsumexp_marginalise_in_the_requested_order():
    rng = np.random.default_rng(1)
    values = rng.normal(size=(2, 3, 4))
    f = Factor(("a", "b", "c"), values)
    np.testing.assert_allclose(f.sum(("c", "a")).values, values.sum(axis=1).T)
    np.testing.assert_allclose(f.logsumexp(("b",)).values, np.log(np.exp(values).sum(axis=(0, 2))))
    assert f.sum(()).values.shape == ()
    np.testing.assert_allclose(f.log_normalize().exp().values.sum(), 1.0)


def test_logsumexp_handles_extremes():
    x = np.array([[1000.0, 1000.0], [-np.inf, -np.inf]])
    out = logsumexp(x, axis=1)
    assert out[0] == pytest.approx(1000 + np.log(2))
    assert out[1] == -np.inf


def test_factor_rejects_mismatched_axes():
    with pytest.raises(ValueError, match="one axis per distinct attribute"):
        Factor(("a", "b"), np.zeros(3))
    with pytest.raises(ValueError, match="would be lost"):
        Factor(("a", "b"), np.zeros((2, 2))).aligned(("a",))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.data())
def test_logsumexp_onto_any_subset_matches_numpy(sizes, data):
    attrs = tuple("abcd"[: len(sizes)])
    order = data.draw(st.permutations(attrs))
    keep = tuple(order[: data.draw(st.integers(0, len(order)))])
    values = np.random.default_rng(len(sizes)).normal(size=sizes) * 5
    f = Factor(attrs, values)
    direct = np.log(np.exp(values).sum(axis=tuple(i for i, a in enumerate(attrs) if a not in keep)))
    kept_order = [a for a in attrs if a in keep]
    direct = np.transpose(direct, [kept_order.index(a) for a in keep]) if keep else direct
    np.testing.assert_allclose(f.logsumexp(keep).values, direct, rtol=1e-12)
