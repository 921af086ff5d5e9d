"""Shared test fixtures: the data tests read, and a ledger that never touches $HOME.

../shared/data, beside the repository, is there in CI but absent in a fresh clone. Most tests
need no exact dataset: they read the Adult example shipped in the package (example_adult,
adult_uci, adult_codes_dir) or a small table they build (pums_like, pums_dup_like). A test that
does need a shared file asks for it with shared_data(...) or marks itself requires_shared(...):
where the file is absent it is skipped with a reason that says so, and CI still runs it.
"""

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dpsynth.datasets import example_path
from dpsynth.schema import Schema, encode

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _absent(parts: tuple[str, ...]) -> str:
    return f"needs ../shared/data/{'/'.join(parts)}, absent in a fresh clone (CI has it)"


def shared_data(*parts: str) -> Path:
    """The path of ``../shared/data/<parts>``; skips the test (or fixture) that asks where it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(_absent(parts))
    return path


def requires_shared(*parts: str) -> pytest.MarkDecorator:
    """A skip mark for a test, a parameter or a module (``pytestmark = requires_shared("adult")``)
    where ``../shared/data/<parts>`` is absent; nothing is read at collection."""
    return pytest.mark.skipif(not SHARED_DATA.joinpath(*parts).exists(), reason=_absent(parts))


# ----------------------------------------------------------------------- the shipped Adult
@cache
def _example_adult() -> pd.DataFrame:
    return pd.read_csv(example_path("adult")[0], na_values="?", keep_default_na=False)


def example_adult() -> pd.DataFrame:
    """The Adult example shipped in the package, typed (48,842 rows, 15 columns, ``?`` missing).

    It is ../shared/data/adult/adult_uci.csv without the ``split`` column and without the trailing
    dot of the test part's income labels (dpsynth/datasets/ATTRIBUTION.md). A fresh copy per call.
    """
    return _example_adult().copy()


N_ADULT_TRAIN = 32_561  # the rows of UCI's adult.data; adult.test's 16,281 follow


def adult_uci() -> pd.DataFrame:
    """Raw UCI Adult as ../shared/data/adult/adult_uci.csv reads (``?`` missing), rebuilt from the
    shipped example: the ``split`` column back, and the test part's income labels with their dot."""
    frame = example_adult()
    test = np.arange(len(frame)) >= N_ADULT_TRAIN
    frame["income"] = frame["income"].where(~test, frame["income"] + ".")
    frame["split"] = np.where(test, "test", "train")
    return frame


@pytest.fixture(scope="session")
def adult_codes_dir(tmp_path_factory) -> Path:
    """A folder laid out as ../shared/data/adult/private-pgm, made from the shipped example.

    ``adult.csv`` holds private-pgm's 14 columns (no ``education``; ``income>50K``) as integer
    codes under the shipped public schema, and ``adult-domain.json`` maps each to its number of
    codes. The codes are coarser than private-pgm's (age in 20 bins, not 85; fnlwgt in 32, not 100).
    """
    schema = Schema.load(example_path("adult")[1])
    encoded = encode(_example_adult(), schema)
    frame = pd.DataFrame(encoded.codes.astype(np.int64), columns=list(encoded.columns))
    domain = {name: int(size) for name, size in zip(encoded.columns, encoded.sizes, strict=True)}
    frame = frame.drop(columns="education").rename(columns={"income": "income>50K"})
    del domain["education"]
    domain = {("income>50K" if name == "income" else name): size for name, size in domain.items()}
    folder = tmp_path_factory.mktemp("adult-codes")
    frame.to_csv(folder / "adult.csv", index=False)
    (folder / "adult-domain.json").write_text(pd.Series(domain).to_json())
    return folder


# -------------------------------------------------------------------- made-up PUMS tables
def pums_like(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """A made-up table in the layout of ../shared/data/pums/PUMS.csv: whole-number columns age,
    sex (0/1), educ (1-16), race (1-6), income (0 for about 12%) and married (0/1), with some
    dependence (income on educ, married on age). No real person is in it."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 94, n)
    educ = np.clip(np.round(rng.normal(10.5, 3.2, n)), 1, 16).astype(np.int64)
    income = np.round(np.exp(rng.normal(9.2 + 0.09 * educ, 0.9)), -2)
    return pd.DataFrame({
        "age": age,
        "sex": rng.integers(0, 2, n),
        "educ": educ,
        "race": rng.choice(np.arange(1, 7), n, p=[0.55, 0.07, 0.265, 0.108, 0.002, 0.005]),
        "income": np.where(rng.random(n) < 0.12, 0, np.minimum(income, 420_500)).astype(np.int64),
        "married": (rng.random(n) < np.where(age < 30, 0.25, 0.65)).astype(np.int64),
    })


def pums_dup_like(n_people: int = 1000, seed: int = 0) -> pd.DataFrame:
    """pums_like(n_people) in the layout of ../shared/data/pums/PUMS_dup.csv: a person id ``pid``
    (1..n_people), each person on 1 to 4 identical rows (the first copies first, as there)."""
    people = pums_like(n_people, seed).assign(pid=np.arange(1, n_people + 1))
    copies = np.random.default_rng(seed + 1).choice([1, 2, 3, 4], n_people, p=[0.42, 0.31, 0.18, 0.09])
    return pd.concat([people[copies > k] for k in range(4)], ignore_index=True)


@pytest.fixture(autouse=True)
def private_ledger(tmp_path, monkeypatch):
    """Every test gets its own ledger file, so no test writes into the user's data folder."""
    path = tmp_path / "ledger.sqlite"
    monkeypatch.setenv("DPSYNTH_LEDGER", str(path))
    return path


def jittered(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A leaky non-DP generator: the training rows with small noise on numeric columns."""
    out = frame.copy()
    for name in ("age", "hours-per-week", "education-num"):
        out[name] = np.clip(out[name] + rng.integers(-1, 2, len(out)), 1, 99)
    out["fnlwgt"] = (out["fnlwgt"] * rng.uniform(0.97, 1.03, len(out))).round().astype(int)
    return out
