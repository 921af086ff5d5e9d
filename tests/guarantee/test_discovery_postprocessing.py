"""DP discovery is post-processing: its schema, spikes, decimals and warnings are a function of
the door's noisy answers and public metadata only.

The discovery of D is recorded; then discovery runs again on a stand-in for D plus one crafted
record that exposes nothing but the public metadata and replays D's noisy answers. Were any
decision read from the rows (a bound, a spike, a warning), it could not be made there, or it
would come out different.
"""

import warnings

import pandas as pd
import pytest

from dpsynth.data import PrivateTable
from dpsynth.data.discover import discover_schema
from dpsynth.errors import PrivacyWarning
from dpsynth.privacy.accountant import Accountant
from dpsynth.privacy.noise import NoiseSource
from dpsynth.workflows.root import plan_fit
from tests.guarantee.neighbours import CRAFTED, base_table, with_record

MEASUREMENTS = ("value_class_counts", "numeric_histogram", "category_counts")


class _Replay:
    """Public metadata of a table, and its measurements charged as on the real door but answered
    with recorded noisy answers: nothing else of the rows is within reach."""

    def __init__(self, frame: pd.DataFrame, accountant: Accountant, answers: list) -> None:
        door = PrivateTable(frame, accountant, _noise())
        self.columns = door.columns
        self.accountant = accountant
        self.unit = door.unit
        self.sensitivity_scale = door.sensitivity_scale
        answered = iter(answers)
        for name in MEASUREMENTS:
            setattr(self, name, _replaying(getattr(door, name), answered))


def _replaying(measure, answered):
    def replay(*args, **kwargs):
        measure(*args, **kwargs)  # charged as the real measurement; its answer is dropped
        return next(answered)

    return replay


def _noise() -> NoiseSource:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        return NoiseSource(11)


def _recorded(frame: pd.DataFrame, accountant: Accountant) -> tuple:
    table = PrivateTable(frame, accountant, _noise())
    answers: list = []
    for name in MEASUREMENTS:
        measure = getattr(table, name)

        def recording(*args, _measure=measure, **kwargs):
            answers.append(_measure(*args, **kwargs))
            return answers[-1]

        setattr(table, name, recording)
    return discover_schema(table), answers


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_discovery_on_a_neighbour_replaying_the_noisy_answers_is_the_same(case):
    base = base_table().head(1500)  # small: several columns are warned about
    plan = plan_fit(base, epsilon=1.0, delta=1e-9)
    schema, answers = _recorded(base, Accountant(plan.budget))
    neighbour = with_record(base, *CRAFTED[case])
    replayed = discover_schema(_Replay(neighbour, Accountant(plan.budget), answers))
    assert replayed.to_dict() == schema.to_dict()
    assert replayed.warnings == schema.warnings and schema.warnings

