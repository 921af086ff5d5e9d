import itertools

import numpy as np

from dpsynth.models.contraction import contraction_path, elimination_path, path_cost


def _random_query(rng):
    sizes = rng.integers(2, 20, size=7)
    operands: list = []
    for _ in range(rng.integers(2, 6)):
        axes = sorted(rng.choice(7, size=rng.integers(1, 4), replace=False).tolist())
        operands += [rng.random([sizes[a] for a in axes]), axes]
    present = sorted(set(itertools.chain(*operands[1::2])))
    output = sorted(rng.choice(present, size=min(3, len(present)), replace=False).tolist())
    return operands, output


def test_the_chosen_path_gives_the_contraction_and_the_greedy_result_where_greedy_is_kept():
    rng = np.random.default_rng(0)
    for _ in range(60):
        operands, output = _random_query(rng)
        subscripts = tuple(tuple(o) for o in operands[1::2])
        path = contraction_path(subscripts, tuple(o.shape for o in operands[::2]), tuple(output))
        got = np.einsum(*operands, output, optimize=path)
        np.testing.assert_allclose(got, np.einsum(*operands, output, optimize=False), rtol=1e-12)
        greedy = np.einsum_path(*operands, output, optimize="greedy")[0]
        if [tuple(step) for step in greedy] == [tuple(step) for step in path]:
            assert np.array_equal(got, np.einsum(*operands, output, optimize="greedy"))


def test_elimination_avoids_greedys_one_step_contraction_of_many_tables():
    """A 3-way query on a 30-column AIM model (8 clique tables, 13 axes): numpy's greedy search
    found no pair worth contracting and contracted five tables at once, looping over 1.2e10
    cells (56 CPU-seconds); eliminating one axis at a time loops over 2.4e6."""
    sizes = {0: 2, 1: 5, 2: 40, 3: 2, 4: 150, 5: 20, 6: 3, 7: 2, 8: 5, 9: 12, 10: 7, 11: 2, 12: 4}
    subscripts = ((1, 2, 5, 10), (0, 4, 8), (0, 3, 8, 12), (0, 3, 6, 7, 8, 11), (0, 6, 7, 8, 11),
                  (0, 6, 7, 8, 9), (1, 6, 7, 9, 10), (1, 5, 7, 9, 10))
    output = (2, 4, 12)
    shapes = tuple(tuple(sizes[a] for a in axes) for axes in subscripts)
    stand_ins: list = []
    for axes, shape in zip(subscripts, shapes):
        stand_ins += [np.broadcast_to(0.0, shape), list(axes)]
    greedy = [tuple(s) for s in np.einsum_path(*stand_ins, list(output), optimize="greedy")[0][1:]]
    assert path_cost(subscripts, sizes, output, greedy) > 1e10
    chosen = contraction_path(subscripts, shapes, output)[1:]
    assert chosen == elimination_path(subscripts, sizes, output)
    assert path_cost(subscripts, sizes, output, chosen) < 3e6


def test_elimination_on_a_chain_sums_each_inner_axis_between_its_two_tables():
    sizes = {0: 3, 1: 4, 2: 5, 3: 6}
    subscripts = ((0, 1), (1, 2), (2, 3))
    path = elimination_path(subscripts, sizes, (0, 3))
    assert path == [(0, 1), (0, 1)]
    assert path_cost(subscripts, sizes, (0, 3), path) == 3 * 4 * 5 + 3 * 5 * 6
