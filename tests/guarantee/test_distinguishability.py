"""Statistical distinguishability of a whole release: D against D plus one crafted record.

What. An (epsilon, delta)-DP release lets no test on its output tell D from a neighbour D' much
better than chance: for every event S, P[S | D'] <= e^epsilon P[S | D] + delta and the same
with D and D' swapped. We release D and D' = D + one record many times each, score every
synthetic table with one number, and bound epsilon from below with Clopper–Pearson intervals on
the true and false positive rates of "score >= t"
(:func:`dpsynth.attacks.empirical_epsilon.audit_epsilon`: t is chosen on a random half of the
runs, the bound is computed at 95% on the other half). The test fails when that lower bound
exceeds the stated epsilon: the release would then be shown, at 95%, to leak more than it
states. Why: it checks the whole chain (plan, accountant, noise, MST's fit, sampling) end to
end and from outputs only, where unit tests check each piece alone.

D is 1,000 rows of two categorical columns with three common values each, drawn by a fixed
generator; the declared public schema lists a fourth value per column that D never holds. The
crafted record holds both rare values, so it moves every marginal MST measures by one in a cell
that D leaves empty. The score is how many cells of N_SYNTHETIC synthetic rows hold a rare
value: a readout of the model's two rare 1-way counts at 100 sampled rows per modelled record.
In an empty cell the score's own sampling noise is small (it grows with the cell's count), and
the fitted model spreads a rare value over the other column rather than pairing the two, so
the 1-way counts are where the record shows.

Runs: RUNS = 300 releases of D and 300 of D', each with its own seed (a seeded release is marked
not for publication: right for a test, and it makes the outcome reproducible). The first
RELEASE_RUNS of each side go through the real entry point,
:func:`dpsynth.workflows.release.release`; the rest, in WORKERS processes, through the same
composition root without the ledger and the files (plan_fit, open_door, MST, sample), which
gives the identical synthetic table for a seed (test_the_bulk_path_is_what_release_runs). The
file takes about 3 minutes on 2 shared cores, most of it in the leaky runs (a small noise makes
the model's fit take longer).

Power, measured offline with this harness: the score's distribution from 600 runs a side (1,200
at k = 10), resampled to 300 a side, 400 audits each. At the stated epsilon 2 (delta 1e-6)
honest MST's bound is 0 in the median and 0.32 at the 95th percentile. Run at k times the
stated epsilon but checked against 2, MST is flagged (bound > 2) with probability

    k = 5  (noise sigma 4.2x too small):   0.3%, median bound 1.0
    k = 7  (sigma 5.5x too small):         50%,  median bound 2.0
    k = 10 (sigma 7.4x too small):         92%,  median bound 2.4
    k = 15 (sigma 10x too small):          100%, median bound 3.4 (5th percentile 2.75)

so this run count detects a true epsilon of 20 against a stated 2 (k = 10) nine times in ten
and k = 15 always: test_a_fifteenfold_leak_is_flagged checks the latter, the smallest leak it
catches without fail; a leak below 7x usually passes. No audit on 150 + 150 evaluation runs can
show more than 3.69 (a perfect attack), so the stated epsilon must stay well below that.
"""

import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest

from dpsynth.attacks.empirical_epsilon import EpsilonAudit, audit_epsilon
from dpsynth.errors import PrivacyWarning
from dpsynth.generators import create
from dpsynth.privacy.noise import NoiseSource
from dpsynth.schema import Categorical, Schema
from dpsynth.workflows.release import release
from dpsynth.workflows.root import open_door, plan_fit

pytestmark = pytest.mark.slow

EPSILON, DELTA = 2.0, 1e-6
RUNS = 300
RELEASE_RUNS = 5
N_SYNTHETIC = 100_000
LEAK = 15
WORKERS = 2  # CI's two cores

CRAFTED = {"a": "a_rare", "b": "b_rare"}
SCHEMA = Schema([
    Categorical("a", ("a0", "a1", "a2", "a_rare"), missing=False),
    Categorical("b", ("b0", "b1", "b2", "b_rare"), missing=False),
])


