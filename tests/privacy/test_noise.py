"""Fast checks of the noise source and the exact samplers: contracts, rounding, exactness paths."""

import copy
import inspect
import math
import os
from fractions import Fraction

import numpy as np
import pytest
import randomgen
from hypothesis import given, settings
from hypothesis import strategies as st

from dpsynth.errors import BudgetError, PrivacyWarning
from dpsynth.generators import create
from dpsynth.privacy import noise
from dpsynth.privacy.noise import (
    NoiseSource,
    bernoulli_exp,
    discrete_gaussian,
    discrete_gaussian_sigma_used,
    discrete_laplace,
    discrete_laplace_scale_used,
    exponential_mechanism,
)
from tests.generators.test_neural import SMALL, mixed_table


def within_five_sigma(successes: int, trials: int, p: float) -> bool:
    return abs(successes - trials * p) <= 5 * math.sqrt(trials * p * (1 - p)) + 1e-9


# ------------------------------------------------------------------ NoiseSource


def draws(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 2**62, 8)


def chacha_key(rng: np.random.Generator) -> int:
    """The 256-bit key of a ChaCha bit generator, as the int it was given."""
    words = rng.bit_generator.state["state"]["keysetup"].astype("<u4")
    return int.from_bytes(words.tobytes(), "little")


def test_noise_stream_is_chacha20_keyed_from_os_entropy(monkeypatch):
    taken, real = [], os.urandom

    def urandom(n):
        taken.append(real(n))
        return taken[-1]

    monkeypatch.setattr(noise.os, "urandom", urandom)
    source = NoiseSource()
    assert not source.seeded and source.description == "os-entropy"
    assert isinstance(source.rng.bit_generator, randomgen.ChaCha)
    assert source.rng.bit_generator.state["state"]["rounds"] == 20
    assert [len(b) for b in taken] == [32, 32]
    assert chacha_key(source.rng) == int.from_bytes(taken[0], "big")


def test_sampling_stream_is_separate_from_the_noise_stream():
    source = NoiseSource()
    assert isinstance(source.sampling_rng.bit_generator, np.random.PCG64DXSM)
    assert source.sampling_rng is not source.rng
    assert not np.array_equal(draws(source.rng), draws(source.sampling_rng))
    untouched = copy.deepcopy(source.rng)
    source.sampling_rng.random(1000)
    assert np.array_equal(draws(source.rng), draws(untouched))


def test_unseeded_sources_differ_in_both_streams():
    first, second = NoiseSource(), NoiseSource()
    assert not np.array_equal(draws(first.rng), draws(second.rng))
    assert not np.array_equal(draws(first.sampling_rng), draws(second.sampling_rng))


def test_seeded_source_warns_and_both_streams_are_reproducible():
    with pytest.warns(PrivacyWarning, match="must not be published"):
        first = NoiseSource(7)
    with pytest.warns(PrivacyWarning):
        second, other = NoiseSource(7), NoiseSource(8)
    assert first.seeded and first.description == "seeded: not for publication"
    assert isinstance(first.rng.bit_generator, randomgen.ChaCha)
    assert np.array_equal(discrete_gaussian(3.0, 50, first.rng), discrete_gaussian(3.0, 50, second.rng))
    assert np.array_equal(draws(first.sampling_rng), draws(second.sampling_rng))
    assert not np.array_equal(draws(first.rng), draws(first.sampling_rng))
    assert not np.array_equal(draws(second.rng), draws(other.rng))
    assert not np.array_equal(draws(second.sampling_rng), draws(other.sampling_rng))


def test_from_random_state():
    assert not NoiseSource.from_random_state(None).seeded
    with pytest.warns(PrivacyWarning):
        assert NoiseSource.from_random_state(3).seeded
    generator = np.random.default_rng(1)
    with pytest.warns(PrivacyWarning):
        source = NoiseSource.from_random_state(generator)
    with pytest.warns(PrivacyWarning):
        again = NoiseSource.from_random_state(np.random.default_rng(1))
    assert source.seeded and source.rng is generator
    noise_draws, sampling_draws = draws(source.rng), draws(source.sampling_rng)
    assert not np.array_equal(noise_draws, sampling_draws)
    assert np.array_equal(noise_draws, draws(again.rng))
    assert np.array_equal(sampling_draws, draws(again.sampling_rng))


@pytest.mark.parametrize("seed", [-1, True, 1.5, "3"])
def test_bad_seed_names_the_parameter(seed):
    with pytest.raises(BudgetError, match="seed"):
        NoiseSource(seed)
    with pytest.raises(BudgetError, match="random_state"):
        NoiseSource.from_random_state(seed)


