"""A made-up census-like person table with a public schema: six disability flags driven by age,
and an income driven by work (employment, hours, schooling, a 264-code industry, sex, age).

It stands in for the 24-column census excerpt of issue 20 (not shipped), on which dpsynth's
PrivBayes linked income to one disability column only. Income is either a binary (high or not)
or a number binned in 20 bins, the wide child the theta-usefulness rule starves of parents.
Nothing in it is real; one seeded numpy Generator draws it.

    frame, schema = census_table(n_rows=30_000, binned_income=True, seed=0)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dpsynth.schema import Categorical, Numeric, Schema

DISABILITIES = ("DEAR", "DEYE", "DOUT", "DPHY", "DREM", "DDRS")
INDUSTRIES = 264
NUMBERS = ("AGEP", "WKHP", "WKWN")
RACE_SHARES = (0.62, 0.12, 0.01, 0.01, 0.06, 0.001, 0.059, 0.05, 0.07)


def census_table(n_rows: int = 30_000, binned_income: bool = False, seed: int = 0) -> tuple[pd.DataFrame, Schema]:
    """``n_rows`` people of 25 columns (``income`` the target) and their public schema."""
    rng = np.random.default_rng(seed)
    age = np.clip(rng.gamma(4.0, 11.0, n_rows), 0, 95)
    frailty = (age / 95) ** 2 * 2.5 + rng.standard_normal(n_rows) * 0.6
    flags = {name: (frailty + rng.standard_normal(n_rows) * 0.7 > 2.2 + 0.15 * j).astype(int)
             for j, name in enumerate(DISABILITIES)}
    disabled = np.maximum.reduce(list(flags.values()))
    sex = rng.integers(0, 2, n_rows)
    working_age = (age >= 18) & (age <= 66)
    employed = working_age & (rng.random(n_rows) < 0.78 - 0.4 * disabled)
    status = np.where(age < 16, 0, np.where(employed, 1 + rng.integers(0, 2, n_rows),
                                            np.where(working_age, 3 + rng.integers(0, 2, n_rows), 5)))
    schooling = np.clip(np.round(np.minimum(age, 25) / 25 * 16 + rng.standard_normal(n_rows) * 3
                                 + rng.integers(0, 5, n_rows)), 1, 24).astype(int)
    effect = rng.standard_normal(INDUSTRIES) * 0.8
    weights = 1 / np.arange(1, INDUSTRIES) ** 0.7
    industry = np.where(employed, rng.choice(INDUSTRIES - 1, n_rows, p=weights / weights.sum()) + 1, 0)
    hours = np.where(employed, np.clip(np.round(40 + rng.standard_normal(n_rows) * 8 - 6 * sex), 1, 99), 0)
    weeks = np.where(employed, np.clip(52 - rng.exponential(4, n_rows), 1, 52).round(), 0)
    if binned_income:
        log_income = 9.5 + 0.08 * schooling + 0.012 * hours + 0.5 * effect[industry] + 0.3 * (1 - sex)
        income = np.where(employed, np.clip(np.exp(log_income + rng.standard_normal(n_rows) * 0.6), 0, 400_000), 0)
    else:
        logit = -7.0 + 0.25 * schooling + 0.06 * hours + effect[industry] + 0.6 * (1 - sex) + 0.03 * np.minimum(age, 55)
        income = (employed & (rng.random(n_rows) < 1 / (1 + np.exp(-logit)))).astype(int)
    hispanic = np.where(rng.random(n_rows) < 0.18, rng.integers(2, 25, n_rows), 1)
    foreign = (rng.random(n_rows) < 0.13 + 0.3 * (hispanic > 1)).astype(int)
    data = {
        "AGEP": age.round(), "SEX": sex, "RAC1P": rng.choice(9, n_rows, p=RACE_SHARES), "HISP": hispanic,
        "NATIVITY": foreign, "CIT": np.where(foreign == 0, rng.choice([1, 2, 3], n_rows, p=[0.95, 0.03, 0.02]),
                                             rng.choice([4, 5], n_rows)),
        "ENG": np.where(foreign == 1, rng.integers(1, 5, n_rows), 0),
        "MAR": np.where(age < 15, 5, rng.choice(5, n_rows, p=[0.5, 0.06, 0.1, 0.02, 0.32])),
        "MIL": np.where(age < 17, 0, np.where(rng.random(n_rows) < 0.08 * (1 - sex) + 0.01,
                                              2 + rng.integers(0, 2, n_rows), 4)),
        "SCHL": schooling, "ESR": status, "COW": np.where(employed, 1 + industry % 8, 0), "INDP": industry,
        "WKHP": hours, "WKWN": weeks, "ST": rng.choice(51, n_rows), "DENS": rng.integers(0, 4, n_rows),
        "DIS": disabled, **flags, "income": income.round(-2) if binned_income else income,
    }
    frame = pd.DataFrame(data)
    columns: list[Categorical | Numeric] = []
    for name, values in frame.items():
        if name == "income" and binned_income:
            columns.append(Numeric(name, 0, 400_000, bins=20, missing=False))
        elif name in NUMBERS:
            columns.append(Numeric(name, 0, 99, bins=20, missing=False, integer=True))
        else:
            codes = tuple(range(int(values.max()) + 1))
            columns.append(Categorical(name, categories=codes, other=False, missing=False))
    return frame, Schema(tuple(columns), provenance="public")
