"""Secure noise: where a release's randomness comes from, and exact integer samplers.

Counts get discrete Gaussian or discrete Laplace noise drawn exactly, with integer arithmetic
and integer uniform draws only, by the algorithms of Canonne, Kamath & Steinke (2020), "The
Discrete Gaussian for Differential Privacy" (CKS below): Algorithm 1 (Bernoulli(exp(-gamma))),
Algorithm 2 (discrete Laplace), Algorithm 3 (discrete Gaussian). Nothing here draws a float
Laplace or takes the log of a float uniform: Mironov (2012), "On Significance of the Least
Significant Bits for Differential Privacy", shows that textbook float Laplace noise leaks the
input through the pattern of representable outputs. Each sampler is vectorised: a round runs
the algorithm on every pending position at once, and only the positions that asked for a retry
are run again.

A noise parameter is first rounded *up* to an exact rational (never less noise than asked for);
``discrete_gaussian_sigma_used`` and ``discrete_laplace_scale_used`` report what was used.
"""

from __future__ import annotations

import math
import numbers
import os
import warnings
from fractions import Fraction
from functools import cache

import numpy as np
import randomgen

from dpsynth.errors import BudgetError, PrivacyWarning
from dpsynth.validation import integer, number

MAX_NOISE = 1e9
"""Largest sigma or scale accepted: beyond it the integer arithmetic would leave int64."""

_INT64_MAX = 2**63 - 1
_SQRT_INT64_MAX = math.isqrt(_INT64_MAX)
_DENOMINATOR_CAP = 2**62
_GAUSSIAN_PRECISION = 2**20  # sigma^2 is rounded up by a relative 2^-20 at most
_LAPLACE_PRECISION_BITS = 32  # the scale is rounded up by a relative 2^-32 < 1e-9 at most
_EM_UNITS = 2**20  # the exponential mechanism's scores and epsilon are quantised to 2^-20
_MAX_BATCH = 2**18  # proposals per round: keeps the working arrays in cache and memory bounded


class NoiseSource:
    """Where a release's randomness comes from: OS entropy, or a seed that bars publication.

    Two streams. ``rng`` draws every piece of noise (and every secret choice) of the private
    table's mechanisms: ChaCha20, a cryptographically secure generator, keyed with 256 bits
    from ``os.urandom``. ``sampling_rng`` draws the synthetic rows from a fitted model:
    PCG64DXSM, seeded independently from ``os.urandom``. A seed (or a caller's Generator,
    whose state the caller knows) makes both reproducible, so the release must not be
    published; a :class:`PrivacyWarning` says so once, here.
    """

    # DP holds only if the noise cannot be predicted: Garfinkel & Leclerc (2020), "Randomness
    # Concerns When Deploying Differential Privacy", find that it needs randomness as strong as
    # cryptography's, and the 2020 US Census drew its noise from AES-CTR-DRBG. A statistical
    # generator such as PCG64DXSM is not secure (its state can be solved from enough of its
    # output), and the synthetic rows publish much of their stream's output (continuous values
    # at full precision), so the rows come from their own stream, which holds nothing about
    # the noise.

    def __init__(self, seed: int | None = None):
        if seed is None:
            noise_key = int.from_bytes(os.urandom(32), "big")
            sampling_seed = np.random.SeedSequence(int.from_bytes(os.urandom(32), "big"))
            self._use(_csprng(noise_key), _sampler(sampling_seed), False)
        else:
            noise_seed, sampling_seed = np.random.SeedSequence(_check_seed(seed, "seed")).spawn(2)
            self._use(_csprng(noise_seed.generate_state(4, np.uint64)), _sampler(sampling_seed), True)

    @classmethod
    def from_random_state(cls, random_state: None | int | np.random.Generator) -> NoiseSource:
        """A source from scikit-learn style ``random_state``: None, an int seed or a Generator.

        A Generator is used as it is for the noise; the sampling stream is a PCG64DXSM seeded
        with 256 bits drawn from it first, so both follow from the caller's Generator.
        """
        if isinstance(random_state, np.random.Generator):
            sampling_seed = random_state.integers(0, 2**64, size=4, dtype=np.uint64)
            source = cls.__new__(cls)
            source._use(random_state, _sampler(np.random.SeedSequence(sampling_seed)), True)
            return source
        if random_state is not None:
            random_state = _check_seed(random_state, "random_state")
        return cls(random_state)

    def _use(self, rng: np.random.Generator, sampling_rng: np.random.Generator, seeded: bool) -> None:
        self.rng = rng
        self.sampling_rng = sampling_rng
        self.seeded = seeded
        self.description = "seeded: not for publication" if seeded else "os-entropy"
        if seeded:
            warnings.warn(
                "the noise source is seeded: its noise is reproducible and a release made with "
                "it must not be published",
                PrivacyWarning,
                stacklevel=3,
            )

    def __repr__(self) -> str:
        return f"NoiseSource({self.description})"


