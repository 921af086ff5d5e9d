"""Junction trees: every measured clique covered, running intersection, refusal when too large."""

import itertools
import math

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dpsynth.errors import ModelTooLarge
from dpsynth.models import Domain, build_junction_tree, model_size
from dpsynth.models.junction_tree import GraphSizes, _elimination_cliques


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


def _one_at_a_time(domain, edges, by_weight):
    """Greedy elimination written plainly: one attribute a step, every cost recomputed."""
    size = dict(zip(domain.attrs, domain.sizes))
    nbrs = {a: set() for a in domain.attrs}
    for a, b in edges:
        nbrs[a].add(b)
        nbrs[b].add(a)

    def cost(v):
        fill = sum(size[a] * size[b] for a, b in itertools.combinations(nbrs[v], 2) if b not in nbrs[a])
        cells = size[v] * math.prod(size[a] for a in nbrs[v])
        return (cells, fill, domain.index(v)) if by_weight else (fill, cells, domain.index(v))

    formed = []
    while nbrs:
        v = min(nbrs, key=cost)
        around = nbrs.pop(v)
        formed.append(frozenset([v, *around]))
        for a in around:
            nbrs[a] |= around - {a}
            nbrs[a].discard(v)
    return {c for c in formed if not any(c < other for other in formed)}


def _graphs(data, max_attrs):
    n = data.draw(st.integers(2, max_attrs))
    sizes = data.draw(st.lists(st.sampled_from([2, 3, 5, 12, 40, 300]), min_size=n, max_size=n))
    domain = Domain(tuple(f"x{i}" for i in range(n)), tuple(sizes))
    subsets = st.lists(st.sampled_from(domain.attrs), min_size=1, max_size=3, unique=True).map(tuple)
    return domain, data.draw(st.lists(subsets, max_size=2 * n)), subsets


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_vectorised_elimination_forms_the_cliques_of_one_attribute_a_step(data):
    domain, cliques, _ = _graphs(data, 12)
    edges = frozenset(frozenset(p) for c in cliques for p in itertools.combinations(c, 2))
    for by_weight in (False, True):
        found = _elimination_cliques(domain, edges, by_weight)
        assert {frozenset(c) for c in found} == _one_at_a_time(domain, edges, by_weight)
        assert len(found) == len(set(found))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_graph_sizes_agree_with_model_size(data):
    """Per-component triangulation gives model_size exactly; with a limit, the same verdict."""
    domain, cliques, subsets = _graphs(data, 14)
    sizes = GraphSizes(domain, cliques)
    assert sizes.size() == model_size(domain, cliques)
    for candidate in data.draw(st.lists(subsets, min_size=1, max_size=5)):
        exact = model_size(domain, [*cliques, candidate])
        assert sizes.with_clique(candidate) == exact
        limit = data.draw(st.sampled_from([exact // 2, exact, 2 * exact]))
        bound = sizes.with_clique(candidate, limit)
        assert bound >= exact and (bound <= limit) == (exact <= limit)
