"""Shared fixtures for generator tests: a sample of the discretized Adult and a fit helper."""

import pandas as pd
import pytest

from dpsynth.data import PrivateTable
from dpsynth.privacy.accountant import Accountant
from dpsynth.privacy.budget import Budget
from dpsynth.privacy.noise import NoiseSource
from dpsynth.schema import Schema


@pytest.fixture(scope="module")
def adult(adult_codes_dir):
    """8,000 rows of the shipped Adult as codes in private-pgm's layout, with its domain file as the
    schema (tests/conftest.py: adult_codes_dir)."""
    frame = pd.read_csv(adult_codes_dir / "adult.csv").sample(8000, random_state=0).reset_index(drop=True)
    return frame, Schema.load(adult_codes_dir / "adult-domain.json")


def fit_generator(generator, adult, epsilon=1.0):
    """Fit ``generator`` on ``adult`` behind a fresh door; returns it and its accountant."""
    frame, schema = adult
    accountant = Accountant(Budget(epsilon, 1e-9))
    table = PrivateTable(frame, accountant, NoiseSource())
    table.encode(schema)
    return generator.fit(table), accountant