def _csprng(key) -> np.random.Generator:
    """A Generator over ChaCha20 (Bernstein 2008) keyed with ``key``: 256 bits, an int or 4 uint64."""
    return np.random.Generator(randomgen.ChaCha(key=key, rounds=20))


def _sampler(seed: np.random.SeedSequence) -> np.random.Generator:
    """The fast statistical Generator that draws synthetic rows."""
    return np.random.Generator(np.random.PCG64DXSM(seed))


def bernoulli_exp(numer, denom, rng: np.random.Generator) -> np.ndarray:
    """Independent Bernoulli(exp(-numer/denom)) draws, exactly, for integer arrays (broadcast).

    ``numer >= 0`` and ``denom > 0`` must fit in int64. Returns a bool array of their shape.
    """
    numer = _int64_array(numer, "numer", 0)
    denom = _int64_array(denom, "denom", 1)
    numer, denom = np.broadcast_arrays(numer, denom)
    floors, remainders = np.divmod(numer.ravel(), denom.ravel())
    return _bernoulli_exp_parts(floors, remainders, denom.ravel(), rng).reshape(numer.shape)


def discrete_laplace(scale: float, size, rng: np.random.Generator) -> np.ndarray:
    """Discrete Laplace noise: int64 array, P(x) proportional to exp(-|x| / scale).

    ``scale`` is rounded up to the rational t/s of :func:`discrete_laplace_scale_used`.
    """
    t, s = _laplace_rational(_check_noise(scale, "scale"))
    return _fill(_shape(size), lambda n: _laplace_runs(t, s, n, rng))


def discrete_gaussian(sigma: float, size, rng: np.random.Generator) -> np.ndarray:
    """Discrete Gaussian noise: int64 array, P(x) proportional to exp(-x^2 / (2 sigma^2)).

    ``sigma^2`` is rounded up by a relative 2^-20 at most (see
    :func:`discrete_gaussian_sigma_used`).
    """
    t, m, d = _gaussian_rational(_check_noise(sigma, "sigma"))
    return _fill(_shape(size), lambda n: _gaussian_runs(t, m, d, n, rng))


def discrete_laplace_scale_used(scale: float) -> float:
    """The scale :func:`discrete_laplace` really uses (>= ``scale``, relative excess < 1e-9)."""
    t, s = _laplace_rational(_check_noise(scale, "scale"))
    return _float_at_least(Fraction(t, s))


def discrete_gaussian_sigma_used(sigma: float) -> float:
    """The sigma :func:`discrete_gaussian` really uses: >= ``sigma``, by a relative 2^-21 at most
    for sigma >= 2^-10 (coarser below, see ``_gaussian_rational``)."""
    t, m, d = _gaussian_rational(_check_noise(sigma, "sigma"))
    variance = Fraction(t * m, d)
    used = math.sqrt(variance)
    while Fraction(used) ** 2 < variance:
        used = math.nextafter(used, math.inf)
    return used


