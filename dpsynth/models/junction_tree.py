"""Junction tree of a set of cliques, and the model-size check that refuses oversized models.

Construction (Koller & Friedman 2009, ch. 9-10): join every clique's attributes pairwise (the
Markov graph of a model with those cliques), triangulate it by greedy variable elimination (the
smaller of two greedy orders), keep the maximal elimination cliques, and join them by a maximum
spanning tree on separator sizes; for the cliques of a chordal graph that tree has the
running-intersection property. Every attribute
of the domain is in the tree (an unmeasured one as its own clique), and the tree is connected
(disconnected parts are joined through empty separators), so one tree describes the whole model.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import networkx as nx

from dpsynth.errors import ModelError, ModelTooLarge
from dpsynth.models.domain import Domain

#: Default limit on the junction tree's total cells: 2**26 float64 cells is 512 MiB per table set.
DEFAULT_MAX_CELLS = 2**26

Clique = tuple[str, ...]


@dataclass(frozen=True)
class JunctionTree:
    """Maximal cliques (each in domain order) of a triangulated model, as a rooted tree.

    ``order`` lists clique indices root first, each parent before its children; ``parent[i]``
    is ``None`` for the root; ``separator[i]`` is ``cliques[i] & cliques[parent[i]]`` (in the
    order of ``cliques[i]``).
    """

    domain: Domain
    cliques: tuple[Clique, ...]
    parent: tuple[int | None, ...]
    order: tuple[int, ...]
    separator: tuple[Clique, ...]

    def containing(self, attrs: Iterable[str]) -> int | None:
        """Index of the clique with fewest cells that holds all of ``attrs``, else ``None``."""
        attrs = set(attrs)
        found = [i for i, c in enumerate(self.cliques) if attrs <= set(c)]
        return min(found, key=lambda i: self.domain.cells(self.cliques[i])) if found else None

    def holding(self, attrs: Iterable[str]) -> int:
        """:meth:`containing` for attributes the tree was built to hold together (a model's clique)."""
        attrs = tuple(attrs)
        i = self.containing(attrs)
        if i is None:
            raise ModelError(f"no clique of the junction tree holds {list(attrs)}")
        return i

    def parent_of(self, i: int) -> int:
        """``parent[i]`` for a clique other than the root."""
        parent = self.parent[i]
        if parent is None:
            raise ModelError(f"clique {i} is the root of the junction tree: it has no parent")
        return parent

    def size(self) -> int:
        """Total cells over all cliques: the memory one set of clique tables takes."""
        return sum(self.domain.cells(c) for c in self.cliques)


def maximal_cliques(domain: Domain, cliques: Iterable[Sequence[str]]) -> list[Clique]:
    """The cliques not contained in another one, each in domain order, in first-seen order."""
    unique = list(dict.fromkeys(domain.canonical(c) for c in cliques))
    kept: list[frozenset[str]] = []
    for clique in sorted(unique, key=len, reverse=True):  # a superset comes before its subsets
        members = frozenset(clique)
        if not any(members < other for other in kept):
            kept.append(members)
    keep = set(kept)
    return [c for c in unique if frozenset(c) in keep]


def _elimination_cliques(domain: Domain, edges: frozenset[frozenset[str]], by_weight: bool) -> list[Clique]:
    """Cliques formed by greedy variable elimination on the Markov graph (a triangulation).

    Each step eliminates the attribute with the least fill-in weighted by cells (the sum over
    added edges (a, b) of size(a) * size(b)), or, ``by_weight``, the one whose neighbourhood table
    has fewest cells; ties go to the other criterion, then to domain order. Weighted min-fill
    eliminates a chordal graph, such as a tree of pairs, without fill-in. Eliminating v changes
    the cost only of its neighbours and of theirs (the fill edges join v's neighbours), so only
    those are re-scored.
    """
    size = dict(zip(domain.attrs, domain.sizes))
    rank = {a: i for i, a in enumerate(domain.attrs)}
    nbrs: dict[str, set[str]] = {a: set() for a in domain.attrs}
    for a, b in edges:
        nbrs[a].add(b)
        nbrs[b].add(a)

    def cost(v: str) -> tuple[int, int, int]:
        around = nbrs[v]
        fill = sum(size[a] * size[b] for a, b in itertools.combinations(around, 2) if b not in nbrs[a])
        cells = size[v] * math.prod(size[a] for a in around)
        return (cells, fill, rank[v]) if by_weight else (fill, cells, rank[v])

    costs = {v: cost(v) for v in nbrs}
    formed = []
    while costs:
        v = min(costs, key=costs.__getitem__)
        around = nbrs.pop(v)
        del costs[v]
        formed.append(domain.canonical([v, *around]))
        for a in around:
            nbrs[a].discard(v)
            nbrs[a].update(around - {a})
        affected = set(around).union(*(nbrs[a] for a in around))
        for u in affected:
            costs[u] = cost(u)
    return maximal_cliques(domain, formed)


@functools.lru_cache(maxsize=4096)
def _triangulation(domain: Domain, edges: frozenset[frozenset[str]]) -> tuple[Clique, ...]:
    """The smaller (in total cells) of the triangulations by the two greedy heuristics.

    It depends only on the Markov graph, so it is cached by its edges: an adaptive method asks
    for the same graph, or one edge set away from it, many times.
    """
    candidates = [_elimination_cliques(domain, edges, by_weight) for by_weight in (False, True)]
    return tuple(min(candidates, key=lambda found: sum(domain.cells(c) for c in found)))


def _tree_cliques(domain: Domain, cliques: Iterable[Sequence[str]]) -> list[Clique]:
    """The maximal cliques of the triangulated Markov graph of ``cliques``."""
    measured = maximal_cliques(domain, cliques)  # also checks every name against the domain
    edges = frozenset(frozenset(pair) for clique in measured for pair in itertools.combinations(clique, 2))
    return list(_triangulation(domain, edges))


def _too_large(domain: Domain, tree_cliques: Sequence[Clique], max_cells: int) -> ModelTooLarge:
    total = sum(domain.cells(c) for c in tree_cliques)
    largest = max(tree_cliques, key=domain.cells)
    mib = 8 / 2**20
    return ModelTooLarge(
        f"the junction tree needs {total:,} cells ({total * mib:,.1f} MiB as float64), above the "
        f"limit max_cells={max_cells:,} ({max_cells * mib:,.1f} MiB); its largest clique is "
        f"{largest} with {domain.cells(largest):,} cells ({domain.cells(largest) * mib:,.1f} MiB). "
        "Measure fewer or smaller marginals, coarsen the largest attributes, or raise max_cells."
    )


def build_junction_tree(
    domain: Domain, cliques: Iterable[Sequence[str]], max_cells: int | None = DEFAULT_MAX_CELLS
) -> JunctionTree:
    """Junction tree covering ``cliques`` and every domain attribute.

    Raises ModelTooLarge, before any table is allocated, when the tree's total cells exceed
    ``max_cells`` (``None`` skips the check, e.g. when reloading a model that passed it).
    """
    tree_cliques = _tree_cliques(domain, cliques)
    if max_cells is not None and sum(domain.cells(c) for c in tree_cliques) > max_cells:
        raise _too_large(domain, tree_cliques, max_cells)

    # Maximum spanning tree on |separator|; the complete graph makes it connected, joining
    # independent parts through empty separators.
    graph = nx.Graph()
    graph.add_nodes_from(range(len(tree_cliques)))
    for i, j in itertools.combinations(range(len(tree_cliques)), 2):
        graph.add_edge(i, j, weight=len(set(tree_cliques[i]) & set(tree_cliques[j])))
    tree = nx.maximum_spanning_tree(graph)

    root = max(range(len(tree_cliques)), key=lambda i: domain.cells(tree_cliques[i]))
    parent: list[int | None] = [None] * len(tree_cliques)
    order = [root]
    for u, v in nx.bfs_edges(tree, root):
        parent[v] = u
        order.append(v)
    separator = tuple(
        () if p is None else tuple(a for a in c if a in tree_cliques[p])
        for c, p in zip(tree_cliques, parent)
    )
    return JunctionTree(domain, tuple(tree_cliques), tuple(parent), tuple(order), separator)


def model_size(domain: Domain, cliques: Iterable[Sequence[str]]) -> int:
    """Cells of the junction tree a model with these cliques needs (for checks before fitting)."""
    return sum(domain.cells(c) for c in _tree_cliques(domain, cliques))
