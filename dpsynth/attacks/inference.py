"""Attribute inference in the style of Anonymeter (Giomi, Boenisch, Wehmeyer, Tasnádi 2023, PoPETs).

The attacker knows some columns of a target (``aux_cols``) and wants its ``secret`` column. It
takes the secret of the target's nearest synthetic record on the known columns (Gower-like
distance of :mod:`dpsynth.attacks.features`, ties broken uniformly at random). A guess is right
when it equals the secret (categorical and ordinal columns, "missing" counting as a value), or,
for numeric and datetime columns, when it lies within ``tolerance`` times the column's public
range of it (both missing also counts). The attack rate is the share of training targets
guessed right, the control rate the share of control targets, and the baseline the share of
training targets guessed right by the secret of a random synthetic record.

The control matters most here: much of a secret can be predicted from the other columns for
anyone in the population, which is what the data is for; only the excess on the training
targets is a risk to them.

This attack runs on the custodian's side and reads the real training and control records: its
result describes a release and is not part of the DP guarantee.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dpsynth.attacks.features import AttackEncoding, nearest_neighbours
from dpsynth.attacks.risk import AttackColumns, RiskResult, check_attacks, sample_targets, sub_schema
from dpsynth.errors import DataError
from dpsynth.random_state import check_random_state
from dpsynth.schema import Schema
from dpsynth.validation import number


def right_guesses(guesses: np.ndarray, secrets: np.ndarray, column: AttackColumns, tolerance: float) -> np.ndarray:
    """Which guesses of the one column of ``column`` are right (module docstring)."""
    if not column.numeric[0]:
        return guesses == secrets
    span = column.upper[0] - column.lower[0]
    return (np.isnan(guesses) & np.isnan(secrets)) | (np.abs(guesses - secrets) <= tolerance * span)


def attribute_inference(
    train: pd.DataFrame,
    control: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    secret: str,
    aux_cols: Sequence[str] | None = None,
    *,
    n_attacks: int = 500,
    tolerance: float = 0.05,
    confidence: float = 0.95,
    random_state: None | int | np.random.Generator = None,
) -> RiskResult:
    """Inference risk of ``synthetic`` for the ``secret`` column of ``train``'s records, against ``control``.

    ``aux_cols`` defaults to every other encoded column of ``schema``. ``n_attacks`` training
    targets and as many control targets are drawn without replacement (fewer when a table is
    smaller). ``tolerance`` is the share of a numeric secret's public range within which a
    guess counts as right (Anonymeter 1.1 uses 5% of the guessed value instead; the public range
    keeps the test the same for every record and for values near zero).

    Runs on the custodian's side: the result is not part of the DP guarantee.
    """
    rng = check_random_state(random_state)
    if not isinstance(secret, str) or secret not in getattr(schema, "encoded_columns", ()):
        raise DataError(f"secret must name one encoded column of the schema; got {secret!r}")
    if aux_cols is None:
        aux_cols = [name for name in schema.encoded_columns if name != secret]
    elif not isinstance(aux_cols, (str, bytes)) and secret in aux_cols:
        raise DataError(f"aux_cols must not hold the secret column {secret!r}")
    number("tolerance", tolerance, low=0, high=1, high_open=True)
    for argument, frame in (("train", train), ("control", control), ("synthetic", synthetic)):
        if not isinstance(frame, pd.DataFrame) or len(frame) == 0:
            raise DataError(f"{argument} must be a pandas DataFrame with rows")
    n = check_attacks(n_attacks, ("train", len(train)), ("control", len(control)))
    encoding = AttackEncoding(sub_schema(schema, list(aux_cols), "aux_cols"))
    column = AttackColumns.of(schema, [secret], "secret")
    order = rng.permutation(len(synthetic))
    candidates = encoding.transform(synthetic).take(order)
    synthetic_secrets = column.values(synthetic, "synthetic")[0][order]

    def right(frame: pd.DataFrame, argument: str) -> tuple[np.ndarray, np.ndarray]:
        """The secrets of ``n`` targets drawn from ``frame``, and which the attack guesses right."""
        targets = frame.iloc[sample_targets(len(frame), n, rng)]
        secrets = column.values(targets, argument)[0]
        _, nearest = nearest_neighbours(encoding.transform(targets), candidates, 1)
        return secrets, right_guesses(synthetic_secrets[nearest[:, 0]], secrets, column, tolerance)

    train_secrets, attack_right = right(train, "train")
    _, control_right = right(control, "control")
    random_guesses = synthetic_secrets[rng.integers(len(synthetic), size=n)]
    return RiskResult.from_counts(
        name="attribute_inference",
        parameters={"secret": secret, "aux_cols": list(aux_cols), "tolerance": float(tolerance)},
        n_attacks=n,
        attack_successes=int(np.count_nonzero(attack_right)),
        control_successes=int(np.count_nonzero(control_right)),
        baseline_successes=int(np.count_nonzero(right_guesses(random_guesses, train_secrets, column, tolerance))),
        confidence=confidence,
    )