# ------------------------------------------------------------------ shapes and parameters


@pytest.mark.parametrize("sampler", [discrete_gaussian, discrete_laplace])
@pytest.mark.parametrize("size,shape", [(5, (5,)), ((3, 4), (3, 4)), (0, (0,)), ((), ())])
def test_shapes_and_dtype(sampler, size, shape):
    draws = sampler(2.5, size, np.random.default_rng(0))
    assert draws.shape == shape and draws.dtype == np.int64


@pytest.mark.parametrize("sampler,name", [(discrete_gaussian, "sigma"), (discrete_laplace, "scale")])
@pytest.mark.parametrize("value", [0.0, -1.0, math.nan, math.inf, 2e9, True, "1"])
def test_bad_noise_parameter_names_it(sampler, name, value):
    with pytest.raises(BudgetError, match=name):
        sampler(value, 3, np.random.default_rng(0))


@pytest.mark.parametrize("size", [-1, (2, -1), 1.5, True])
def test_bad_size_names_it(size):
    with pytest.raises(BudgetError, match="size"):
        discrete_gaussian(1.0, size, np.random.default_rng(0))


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=2**-10, max_value=1e9))
def test_rounding_never_lowers_the_noise(value):
    sigma = discrete_gaussian_sigma_used(value)
    assert Fraction(sigma) >= Fraction(value) and sigma <= value * (1 + 2**-20)
    t, m, d = noise._gaussian_rational(value)
    assert Fraction(t * m, d) >= Fraction(value) ** 2
    scale = discrete_laplace_scale_used(value)
    assert Fraction(scale) >= Fraction(value) and scale <= value * (1 + 1e-9)
    t, s = noise._laplace_rational(value)
    assert Fraction(t, s) >= Fraction(value)
    assert 2 * t < 2**63 and s < 2**63


@pytest.mark.parametrize("value", [1e-300, 1e-8, 1e-3])
def test_rounding_of_tiny_parameters_stays_up_and_in_int64(value):
    t, m, d = noise._gaussian_rational(value)
    assert Fraction(t * m, d) >= Fraction(value) ** 2 and 2 * t * m * d <= 2**62
    assert discrete_gaussian_sigma_used(value) >= value
    assert discrete_laplace_scale_used(value) >= value
    assert np.all(discrete_gaussian(value, 1000, np.random.default_rng(0)) == 0)


# ------------------------------------------------------------------ Bernoulli(exp(-gamma))


def test_bernoulli_exp_matches_exp_minus_gamma():
    numer = np.array([0, 1, 1, 5, 22, 3])
    denom = np.array([1, 2, 1, 2, 3, 1])
    trials = 40_000
    draws = bernoulli_exp(np.tile(numer, (trials, 1)), denom, np.random.default_rng(1))
    assert draws.shape == (trials, numer.size) and draws.dtype == bool
    for column, (a, b) in enumerate(zip(numer, denom)):
        assert within_five_sigma(int(draws[:, column].sum()), trials, math.exp(-a / b))


def test_exp1_continuation_block_is_exact():
    # A draw of 0 in the first block means A_2..A_17 all came out 1: the process goes on at
    # k = 18, where acceptance (stopping at an odd k) has a known probability.
    first = noise._factorial_block(2)[1].size + 2
    p = sum(
        math.factorial(first - 1) / math.factorial(k - 1) * (1 - 1 / k) for k in range(first + 1, 60, 2)
    )
    trials = 200_000
    accepted = noise._exp1_trials(trials, np.random.default_rng(2), first).sum()
    assert within_five_sigma(int(accepted), trials, p)


@pytest.mark.parametrize(
    "numer,denom,name", [(-1, 1, "numer"), (1, 0, "denom"), (1.0, 1, "numer"), (1, np.uint64(2**63), "denom")]
)
def test_bernoulli_exp_rejects_bad_input(numer, denom, name):
    with pytest.raises(BudgetError, match=name):
        bernoulli_exp(np.array(numer), np.array(denom), np.random.default_rng(0))


# ------------------------------------------------------------------ overflow paths


def test_large_sigma_gives_finite_int64_samples():
    draws = discrete_gaussian(5e5, 20_000, np.random.default_rng(3))
    assert draws.dtype == np.int64 and 0.95 < draws.std() / 5e5 < 1.05
    draws = discrete_gaussian(1e9, 5_000, np.random.default_rng(3))
    assert draws.dtype == np.int64 and 0.9 < draws.std() / 1e9 < 1.1


