"""Membership inference: distances, DOMIAS and shadow models against generators of known leakage."""

import json
from functools import cache

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from dpsynth.attacks.features import (
    MISSING_VALUE,
    AttackEncoding,
    EncodedRows,
    nearest_neighbours,
    pairwise_distances,
)
from dpsynth.attacks.membership import (
    density_ratio,
    distance_to_closest_record,
    evaluate_scores,
    select_outlier_targets,
    shadow_model_attack,
    target_features,
)
from dpsynth.datasets import example_path
from dpsynth.errors import DataError, SchemaError
from dpsynth.schema import Categorical, Datetime, Numeric, Ordinal, Schema
from tests.conftest import example_adult, jittered


# ------------------------------------------------------------------------------ data
@cache
def adult() -> pd.DataFrame:
    return example_adult()


@cache
def adult_encoding() -> AttackEncoding:
    return AttackEncoding(Schema.load(example_path("adult")[1]))


def adult_split(seed: int, sizes: tuple[int, ...]) -> list[pd.DataFrame]:
    """Disjoint random samples of Adult of the given sizes."""
    order = np.random.default_rng(seed).permutation(len(adult()))
    edges = np.cumsum((0,) + sizes)
    return [adult().iloc[order[a:b]].reset_index(drop=True) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def independent_marginals(frame: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Rows drawn column by column from ``frame``'s marginals: a generator that copies no row."""
    return pd.DataFrame({name: rng.choice(frame[name].to_numpy(), size=n) for name in frame.columns})


# ------------------------------------------------------------------------------ encoding and distance
SMALL_SCHEMA = Schema(
    [
        Categorical("colour", ("red", "green"), missing=True),
        Ordinal("size", ("S", "M", "L")),
        Numeric("weight", 0, 200, missing=True),
        Datetime("seen", "2020-01-01", "2020-01-11", missing=False),
    ]
)


def test_gower_distance_by_hand():
    frame = pd.DataFrame(
        {
            "colour": ["red", "green", None],
            "size": ["S", "L", "M"],
            "weight": [50.0, 150.0, None],
            "seen": ["2020-01-01", "2020-01-06", "2020-01-11"],
        }
    )
    rows = AttackEncoding(SMALL_SCHEMA).transform(frame)
    assert rows.scaled[2, 1] == MISSING_VALUE
    distances = pairwise_distances(rows, rows)
    # colour mismatch 1; size |0 - 1| = 1; weight |0.25 - 0.75| = 0.5; seen |0 - 0.5| = 0.5.
    assert distances[0, 1] == pytest.approx((1 + 1 + 0.5 + 0.5) / 4)
    # colour vs missing code 1; size 0.5; weight present vs missing 1; seen 1.
    assert distances[0, 2] == pytest.approx((1 + 0.5 + 1 + 1) / 4)
    assert np.diag(distances) == pytest.approx(0.0)
    assert distances == pytest.approx(distances.T)


def test_encoding_ignores_extra_columns_and_names_absent_ones():
    encoding = adult_encoding()
    with_extra = adult().head(5).assign(split="train")
    assert encoding.transform(with_extra).codes.shape == (5, 15)
    with pytest.raises(SchemaError, match="income"):
        encoding.transform(adult().head(5).drop(columns="income"))


def _brute_force_gower(queries: EncodedRows, candidates: EncodedRows) -> np.ndarray:
    encoding = queries.encoding
    categorical = [encoding.columns.index(name) for name in encoding.categorical_columns]
    mismatches = (queries.codes[:, None, categorical] != candidates.codes[None, :, categorical]).sum(axis=2)
    differences = np.abs(queries.scaled[:, None, :].astype(float) - candidates.scaled[None, :, :]).sum(axis=2)
    return (mismatches + differences) / len(encoding.columns)


def test_nearest_neighbours_match_brute_force_across_blocks():
    queries, candidates = adult_split(1, (600, 2500))
    encoding = adult_encoding()
    query_rows, candidate_rows = encoding.transform(queries), encoding.transform(candidates)
    expected = np.sort(_brute_force_gower(query_rows, candidate_rows), axis=1)[:, :3]
    distances, indices = nearest_neighbours(query_rows, candidate_rows, k=3)
    assert distances == pytest.approx(expected, abs=1e-6)
    found = _brute_force_gower(query_rows.take(np.arange(5)), candidate_rows)
    assert np.take_along_axis(found, indices[:5], axis=1) == pytest.approx(distances[:5], abs=1e-6)
    with pytest.raises(DataError, match="k must"):
        nearest_neighbours(query_rows, candidate_rows, k=0)


# ------------------------------------------------------------------------------ scoring
def test_evaluate_scores_agrees_with_sklearn_and_serialises():
    rng = np.random.default_rng(5)
    members, nonmembers = rng.normal(0.5, 1, 800), rng.normal(0, 1, 1200)
    result = evaluate_scores("toy", {"kind": "normal"}, members, nonmembers, rng)
    labels = np.repeat([True, False], [800, 1200])
    assert result.auc == pytest.approx(roc_auc_score(labels, np.concatenate([members, nonmembers])))
    assert result.auc_interval[0] < result.auc < result.auc_interval[1]
    assert result.baseline_interval[0] < 0.5 < result.baseline_interval[1] < result.auc_interval[0]
    # At FPR 1% exactly 12 non-members may score above the cut: the 13th highest.
    cut = np.sort(nonmembers)[::-1][12]
    assert result.tpr_at_fpr[0.01][0] == pytest.approx(np.mean(members > cut))
    assert result.tpr_at_fpr[0.01][1] <= result.tpr_at_fpr[0.01][0] <= result.tpr_at_fpr[0.01][2]
    assert len(result.roc_fpr) == len(result.roc_tpr) <= 200
    assert result.roc_fpr[0] == 0.0 and result.roc_tpr[-1] == 1.0
    document = json.loads(json.dumps(result.to_dict()))
    assert document["tpr_at_fpr"]["0.001"]["value"] == result.tpr_at_fpr[0.001][0]
    assert document["epsilon_lower_bound"] <= document["max_certifiable_epsilon"]


def test_a_copy_of_the_training_data_is_caught():
    members, nonmembers, reference = adult_split(11, (1000, 1000, 1000))
    rng = np.random.default_rng(11)
    result = distance_to_closest_record(members, nonmembers, members, adult_encoding(), rng)
    assert result.auc > 0.95
    assert result.tpr_at_fpr[0.001][0] > 0.9
    assert 3.5 < result.epsilon_lower_bound <= result.max_certifiable_epsilon
    domias = density_ratio(members, nonmembers, members, reference, adult_encoding(), rng)
    assert domias.auc_interval[0] > 0.8


def test_a_generator_that_saw_no_training_row_looks_like_a_guess():
    members, nonmembers, reference, other = adult_split(12, (1000, 1000, 1000, 3000))
    rng = np.random.default_rng(12)
    synthetic = independent_marginals(other, 3000, rng)
    for attack in (
        distance_to_closest_record(members, nonmembers, synthetic, adult_encoding(), rng),
        density_ratio(members, nonmembers, synthetic, reference, adult_encoding(), rng),
    ):
        assert attack.auc_interval[0] < 0.5 < attack.auc_interval[1], attack.name
        assert attack.epsilon_lower_bound < 0.5, attack.name


def test_jittered_training_rows_leak_membership():
    members, nonmembers, reference = adult_split(13, (1000, 1000, 1000))
    rng = np.random.default_rng(13)
    synthetic = jittered(members, rng)
    result = distance_to_closest_record(members, nonmembers, synthetic, adult_encoding(), rng)
    assert result.auc_interval[0] > 0.9
    assert result.epsilon_lower_bound > 1
    assert density_ratio(members, nonmembers, synthetic, reference, adult_encoding(), rng).auc_interval[0] > 0.7


def test_density_ratio_refuses_a_bad_bandwidth():
    members, nonmembers, reference = adult_split(14, (20, 20, 20))
    with pytest.raises(DataError, match="bandwidth"):
        density_ratio(members, nonmembers, members, reference, adult_encoding(), np.random.default_rng(0), bandwidth=0)


# ------------------------------------------------------------------------------ shadow models
N_PLANTED = 20
SHADOW_SCHEMA = Schema(
    [
        Categorical("a", ("A", "B", "C") + tuple(f"T{i}" for i in range(N_PLANTED)), missing=False),
        Categorical("b", ("x", "y"), missing=False),
        Numeric("n1", 0, 100, integer=True, missing=False),
        Numeric("n2", 0.0, 1.0, missing=False),
    ]
)


def ordinary_rows(n: int, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "a": rng.choice(["A", "B", "C"], n),
            "b": rng.choice(["x", "y"], n),
            "n1": rng.integers(0, 101, n),
            "n2": rng.random(n),
        }
    )


def planted_outliers(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Rows like the ordinary ones but each with a category of its own: unique outliers."""
    return ordinary_rows(n, rng).assign(a=[f"T{i}" for i in range(n)])


def copy_half(training: pd.DataFrame, seed: int) -> pd.DataFrame:
    """A non-DP 'generator' that outputs a random half of its training rows (module level: picklable)."""
    rng = np.random.default_rng(seed)
    return training.iloc[rng.permutation(len(training))[: len(training) // 2]].reset_index(drop=True)


def test_target_features_see_a_copy():
    encoding = AttackEncoding(SHADOW_SCHEMA)
    rng = np.random.default_rng(0)
    target = planted_outliers(1, rng)
    without = ordinary_rows(50, rng)
    with_copy = pd.concat([without, target], ignore_index=True)
    target_rows = encoding.transform(target)
    absent, present = (target_features(target_rows, encoding.transform(frame))[0] for frame in (without, with_copy))
    assert absent[0] > 0 and present[0] == 0
    assert absent[1] == 0 and present[1] == pytest.approx(np.log(2))
    assert present[5] == pytest.approx(1 / 51)  # exact code vector seen once in 51 rows


def test_outlier_rule_picks_the_planted_targets_first():
    rng = np.random.default_rng(1)
    frame = pd.concat([ordinary_rows(400, rng), planted_outliers(6, rng)], ignore_index=True)
    chosen = select_outlier_targets(frame, AttackEncoding(SHADOW_SCHEMA), 6, np.random.default_rng(2))
    assert sorted(chosen) == list(range(400, 406))


def _shadow_trial(seed: int, n_targets: int, population_size: int, shadow_size: int, n_shadows: int):
    """Run the attack on a copy_half release whose training set holds half of the planted targets."""
    rng = np.random.default_rng(seed)
    targets = planted_outliers(n_targets, rng)
    in_training = np.arange(n_targets) % 2 == 0
    training = pd.concat([ordinary_rows(shadow_size - int(in_training.sum()), rng), targets[in_training]])
    released = copy_half(training.sample(frac=1, random_state=seed).reset_index(drop=True), seed)
    leaked = np.isin(targets["a"][in_training], released["a"]).mean()
    result = shadow_model_attack(
        copy_half,
        ordinary_rows(population_size, rng),
        released,
        targets,
        in_training,
        n_shadows=n_shadows,
        shadow_size=shadow_size,
        encoding=AttackEncoding(SHADOW_SCHEMA),
        rng=rng,
        n_jobs=2,
    )
    return result, leaked


def test_shadow_attack_finds_leaked_targets():
    result, leaked = _shadow_trial(22, n_targets=N_PLANTED, population_size=2000, shadow_size=200, n_shadows=20)
    assert leaked >= 0.3
    assert result.n_members == result.n_nonmembers == 10
    assert result.parameters["n_shadows"] == 20 and result.parameters["shadow_size"] == 200
    # Every target the release copied scores above every non-member.
    assert result.tpr_at_fpr[0.01][0] >= leaked
    # Leaked members beat every non-member; the rest are indistinguishable from them.
    assert result.auc >= 0.5 + leaked / 4
    # Ten against ten can certify nothing: the sample size, not the release, limits the bound.
    assert result.max_certifiable_epsilon == 0.0


def test_shadow_attack_needs_a_picklable_generator_for_workers():
    rng = np.random.default_rng(3)
    targets = planted_outliers(4, rng)
    with pytest.raises(DataError, match="picklable"):
        shadow_model_attack(
            lambda frame, seed: frame,
            ordinary_rows(50, rng),
            ordinary_rows(20, rng),
            targets,
            [True, False, True, False],
            n_shadows=4,
            shadow_size=10,
            encoding=AttackEncoding(SHADOW_SCHEMA),
            rng=rng,
            n_jobs=2,
        )
