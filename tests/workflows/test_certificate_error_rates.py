"""The certificate as a test with error rates (issue 23): no FAIL without evidence, every leak named.

Fast: the wide interval that once failed a DP release (PrivBayes at epsilon 0.3, native-country:
0.307, interval 0.102-0.513) passes, a risk shown above its threshold fails with its figures; a
DP-like table (drawn from the population, never from the training rows) PASSes with and without
a stated epsilon, and an exact copy FAILs naming the attacks that caught it; the benchmark's
memoriser at another planted multiple runs under its own name. Slow: rows of
benchmarks/bench_certificate.py (a DP release of raw Adult, a copy of it).
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dpsynth.attacks.risk import RiskResult
from dpsynth.attacks.suite import AuditResult, run_attacks
from dpsynth.certificate.policy import evaluate_policy
from dpsynth.schema import Categorical, Numeric, Schema
from tests.conftest import requires_shared

SCHEMA = Schema((
    Categorical("a", tuple("abcdef")),
    Categorical("b", tuple("uvwxyz")),
    Numeric("n", 0.0, 1e6, integer=True),
))


def rows(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "a": rng.choice(list("abcdef"), n, p=[0.5, 0.2, 0.1, 0.1, 0.05, 0.05]),
        "b": rng.choice(list("uvwxyz"), n),
        "n": rng.integers(0, 1_000_001, n),
    })


def split(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    real = rows(2000, seed)
    return real.iloc[:1600].reset_index(drop=True), real.iloc[1600:].reset_index(drop=True)


def with_risks(*risks: RiskResult) -> AuditResult:
    train, holdout = split(0)
    base = run_attacks(train, holdout, rows(1600, 1), SCHEMA, level="quick", random_state=0)
    return AuditResult(base.level, base.parameters, base.membership, risks, {}, {})


def test_a_risk_fails_only_when_its_interval_shows_it_above_the_threshold():
    wide = RiskResult.from_counts("attribute_inference", {"secret": "native-country"}, 419, 360, 333, 335)
    assert wide.risk_interval[0] < 0.5 < wide.risk_interval[1]
    verdict, reasons, _ = evaluate_policy(with_risks(wide), 0.3)
    assert verdict == "PASS", reasons
    shown = RiskResult.from_counts("attribute_inference", {"secret": "income"}, 1000, 950, 300, 300)
    assert shown.risk_interval[0] > 0.5
    verdict, reasons, checks = evaluate_policy(with_risks(wide, shown), 0.3)
    assert verdict == "FAIL"
    low, high = shown.risk_interval
    assert f"attribute-inference risk at least {low:.3f} (95% interval {low:.3f}-{high:.3f}) " \
           "(attribute_inference, secret column 'income')" in " ".join(reasons)
    assert next(c for c in checks if c["name"] == "inference_risk")["value"] == low


def test_a_dp_like_table_passes_and_an_exact_copy_fails_naming_its_attacks():
    train, holdout = split(2)
    clean = run_attacks(train, holdout, rows(1600, 3), SCHEMA, level="standard", random_state=2)
    for stated in (None, 1.0):
        verdict, reasons, _ = evaluate_policy(clean, stated)
        assert verdict == "PASS", (stated, reasons)
    copy = run_attacks(train, holdout, train.sample(frac=1, random_state=4), SCHEMA, level="standard", random_state=2)
    verdict, reasons, checks = evaluate_policy(copy, None)
    assert verdict == "FAIL"
    failed = {check["name"] for check in checks if check["passed"] is False}
    assert {"membership_auc", "unique_copies", "singling_out_risk"} <= failed
    text = " ".join(reasons)
    assert "membership inference (distance_to_closest_record)" in text or "membership inference (density_ratio)" in text
    assert "(unique_copies)" in text and "(singling_out_" in text
    verdict, reasons, _ = evaluate_policy(copy, 1.0)
    assert verdict == "FAIL" and "is not below the stated epsilon 1" in " ".join(reasons)


@pytest.mark.slow
@requires_shared("adult")
@pytest.mark.filterwarnings("ignore::dpsynth.errors.PrivacyWarning")  # the benchmark seeds its noise
def test_benchmark_rows_a_dp_release_passes_and_a_copy_fails():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import bench_certificate

    dp = bench_certificate.run(("dp", "adult-raw", "mst", 1.0, 0))
    assert dp["verdict"] == "PASS", dp.get("reasons") or dp.get("error")
    assert float(dp["epsilon_lower_bound"]) < 1.0
    copy = bench_certificate.run(("leaky", "adult-raw", "exact copy", 0))
    assert copy["verdict"] == copy["verdict_claiming_dp"] == "FAIL"
    assert "unique_copies" in copy["failed"] and "membership_auc" in copy["failed"]


def test_benchmark_memoriser_multiple_runs_under_its_own_name():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import bench_certificate as bench

    assert bench.visible_name(bench.VISIBLE_MARGIN) == bench.VISIBLE
    assert bench.visible_multiple(bench.VISIBLE) == bench.VISIBLE_MARGIN
    assert bench.visible_multiple(bench.visible_name(3.0)) == 3.0
    assert bench.visible_multiple("memorised rare outliers") is None
    names = {task[2] for task in bench.tasks(1, leaky_only=(bench.VISIBLE,), multiple=3.0)}
    assert names == {bench.visible_name(3.0)} != {bench.VISIBLE}
