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
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dpsynth.models.domain import Domain
from dpsynth.models.factor import Factor, logsumexp
from dpsynth.models.junction_tree import JunctionTree


def _stratified_uniforms(given: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniform per row, each exactly U(0, 1); the n rows sharing a value of ``given`` get
    the points (k + u) / n, k = 0..n-1, of one uniform u, each at a random row of the group."""
    n = given.size
    order = np.lexsort((rng.random(n), given))  # rows grouped by value, in random order within
    grouped = given[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]]) if n else np.zeros(0, np.int64)
    sizes = np.diff(np.r_[starts, n])
    group = np.repeat(np.arange(starts.size), sizes)
    points = (np.arange(n) - starts[group] + rng.random(starts.size)[group]) / sizes[group]
    uniforms = np.empty(n)
    uniforms[order] = points
    return uniforms


def _draw_conditional(
    log_joint: np.ndarray, given: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """For each output row r, draw a column of table ``log_joint`` from its row ``given[r]``.

    Inverse-CDF with one uniform per row. The conditional CDFs are laid end to end, row ``s``
    shifted by ``s``, so one ``searchsorted`` over the flat array serves every row at once.
    """
    n_given, n_new = log_joint.shape
    cond = np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))
    cdf = np.cumsum(cond, axis=1)
    cdf /= cdf[:, -1:]
    shifted = (cdf + np.arange(n_given)[:, None]).ravel()
    drawn = np.searchsorted(shifted, given + _stratified_uniforms(given, rng), side="right") - given * n_new
    # Rounding of s + u near s + 1 could step past a row; keep the draw on its row's last
    # cell of positive probability.
    last_positive = n_new - 1 - np.argmax(cond[:, ::-1] > 0, axis=1)
    return np.minimum(drawn, last_positive[given])


def sample_rows(
    domain: Domain,
    tree: JunctionTree,
    beliefs: Sequence[Factor],
    n_rows: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``n_rows`` rows of integer codes, columns in domain order, drawn from the calibrated model.

    Memory is a few integers per row per clique beyond the output itself, so no chunking.
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
