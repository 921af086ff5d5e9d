"""What every marginal-based generator shares: sampling, decoding, saving a fitted model.

A fitted generator holds a graphical model estimated from noisy marginals, the public schema
and public code merges; all of it is post-processing of DP measurements, so it may be shared.
Sampling, conditional sampling and rebalancing read only that, so they cost no privacy.
How conditions and rebalancing stay exact is explained in :mod:`dpsynth.generators.conditions`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np
import pandas as pd

from dpsynth.errors import DataError, NotFittedError
from dpsynth.generators.conditions import _condition_plan, _target, _unmerge_weighted
from dpsynth.generators.empty_codes import empty_codes, kept_codes
from dpsynth.generators.protocol import CONDITIONS, REBALANCE, Params
from dpsynth.models import GraphicalModel, ZeroProbabilityError
from dpsynth.models.measurement import Measurement
from dpsynth.privacy.budget import MARGINAL
from dpsynth.random_state import RandomState, check_random_state
from dpsynth.schema import Schema, decode
from dpsynth.validation import integer, number

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from dpsynth.data import PrivateTable

FORMAT_VERSION = 1
STREAM_BLOCK = 2**16
"""Rows per block of :meth:`MarginalGenerator.sample_chunks`: a constant, never the data's size."""


def check_positive_int(name: str, value: object) -> None:
    """Refuse a parameter that is not an integer >= 1 (booleans included), naming it."""
    integer(name, value)


def check_discrepancy(value: object) -> None:
    """Refuse a ``discrepancy`` stop (see :func:`~dpsynth.models.estimate`) outside [0, 1] or None."""
    if value is not None:
        number("discrepancy", value, low=0, high=1)


