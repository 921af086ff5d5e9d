"""The engines' scratch folders hold a copy of the private rows: a killed run's folder is removed by
the next engine to start, a live one's never."""

import subprocess
import sys
import tempfile

from dpsynth.data.engines.scratch import PREFIX, scratch_folder


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_killed_runs_copy_of_the_rows_is_removed_and_a_live_ones_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    left = tmp_path / f"{PREFIX}{_dead_pid()}-abc"
    (left / "spill").mkdir(parents=True)
    (left / "rows.duckdb").write_bytes(b"private rows")
    running = tmp_path / f"{PREFIX}1-def"  # process 1 (init) outlives every test
    running.mkdir()
    folder = scratch_folder()
    try:
        assert not left.exists() and running.exists()
        assert folder.name.startswith(str(tmp_path / PREFIX))
        assert (tmp_path / folder.name).stat().st_mode & 0o077 == 0
    finally:
        folder.cleanup()


def test_orphans_are_found_under_a_name_with_glob_characters(tmp_path):
    from dpsynth.processes import remove_orphans

    left = tmp_path / f".out[1]*.partial-{_dead_pid()}-x"
    left.mkdir()
    other = tmp_path / f".out1.partial-{_dead_pid()}-x"  # another folder's staging: not matched
    other.mkdir()
    assert remove_orphans(tmp_path, ".out[1]*.partial-") == [left]
    assert not left.exists() and other.exists()