def exponential_mechanism(scores, epsilon: float, sensitivity: float, rng: np.random.Generator) -> int:
    """Index i drawn with probability proportional to exp(epsilon * scores[i] / (2 sensitivity)).

    Sampled exactly from the exponential mechanism run with epsilon' = floor(epsilon 2^20) / 2^20
    <= epsilon on the quantised scores floor(scores[i] 2^20 / sensitivity) (in units of
    sensitivity / 2^20), declared to have sensitivity 2^20 + 1 units, i.e. sensitivity' =
    sensitivity (1 + 2^-20). That mechanism is epsilon-bounded-range, hence epsilon^2/8-zCDP
    (Cesar & Rogers 2021); the caller charges the accountant for it.
    """
    values = np.asarray(scores, dtype=float)
    if values.ndim != 1 or values.size == 0:
        raise BudgetError("scores must be a non-empty 1-D sequence of numbers")
    if not np.all(np.isfinite(values)):
        raise BudgetError("scores must all be finite")
    epsilon = _check_positive(epsilon, "epsilon")
    sensitivity = _check_positive(sensitivity, "sensitivity")
    # Exact rationals throughout: a float score is a / b with b a power of two, so the
    # quantised score floor(score 2^20 / sensitivity) is an integer floor division.
    e = math.floor(Fraction(epsilon) * _EM_UNITS)
    sens_num, sens_den = sensitivity.as_integer_ratio()
    units = [
        (num * _EM_UNITS * sens_den) // (den * sens_num)
        for num, den in map(float.as_integer_ratio, values.tolist())
    ]
    # Weight of candidate i relative to the best: exp(-gamma_i), with
    # gamma_i = epsilon' (k_max - k_i) / (2 (2^20 + 1)) = e (k_max - k_i) / (2^20 2 (2^20 + 1)).
    denom = _EM_UNITS * 2 * (_EM_UNITS + 1)
    top = max(units)
    parts = [divmod(e * (top - k), denom) for k in units]
    whole = [floor for floor, _ in parts]
    floors = np.array(whole, dtype=np.int64 if max(whole) <= _INT64_MAX else object)
    remainders = np.array([remainder for _, remainder in parts], dtype=np.int64)
    # Rejection from the uniform proposal: each proposal is accepted with probability
    # exp(-gamma_i) <= 1 and the best candidate always, so a batch of 4m proposals holds an
    # acceptance with probability >= 1 - e^-4; the first acceptance in proposal order is an
    # exact draw from the weights.
    batch = max(16, 4 * values.size)
    while True:
        proposals = rng.integers(0, values.size, size=batch)
        accepted = np.flatnonzero(
            _bernoulli_exp_parts(floors[proposals], remainders[proposals], denom, rng)
        )
        if accepted.size:
            return int(proposals[accepted[0]])


# ------------------------------------------------------------------ Bernoulli(exp(-gamma))


@cache
def _factorial_block(first: int) -> tuple[int, np.ndarray]:
    """For k = first..last (product <= 2^50, where integer draws are fast): the product, and
    the ascending thresholds prod(j+1..last) for j = last..first."""
    last, product = first, first
    while product * (last + 1) <= 2**50:
        last += 1
        product *= last
    thresholds, tail = [], 1
    for j in range(last, first - 1, -1):
        thresholds.append(tail)
        tail *= j
    return product, np.array(thresholds, dtype=np.int64)


def _exp1_trials(n: int, rng: np.random.Generator, first: int = 2) -> np.ndarray:
    """n independent Bernoulli(exp(-1)) draws, exactly, from one integer uniform draw each.

    CKS Algorithm 1 with gamma = 1 draws A_k ~ Bernoulli(1/k) for k = 1, 2, ... (A_1 = 1),
    stops at the first A_k = 0 and accepts iff k is odd. Independent digits d_k uniform on
    [0, k) for k = first..last are the mixed-radix digits of one W uniform on [0, first...last),
    most significant first; A_k = [d_k = 0], and d_first..d_j are all 0 iff W < prod(j+1..last).
    So the stopping k is read off W: first or first + 1 by one comparison, a deeper k (rare)
    by a search. W = 0 (every A_k = 1) continues the same process at k = last + 1.
    """
    product, thresholds = _factorial_block(first)
    draws = rng.integers(0, product, size=n)
    accept = (draws < thresholds[-1]) ^ (first % 2 == 1)
    deep = np.flatnonzero(draws < thresholds[-2])
    if deep.size:
        draws = draws[deep]
        passed = thresholds.size - np.searchsorted(thresholds, draws, side="right")
        accept[deep] = (passed + first) & 1 == 1
        again = deep[draws == 0]
        if again.size:
            accept[again] = _exp1_trials(again.size, rng, first + thresholds.size)
    return accept


def _exp1_successes(n: int, rng: np.random.Generator) -> np.ndarray:
    """For each of n positions, the number of Bernoulli(exp(-1)) successes before a failure."""
    counts = np.zeros(n, dtype=np.int64)
    live = np.arange(n)
    while live.size:
        live = live.compress(_exp1_trials(live.size, rng))
        counts[live] += 1
    return counts


