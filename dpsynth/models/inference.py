"""Exact inference on a junction tree: calibration by sum-product and marginals of any subset.

Calibration is in log space so that potentials far from zero neither overflow nor underflow;
marginals are read off in probability space (a cell below the smallest float is zero mass).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dpsynth.models.contraction import contraction_path
from dpsynth.models.factor import Factor, logsumexp
from dpsynth.models.junction_tree import JunctionTree


def calibrate(
    tree: JunctionTree, potentials: Sequence[Factor], overwrite: bool = False
) -> tuple[list[Factor], float]:
    """Log clique marginals (normalised) and the log partition function of a tree model.

    ``potentials[i]`` is the log-potential over ``tree.cliques[i]``. Two passes of sum-product
    (Koller & Friedman 2009, alg. 10.2): messages from the leaves to the root, then back. The
    downward message is the parent's belief on the separator divided by the upward message
    (Hugin form), which saves recombining the parent's other incoming messages. Messages are
    added into the clique tables in place, so the whole pass holds one set of tables (the
    model-size limit bounds one set): a copy of ``potentials``, or, with ``overwrite``,
    the given tables themselves, which then become the beliefs.
    """
    tables = list(potentials) if overwrite else [Factor(f.attrs, f.values.copy()) for f in potentials]
    upward: dict[int, Factor] = {}
    for i in reversed(tree.order[1:]):
        upward[i] = tables[i].logsumexp(tree.separator[i])
        parent = tables[tree.parent_of(i)]
        parent.values += upward[i].aligned(parent.attrs)

    root = tree.order[0]
    log_z = float(logsumexp(tables[root].values))
    tables[root].values -= log_z
    for i in tree.order[1:]:
        down = tables[tree.parent_of(i)].logsumexp(tree.separator[i]) - upward[i]
        tables[i].values += down.aligned(tables[i].attrs)
    return tables, log_z


def _connecting_subtree(tree: JunctionTree, attrs: Sequence[str]) -> list[int]:
    """Cliques of the smallest subtree joining one clique per attribute (they may differ)."""
    targets = {next(i for i in tree.order if a in tree.cliques[i]) for a in attrs}
    paths = []
    for i in targets:
        path = [i]
        while (parent := tree.parent[path[-1]]) is not None:
            path.append(parent)
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


def clique_probabilities(beliefs: Sequence[Factor]) -> list[Factor]:
    """The calibrated log clique marginals as probabilities (a cell below the smallest float
    is zero mass). Marginal queries read these, so a large clique is exponentiated once per
    model rather than once per query, which AIM's selection repeats for every candidate (see
    ``benchmarks/notes/2026-11-23-marginal-engine.md``)."""
    return [Factor(b.attrs, np.exp(b.values)) for b in beliefs]


def marginal_probabilities(tree: JunctionTree, probabilities: Sequence[Factor], attrs: Sequence[str]) -> np.ndarray:
    """Probabilities over ``attrs`` (axes in that order; they sum to 1) from the calibrated
    clique marginals ``probabilities`` (see :func:`clique_probabilities`).

    If one clique holds ``attrs`` it is a sum over that clique. Otherwise the subtree joining
    cliques that cover ``attrs`` is itself a junction tree, and the joint over its attributes is
    prod(clique marginals) / prod(separator marginals) (Koller & Friedman 2009, prop. 10.3); it is
    summed onto ``attrs`` as one tensor contraction in the order :func:`contraction_path`
    chooses, so the joint itself, and any table much larger than the cliques, is never formed
    (joining whole factors first took far more memory on large AIM models).
    Eliminating in the subtree's own order instead, leaves first, was far slower on 3-way
    queries that carry asked-for attributes through large cliques (see
    ``benchmarks/notes/2026-11-23-marginal-engine.md``).
    Each linked clique enters as its conditional given its separator, clique / separator, a
    table in [0, 1] (a zero-mass separator cell has zero mass in the clique too, so 0 there):
    an inverse separator would overflow to inf on cells of denormal mass, which fits reaching
    the polytope's boundary produce, and inf times 0 is NaN.
    """
    attrs = tuple(attrs)
    i = tree.containing(attrs)
    if i is not None:
        return probabilities[i].sum(attrs).values
    nodes = _connecting_subtree(tree, attrs)
    linked = [i for i in nodes if tree.parent[i] in nodes]
    # An attribute in one clique only, and not asked for, is summed out of that clique first.
    needed = set(attrs).union(*(tree.separator[i] for i in linked))
    axis = {a: k for k, a in enumerate(sorted(needed, key=tree.domain.index))}
    operands: list = []
    for i in nodes:
        probs = probabilities[i].sum([a for a in tree.cliques[i] if a in needed])
        values = probs.values
        if i in linked:
            separator = probs.sum(tree.separator[i]).aligned(probs.attrs)
            values = np.divide(values, separator, out=np.zeros_like(values), where=separator > 0)
        operands += [values, [axis[a] for a in probs.attrs]]
    output = [axis[a] for a in attrs]
    joint = np.einsum(*operands, output, optimize=contraction_path(
        tuple(tuple(o) for o in operands[1::2]), tuple(o.shape for o in operands[::2]), tuple(output)))
    return joint / joint.sum()
