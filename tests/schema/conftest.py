"""Shared fixtures: the raw UCI Adult table and a hand-written public schema for it."""

from pathlib import Path

import pandas as pd
import pytest

from dpsynth.schema import Categorical, Identifier, Numeric, Ordinal, Schema
from tests.conftest import adult_uci, pums_dup_like

# Public facts about Adult, from the UCI codebook (adult.names), not read from the data.
WORKCLASS = (
    "Private", "Self-emp-not-inc", "Self-emp-inc", "Federal-gov", "Local-gov", "State-gov",
    "Without-pay", "Never-worked",
)
EDUCATION = (
    "Preschool", "1st-4th", "5th-6th", "7th-8th", "9th", "10th", "11th", "12th", "HS-grad",
    "Some-college", "Assoc-voc", "Assoc-acdm", "Bachelors", "Masters", "Prof-school", "Doctorate",
)
MARITAL = (
    "Married-civ-spouse", "Divorced", "Never-married", "Separated", "Widowed",
    "Married-spouse-absent", "Married-AF-spouse",
)
OCCUPATION = (
    "Tech-support", "Craft-repair", "Other-service", "Sales", "Exec-managerial", "Prof-specialty",
    "Handlers-cleaners", "Machine-op-inspct", "Adm-clerical", "Farming-fishing", "Transport-moving",
    "Priv-house-serv", "Protective-serv", "Armed-Forces",
)
RELATIONSHIP = ("Wife", "Own-child", "Husband", "Not-in-family", "Other-relative", "Unmarried")
RACE = ("White", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other", "Black")
COUNTRY = (
    "United-States", "Cambodia", "England", "Puerto-Rico", "Canada", "Germany",
    "Outlying-US(Guam-USVI-etc)", "India", "Japan", "Greece", "South", "China", "Cuba", "Iran",
    "Honduras", "Philippines", "Italy", "Poland", "Jamaica", "Vietnam", "Mexico", "Portugal",
    "Ireland", "France", "Dominican-Republic", "Laos", "Ecuador", "Taiwan", "Haiti", "Columbia",
    "Hungary", "Guatemala", "Nicaragua", "Scotland", "Thailand", "Yugoslavia", "El-Salvador",
    "Trinadad&Tobago", "Peru", "Hong", "Holand-Netherlands",
)


@pytest.fixture(scope="session")
def adult_schema() -> Schema:
    """A public schema for raw Adult (age in width-one bins; `split` dropped)."""
    return Schema(
        [
            Numeric("age", 0, 100, integer=True, bins=101),
            Categorical("workclass", WORKCLASS),
            Numeric("fnlwgt", 0, 1.5e6, integer=True, bins=32),
            Ordinal("education", EDUCATION, missing=False),
            Numeric("education-num", 1, 16, integer=True),
            Categorical("marital-status", MARITAL),
            Categorical("occupation", OCCUPATION),
            Categorical("relationship", RELATIONSHIP),
            Categorical("race", RACE),
            Categorical("sex", ("Female", "Male"), missing=False),
            Numeric("capital-gain", 0, 100000, integer=True),
            Numeric("capital-loss", 0, 5000, integer=True),
            Numeric("hours-per-week", 0, 100, integer=True),
            Categorical("native-country", COUNTRY),
            Categorical("income", ("<=50K", ">50K", "<=50K.", ">50K.")),
            Identifier("split", role="drop"),
        ]
    )


@pytest.fixture(scope="session")
def adult_raw() -> pd.DataFrame:
    """Raw UCI Adult (48,842 rows, `?` read as missing), rebuilt from the example shipped in the package."""
    return adult_uci()


@pytest.fixture(scope="session")
def pgm_dir(adult_codes_dir) -> Path:
    """A folder laid out as private-pgm's discretised Adult (adult.csv of codes, adult-domain.json),
    made from the shipped example."""
    return adult_codes_dir


@pytest.fixture(scope="session")
def pums_dup() -> pd.DataFrame:
    """A made-up table in PUMS_dup's layout (each person 1-4 times under `pid`)."""
    return pums_dup_like()
