"""The domain of a model: ordered attribute names and how many integer codes each one takes.

Attribute ``a`` of size ``k`` takes the codes ``0 .. k-1``. The order is the column order of
sampled rows; cliques are kept in this order so the same set of attributes always has one name.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dpsynth.errors import ModelError


@dataclass(frozen=True)
class Domain:
    """Ordered attributes and their sizes (number of codes); public metadata, never data."""

    attrs: tuple[str, ...]
    sizes: tuple[int, ...]
    # Position of each attribute, built in __post_init__; derived, so not compared or shown.
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        attrs = tuple(str(a) for a in self.attrs)
        sizes = tuple(int(s) for s in self.sizes)
        if len(attrs) != len(sizes):
            raise ModelError(
                f"Domain needs one size per attribute; got {len(attrs)} attrs, {len(sizes)} sizes"
            )
        if len(set(attrs)) != len(attrs):
            raise ModelError("Domain attribute names must be unique")
        bad = [a for a, s in zip(attrs, sizes) if s < 1]
        if bad:
            raise ModelError(f"Domain sizes must be >= 1; attribute(s) {bad} are not")
        object.__setattr__(self, "attrs", attrs)
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "_index", {a: i for i, a in enumerate(attrs)})

    @classmethod
    def from_dict(cls, sizes: Mapping[str, int]) -> Domain:
        """Domain from ``{attr: size}`` in the mapping's order (the shape of ``adult-domain.json``)."""
        return cls(tuple(sizes), tuple(sizes.values()))

    def to_dict(self) -> dict[str, int]:
        return dict(zip(self.attrs, self.sizes))

    def __len__(self) -> int:
        return len(self.attrs)

    def __contains__(self, attr: object) -> bool:
        return attr in self._index

    def index(self, attr: str) -> int:
        """Position of ``attr`` (its column in sampled rows)."""
        try:
            return self._index[attr]
        except KeyError:
            raise ModelError(f"attribute {attr!r} is not in the domain {list(self.attrs)}") from None

    def size(self, attr: str) -> int:
        return self.sizes[self.index(attr)]

    def canonical(self, attrs: Iterable[str]) -> tuple[str, ...]:
        """The attributes without repeats, in domain order (the one name of a clique)."""
        return tuple(sorted(set(attrs), key=self.index))

    def shape(self, attrs: Iterable[str]) -> tuple[int, ...]:
        """Array shape of a table over ``attrs``, one axis per attribute in the order given."""
        return tuple(self.size(a) for a in attrs)

    def cells(self, attrs: Iterable[str]) -> int:
        """Number of cells of a table over ``attrs`` (an exact Python int: no overflow)."""
        return math.prod(self.shape(attrs))