def _bernoulli_ratio(numer: np.ndarray, denom, k: int, rng: np.random.Generator) -> np.ndarray:
    """Bernoulli(numer / (denom k)) for numer < denom, without forming denom k (overflow).

    With U1 uniform on [0, denom) and U2 on [0, k), U1 k + U2 is uniform on [0, denom k), and
    U1 k + U2 < numer iff U1 < numer // k, or U1 = numer // k and U2 < numer % k.
    """
    u1 = rng.integers(0, denom, size=numer.size)
    if k == 1:
        return u1 < numer
    quotient = numer // k
    hit = u1 < quotient
    tie = np.flatnonzero(u1 == quotient)
    if tie.size:
        hit[tie] = rng.integers(0, k, size=tie.size) < numer[tie] % k
    return hit


def _exp_fraction_trials(numer: np.ndarray, denom, rng: np.random.Generator) -> np.ndarray:
    """Bernoulli(exp(-numer/denom)) for 0 <= numer < denom (CKS Algorithm 1, gamma <= 1).

    Round k draws A ~ Bernoulli(gamma / k) for every position still running; a position stops
    at its first A = 0 and accepts iff k is odd. A position reaches round k with probability
    gamma^(k-1) / (k-1)!, so the rounds end fast. ``denom`` is a scalar or an array like numer.
    """
    accept = np.zeros(numer.size, dtype=bool)
    live = np.arange(numer.size)
    k = 1
    while live.size:
        going_on = _bernoulli_ratio(numer, denom, k, rng)
        if k % 2 == 1:
            accept[live.compress(~going_on)] = True
        live, numer = live.compress(going_on), numer.compress(going_on)
        if np.ndim(denom):
            denom = denom.compress(going_on)
        k += 1
    return accept


def _bernoulli_exp_parts(floors: np.ndarray, remainders: np.ndarray, denom, rng) -> np.ndarray:
    """Bernoulli(exp(-(floors + remainders / denom))), all arrays flat (denom may be scalar).

    exp(-gamma) = exp(-1)^floor(gamma) exp(-frac(gamma)): floor(gamma) Bernoulli(exp(-1))
    draws must all succeed (a round fails w.p. 1 - 1/e, so this ends fast), and then one
    Bernoulli(exp(-frac)) by CKS Algorithm 1. ``floors`` may be an object array of Python ints.
    """
    accept = np.ones(floors.size, dtype=bool)
    live = np.flatnonzero(floors > 0)
    left = floors[live]
    while live.size:
        success = _exp1_trials(live.size, rng)
        accept[live.compress(~success)] = False
        left = left.compress(success) - 1
        going_on = left > 0
        live, left = live.compress(success).compress(going_on), left.compress(going_on)
    live = np.flatnonzero(accept & (remainders > 0))
    denom_live = denom[live] if np.ndim(denom) else denom
    accept[live] = _exp_fraction_trials(remainders[live], denom_live, rng)
    return accept


# ------------------------------------------------------------------ Laplace and Gaussian


def _laplace_rational(scale: float) -> tuple[int, int]:
    """Integers t, s with t/s >= scale: s = 2^k and t in [2^32, 2^33], so t/s - scale < scale 1e-9.

    Below scale 2^-30 the denominator stays at 2^62 and the rounding up is coarser.
    """
    exponent = math.frexp(scale)[1]
    k = min(max(0, _LAPLACE_PRECISION_BITS + 1 - exponent), 62)
    return math.ceil(Fraction(scale) * 2**k), 2**k


