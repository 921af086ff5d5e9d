"""Junction trees: every measured clique covered, running intersection, refusal when too large."""

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dpsynth.errors import ModelTooLarge
from dpsynth.models import Domain, build_junction_tree, model_size


def assert_valid_junction_tree(domain, cliques, tree):
    """Coverage of cliques and attributes, a single tree, and the running-intersection property."""
    sets = [set(c) for c in tree.cliques]
    for clique in cliques:
        assert any(set(clique) <= s for s in sets), clique
    assert set().union(*sets) == set(domain.attrs)
    graph = nx.Graph()
    graph.add_nodes_from(range(len(sets)))
    graph.add_edges_from((i, p) for i, p in enumerate(tree.parent) if p is not None)
    assert nx.is_tree(graph)
    assert sorted(tree.order) == list(range(len(sets))) and tree.parent[tree.order[0]] is None
    for i, p in enumerate(tree.parent):
        if p is not None:
            assert set(tree.separator[i]) == sets[i] & sets[p]
            assert tree.order.index(p) < tree.order.index(i)
    for attr in domain.attrs:
        holding = [i for i, s in enumerate(sets) if attr in s]
        assert nx.is_connected(graph.subgraph(holding)), attr


def test_cycle_is_triangulated_into_a_valid_tree():
    domain = Domain.from_dict({"A": 2, "B": 3, "C": 4, "D": 5})
    cycle = [("A", "B"), ("B", "C"), ("C", "D"), ("D", "A")]
    tree = build_junction_tree(domain, cycle)
    assert_valid_junction_tree(domain, cycle, tree)
    # A 4-cycle needs one chord: two triangles sharing it.
    assert sorted(len(c) for c in tree.cliques) == [3, 3]
    assert tree.size() == model_size(domain, cycle)


def test_tree_of_pairs_needs_no_fill_in():
    domain = Domain.from_dict({"a": 85, "b": 2, "c": 2, "d": 100, "e": 9})
    pairs = [("a", "b"), ("b", "c"), ("c", "d"), ("b", "e")]
    tree = build_junction_tree(domain, pairs)
    assert sorted(tree.cliques) == sorted(pairs)


def test_unmeasured_and_disconnected_attributes_join_one_tree():
    domain = Domain.from_dict({"a": 2, "b": 2, "c": 3, "d": 2, "e": 4})
    cliques = [("a", "b"), ("c", "d")]
    tree = build_junction_tree(domain, cliques)
    assert_valid_junction_tree(domain, cliques, tree)
    assert ("e",) in tree.cliques


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_clique_sets_give_valid_trees(data):
    n = data.draw(st.integers(2, 8))
    sizes = data.draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
    domain = Domain(tuple(f"x{i}" for i in range(n)), tuple(sizes))
    subsets = st.lists(st.sampled_from(domain.attrs), min_size=1, max_size=3, unique=True).map(tuple)
    cliques = data.draw(st.lists(subsets, min_size=1, max_size=8))
    tree = build_junction_tree(domain, cliques)
    assert_valid_junction_tree(domain, cliques, tree)


def test_too_large_model_is_refused_with_a_clear_message():
    domain = Domain.from_dict({"a": 100, "b": 100, "c": 100, "d": 2})
    cliques = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
    assert model_size(domain, cliques) == 100**3 + 200
    with pytest.raises(ModelTooLarge) as info:
        build_junction_tree(domain, cliques, max_cells=10**5)
    message = str(info.value)
    assert "('a', 'b', 'c')" in message and "1,000,000 cells" in message
    assert "max_cells=100,000" in message and "MiB" in message
    assert isinstance(info.value, ValueError)
    build_junction_tree(domain, cliques, max_cells=10**6 + 200)


def test_containing_picks_the_smallest_clique():
    domain = Domain.from_dict({"a": 2, "b": 2, "c": 2, "d": 9})
    tree = build_junction_tree(domain, [("a", "b", "c"), ("a", "d")])
    assert tree.cliques[tree.containing(("a",))] == ("a", "b", "c")
    assert tree.cliques[tree.containing(("a", "d"))] == ("a", "d")
    assert tree.containing(("b", "d")) is None
