"""The public Python API: one object that plans a budget, fits a generator privately and samples.

``Synthesizer("aim", epsilon=1.0).fit(df).sample(1000)`` does what ``dpsynth release``
does without writing a bundle: it takes the release's steps from the composition root
(:mod:`dpsynth.workflows.root`: budget, ledger, accountant, noise, door, schema), charges the
ledger for the dataset, and keeps the fitted model.
Everything after ``fit`` reads only the model: sampling, conditions, rebalancing, saving.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dpsynth._version import __version__
from dpsynth.data.engines.spark_rows import SparkRows, frame_header
from dpsynth.data.frames import PANDAS, PYSPARK, like
from dpsynth.data.load import file_format, read_input
from dpsynth.data.types_out import OutputTypes
from dpsynth.data.write import output_format, write_chunks
from dpsynth.errors import DataError, NotFittedError
from dpsynth.generators import create, generator_class
from dpsynth.generators.base import MarginalGenerator
from dpsynth.generators.protocol import parameter_names
from dpsynth.privacy.budget import Allocation
from dpsynth.privacy.ledger import Ledger
from dpsynth.privacy.noise import NoiseSource
from dpsynth.random_state import RandomState
from dpsynth.schema import Schema
from dpsynth.workflows.capacity import check_width
from dpsynth.workflows.root import charged, jsonable, open_door, plan_fit, read_by_spark, refuse_dp_sgd_on_spark

# 2: the ledger's name for the dataset is saved as "dataset" (was "dataset_label").
FORMAT_VERSION = 2


class Synthesizer:
    """A differentially private synthesizer: ``fit`` spends (epsilon, delta) once, ``sample`` is free.

    Parameters
    ----------
    method : a generator name (see :func:`dpsynth.generators.available`) or an unfitted
        generator object (``dpsynth.MST(max_iters=500)``), copied at each fit.
    epsilon, delta : the total privacy budget of the fit.
    schema : a public Schema or a schema file. Without one, the schema is discovered under DP
        and the ``domain`` part of the allocation pays for it.
    allocation : fractions per part (``{"domain": 0.1, "marginal": 0.9}`` or that as text);
        the default is documented in :class:`~dpsynth.privacy.budget.Allocation`.
    privacy_unit, max_rows_per_unit : protect a person (the rows sharing an id column, at most
        ``max_rows_per_unit`` of them kept per person) instead of one record.
    random_state : ``None`` draws noise from OS entropy. A seed or a Generator makes the noise
        reproducible: fine for research, and the fit warns that its output must not be published.
    ledger : the budget ledger to charge (default :meth:`Ledger.default_path`), or ``False`` to
        charge none. Without a ledger, repeated fits on the same data are not added up for
        you: use ``False`` only for experiments whose outputs stay with you.
    dataset : a name for the dataset in the ledger (public text), as for :func:`dpsynth.release`.
        The ledger knows the dataset by this name when it is given (so the cap follows the data,
        not its encoding), else by a digest of its content keyed with the ledger's secret.
    schema_public : state that a schema drafted from the data without noise (``schema infer``)
        is public knowledge; without it such a schema is refused.
    public_dtypes : state that the DataFrame's dtypes are public (typed by you, not guessed by a
        parser from the private cells): column kinds are then read from them. Otherwise kinds
        come from ``schema`` (a schema or a kinds declaration) or are decided under DP.
    binning : "uniform" or "quantile" bins for numeric columns when the schema is discovered.
    method_params : the generator's own parameters (``{"max_iters": 500}``), as for
        :func:`dpsynth.release` and :func:`dpsynth.compare`; with a generator object they are
        its constructor's instead.
    engine : "numpy" (in memory), "duckdb" (an embedded database) or "spark" counts the rows
        (:mod:`dpsynth.data.engines`); the same seed gives the same fit on each.
    """

    def __init__(
        self,
        method: str | Any = "mst",
        *,
        epsilon: float,
        delta: float = 1e-9,
        schema: Schema | str | os.PathLike | None = None,
        allocation: Allocation | Mapping[str, float] | str | None = None,
        privacy_unit: str | None = None,
        max_rows_per_unit: int = 1,
        random_state: RandomState = None,
        ledger: Ledger | str | os.PathLike | bool | None = None,
        dataset: str | None = None,
        schema_public: bool = False,
        public_dtypes: bool = False,
        binning: str = "uniform",
        method_params: Mapping[str, Any] | None = None,
        engine: str = "numpy",
    ) -> None:
        self.method = method
        self.epsilon = epsilon
        self.delta = delta
        self.schema = schema
        self.allocation = allocation
        self.privacy_unit = privacy_unit
        self.max_rows_per_unit = max_rows_per_unit
        self.random_state = random_state
        self.ledger = ledger
        self.dataset = dataset
        self.schema_public = schema_public
        self.public_dtypes = public_dtypes
        self.binning = binning
        self.method_params = method_params
        self.engine = engine

    def get_params(self) -> dict[str, Any]:
        """The constructor's arguments (scikit-learn style), read from its signature."""
        return {"method": self.method, **{name: getattr(self, name) for name in parameter_names(Synthesizer)}}

    # ------------------------------------------------------------------------------ fitting
    def _new_generator(self) -> Any:
        if isinstance(self.method, str):
            return create(self.method, **dict(self.method_params or {}))
        if self.method_params:
            raise DataError("generator parameters go to the generator object itself when method is an object")
        if hasattr(self.method, "model_"):
            raise DataError("method must be an unfitted generator; this one is already fitted")
        return copy.deepcopy(self.method)  # the caller's object stays unfitted, so fit can run again

    def _ledger(self) -> Ledger | None:
        if self.ledger is False:
            return None
        if self.ledger is True or self.ledger is None:
            return Ledger(Ledger.default_path())
        return self.ledger if isinstance(self.ledger, Ledger) else Ledger(self.ledger)

    def fit(self, data: Any, schema: Schema | str | os.PathLike | None = None) -> Synthesizer:
        """Fit the generator to the private ``data`` within (epsilon, delta); returns ``self``.

        ``data`` is a pandas, polars, pyarrow or Spark table (or a file, read as
        :func:`dpsynth.data.load.read_data` reads it); :meth:`sample` gives the same kind back.
        With engine 'spark' a Spark DataFrame is read where Spark holds it, never collected to
        the driver (:meth:`~dpsynth.data.engines.spark_rows.SparkRows.from_frame`); the other
        engines collect it.

        ``schema`` here replaces the constructor's. The ledger is charged the whole budget
        before anything is measured; if the fit fails before its first measurement the charge
        is cancelled, after it the charge stays (a noisy answer may have left). Nothing about
        ``data`` is kept except the fitted model.
        """
        generator = self._new_generator()
        spark_frame = data if read_by_spark(data, self.engine) else None
        if spark_frame is not None:
            refuse_dp_sgd_on_spark(generator.name, generator.parts)
            data, library = frame_header(spark_frame)[0], PYSPARK
        else:
            given = read_input(data)
            data, library = given.frame, given.library
        check_width(generator.name, len(data.columns))
        plan = plan_fit(
            data, epsilon=self.epsilon, delta=self.delta,
            schema=schema if schema is not None else self.schema, schema_public=self.schema_public,
            public_dtypes=self.public_dtypes,
            unit_column=self.privacy_unit, max_rows_per_unit=self.max_rows_per_unit, allocation=self.allocation,
            generator_parts=generator.parts, engine=self.engine,
        )
        ledger = self._ledger()
        rows, signature = (None, None) if spark_frame is None else SparkRows.from_frame(spark_frame)
        key = None if ledger is None else ledger.dataset_key(data, name=self.dataset, signature=signature)
        with charged(ledger, key, self.epsilon, self.delta, self.dataset or "") as reservation:
            noise = NoiseSource.from_random_state(self.random_state)
            on_measure = None if reservation is None else reservation.mark_spent
            table, accountant = open_door(
                data if rows is None else rows, plan, noise, binning=self.binning, on_measure=on_measure
            )
            generator.fit(table)
            record = {
                "dpsynth_fit": FORMAT_VERSION,
                "kind": "synthesizer fit",
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "library": {"name": "dpsynth", "version": __version__},
                "privacy": jsonable(accountant.report()),
                "noise_source": noise.description,
                "schema": {"provenance": table.require_schema().provenance, "note": plan.note},
                "method": {
                    "name": generator.name, "params": jsonable(generator.get_params()),
                    "warnings": list(generator.warnings_),
                },
            }
            if reservation is not None:
                reservation.commit(record)
        self.generator_ = generator
        self.schema_ = table.require_schema()
        self.record_ = record
        self.release_id_ = None if reservation is None else reservation.id
        self.output_types_ = OutputTypes.of(data, self.public_dtypes)
        self.library_ = library
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "generator_"):
            raise NotFittedError("this Synthesizer is not fitted yet: call fit first")

    # ---------------------------------------------------------------------- after fitting
    @property
    def n_rows_estimate(self) -> int:
        """The fitted model's DP estimate of the number of records (never the exact count)."""
        self._check_fitted()
        return int(self.generator_.n_rows_estimate)

    def sample(
        self,
        n_rows: int | None = None,
        conditions: Mapping[str, Any] | None = None,
        rebalance: Mapping[str, Sequence[float] | Mapping[Any, float]] | None = None,
        random_state: RandomState = None,
    ) -> Any:
        """``n_rows`` synthetic rows (default: the DP estimate of the row count); costs no privacy.

        The table is of the kind ``fit`` was given (pandas, polars or pyarrow), its dtypes
        decided by :mod:`dpsynth.data.types_out` from public facts only.

        ``conditions`` fixes columns to values or ranges and ``rebalance`` sets target
        distributions; both are explained in
        :meth:`dpsynth.generators.base.MarginalGenerator.sample`.
        """
        self._check_fitted()
        extra = {"conditions": conditions, "rebalance": rebalance}
        extra = {name: value for name, value in extra.items() if value is not None}
        for name in extra:
            if name not in self.generator_.capabilities:
                raise DataError(f"{name}: method {self.generator_.name!r} cannot sample with {name}")
        synthetic = self.generator_.sample(n_rows, random_state=random_state, **extra)
        return like(self.output_types_.apply(synthetic, self.schema_), self.library_)

    def write(
        self,
        path: str | os.PathLike,
        n_rows: int | None = None,
        format: str | None = None,
        random_state: RandomState = None,
    ) -> Path:
        """Write ``n_rows`` synthetic rows (default: the DP estimate of the row count) to ``path``
        in chunks, so memory stays that of one chunk however many rows; costs no privacy.

        The format is ``format``, else the path's suffix (CSV without one); the dtypes are
        :meth:`sample`'s. Marginal methods draw the rows as
        :meth:`~dpsynth.generators.base.MarginalGenerator.sample_chunks` does; the neural one
        writes :meth:`sample`'s table. The file appears whole or not at all.
        """
        self._check_fitted()
        path = Path(path)
        fmt = output_format(format, file_format(path))
        if isinstance(self.generator_, MarginalGenerator):
            chunks = self.generator_.sample_chunks(n_rows, random_state=random_state)
        else:
            chunks = iter([self.generator_.sample(n_rows, random_state=random_state)])
        partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
        try:
            write_chunks((self.output_types_.apply(chunk, self.schema_) for chunk in chunks), partial, fmt)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        return path

    def privacy_report(self) -> dict[str, Any]:
        """The accountant's report of the fit: budget, allocation, every mechanism, joint spend."""
        self._check_fitted()
        return json.loads(json.dumps(self.record_["privacy"]))

    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted synthesizer (model, public schema, privacy report) as one JSON file.

        The file holds post-processing of DP measurements only; it is as private as a release.
        """
        self._check_fitted()
        document = {
            "dpsynth_synthesizer": FORMAT_VERSION,
            "method": self.generator_.name,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "dataset": self.dataset,
            "release_id": self.release_id_,
            "record": self.record_,
            "model": self.generator_.to_dict(),
        }
        Path(path).write_text(json.dumps(document), encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike, random_state: RandomState = None) -> Synthesizer:
        """A fitted synthesizer read from :meth:`save`'s file; loading charges no budget."""
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(f"{os.fspath(path)} cannot be read as a saved dpsynth synthesizer") from exc
        if not isinstance(document, dict) or document.get("dpsynth_synthesizer") != FORMAT_VERSION:
            raise DataError(f"{os.fspath(path)} is not a saved dpsynth synthesizer (version {FORMAT_VERSION})")
        # Any, as the generator of a fit is: schema_ is a fitted generator's, not in the Generator protocol.
        generator: Any = generator_class(document["method"]).from_dict(document["model"], random_state=random_state)
        # The generator's own random_state (its sampling stream) is the loaded one; the
        # Synthesizer's random_state names the noise of a fit, which a loaded model never draws.
        params = {name: value for name, value in generator.get_params().items() if name != "random_state"}
        synthesizer = cls(
            document["method"], epsilon=document["epsilon"], delta=document["delta"], ledger=False,
            dataset=document["dataset"], method_params=params,
        )
        synthesizer.generator_ = generator
        synthesizer.schema_ = generator.schema_
        synthesizer.record_ = document["record"]
        synthesizer.release_id_ = document["release_id"]
        synthesizer.output_types_ = OutputTypes()  # dtypes from the schema: a saved model keeps no input dtypes
        synthesizer.library_ = PANDAS
        return synthesizer

    def __repr__(self) -> str:
        method = self.method if isinstance(self.method, str) else type(self.method).__name__
        state = "fitted" if hasattr(self, "generator_") else "not fitted"
        return f"Synthesizer({method!r}, epsilon={self.epsilon!r}, delta={self.delta!r}; {state})"