def base_table() -> pd.DataFrame:
    """D: 1,000 rows of the common values only."""
    rng = np.random.default_rng(2024)
    return pd.DataFrame({"a": rng.choice(["a0", "a1", "a2"], 1000), "b": rng.choice(["b0", "b1", "b2"], 1000)})


D = base_table()
D_PRIME = pd.concat([D, pd.DataFrame([CRAFTED])], ignore_index=True)


def seeded_noise(seed: int) -> NoiseSource:
    """Reproducible noise; its PrivacyWarning (not for publication) is expected here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        return NoiseSource(seed)


def fitted_sample(frame: pd.DataFrame, epsilon: float, seed: int) -> pd.DataFrame:
    """What release() runs with audit off, less the ledger and the files: plan, door, fit, sample."""
    plan = plan_fit(frame, epsilon=epsilon, delta=DELTA, schema=SCHEMA)
    table, _ = open_door(frame, plan, seeded_noise(seed))
    return create("mst").fit(table).sample(N_SYNTHETIC)


def released_sample(frame: pd.DataFrame, epsilon: float, seed: int, folder) -> pd.DataFrame:
    """The synthetic table of a real release (its own folder, one ledger for the test)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        result = release(
            frame, epsilon=epsilon, delta=DELTA, out=folder / f"release-{seed}", schema=SCHEMA, method="mst",
            n_rows=N_SYNTHETIC, audit="off", ledger=folder / "ledger.sqlite", random_state=seed,
        )
    return result.synthetic


def rare_cells(synthetic: pd.DataFrame) -> int:
    """The score: how many cells of the synthetic table hold a rare value."""
    return sum(int((synthetic[column] == value).sum()) for column, value in CRAFTED.items())


def score(member: bool, epsilon: float, seed: int) -> int:
    """One run through the composition root on D' (``member``) or D, scored: a worker's task."""
    return rare_cells(fitted_sample(D_PRIME if member else D, epsilon, seed))


def distinguishability(epsilon: float, folder) -> EpsilonAudit:
    """The bound from RUNS runs on D and RUNS on D', all at ``epsilon``.

    Run i has seed i and is on D' when i >= RUNS; the first RELEASE_RUNS of each side go
    through release() here while WORKERS processes run the rest.
    """
    members = [seed >= RUNS for seed in range(2 * RUNS)]
    with ProcessPoolExecutor(WORKERS) as pool:
        bulk = {
            seed: pool.submit(score, member, epsilon, seed)
            for seed, member in enumerate(members)
            if seed % RUNS >= RELEASE_RUNS
        }
        scores = [
            bulk[seed].result() if seed in bulk
            else rare_cells(released_sample(D_PRIME if member else D, epsilon, seed, folder))
            for seed, member in enumerate(members)
        ]
    return audit_epsilon(scores, members, np.random.default_rng(0), delta=DELTA)


def test_the_bulk_path_is_what_release_runs(tmp_path):
    """The bulk of the runs may skip release(): for a seed it gives the same synthetic table."""
    pd.testing.assert_frame_equal(released_sample(D_PRIME, EPSILON, 7, tmp_path), fitted_sample(D_PRIME, EPSILON, 7))


def test_mst_is_indistinguishable_within_its_stated_epsilon(tmp_path):
    """Honest MST: the 95% lower bound on epsilon from D against D' stays within the stated one."""
    audit = distinguishability(EPSILON, tmp_path)
    print(audit)  # the bound and its counts, for the log (pytest -rP)
    assert audit.epsilon_lower_bound <= EPSILON, audit


def test_a_fifteenfold_leak_is_flagged(tmp_path):
    """The harness has teeth: MST run at LEAK times the stated epsilon is caught at the same run count."""
    audit = distinguishability(LEAK * EPSILON, tmp_path)
    print(audit)  # the bound and its counts, for the log (pytest -rP)
    assert audit.epsilon_lower_bound > EPSILON, audit