def _laplace_runs(t: int, s: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """CKS Algorithm 2 (scale t/s) run n times; returns the outputs of runs that did not retry."""
    u = rng.integers(0, t, size=n)
    u = u.compress(_exp_fraction_trials(u, t, rng))
    # V: successes of Bernoulli(exp(-1)) before the first failure, so X = U + t V has
    # P(X = x) proportional to exp(-x / t); Y = X // s then has ratio exp(-s / t) per step.
    x = u + t * _exp1_successes(u.size, rng)
    y = x // s if s > 1 else x
    signs = 1 - 2 * rng.integers(0, 2, size=y.size, dtype=np.int8)
    # B = 1 with Y = 0 retries, so 0 is not counted twice (once as +0, once as -0).
    return (y * signs).compress((signs > 0) | (y != 0))


def _gaussian_rational(sigma: float) -> tuple[int, int, int]:
    """Integers t = floor(sigma) + 1, m, d (d a power of two) with t m / d >= sigma^2.

    sigma^2 is rounded up to a multiple of t / d so that sigma^2 / t = m / d and the
    acceptance exponent of Algorithm 3 reduces to (|Y| d - m)^2 / (2 t m d), whose
    denominator stays below 2^62 for every sigma <= 1e9. d is the smallest power of two with
    m >= 2^20 (relative excess <= 2^-20) unless that denominator would pass 2^62 (sigma < 2^-10).
    """
    t = math.floor(sigma) + 1
    variance = Fraction(sigma) ** 2
    target = math.ceil(Fraction(_GAUSSIAN_PRECISION * t) / variance)
    exponent = max(0, (target - 1).bit_length())
    while True:
        d = 2**exponent
        m = math.ceil(variance * d / t)
        if 2 * t * m * d <= _DENOMINATOR_CAP or exponent == 0:
            return t, m, d
        exponent -= 1


def _gaussian_runs(t: int, m: int, d: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """CKS Algorithm 3 run n times (Laplace proposals); returns the accepted outputs.

    Y ~ discrete Laplace(t) is accepted with probability exp(-(|Y| - sigma^2/t)^2 / (2 sigma^2))
    = exp(-(|Y| d - m)^2 / (2 t m d)) with sigma^2 = t m / d.
    """
    y = _laplace_runs(t, 1, n, rng)
    floors, remainders, denom = _gaussian_exponent(np.abs(y), t, m, d)
    return y.compress(_bernoulli_exp_parts(floors, remainders, denom, rng))


def _gaussian_exponent(magnitude: np.ndarray, t: int, m: int, d: int):
    """Floor and remainder of (|Y| d - m)^2 / (2 t m d), exactly, and that denominator.

    In int64 while the square fits; with Python ints for the rare rows where it would not (the
    floors stay Python ints if one passes int64).
    """
    denom = 2 * t * m * d
    # |Y| <= limit keeps |Y| d - m within +-isqrt(2^63 - 1), so its square fits (m < 2^31).
    limit = (_SQRT_INT64_MAX + m) // d
    offset = np.minimum(magnitude, limit) * d - m
    floors, remainders = np.divmod(offset * offset, denom)
    wide = np.flatnonzero(magnitude > limit)
    if wide.size:
        square = (magnitude[wide].astype(object) * d - m) ** 2
        wide_floors = square // denom
        if max(wide_floors) > _INT64_MAX:  # only for absurdly small sigma, where d is huge
            floors = floors.astype(object)
        floors[wide] = wide_floors
        remainders[wide] = (square % denom).astype(np.int64)
    return floors, remainders, denom


def _fill(shape: tuple[int, ...], runs) -> np.ndarray:
    """An int64 array of ``shape`` filled from ``runs(n)``, which returns the accepted draws of n
    independent runs of a rejection sampler; accepted draws in run order are i.i.d., so the
    first ones needed are kept. Batches follow the observed acceptance rate, up to _MAX_BATCH."""
    n = math.prod(shape)
    out = np.empty(n, dtype=np.int64)
    filled, proposed, accepted = 0, 0, 0
    while filled < n:
        wanted = math.ceil((n - filled) * 1.05 * (proposed + 1) / (accepted + 1))
        batch = min(_MAX_BATCH, max(16, wanted))
        draws = runs(batch)
        take = min(draws.size, n - filled)
        out[filled : filled + take] = draws[:take]
        filled += take
        proposed += batch
        accepted += draws.size
    return out.reshape(shape)


# ------------------------------------------------------------------ validation


def _check_positive(value, name: str) -> float:
    return number(name, value, low=0.0, low_open=True, error=BudgetError)


def _check_noise(value, name: str) -> float:
    return number(name, value, low=0.0, low_open=True, high=MAX_NOISE, error=BudgetError)


def _check_seed(seed, name: str) -> int:
    return integer(name, seed, low=0, error=BudgetError)


def _shape(size) -> tuple[int, ...]:
    message = f"size must be a non-negative int or a tuple of them; got {size!r}"
    try:
        shape = (size,) if isinstance(size, numbers.Integral) else tuple(size)
    except TypeError:
        raise BudgetError(message) from None
    if any(isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 0 for n in shape):
        raise BudgetError(message)
    return tuple(int(n) for n in shape)


def _int64_array(values, name: str, minimum: int) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype.kind not in "iu":
        raise BudgetError(f"{name} must be an integer array; got dtype {array.dtype}")
    if array.size and (array.min() < minimum or array.max() > _INT64_MAX):
        raise BudgetError(f"{name} must be integers in [{minimum}, 2^63 - 1]")
    return array.astype(np.int64)


def _float_at_least(value: Fraction) -> float:
    result = float(value)
    return result if Fraction(result) >= value else math.nextafter(result, math.inf)
