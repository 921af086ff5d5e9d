"""Throughput of dpsynth's exact discrete samplers, with diffprivlib's scalar samplers as the peer.

Prints a markdown table of samples per second on one core: dpsynth drawing 10^6 and 10^7
samples per call (best of ``--repeats`` runs) from the noise stream's ChaCha20 and, beside it,
from PCG64DXSM (the noise generator before, the sampling stream now), and diffprivlib drawing
20,000 by repeated ``randomise(0)`` once (its Gaussian slows down as sigma grows), in the same
run. Usage: ``python benchmarks/bench_samplers.py [--repeats 3]``.
"""

import argparse
import math
import platform
import time

import numpy as np
import randomgen
from diffprivlib.mechanisms import GaussianDiscrete, Geometric

from dpsynth.privacy.noise import NoiseSource, discrete_gaussian, discrete_laplace

SCALES = (1, 10, 100, 1000)
SIZES = (10**6, 10**7)
PEER_DRAWS = 20_000


def best_rate(draw, n: int, repeats: int) -> float:
    """Samples per second of ``draw()`` producing n samples, best of ``repeats`` runs."""
    best = min(_seconds(draw) for _ in range(repeats))
    return n / best


def _seconds(draw) -> float:
    start = time.perf_counter()
    draw()
    return time.perf_counter() - start


def peer_gaussian(sigma: float):
    mechanism = GaussianDiscrete(epsilon=1.0, delta=1e-6)
    # diffprivlib calibrates sigma from (epsilon, delta); set it directly to time it at sigma.
    mechanism._scale = float(sigma)
    return lambda: [mechanism.randomise(0) for _ in range(PEER_DRAWS)]


def peer_laplace(scale: float):
    mechanism = Geometric(epsilon=1.0 / scale, sensitivity=1)
    return lambda: [mechanism.randomise(0) for _ in range(PEER_DRAWS)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per cell; the best is kept")
    repeats = parser.parse_args().repeats
    source = NoiseSource()
    # PCG64DXSM seeded from os.urandom drew the noise before; it is the sampling stream now.
    generators = {"PCG64DXSM": source.sampling_rng, "ChaCha20": source.rng}
    samplers = (
        ("discrete_gaussian", discrete_gaussian, peer_gaussian),
        ("discrete_laplace", discrete_laplace, peer_laplace),
    )
    print(
        f"numpy {np.__version__}, randomgen {randomgen.__version__}, "
        f"Python {platform.python_version()}, {platform.machine()}\n"
    )
    ours = " | ".join(f"{label}, 10^{round(math.log10(n))} per call" for label in generators for n in SIZES)
    print(f"| sampler | sigma / scale | {ours} | diffprivlib, 2x10^4 scalar | ChaCha20 speed-up (10^6) |")
    print("|---|---:|" + "---:|" * (len(generators) * len(SIZES) + 2))
    for name, sampler, peer in samplers:
        for scale in SCALES:
            rates = {
                label: [
                    best_rate(lambda sampler=sampler, scale=scale, n=n, rng=rng: sampler(scale, n, rng), n, repeats)
                    for n in SIZES
                ]
                for label, rng in generators.items()
            }
            theirs = best_rate(peer(scale), PEER_DRAWS, 1)
            cells = " | ".join(f"{rate:,.0f}" for rate in (*sum(rates.values(), []), theirs))
            print(f"| {name} | {scale} | {cells} | {rates['ChaCha20'][0] / theirs:,.0f}x |", flush=True)


if __name__ == "__main__":
    main()
