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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

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


def _elimination_cliques(
    domain: Domain, edges: frozenset[frozenset[str]], by_weight: bool, attrs: Iterable[str] | None = None
) -> list[Clique]:
    """Cliques formed by greedy variable elimination on the Markov graph (a triangulation).

    Each step eliminates the attribute with the least fill-in weighted by cells (the sum over
    added edges (a, b) of size(a) * size(b)), or, ``by_weight``, the one whose neighbourhood table
    has fewest cells; ties go to the other criterion, then to domain order. Weighted min-fill
    eliminates a chordal graph, such as a tree of pairs, without fill-in. ``attrs`` (default: the
    whole domain) are the attributes eliminated; the edges must join only them.

    Every step scores all attributes at once on the adjacency matrix A: with x_v the sizes of v's
    neighbours (zero elsewhere) and M = 1 - A - I the missing edges, v's fill-in is x_v' M x_v / 2
    and its cells size(v) * prod(x_v > 0 ? x_v : 1). Both are exact in float64 up to 2**53 cells
    (beyond, a tie between two such tables may be broken otherwise than exact integers would; the
    size checks and the models read this one function, so they still agree).
    """
    names = domain.canonical(domain.attrs if attrs is None else attrs)
    index = {a: i for i, a in enumerate(names)}
    adjacent = np.zeros((len(names), len(names)), dtype=bool)
    for a, b in edges:
        adjacent[index[a], index[b]] = adjacent[index[b], index[a]] = True
    size = np.array([domain.size(a) for a in names], dtype=float)
    left = np.arange(len(names))  # the attributes not eliminated yet, by rank: the rows of ``adjacent``
    formed: list[int] = []  # each clique as a bit mask over ``names``
    while len(left):
        around = adjacent * size
        missing = ~adjacent
        np.fill_diagonal(missing, False)
        fill = np.einsum("ij,ij->i", around @ missing, around) / 2
        simplicial = np.flatnonzero(fill == 0)
        if not by_weight and len(simplicial):
            # Min-fill takes every attribute whose neighbours are all joined before any other, one
            # at a time; none adds an edge, and one stays so while the others go, so they may go
            # together: each forms its neighbourhood now (held by a neighbour's, or its own as
            # the last of them goes), which leaves the same maximal cliques.
            gone = simplicial
            formed += [_bits(left[np.flatnonzero(adjacent[v])]) | 1 << int(left[v]) for v in gone]
        else:
            cells = size * np.prod(np.where(adjacent, size, 1.0), axis=1)
            first, second = (cells, fill) if by_weight else (fill, cells)
            v = int(np.lexsort((second, first))[0])  # rows are in rank order: lexsort is stable
            block = np.flatnonzero(adjacent[v])
            formed.append(_bits(left[block]) | 1 << int(left[v]))
            adjacent[np.ix_(block, block)] = True
            adjacent[block, block] = False
            gone = np.array([v])
        keep = np.ones(len(left), dtype=bool)
        keep[gone] = False
        adjacent, size, left = adjacent[np.ix_(keep, keep)], size[keep], left[keep]
    # A clique is kept unless another holds it (of two equal ones, the first is kept).
    return [
        tuple(a for i, a in enumerate(names) if bits >> i & 1)
        for k, bits in enumerate(formed)
        if not any(bits & ~other == 0 and (bits != other or j < k) for j, other in enumerate(formed) if j != k)
    ]


def _bits(indices: np.ndarray) -> int:
    return sum(1 << int(i) for i in indices)


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


HEURISTICS = (False, True)
"""The two greedy orders of :func:`_elimination_cliques` (``by_weight``), min-fill first."""


@functools.lru_cache(maxsize=32768)
def _component_size(domain: Domain, edges: frozenset[frozenset[str]], by_weight: bool) -> int:
    """Cells of the triangulation of one connected graph (the attributes its edges join) by one
    greedy heuristic."""
    attrs = domain.canonical(set().union(*edges))
    return sum(domain.cells(c) for c in _elimination_cliques(domain, edges, by_weight, attrs))


class GraphSizes:
    """:func:`model_size` of a fixed set of cliques plus one more, for many candidates at once.

    Greedy elimination treats the connected components of the Markov graph apart (a vertex's
    cost reads only its neighbourhood; the rank that breaks ties orders each component as it
    orders the whole), so each heuristic's total is the sum over components. A candidate clique
    merges the components it touches into one and leaves the others, whose totals are known: it
    costs a triangulation of the merged component, cached by its edges across graphs, where
    :func:`model_size` re-triangulates the whole graph.
    """

    def __init__(self, domain: Domain, cliques: Iterable[Sequence[str]]) -> None:
        self.domain = domain
        measured = maximal_cliques(domain, cliques)
        component = {a: i for i, a in enumerate(domain.attrs)}
        members: dict[int, set[str]] = {i: {a} for i, a in enumerate(domain.attrs)}
        for clique in measured:
            joined = {component[a] for a in clique}
            keep = min(joined)
            for other in joined - {keep}:
                for a in members.pop(other):
                    component[a] = keep
                    members[keep].add(a)
        self._component = component
        self._edges: dict[int, frozenset[frozenset[str]]] = dict.fromkeys(members, frozenset())
        for clique in measured:
            pairs = {frozenset(pair) for pair in itertools.combinations(clique, 2)}
            self._edges[component[clique[0]]] = self._edges[component[clique[0]]] | pairs
        self._single = {i: domain.cells(tuple(m)) for i, m in members.items() if len(m) == 1}
        self._sizes = [{i: self._size_of(self._edges[i], i, h) for i in members} for h in HEURISTICS]
        self._total = [sum(sizes.values()) for sizes in self._sizes]

    def _size_of(self, edges: frozenset[frozenset[str]], i: int, by_weight: bool) -> int:
        return _component_size(self.domain, edges, by_weight) if edges else self._single[i]

    def size(self) -> int:
        """:func:`model_size` of the cliques themselves."""
        return min(self._total)

    def with_clique(self, clique: Sequence[str], limit: float | None = None) -> int:
        """:func:`model_size` of the cliques and ``clique``; with ``limit``, the first
        heuristic's size instead when that is within it (it proves the fit, and saves the
        second triangulation)."""
        touched = {self._component[a] for a in clique}
        pairs = frozenset(frozenset(pair) for pair in itertools.combinations(clique, 2))
        merged = pairs.union(*(self._edges[i] for i in touched))
        if not merged:  # a single attribute alone: the graph is unchanged
            return self.size()
        sizes = []
        for h, by_weight in enumerate(HEURISTICS):
            rest = self._total[h] - sum(self._sizes[h][i] for i in touched)
            sizes.append(rest + _component_size(self.domain, merged, by_weight))
            if limit is not None and sizes[-1] <= limit:
                break
        return min(sizes)
