"""Hybrid generator: a marginal model for the table's discrete structure, a DP-SGD network for
what binning loses.

The backbone (AIM by default, or MST) spends the ``marginal`` part on every column as the
schema encodes it (categories, numeric bins, missing codes), except that a categorical column
with more than ``max_marginal_size`` codes enters it coarsened: codes are grouped in runs of
``g = ceil(size / max_marginal_size)`` by a public map (code // g). The network spends the
``neural`` part by DP-SGD (through the door, see :mod:`dpsynth.privacy.dpsgd`) on the detail,
conditioned on the whole binned row: for each numeric column the value's position within its
bin (``fine_bins`` steps), for each coarsened column the code within its group. Sampling draws
the binned rows from the backbone and then the detail from the network: post-processing only.
Both parts are charged to the release's one accountant, which reports their joint
(epsilon, delta) beside the naive sum (:meth:`dpsynth.privacy.accountant.Accountant.report`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from dpsynth.errors import DataError, NotFittedError
from dpsynth.generators.base import FORMAT_VERSION, MarginalGenerator, check_document, load_document, save_document
from dpsynth.generators.neural import (
    NeuralGenerator,
    TokenFeatures,
    TokenNetwork,
    identity,
    numeric_columns,
    refine_numeric,
    underpowered,
)
from dpsynth.generators.neural_model import require_torch
from dpsynth.generators.protocol import Params
from dpsynth.privacy.budget import MARGINAL, NEURAL
from dpsynth.random_state import RandomState, check_random_state
from dpsynth.schema import Categorical, Schema, decode, encode
from dpsynth.validation import integer

BACKBONES = ("mst", "aim")


def _backbone_class(name: str) -> type[MarginalGenerator]:
    """The marginal generator registered under ``name``, one of :data:`BACKBONES`."""
    from dpsynth.generators import generator_class

    cls = generator_class(name)
    assert issubclass(cls, MarginalGenerator)  # every name in BACKBONES is a marginal generator
    return cls


def _coarsen(schema: Schema, max_size: int) -> tuple[Schema, dict[str, np.ndarray], dict[str, int]]:
    """The schema the backbone sees, the public code maps and each coarsened column's group size."""
    columns, maps, groups = [], {}, {}
    for column in schema.columns:
        if column.name in schema.encoded_columns and isinstance(column, Categorical) and column.size > max_size:
            group = math.ceil(column.size / max_size)
            n_groups = math.ceil(column.size / group)
            maps[column.name] = np.arange(column.size) // group
            groups[column.name] = group
            labels = tuple(f"group {i}" for i in range(n_groups))
            column = Categorical(column.name, labels, other=False, missing=False)
        columns.append(column)
    return Schema(tuple(columns), schema.provenance), maps, groups