class MarginalGenerator(Params):
    """Base of the marginal-based generators (fit is theirs; the rest is shared)."""

    name: ClassVar[str] = "marginal"
    parts: ClassVar[tuple[str, ...]] = (MARGINAL,)
    capabilities: ClassVar[frozenset[str]] = frozenset({CONDITIONS, REBALANCE})

    if TYPE_CHECKING:
        # Each subclass's own fit, declared for callers that hold a MarginalGenerator (the hybrid's backbone).
        def fit(self, table: PrivateTable, part: str = MARGINAL) -> Self: ...

    def _set_fitted(
        self,
        model: GraphicalModel,
        schema: Schema,
        merges: dict[str, np.ndarray],
        rng: np.random.Generator,
        measurements: Sequence[Measurement] = (),
    ) -> None:
        self.model_ = model
        self.schema_ = schema
        self.merges_ = merges
        self._rng = rng
        # Codes the model gives only noise (see dpsynth.generators.empty_codes): sampled never.
        empty = empty_codes(model, schema, merges, measurements)
        evidence = kept_codes(empty, merges, schema)[0]
        if evidence:
            try:
                model.restrict(evidence)
            except ZeroProbabilityError:
                # Each column keeps codes with mass, yet no row holds them all at once: the model
                # is sampled whole instead (post-processing either way).
                logger.warning("the codes judged noise cannot all be left out together: they are sampled too")
                empty = {}
        self.empty_ = empty

    def _without_empty(
        self, skip: Sequence[str] = ()
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Evidence on model codes, un-merge weights and code moves that leave out the empty
        codes of every column but ``skip`` (the conditioned and rebalanced ones, which say their
        own codes); see :func:`~dpsynth.generators.empty_codes.kept_codes`."""
        empty = {name: codes for name, codes in self.empty_.items() if name not in skip}
        return kept_codes(empty, self.merges_, self.schema_)

    def _moved(self, codes: np.ndarray, moves: Mapping[str, np.ndarray]) -> np.ndarray:
        """Sampled original codes with each column's folded empty codes moved (see _without_empty)."""
        for name, move in moves.items():
            j = self.model_.domain.index(name)
            codes[:, j] = move[codes[:, j]]
        return codes

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit first")

    @property
    def n_rows_estimate(self) -> int:
        """The model's total: a DP estimate of the number of records (never the exact count)."""
        self._check_fitted()
        return max(1, round(self.model_.total))

    def sample(
        self,
        n_rows: int | None = None,
        random_state: None | int | np.random.Generator = None,
        conditions: Mapping[str, Any] | None = None,
        rebalance: Mapping[str, Sequence[float] | Mapping[Any, float]] | None = None,
    ) -> pd.DataFrame:
        """``n_rows`` synthetic rows (default: the DP estimate of the row count) as a DataFrame.

        Sampling reads only the fitted model, the public schema and the public merges: it is
        post-processing, and so are ``conditions`` and ``rebalance``: they cost no privacy.

        ``conditions`` maps a column to a value or a list of values; every row then takes one of
        them, and the rest of the row follows the model's exact conditional distribution (not
        rejection; see the module docstring for why it is exact, merged codes included).

        - categorical / ordinal: category labels (matched by string form, as in encoding; the
          "other" label selects the other code);
        - numeric / datetime: a value within the bounds (an integer column needs a whole
          number; datetimes as ISO text or timestamps) makes the column EQUAL that value in
          every row; a list of values makes each row equal one of them, chosen with the
          model's probability (density) of each value; a range is one ``pandas.Interval``
          (its ``closed`` side respected), and the values then lie in it, distributed as the
          model's values given the range;
        - ``None`` (or NaN / NaT) selects the missing code, where the column has one (not
          with points of a continuous column: their probability is zero next to it).

        ``rebalance`` maps a column to a target distribution: a list with one probability per
        code in code order (categories, then "other", then missing; bins for numeric columns),
        or a mapping from values (labels, ``None`` for missing, or for numeric columns a value
        inside each bin) to probabilities, unlisted values getting 0. Targets must be
        non-negative and sum to 1 (within 1e-6). The column's distribution in the sample then
        follows the target (within sampling error; among the conditioned rows when there are
        conditions) and the other columns follow the model's conditional law given it; several
        columns are rebalanced jointly (raking). A column cannot be both conditioned and
        rebalanced. The default ``n_rows`` stays the DP estimate of the whole table's size.

        Errors (DataError, naming the column): unknown columns or values, bad targets, a
        condition or target of probability zero under the fitted model.
        """
        self._check_fitted()
        if n_rows is None:
            n_rows = self.n_rows_estimate
        integer("n_rows", n_rows)
        rng = self._rng if random_state is None else check_random_state(random_state)
        if not conditions and not rebalance:
            evidence, within, moves = self._without_empty()
            codes = self.model_.sample(int(n_rows), rng, evidence=evidence or None)
            codes = self._moved(self._unmerge(codes, rng, within), moves)
            return decode(codes, self.schema_, rng)
        return self._sample_conditioned(int(n_rows), rng, dict(conditions or {}), dict(rebalance or {}))

    def sample_chunks(
        self,
        n_rows: int | None = None,
        random_state: None | int | np.random.Generator = None,
        chunk_rows: int = STREAM_BLOCK,
        **options: Any,
    ) -> Iterator[pd.DataFrame]:
        """:meth:`sample`'s table in chunks of ``chunk_rows`` rows (a multiple of ``STREAM_BLOCK``;
        the last chunk shorter), so memory stays that of one chunk however many rows are drawn.

        The rows come in blocks of ``STREAM_BLOCK``, block ``b`` drawn by :meth:`sample` (with
        ``options``: conditions, rebalance) from a generator seeded by one draw of
        ``random_state`` and ``b``: a seed gives the same rows whatever ``chunk_rows``. They are
        not :meth:`sample`'s rows for that seed: each block is stratified on its own (see
        :mod:`dpsynth.models.sampling`), so a cell's count in n rows may be off n p by one per
        block rather than by one. Post-processing, like :meth:`sample`; the row count is the
        caller's or the DP estimate.
        """
        self._check_fitted()
        n_rows = self.n_rows_estimate if n_rows is None else n_rows
        integer("n_rows", n_rows)
        integer("chunk_rows", chunk_rows)
        if chunk_rows % STREAM_BLOCK:
            raise DataError(f"chunk_rows must be a multiple of {STREAM_BLOCK}; got {chunk_rows}")
        rng = self._rng if random_state is None else check_random_state(random_state)
        return self._blocks(int(n_rows), int(rng.integers(2**63)), chunk_rows, options)

    def _blocks(self, n_rows: int, key: int, chunk_rows: int, options: dict[str, Any]) -> Iterator[pd.DataFrame]:
        """The chunks of :meth:`sample_chunks`, each the concatenation of its blocks."""
        for start in range(0, n_rows, chunk_rows):
            end = min(start + chunk_rows, n_rows)
            yield pd.concat([
                self.sample(min(STREAM_BLOCK, n_rows - b * STREAM_BLOCK), np.random.default_rng([key, b]), **options)
                for b in range(start // STREAM_BLOCK, (end - 1) // STREAM_BLOCK + 1)
            ], ignore_index=True)

    def _check_columns(self, spec: Mapping[str, Any], parameter: str) -> None:
        if not isinstance(spec, Mapping):
            raise DataError(f"{parameter} must be a mapping from column names; got {type(spec).__name__}")
        known = list(self.schema_.encoded_columns)
        for name in spec:
            if name not in known:
                raise DataError(f"{parameter}: column {name!r} is not a sampled column; known columns: {known}")

    def _merge_map(self, name: str) -> np.ndarray:
        """Original code -> model code of a column (identity where nothing was merged)."""
        merge = self.merges_.get(name)
        return np.arange(self.schema_[name].size) if merge is None else np.asarray(merge, dtype=np.int64)

    def _sample_conditioned(
        self, n_rows: int, rng: np.random.Generator, conditions: dict[str, Any], rebalance: dict[str, Any]
    ) -> pd.DataFrame:
        self._check_columns(conditions, "conditions")
        self._check_columns(rebalance, "rebalance")
        both = [name for name in conditions if name in rebalance]
        if both:
            raise DataError(f"column {both[0]!r} is both conditioned and rebalanced; choose one of the two")
        model, schema = self.model_, self.schema_
        plans = {name: _condition_plan(schema[name], spec) for name, spec in conditions.items()}
        targets = {name: _target(schema[name], spec) for name, spec in rebalance.items()}

        evidence, within, moves = self._without_empty(skip=[*plans, *targets])
        weights: dict[str, np.ndarray] = {}
        for name, plan in plans.items():
            merge = self._merge_map(name)
            group_size = np.bincount(merge)[merge]
            weights[name] = np.bincount(merge, weights=plan.mass / group_size, minlength=model.domain.size(name))
            evidence[name] = np.flatnonzero(weights[name] > 0)
            within[name] = plan.mass
        model_targets = {}
        for name, target in targets.items():
            merge = self._merge_map(name)
            model_targets[name] = np.bincount(merge, weights=target, minlength=model.domain.size(name))
            within[name] = target

        if plans:
            try:
                model.restrict(evidence, weights)
            except ZeroProbabilityError:
                raise DataError(
                    f"conditions on column(s) {list(plans)} have probability zero under the fitted model"
                ) from None
        if model_targets:
            try:
                weights.update(model.rebalance_weights(model_targets, evidence, weights))
            except ZeroProbabilityError as error:
                column = error.attrs[0] if error.attrs else list(model_targets)
                raise DataError(
                    f"rebalance: the target for column {column!r} puts mass on values that the fitted model "
                    "gives probability zero" + (" given the conditions" if plans else "")
                ) from None
        codes = model.sample(n_rows, rng, evidence=evidence, weights=weights)
        codes = self._moved(self._unmerge(codes, rng, within), moves)
        frame = decode(codes, schema, rng)
        for name, plan in plans.items():
            if plan.draw is not None:
                column_codes = codes[:, model.domain.index(name)]
                mask, values = plan.draw(column_codes, rng)
                frame.loc[mask, name] = values
        return frame

    def _unmerge(
        self, codes: np.ndarray, rng: np.random.Generator, within: Mapping[str, np.ndarray] | None = None
    ) -> np.ndarray:
        """Map merged codes back to original codes, uniformly among the codes each one merged.

        For a column in ``within`` (non-negative weights on its original codes), a merged code
        picks its members in proportion to those weights instead (conditional sampling).
        """
        out = codes.copy()
        for j, name in enumerate(self.model_.domain.attrs):
            merge = self.merges_.get(name)
            if merge is None:
                continue
            if within is not None and name in within:
                out[:, j] = _unmerge_weighted(codes[:, j], np.asarray(merge), within[name], rng)
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
    def _extra_state(self) -> dict[str, Any]:
        """Fitted state a subclass adds to its dict (JSON-able, post-processing only)."""
        return {}

    def _restore_extra(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`_extra_state` saved."""

    def to_dict(self) -> dict[str, Any]:
        """The fitted model (post-processing of DP measurements) as plain JSON values."""
        self._check_fitted()
        return {
            "dpsynth_model": FORMAT_VERSION,
            "method": self.name,
            "params": self.public_params(),
            "schema": self.schema_.to_dict(),
            "merges": {k: v.tolist() for k, v in self.merges_.items()},
            "empty": {k: list(v) for k, v in self.empty_.items()},
            "model": self.model_.to_dict(),
            "extra": self._extra_state(),
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], random_state: RandomState = None) -> Self:
        """The fitted generator :meth:`to_dict` describes; ``random_state`` draws its samples."""
        check_document(document, cls.name)
        generator = cls(**document["params"])
        generator._set_fitted(
            GraphicalModel.from_dict(document["model"]),
            Schema.from_dict(document["schema"]),
            {k: np.asarray(v, dtype=np.int64) for k, v in document["merges"].items()},
            check_random_state(random_state),
        )
        generator.empty_ = {k: tuple(int(c) for c in v) for k, v in document.get("empty", {}).items()}
        generator._restore_extra(document.get("extra", {}))
        return generator

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_dict` as one JSON file."""
        save_document(self.to_dict(), path)

    @classmethod
    def load(cls, path: str | os.PathLike, random_state: RandomState = None) -> Self:
        """A fitted generator read from :meth:`save`'s file; loading costs no privacy."""
        return cls.from_dict(load_document(path, cls.name), random_state)


def check_document(document: Mapping[str, Any], name: str) -> None:
    """Refuse a dict that is not a saved dpsynth model of generator ``name``."""
    if not isinstance(document, Mapping) or document.get("dpsynth_model") != FORMAT_VERSION:
        raise DataError(f"not a saved dpsynth model (format version {FORMAT_VERSION})")
    if document.get("method") != name:
        raise DataError(f"a saved {document.get('method')!r} model is not a {name!r} model")


def save_document(document: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write a generator's dict as one JSON file."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle)


def load_document(path: str | os.PathLike, name: str) -> dict[str, Any]:
    """A saved model's dict, read from ``path`` and checked to be generator ``name``'s."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
        check_document(document, name)
    except (OSError, ValueError, DataError):
        raise DataError(f"{os.fspath(path)} is not a saved dpsynth {name} model") from None
    return document
