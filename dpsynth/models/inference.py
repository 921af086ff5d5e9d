"""Exact inference on a junction tree: calibration by sum-product and marginals of any subset.

Everything is in log space so that potentials far from zero neither overflow nor underflow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from dpsynth.models.factor import Factor, logsumexp
from dpsynth.models.junction_tree import JunctionTree


def calibrate(tree: JunctionTree, potentials: Sequence[Factor]) -> tuple[list[Factor], float]:
    """Log clique marginals (normalised) and the log partition function of a tree model.

    ``potentials[i]`` is the log-potential over ``tree.cliques[i]``. Two passes of sum-product
    (Koller & Friedman 2009, alg. 10.2): messages from the leaves to the root, then back. The
    downward message is the parent's belief on the separator divided by the upward message
    (Hugin form), which saves recombining the parent's other incoming messages.
    """
    partial = list(potentials)
    upward: list[Factor | None] = [None] * len(partial)
    for i in reversed(tree.order[1:]):
        upward[i] = partial[i].logsumexp(tree.separator[i])
        partial[tree.parent[i]] = partial[tree.parent[i]] + upward[i]

    root = tree.order[0]
    log_z = float(logsumexp(partial[root].values))
    beliefs: list[Factor | None] = [None] * len(partial)
    beliefs[root] = partial[root] - log_z
    for i in tree.order[1:]:
        down = beliefs[tree.parent[i]].logsumexp(tree.separator[i]) - upward[i]
        beliefs[i] = partial[i] + down
    return beliefs, log_z


def _connecting_subtree(tree: JunctionTree, attrs: Sequence[str]) -> list[int]:
    """Cliques of the smallest subtree joining one clique per attribute (they may differ)."""
    targets = {next(i for i in tree.order if a in tree.cliques[i]) for a in attrs}
    paths = []
    for i in targets:
        path = [i]
        while tree.parent[path[-1]] is not None:
            path.append(tree.parent[path[-1]])
        paths.append(path)
    common = set(paths[0]).intersection(*paths[1:])
    nodes: list[int] = []
    for path in paths:
        for i in path:
            if i not in nodes:
                nodes.append(i)
            if i in common:  # the first common node walking up is the lowest common ancestor
                break
    return nodes


def _eliminate(factors: list[Factor], keep: Sequence[str]) -> Factor:
    """Sum out (in log space) every attribute not in ``keep`` from the product of ``factors``.

    Variable elimination with a greedy order: always the attribute whose joined table is smallest.
    """
    sizes = {a: n for f in factors for a, n in zip(f.attrs, f.values.shape)}
    drop = set(sizes) - set(keep)

    def joined_cells(a: str) -> int:
        return math.prod(sizes[b] for b in {b for f in factors if a in f.attrs for b in f.attrs})

    while drop:
        a = min(sorted(drop), key=joined_cells)
        touching = [f for f in factors if a in f.attrs]
        factors = [f for f in factors if a not in f.attrs]
        joined = sum(touching[1:], touching[0])
        factors.append(joined.logsumexp([b for b in joined.attrs if b != a]))
        drop.remove(a)
    return sum(factors[1:], factors[0])


def log_marginal(tree: JunctionTree, beliefs: Sequence[Factor], attrs: Sequence[str]) -> Factor:
    """Normalised log marginal over ``attrs`` (axes in that order) from calibrated ``beliefs``.

    If one clique holds ``attrs`` it is a sum over that clique. Otherwise the subtree joining
    cliques that cover ``attrs`` is itself a junction tree, and the joint over its attributes is
    prod(clique beliefs) / prod(separator beliefs); the other attributes are then eliminated.
    """
    attrs = tuple(attrs)
    i = tree.containing(attrs)
    if i is not None:
        return beliefs[i].logsumexp(attrs)
    nodes = _connecting_subtree(tree, attrs)
    factors = [beliefs[i] for i in nodes]
    factors += [-beliefs[i].logsumexp(tree.separator[i]) for i in nodes if tree.parent[i] in nodes]
    return _eliminate(factors, attrs).log_normalize().transpose(attrs)
