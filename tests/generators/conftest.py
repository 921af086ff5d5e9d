"""Shared fixtures for generator tests: a sample of the discretized Adult and a fit helper."""

import pandas as pd
import pytest

from dpsynth.data import PrivateTable
from dpsynth.privacy.accountant import Accountant
from dpsynth.privacy.budget import Budget
from dpsynth.privacy.noise import NoiseSource
from dpsynth.schema import Schema

from tests.conftest import SHARED_DATA

ADULT_PGM = SHARED_DATA / "adult" / "private-pgm"


@pytest.fixture(scope="module")
def adult():
    """8,000 rows of private-pgm's Adult with its public domain file as the schema."""
    frame = pd.read_csv(ADULT_PGM / "adult.csv").sample(8000, random_state=0).reset_index(drop=True)
    return frame, Schema.load(ADULT_PGM / "adult-domain.json")


def fit_generator(generator, adult, epsilon=1.0):
    """Fit ``generator`` on ``adult`` behind a fresh door; returns it and its accountant."""
    frame, schema = adult
    accountant = Accountant(Budget(epsilon, 1e-9))
    table = PrivateTable(frame, accountant, NoiseSource())
    table.encode(schema)
    return generator.fit(table), accountant
