"""dpsynth: differentially private synthetic data with one accountant per release.

The public API, imported lazily so ``import dpsynth`` stays light (no torch, no scikit-learn):

- :class:`Synthesizer` — ``Synthesizer.create("aim", epsilon=1.0).fit(df).sample(1000)``;
- ``release(data, *, epsilon, delta, out, ...)`` — fit, sample, attack and write a release
  bundle with its record (the ``dpsynth.release`` package is callable; it runs
  :func:`dpsynth.release.pipeline.release`);
- :func:`audit` — attack a synthetic table (from dpsynth or another tool) and judge it;
- :func:`compare` — sweep methods and epsilons and tabulate utility and attack results;
- ``MST``, ``AIM``, ``PrivBayes`` — the generator classes, for use with a
  :class:`~dpsynth.data.PrivateTable` directly or as ``Synthesizer(MST(...), epsilon=...)``.
"""

from __future__ import annotations

import importlib
from typing import Any

from dpsynth._version import __version__

# The release package is callable: dpsynth.release(...) runs the release pipeline (see its docstring).
import dpsynth.release  # noqa: F401  (imports nothing heavy)


_LAZY = {
    "Synthesizer": ("dpsynth.synthesizer", "Synthesizer"),
    "MST": ("dpsynth.generators.mst", "MST"),
    "AIM": ("dpsynth.generators.aim", "AIM"),
    "PrivBayes": ("dpsynth.generators.privbayes", "PrivBayes"),
}

__all__ = ["AIM", "MST", "PrivBayes", "Synthesizer", "__version__", "audit", "compare", "release"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'dpsynth' has no attribute {name!r}")


def audit(*args: Any, **kwargs: Any) -> Any:
    """Attack a synthetic table and judge it against a policy; see :func:`dpsynth.release.audit.audit`.

    ``audit(real, holdout, synthetic, *, schema=None, out, level="standard", policy=None,
    stated_epsilon=None, random_state=None)``. Its numbers read the real data outside the DP
    guarantee: they describe the release to the data custodian.
    """
    from dpsynth.release.audit import audit as run

    return run(*args, **kwargs)


def compare(*args: Any, **kwargs: Any) -> Any:
    """Sweep methods x epsilons and tabulate utility and attacks; see :func:`dpsynth.evaluate.sweep.compare`.

    ``compare(data, *, methods, epsilons, seeds=1, out, delta=1e-9, schema=None, audit="quick",
    ...)`` returns a DataFrame with one row per run.
    """
    from dpsynth.evaluate.sweep import compare as run

    return run(*args, **kwargs)
