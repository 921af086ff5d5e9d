"""scikit-learn's ``random_state`` convention for numpy: None, an int seed, or a Generator."""

from __future__ import annotations

import numpy as np

from dpsynth.errors import ParameterError

RandomState = None | int | np.random.Generator


def check_random_state(random_state: RandomState) -> np.random.Generator:
    """A numpy Generator from None (fresh OS entropy), a seed, or a Generator (used as is)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, int) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ParameterError(f"random_state must be a non-negative integer seed; got {random_state}")
        return np.random.default_rng(random_state)
    raise ParameterError(
        f"random_state must be None, an int or a numpy Generator; got {type(random_state).__name__}"
    )
