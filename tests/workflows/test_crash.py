"""Interrupts and kills of a release: the ledger never under-counts, no folder is half written,
and the one line an interrupt ends in says what was charged and whether the release is complete.

The fast tests send SIGINT to this process at the steps that matter; the slow ones run
benchmarks/bench_crash.py's series (real ``dpsynth release`` processes cut at random times,
and eight releases racing for a cap that allows four) at a smaller count.
"""

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dpsynth.cli import EXIT_INTERRUPTED, main
from dpsynth.datasets import example_path
from dpsynth.errors import LedgerError
from dpsynth.interrupts import held
from dpsynth.privacy.ledger import Ledger
from dpsynth.workflows.bundle import check_out_dir, staged_folder
from tests.conftest import example_adult

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_crash.py"


def _ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def small_csv(tmp_path) -> Path:
    path = tmp_path / "adult.csv"
    example_adult().sample(1500, random_state=0).to_csv(path, index=False)
    return path


def _release(small_csv: Path, out: Path, ledger: Path) -> int:
    return main(["release", str(small_csv), "--schema", str(example_path("adult")[1]), "--epsilon", "1",
                 "--rows", "500", "--audit", "off", "--out", str(out), "--ledger", str(ledger)])


# ------------------------------------------------------------------------------- held()
def test_an_interrupt_inside_held_is_raised_when_the_block_ends():
    steps = []
    with pytest.raises(KeyboardInterrupt):
        with held():
            _ctrl_c()
            steps.append("after the signal")
        steps.append("after the block")
    assert steps == ["after the signal"]


def test_a_block_that_raises_keeps_its_own_error():
    with pytest.raises(LedgerError), held():
        _ctrl_c()
        raise LedgerError("commit failed")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# ------------------------------------------------------------------------------- ledger
def test_an_interrupt_before_any_measurement_gives_the_reservation_back_and_says_so(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    with pytest.raises(KeyboardInterrupt) as caught, ledger.reservation("name:d", 1.0, 1e-9):
        raise KeyboardInterrupt
    assert ledger.releases() == []
    assert any("nothing was charged" in note for note in caught.value.__notes__)


def test_a_cancel_that_fails_is_a_note_with_the_way_back_not_a_traceback(tmp_path, monkeypatch, caplog):
    ledger = Ledger(tmp_path / "ledger.sqlite")

    def locked(self, release_id):
        raise LedgerError("cancel failed: database is locked")

    monkeypatch.setattr(Ledger, "cancel", locked)
    with pytest.raises(RuntimeError) as caught, ledger.reservation("name:d", 1.0, 1e-9) as reservation:
        raise RuntimeError("stopped")
    (note,) = caught.value.__notes__
    assert "stays counted" in note and f"dpsynth ledger resolve {reservation.id} --nothing-left" in note
    assert not [record for record in caplog.records if record.exc_info]
    assert len(ledger.open_reservations()) == 1


# ------------------------------------------------------------------------------- bundle
def test_an_interrupt_during_the_commit_comes_after_it_and_says_the_folder_is_complete(tmp_path):
    out = tmp_path / "release"
    done = []

    def commit():
        _ctrl_c()
        done.append(out.exists())

    with pytest.raises(KeyboardInterrupt) as caught:
        with staged_folder(out, then=commit) as staging:
            (staging / "synthetic.csv").write_text("a\n1\n")
    assert done == [True] and (out / "synthetic.csv").read_text() == "a\n1\n"
    assert "was complete before the interrupt" in caught.value.__notes__[0]
    assert [path.name for path in tmp_path.iterdir()] == ["release"]


def test_the_next_attempt_removes_a_killed_runs_staging_even_if_it_never_writes(tmp_path):
    abandoned = tmp_path / f".release.partial-{_dead_pid()}-k1"
    abandoned.mkdir()
    (abandoned / "synthetic.csv").write_text("a\n1\n")
    check_out_dir(tmp_path / "release")
    assert not abandoned.exists()


# ------------------------------------------------------------------------------- CLI
def test_ctrl_c_while_the_release_is_recorded_ends_in_one_true_line(small_csv, tmp_path, monkeypatch, capsys):
    commit = Ledger.commit

    def interrupted_commit(self, release_id, record):
        _ctrl_c()
        commit(self, release_id, record)

    monkeypatch.setattr(Ledger, "commit", interrupted_commit)
    code = _release(small_csv, tmp_path / "out", tmp_path / "ledger.sqlite")
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_INTERRUPTED
    (release,) = Ledger(tmp_path / "ledger.sqlite").releases()
    assert release["status"] == "committed" and (tmp_path / "out" / "release.json").exists()
    assert line.startswith("dpsynth: interrupted; the release in") and "was complete" in line
    assert f"recorded in ledger {tmp_path / 'ledger.sqlite'} (release {release['id']})" in line


def test_ctrl_c_after_a_measurement_says_the_spend_stays_and_names_the_release(
    small_csv, tmp_path, monkeypatch, capsys
):
    from dpsynth.generators.mst import MST

    def interrupted(self, n_rows=None, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(MST, "sample", interrupted)
    code = _release(small_csv, tmp_path / "out", tmp_path / "ledger.sqlite")
    (line,) = capsys.readouterr().err.strip().splitlines()
    (reservation,) = Ledger(tmp_path / "ledger.sqlite").open_reservations()
    assert code == EXIT_INTERRUPTED and not (tmp_path / "out").exists()
    assert "stays charged" in line and reservation["id"] in line


def test_ctrl_c_while_the_library_loads_is_one_line_not_a_traceback(monkeypatch, capsys):
    import dpsynth.cli as cli

    def loading():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", loading)
    assert main(["ledger", "show"]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "dpsynth: interrupted; nothing was charged to the ledger\n"


# ------------------------------------------------------------------------------- series
def _bench():
    spec = importlib.util.spec_from_file_location("bench_crash", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_releases_cut_at_random_times_never_undercount_or_leave_half_a_folder(tmp_path, signum):
    tally = _bench().kill_series(6, signum, tmp_path, n_rows=1500, seed=3, log=lambda text: None)
    assert tally.problems == []
    assert tally.cut_mid_run == 6 and tally.ledger_opened == tally.runs + 2 and tally.staging_left_at_end == 0


@pytest.mark.slow
def test_eight_releases_racing_for_a_cap_of_four(tmp_path):
    tally, accepted = _bench().race(1, 8, 4, tmp_path, n_rows=1500, log=lambda text: None)
    assert tally.problems == [] and accepted == [4]
