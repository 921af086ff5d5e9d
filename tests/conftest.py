"""Shared test fixtures: where the shared datasets are, and a ledger that never touches $HOME."""

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True)
def private_ledger(tmp_path, monkeypatch):
    """Every test gets its own ledger file, so no test writes into the user's data folder."""
    path = tmp_path / "ledger.sqlite"
    monkeypatch.setenv("DPSYNTH_LEDGER", str(path))
    return path
