"""Release folders appear whole or not at all, and what a killed run left is cleaned up."""

import os
import subprocess
import sys

import pytest

from dpsynth.errors import DataError
from dpsynth.workflows.bundle import remove_abandoned_staging, staged_folder


def _dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_killed_runs_staging_folder_is_removed_by_the_next_write(tmp_path):
    out = tmp_path / "release"
    abandoned = tmp_path / f".release.partial-{_dead_pid()}-x1y2"
    abandoned.mkdir()
    (abandoned / "synthetic.csv").write_text("a\n1\n")
    live = tmp_path / f".release.partial-{os.getpid()}-live"
    live.mkdir()
    other = tmp_path / f".elsewhere.partial-{_dead_pid()}-zz"
    other.mkdir()
    with staged_folder(out) as staging:
        (staging / "synthetic.csv").write_text("a\n2\n")
    assert not abandoned.exists()
    assert live.exists() and other.exists()  # a live writer's folder and another target's stay
    assert (out / "synthetic.csv").read_text() == "a\n2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([other.name, live.name, "release"])


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    out = tmp_path / "release"
    with pytest.raises(RuntimeError), staged_folder(out) as staging:
        (staging / "model.json").write_text("{}")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []
    assert remove_abandoned_staging(out) == []


def test_a_folder_filled_meanwhile_is_not_overwritten(tmp_path):
    out = tmp_path / "release"
    with pytest.raises(DataError, match="already exists"), staged_folder(out) as staging:
        out.mkdir()
        (out / "theirs.csv").write_text("x")
        (staging / "synthetic.csv").write_text("a\n")
    assert [p.name for p in tmp_path.iterdir()] == ["release"]
