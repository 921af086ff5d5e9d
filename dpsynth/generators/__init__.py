"""Generators behind one protocol (:class:`~dpsynth.generators.protocol.Generator`), created by
name and imported lazily, so a generator that needs an optional extra costs nothing until it is
asked for.
"""

from __future__ import annotations

import importlib
from typing import Any

from dpsynth.errors import DataError
from dpsynth.generators.protocol import Generator, parameter_names

_REGISTRY = {
    "aim": ("dpsynth.generators.aim", "AIM"),
    "hybrid": ("dpsynth.generators.hybrid", "HybridGenerator"),
    "mst": ("dpsynth.generators.mst", "MST"),
    "neural": ("dpsynth.generators.neural", "NeuralGenerator"),
    "privbayes": ("dpsynth.generators.privbayes", "PrivBayes"),
}


def available() -> list[str]:
    """Names of the generators this version knows."""
    return sorted(_REGISTRY)


def generator_class(name: str) -> type[Generator]:
    """The class registered under ``name``."""
    if name not in _REGISTRY:
        raise DataError(f"unknown method {name!r}; choose one of {available()}")
    module, attribute = _REGISTRY[name]
    return getattr(importlib.import_module(module), attribute)


def parameters(name: str) -> list[str]:
    """The constructor parameters of the generator ``name``."""
    return list(parameter_names(generator_class(name)))


def check_params(name: str, params: dict[str, Any]) -> None:
    """Refuse parameter names the generator ``name`` does not take, before anything is spent."""
    known = parameters(name)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise DataError(f"method {name!r} has no parameter(s) {unknown}; its parameters are {known}")


def create(name: str, **params: Any) -> Generator:
    """A new, unfitted generator ``name`` built with ``params``.

    A generator that needs an optional extra says so here (MissingExtraError naming it).
    """
    check_params(name, params)
    cls = generator_class(name)
    cls.check_extra()
    return cls(**params)