class HybridGenerator(Params):
    """Marginal backbone plus DP-SGD detail (registry name ``hybrid``).

    Parameters
    ----------
    backbone : ``"aim"`` (default) or ``"mst"``, fitted on the ``marginal`` part. Chosen by
        measurement on raw Adult: the AIM backbone is closer on 2-way marginals and model
        accuracy, MST is much faster (see ``benchmarks/RESULTS.md``, "Neural and hybrid
        generators").
    backbone_params : keyword arguments for the backbone.
    max_marginal_size : categorical columns with more codes enter the backbone coarsened.
    epochs, batch_size, learning_rate, clipping_norm, embed, hidden, fine_bins, random_state :
        as for :class:`~dpsynth.generators.neural.NeuralGenerator`, for the detail network.
    """

    name: ClassVar[str] = "hybrid"
    parts: ClassVar[tuple[str, ...]] = (MARGINAL, NEURAL)
    capabilities: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self, *, backbone: str = "aim", backbone_params: dict[str, Any] | None = None,
        max_marginal_size: int = 64, epochs: float = 2.0, batch_size: int = 512,
        learning_rate: float = 3e-3, clipping_norm: float = 1.0, embed: int = 16, hidden: int = 64,
        fine_bins: int = 16, random_state: None | int | np.random.Generator = None,
    ) -> None:
        self.backbone = backbone
        self.backbone_params = backbone_params
        self.max_marginal_size = max_marginal_size
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.clipping_norm = clipping_norm
        self.embed = embed
        self.hidden = hidden
        self.fine_bins = fine_bins
        self.random_state = random_state

    check_extra = staticmethod(NeuralGenerator.check_extra)


    def _network_settings(self) -> dict[str, Any]:
        settings = self.get_params()
        NeuralGenerator(**{k: settings[k] for k in NeuralGenerator().get_params()})._validate()
        return settings

    def fit(self, table: Any, marginal_part: str = MARGINAL, neural_part: str = NEURAL) -> HybridGenerator:
        """Fit the backbone on ``marginal_part``, then the detail network on ``neural_part``."""
        from dpsynth.generators import check_params

        require_torch()
        if self.backbone not in BACKBONES:
            raise DataError(f"backbone must be one of {list(BACKBONES)}; got {self.backbone!r}")
        check_params(self.backbone, dict(self.backbone_params or {}))
        size = self.max_marginal_size
        integer("max_marginal_size", size, low=2)
        settings = self._network_settings()
        # Initialisation and sampling only, as in NeuralGenerator.fit.
        rng = table.noise.sampling_rng if self.random_state is None else check_random_state(self.random_state)
        schema = table.require_schema()
        coarse, maps, groups = _coarsen(schema, size)
        numeric = numeric_columns(schema)
        if not numeric and not groups:
            raise DataError(
                "the hybrid's neural part has nothing to learn: no numeric column and no "
                f"categorical column above max_marginal_size={size}; use 'mst' or 'aim'"
            )
        backbone = _backbone_class(self.backbone)(**(self.backbone_params or {}))
        backbone.fit(table.coarsened(coarse, maps) if maps else table, part=marginal_part)

        names = list(schema.encoded_columns)
        vocab = [coarse[name].size for name in names]
        vocab += [groups[name] for name in groups] + [self.fine_bins] * len(numeric)
        missing = [
            (len(names) + len(groups) + k, names.index(name), schema[name].missing_code)
            for k, name in enumerate(numeric) if schema[name].missing
        ]

        # Tokens: each column's coarse code (given, weight 0), each merged column's position in
        # its group, each numeric column's position within its bin (door columns after the codes).
        sizes = [schema.encoded(name).size for name in names]
        given = [np.asarray(maps[name], dtype=np.int64) if name in maps else identity(size)
                 for name, size in zip(names, sizes)]
        detail = [identity(sizes[names.index(name)]) % groups[name] for name in groups]
        featurize = TokenFeatures(
            source=(*range(len(names)), *(names.index(name) for name in groups),
                    *(len(names) + k for k in range(len(numeric)))),
            lookups=(*given, *detail, *(identity(self.fine_bins) for _ in numeric)),
            base=(0.0,) * len(names) + (1.0,) * (len(groups) + len(numeric)),
            zero_when=tuple(missing),
        )
        self.network_, self.training_ = TokenNetwork.train(
            table, neural_part, vocab, len(names), featurize, float(backbone.n_rows_estimate), settings, rng
        )
        self.backbone_, self.schema_, self.coarse_schema_ = backbone, schema, coarse
        self.groups_ = groups
        self.warnings_ = underpowered(
            self.training_, neural_part,
            "values within the backbone's bins may be close to uniform (the backbone's marginals are unaffected)",
        )
        self._rng = rng
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "network_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit first")

    @property
    def n_rows_estimate(self) -> int:
        """The backbone's DP estimate of the number of records."""
        self._check_fitted()
        return self.backbone_.n_rows_estimate

    def sample(self, n_rows: int | None = None, random_state: None | int | np.random.Generator = None) -> pd.DataFrame:
        """``n_rows`` rows (default: the DP row estimate): binned rows from the backbone, detail
        from the network; post-processing only."""
        self._check_fitted()
        n_rows = self.n_rows_estimate if n_rows is None else n_rows
        integer("n_rows", n_rows)
        rng = self._rng if random_state is None else check_random_state(random_state)
        names = list(self.schema_.encoded_columns)
        binned = encode(self.backbone_.sample(int(n_rows), rng), self.coarse_schema_).codes.astype(np.int64)
        given = np.zeros((int(n_rows), len(self.network_.vocab)), np.int64)
        given[:, : len(names)] = binned
        tokens = self.network_.sample(given, rng)
        codes = binned.copy()
        for k, (name, group) in enumerate(self.groups_.items()):
            j = names.index(name)
            codes[:, j] = np.minimum(binned[:, j] * group + tokens[:, len(names) + k], self.schema_[name].size - 1)
        fine = tokens[:, len(names) + len(self.groups_) :]
        frame = decode(codes, self.schema_, rng)
        return refine_numeric(frame, codes, fine, self.schema_, self.fine_bins, rng)

    # ------------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """The backbone's dict, the network and both schemas, as plain JSON values."""
        self._check_fitted()
        return {
            "dpsynth_model": FORMAT_VERSION, "method": self.name, "params": self.public_params(),
            "schema": self.schema_.to_dict(), "coarse_schema": self.coarse_schema_.to_dict(),
            "groups": self.groups_, "network": self.network_.to_dict(), "training": self.training_,
            "backbone": self.backbone_.to_dict(),
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], random_state: RandomState = None) -> Self:
        """The fitted hybrid :meth:`to_dict` describes; ``random_state`` draws its samples."""
        check_document(document, cls.name)
        generator = cls(**document["params"])
        rng = check_random_state(random_state)
        generator.backbone_ = _backbone_class(generator.backbone).from_dict(document["backbone"], rng)
        generator.schema_ = Schema.from_dict(document["schema"])
        generator.coarse_schema_ = Schema.from_dict(document["coarse_schema"])
        generator.groups_ = document["groups"]
        generator.network_ = TokenNetwork.from_dict(document["network"])
        generator.training_ = document["training"]
        generator._rng = rng
        return generator

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_dict` as one JSON file."""
        save_document(self.to_dict(), path)

    @classmethod
    def load(cls, path: str | os.PathLike, random_state: RandomState = None) -> Self:
        """A fitted hybrid read from :meth:`save`'s file; loading costs no privacy."""
        return cls.from_dict(load_document(path, cls.name), random_state)