@pytest.mark.parametrize("sigma", [0.7, 3.7, 5e5, 1e9])
def test_gaussian_exponent_matches_python_ints_past_int64(sigma):
    t, m, d = noise._gaussian_rational(sigma)
    limit = (noise._SQRT_INT64_MAX + m) // d
    magnitude = np.array([0, 1, t, limit - 1, limit, limit + 1, 3 * limit, 1000 * limit], dtype=np.int64)
    floors, remainders, denom = noise._gaussian_exponent(magnitude, t, m, d)
    for y, floor, remainder in zip(magnitude.tolist(), floors.tolist(), remainders.tolist()):
        assert (floor, remainder) == divmod((y * d - m) ** 2, 2 * t * m * d)
    assert denom == 2 * t * m * d < 2**62


# ------------------------------------------------------------------ exponential mechanism


def test_em_picks_the_argmax_at_huge_epsilon():
    rng = np.random.default_rng(4)
    picks = [exponential_mechanism([0.0, 1.0, 5.0, 2.0], 1e6, 1.0, rng) for _ in range(200)]
    assert picks == [2] * 200
    assert exponential_mechanism([0.0, 1e300], 1.0, 1.0, rng) == 1


def test_em_is_near_uniform_at_tiny_epsilon():
    rng = np.random.default_rng(5)
    picks = np.array([exponential_mechanism([0.0, 1.0, 5.0, 2.0], 1e-3, 1.0, rng) for _ in range(4000)])
    for index in range(4):
        assert within_five_sigma(int((picks == index).sum()), picks.size, 0.25)


def test_em_frequencies_match_exp_weights():
    rng = np.random.default_rng(6)
    scores, epsilon, sensitivity = [0.0, 1.0, 3.0], 1.0, 2.0
    picks = np.array([exponential_mechanism(scores, epsilon, sensitivity, rng) for _ in range(5000)])
    weights = np.exp(epsilon * np.array(scores) / (2 * sensitivity))
    for index, p in enumerate(weights / weights.sum()):
        assert within_five_sigma(int((picks == index).sum()), picks.size, p)


@pytest.mark.parametrize(
    "scores,epsilon,sensitivity,name",
    [
        ([], 1.0, 1.0, "scores"),
        ([[1.0]], 1.0, 1.0, "scores"),
        ([1.0, math.nan], 1.0, 1.0, "scores"),
        ([1.0, math.inf], 1.0, 1.0, "scores"),
        ([1.0], 0.0, 1.0, "epsilon"),
        ([1.0], math.inf, 1.0, "epsilon"),
        ([1.0], 1.0, -1.0, "sensitivity"),
        ([1.0], 1.0, math.nan, "sensitivity"),
    ],
)
def test_em_rejects_bad_input(scores, epsilon, sensitivity, name):
    with pytest.raises(BudgetError, match=name):
        exponential_mechanism(scores, epsilon, sensitivity, np.random.default_rng(0))


# ------------------------------------------------------------------ where randomness comes from


def test_samplers_leave_the_global_rng_alone():
    before = np.random.get_state()[1].copy()
    rng = np.random.default_rng(8)
    discrete_gaussian(2.0, 100, rng)
    discrete_laplace(2.0, 100, rng)
    exponential_mechanism([0.0, 1.0], 1.0, 1.0, rng)
    assert np.array_equal(before, np.random.get_state()[1])


def test_no_float_laplace_or_log_uniform_tricks():
    source = inspect.getsource(noise)
    for forbidden in (".laplace(", ".exponential(", ".gumbel(", "np.log", "math.log", "np.random.seed"):
        assert forbidden not in source


@pytest.mark.parametrize(
    "method,params,fractions",
    [
        ("mst", {}, {"marginal": 1.0}),
        ("aim", {}, {"marginal": 1.0}),
        ("privbayes", {}, {"marginal": 1.0}),
        ("neural", SMALL, {"neural": 1.0}),
        ("hybrid", {"max_marginal_size": 8, **SMALL}, {"marginal": 0.7, "neural": 0.3}),
    ],
)
def test_synthetic_rows_come_from_the_sampling_stream(method, params, fractions):
    if method in ("neural", "hybrid"):
        pytest.importorskip("torch")
    table, _, _ = mixed_table(fractions)
    generator = create(method, **params).fit(table)
    noise_stream, sampling_stream = copy.deepcopy(table.noise.rng), copy.deepcopy(table.noise.sampling_rng)
    generator.sample(50)
    assert np.array_equal(draws(table.noise.rng), draws(noise_stream))
    assert not np.array_equal(draws(table.noise.sampling_rng), draws(sampling_stream))
