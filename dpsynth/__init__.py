"""dpsynth: differentially private synthetic data with one accountant per release.

The public API, imported lazily so ``import dpsynth`` stays light (no torch, no scikit-learn):

- :func:`release` — fit, sample, attack and write a release bundle with its record;
- :func:`audit` — attack a synthetic table (from dpsynth or another tool) and judge it;
- :func:`compare` — sweep methods and epsilons and tabulate utility and attack results;
- :class:`Synthesizer` — ``Synthesizer("aim", epsilon=1.0).fit(df).sample(1000)``;
- ``ledger`` — the budget ledger's functions (``dpsynth.ledger.show()``, ``cap``, ``export``,
  ``reservations``, ``resolve``);
- ``MST``, ``AIM``, ``PrivBayes`` — the generator classes, for use with a
  :class:`~dpsynth.data.PrivateTable` directly or as ``Synthesizer(MST(...), epsilon=...)``.

The verbs live in :mod:`dpsynth.workflows`; each is a plain function there and here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dpsynth._version import __version__

if TYPE_CHECKING:  # what the lazy names below resolve to, with their signatures
    from dpsynth.generators.aim import AIM
    from dpsynth.generators.mst import MST
    from dpsynth.generators.privbayes import PrivBayes
    from dpsynth.synthesizer import Synthesizer
    from dpsynth.workflows import ledger
    from dpsynth.workflows.audit import audit
    from dpsynth.workflows.compare import compare
    from dpsynth.workflows.release import release

_LAZY = {
    "Synthesizer": ("dpsynth.synthesizer", "Synthesizer"),
    "MST": ("dpsynth.generators.mst", "MST"),
    "AIM": ("dpsynth.generators.aim", "AIM"),
    "PrivBayes": ("dpsynth.generators.privbayes", "PrivBayes"),
    "release": ("dpsynth.workflows.release", "release"),
    "audit": ("dpsynth.workflows.audit", "audit"),
    "compare": ("dpsynth.workflows.compare", "compare"),
    "ledger": ("dpsynth.workflows.ledger", None),
}

__all__ = ["AIM", "MST", "PrivBayes", "Synthesizer", "__version__", "audit", "compare", "ledger", "release"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attribute = _LAZY[name]
        imported = importlib.import_module(module)
        return imported if attribute is None else getattr(imported, attribute)
    raise AttributeError(f"module 'dpsynth' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
