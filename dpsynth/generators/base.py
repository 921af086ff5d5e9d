"""What every marginal-based generator shares: sampling, decoding, saving a fitted model.

A fitted generator holds a graphical model estimated from noisy marginals, the public schema
and public code merges; all of it is post-processing of DP measurements, so it may be shared.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.errors import DataError, NotFittedError
from dpsynth.models import GraphicalModel
from dpsynth.schema import Schema, decode

FORMAT_VERSION = 1


def as_generator(random_state: None | int | np.random.Generator) -> np.random.Generator:
    """A numpy Generator from None, a seed, or a Generator (scikit-learn's ``random_state``)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or (isinstance(random_state, int) and not isinstance(random_state, bool)):
        return np.random.default_rng(random_state)
    raise DataError(f"random_state must be None, an int or a numpy Generator; got {type(random_state).__name__}")


class MarginalSynthesizer:
    """Base of the marginal-based generators (fit is theirs; the rest is shared)."""

    name = "marginal"

    def _set_fitted(
        self, model: GraphicalModel, schema: Schema, merges: dict[str, np.ndarray], rng: np.random.Generator
    ) -> None:
        self.model_ = model
        self.schema_ = schema
        self.merges_ = merges
        self._rng = rng

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit first")

    @property
    def n_rows_estimate(self) -> int:
        """The model's total: a DP estimate of the number of records (never the exact count)."""
        self._check_fitted()
        return max(1, int(round(self.model_.total)))

    def sample(self, n_rows: int | None = None, random_state: None | int | np.random.Generator = None) -> pd.DataFrame:
        """``n_rows`` synthetic rows (default: the DP estimate of the row count) as a DataFrame."""
        self._check_fitted()
        if n_rows is None:
            n_rows = self.n_rows_estimate
        if isinstance(n_rows, bool) or not isinstance(n_rows, (int, np.integer)) or n_rows < 1:
            raise DataError(f"n_rows must be a positive integer; got {n_rows!r}")
        rng = self._rng if random_state is None else as_generator(random_state)
        codes = self.model_.sample(int(n_rows), rng)
        codes = self._unmerge(codes, rng)
        return decode(codes, self.schema_, rng)

    def _unmerge(self, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Map merged codes back to original codes, uniformly among the codes each one merged."""
        out = codes.copy()
        for j, name in enumerate(self.model_.domain.attrs):
            merge = self.merges_.get(name)
            if merge is None:
                continue
            merged_code = int(merge.max())
            members = np.flatnonzero(merge == merged_code)
            inverse = np.zeros(merged_code + 1, dtype=np.int64)
            for original, new in enumerate(merge):
                inverse[new] = original
            column = inverse[codes[:, j]]
            hit = codes[:, j] == merged_code
            column[hit] = rng.choice(members, size=int(hit.sum()))
            out[:, j] = column
        return out

    # ------------------------------------------------------------------------ persistence
    def get_params(self) -> dict[str, Any]:
        return {}

    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted model (post-processing of DP measurements) as one JSON file."""
        self._check_fitted()
        document = {
            "dpsynth_model": FORMAT_VERSION,
            "method": self.name,
            "params": self.get_params(),
            "schema": self.schema_.to_dict(),
            "merges": {k: v.tolist() for k, v in self.merges_.items()},
            "model": self.model_.to_dict(),
        }
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(document, handle)

    @classmethod
    def load(cls, path: str | os.PathLike, random_state: None | int | np.random.Generator = None) -> MarginalSynthesizer:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
        if document.get("dpsynth_model") != FORMAT_VERSION or document.get("method") != cls.name:
            raise DataError(f"{os.fspath(path)} is not a saved dpsynth {cls.name} model")
        generator = cls(**document["params"])
        generator._set_fitted(
            GraphicalModel.from_dict(document["model"]),
            Schema.from_dict(document["schema"]),
            {k: np.asarray(v, dtype=np.int64) for k, v in document["merges"].items()},
            as_generator(random_state),
        )
        return generator
