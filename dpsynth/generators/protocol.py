"""What every generator is: the protocol the release, the Synthesizer and the sweep rely on.

A generator is built from keyword parameters that it stores unchanged (scikit-learn's rule:
``__init__`` stores, ``fit`` validates), spends the parts it names from the door's accountant in
``fit``, samples as post-processing, declares what else ``sample`` can do (``capabilities``)
instead of being probed for it, and round-trips through a plain dict.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from functools import cache
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd

from dpsynth.random_state import RandomState

CONDITIONS = "conditions"
REBALANCE = "rebalance"


@runtime_checkable
class Generator(Protocol):
    """A DP generator: ``fit(table) -> self`` spends its ``parts``; the rest is post-processing."""

    name: ClassVar[str]
    parts: ClassVar[tuple[str, ...]]
    capabilities: ClassVar[frozenset[str]]
    #: What the fit found worth telling the user (a model its budget could not make useful, say),
    #: decided from public facts and noisy answers only; empty by default.
    warnings_: tuple[str, ...]

    def fit(self, table: Any) -> Self: ...

    def sample(self, n_rows: int | None = None, random_state: RandomState = None, **options: Any) -> pd.DataFrame: ...

    @property
    def n_rows_estimate(self) -> int:
        """The fitted model's DP estimate of the number of records (never the exact count)."""
        ...

    def get_params(self) -> dict[str, Any]: ...

    @staticmethod
    def check_extra() -> None: ...

    def to_dict(self) -> dict[str, Any]: ...

    def save(self, path: str | os.PathLike) -> None: ...

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], random_state: RandomState = None) -> Self: ...


@cache
def parameter_names(cls: type) -> tuple[str, ...]:
    """The keyword-only parameters of ``cls``'s constructor, read once."""
    # mypy flags reading __init__ off a `type` value as unsound; the constructor's own signature is what is wanted.
    signature = inspect.signature(cls.__init__)  # type: ignore[misc]
    return tuple(name for name, p in signature.parameters.items() if p.kind is p.KEYWORD_ONLY)


class Params:
    """``get_params`` from the constructor's signature, so it cannot drift from the constructor;
    ``check_extra``, which a generator that needs an optional extra overrides; no fit warnings."""

    warnings_: tuple[str, ...] = ()

    @staticmethod
    def check_extra() -> None:
        """Raise MissingExtraError naming the extra this generator needs, if it is missing."""

    def get_params(self) -> dict[str, Any]:
        """The constructor's parameters as given (scikit-learn style)."""
        # mypy checks type[Params] against Hashable through its instances' __hash__; a class is hashable.
        return {name: getattr(self, name) for name in parameter_names(type(self))}  # type: ignore[arg-type]

    def public_params(self) -> dict[str, Any]:
        """The parameters as plain JSON values, for records and saved models.

        A ``random_state`` Generator has no JSON form: it is written as None (a loaded model
        takes its own ``random_state`` for sampling).
        """
        return {name: _plain(value) for name, value in self.get_params().items()}


def _plain(value: Any) -> Any:
    if isinstance(value, np.random.Generator):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    return value
