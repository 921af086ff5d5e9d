"""Exact ancestral sampling from a calibrated junction tree, vectorised over rows.

A junction-tree distribution factorises as p(root clique) * prod over the other cliques of
p(new attributes | separator), each a ratio of calibrated marginals; drawing the root clique and
then each clique's new attributes given the already drawn separator, parents first, gives rows
that each follow the model exactly.

The draws are stratified within each group of rows that share a separator value (systematic
sampling: the group's n rows take the points (k + u) / n of one uniform u, in random order), so
a group's counts of each new value are n p rounded down or up, never further off. Private-PGM
samples its synthetic data by the same kind of rounding. Independent draws add multinomial
noise to every marginal of the table, most visible where the model's own error is small (high
epsilon; see ``benchmarks/notes/2026-11-23-marginal-engine.md``).

Each clique costs O(n) in the rows plus the cells of its groups that occur: the rows are grouped
by a radix sort of their separator codes, and a group's counts of each new value are read off
the conditional CDF at once (the number of points (k + u) / n below c is ceil(n c - u), clipped
to [0, n]), with no search per row and no comparison sort.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dpsynth.models.domain import Domain
from dpsynth.models.factor import Factor, logsumexp
from dpsynth.models.junction_tree import JunctionTree

DIGIT = 16  # bits per pass of the radix sort: numpy sorts integers of 16 bits or fewer by radix, in O(n)


def _grouped(keys: np.ndarray, n_groups: int, rng: np.random.Generator) -> np.ndarray:
    """A permutation listing the rows by ``keys`` (integers below ``n_groups``), in random order
    within each key: a shuffle, then a stable least-significant-digit radix sort on 16-bit digits."""
    order = rng.permutation(keys.size)
    for shift in range(0, int(n_groups - 1).bit_length(), DIGIT):
        digit = ((keys[order] >> shift) & ((1 << DIGIT) - 1)).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
    return order


def _draw_conditional(
    log_joint: np.ndarray, given: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """For each output row r, draw a column of table ``log_joint`` from its row ``given[r]``,
    stratified within each value of ``given`` (module notes)."""
    n_given, n_new = log_joint.shape
    n = given.size
    sizes = np.bincount(given, minlength=n_given)
    present = np.flatnonzero(sizes)
    log_rows = log_joint[present]
    cdf = np.cumsum(np.exp(log_rows - logsumexp(log_rows, axis=1, keepdims=True)), axis=1)
    cdf /= cdf[:, -1:]
    cdf[:, -1] = 1.0  # every point (k + u) / n < 1 falls in the row, whatever the rounding
    size = sizes[present][:, None]
    # Points of the group below each CDF value; equal CDF values (cells of probability zero)
    # give equal counts, so such a cell is never drawn.
    below = np.clip(np.ceil(size * cdf - rng.random((present.size, 1))), 0, size).astype(np.int64)
    counts = np.diff(below, axis=1, prepend=0)
    # Group by group in key order, the new values in ascending order of their points.
    values = np.repeat(np.tile(np.arange(n_new), present.size), counts.ravel())
    drawn = np.empty(n, dtype=np.int64)
    drawn[_grouped(given, n_given, rng)] = values
    return drawn


def sample_rows(
    domain: Domain,
    tree: JunctionTree,
    beliefs: Sequence[Factor],
    n_rows: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``n_rows`` rows of integer codes, columns in domain order, drawn from the calibrated model.

    Memory is a few integers per row per clique beyond the output itself; a caller bounds it
    by drawing a long table in blocks (see :meth:`MarginalGenerator.sample_chunks`).
    """
    rows = np.zeros((n_rows, len(domain)), dtype=np.int64)
    for i in tree.order:
        sep = tree.separator[i]
        new = tuple(a for a in tree.cliques[i] if a not in sep)
        log_joint = beliefs[i].transpose(sep + new).values
        log_joint = log_joint.reshape(domain.cells(sep), domain.cells(new))
        # Flat index of each row's separator values (all 0 at the root, whose separator is empty).
        given = np.ravel_multi_index(rows[:, [domain.index(a) for a in sep]].T, domain.shape(sep))
        drawn = _draw_conditional(log_joint, np.broadcast_to(given, n_rows), rng)
        rows[:, [domain.index(a) for a in new]] = np.column_stack(
            np.unravel_index(drawn, domain.shape(new))
        )
    return rows
