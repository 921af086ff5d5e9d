"""DP-SGD neural generator: an autoregressive network over the encoded columns.

Every row becomes a sequence of tokens: each column's code (category, bin or missing), and
after each numeric column's bin code its position within the bin on a grid of ``fine_bins``,
so numeric values keep detail that bins lose. Vocabularies, bin edges and bounds come from the
public (declared or DP-discovered) schema; the row count that sets the sampling rate is a DP
count charged to the part. The network is trained only through the door's DP-SGD trainer
(:meth:`dpsynth.data.PrivateTable.dpsgd`): Poisson sampling, per-sample clipping, exact
discrete Gaussian noise, with the noise multiplier calibrated by the release's accountant so
the part's share is spent; Opacus's RDP accountant cross-checks that figure.

Architecture: a NADE-style autoregressive model (:mod:`dpsynth.generators.neural_model`).
Every token is a categorical with its own small vocabulary, so one softmax per token fits
categorical, binned-numeric, within-bin and missing codes alike; the exact likelihood is a
low-variance loss for DP-SGD (a GAN's critic signal is what DP-SGD noises in DP-CTGAN); and one
forward pass covers a row, so per-sample gradients stay cheap. Per-sample gradients and
clipping dominate a DP-SGD step and grow with the network, hence the small default (embed 16,
hidden 64; see ``benchmarks/notes/2026-11-23-design-measurements.md``); smartnoise-synth's
DP-CTGAN could not run its default epochs in the time the benchmark allows (see
``benchmarks/RESULTS.md``, "Neural and hybrid generators"). A VAE was not measured. Datetime
columns keep their bins (decoded uniformly within them); only numeric columns get within-bin
tokens.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from dpsynth.errors import BudgetExceeded, NotFittedError
from dpsynth.generators.base import FORMAT_VERSION, check_document, load_document, save_document
from dpsynth.generators.neural_model import (
    PARAMETER_NAMES,
    TokenLayout,
    device,
    init_parameters,
    log_likelihood,
    require_torch,
    sample_tokens,
)
from dpsynth.generators.protocol import Params
from dpsynth.privacy.accountant import PlannedMeasurement, event_curve
from dpsynth.privacy.budget import NEURAL
from dpsynth.privacy.conversion import rdp_epsilon
from dpsynth.privacy.dpsgd import DpsgdPlan
from dpsynth.progress import advance
from dpsynth.random_state import RandomState, check_random_state
from dpsynth.schema import Numeric, Schema, decode
from dpsynth.schema.fine import value_in_cell
from dpsynth.validation import integer, number

logger = logging.getLogger(__name__)

COUNT_SHARE = 0.02
"""Share of the neural part's zCDP allowance spent on the DP row count (sets the sampling rate)."""


def _numeric(schema: Schema) -> list[Numeric]:
    return [column for column in schema.columns if isinstance(column, Numeric)]


def numeric_columns(schema: Schema) -> list[str]:
    """The columns that get a within-bin token, in the order the door appends them."""
    return [column.name for column in _numeric(schema)]


def refine_numeric(
    frame: pd.DataFrame, codes: np.ndarray, fine: np.ndarray, schema: Schema, fine_bins: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Replace each numeric value, decoded uniformly in its bin, by one drawn in its fine cell
    (``fine`` holds one column per :func:`numeric_columns` entry; see :mod:`dpsynth.schema.fine`)."""
    names = list(schema.encoded_columns)
    for k, column in enumerate(_numeric(schema)):
        name = column.name
        code = codes[:, names.index(name)].astype(np.int64)
        present = np.ones(len(code), bool) if not column.missing else code != column.missing_code
        edges = column.bin_edges.astype(float)
        low, high = edges[code[present]], edges[code[present] + 1]
        values = value_in_cell(fine[present, k].astype(np.int64), low, high, column.integer, fine_bins, rng)
        refined = frame[name].to_numpy(copy=True)
        refined[present] = values
        frame[name] = pd.Series(refined, index=frame.index, dtype=frame[name].dtype)
    return frame


MIN_BATCH = 32
# Relative noise of a whole DP-SGD run: summed over T = E/q steps the clipped gradients of
# about q n rows give a signal of E n C, the noise sqrt(T) multiplier C, so their ratio is
# multiplier / (n sqrt(q E)). Raw Adult (39k rows) at epsilon 1 runs at about 3e-4 and learns;
# a 4.5k-row table at epsilon 1 runs at 2.5e-3 (at any number of epochs) and gave near-uniform
# noise. Above this level the fit warns that its budget cannot buy a useful model.
USEFUL_NOISE_RATIO = 1e-3
"""The smallest expected batch :func:`cheapest_batch` tries."""


NEURAL_ALONE = (
    "its samples may be close to uniform noise; use mst, aim or privbayes, a larger epsilon, or a larger table"
)


def underpowered(facts: Mapping[str, Any], part: str, consequence: str = NEURAL_ALONE) -> tuple[str, ...]:
    """A warning (logged and returned) when a DP-SGD run's noise drowns its signal.

    Reads the run's public facts (noise multiplier, sampling rate, epochs, DP row count).
    """
    ratio = facts.get("noise_to_signal", 0.0)
    if ratio <= USEFUL_NOISE_RATIO:
        return ()
    message = (
        f"the '{part}' part's budget cannot buy a useful neural model at this table size: DP-SGD's "
        f"noise is {ratio / USEFUL_NOISE_RATIO:.1f}x the level at which it learns: {consequence}"
    )
    logger.warning(message)
    return (message,)


def cheapest_batch(
    accountant: Any, part: str, n_estimate: float, max_batch: int, epochs: float
) -> tuple[float, int, float]:
    """(sampling rate, steps, noise multiplier) of the expected batch, from ``max_batch`` down
    by halves to :data:`MIN_BATCH`, with the least noise per unit of signal.

    At a fixed number of epochs E, the ``E / q`` steps each add noise ``multiplier C`` to a
    signal of about ``q n C``; summed over the run the noise grows as the square root of the
    steps and the signal as the steps, so noise over signal goes as ``multiplier / sqrt(q)``.
    Under the continuous Gaussian's curve that favours large batches; Zhu & Wang's bound
    (dpsynth's DP-SGD curve) has a per-step floor that grows like ``q^3`` and can make a small
    share's noise at a large batch several times what a batch half or a quarter as large needs
    (see ``benchmarks/notes/2026-11-23-neural-and-hybrid.md``). The choice reads
    only public facts (the share, delta, the DP row count), so it is post-processing; the search
    stops at the first halving that does not help.
    """
    best: tuple[float, int, float] | None = None
    batch = max_batch
    while True:
        rate = min(1.0, batch / max(n_estimate, 1.0))
        steps = max(1, math.ceil(epochs / rate))
        multiplier = accountant.calibrate_subsampled_gaussian(part, rate, steps)
        if best is not None and multiplier / math.sqrt(rate) >= best[2] / math.sqrt(best[0]):
            return best
        best = (rate, steps, multiplier)
        if batch // 2 < MIN_BATCH:
            return best
        batch //= 2


@dataclass(frozen=True)
class TokenFeatures:
    """How one of the door's rows becomes tokens and loss weights, from public maps only.

    Token t is ``lookups[t][row[source[t]]]`` (an identity lookup takes a column as it is; a
    public code map merges codes); its weight is ``base[t]``, or 0 for each rule
    ``(t, u, value)`` where token u equals ``value`` (a numeric column's within-bin token has
    nothing to learn where the column is missing).
    """

    source: tuple[int, ...]
    lookups: tuple[np.ndarray, ...]
    base: tuple[float, ...]
    zero_when: tuple[tuple[int, int, int], ...] = ()

    def on(self, torch_device: Any) -> Callable[[Any], tuple[Any, Any]]:
        """The map as a torch function of one row (int64 tensor) -> (tokens, weights)."""
        torch = require_torch()
        sizes = [len(lookup) for lookup in self.lookups]
        offsets = torch.as_tensor(np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64), device=torch_device)
        flat = torch.as_tensor(np.concatenate(self.lookups).astype(np.int64), device=torch_device)
        source = torch.as_tensor(np.asarray(self.source, dtype=np.int64), device=torch_device)
        base = torch.as_tensor(np.asarray(self.base, dtype=np.float32), device=torch_device)
        rules = np.asarray(self.zero_when, dtype=np.int64).reshape(-1, 3)
        read = torch.as_tensor(rules[:, 1], device=torch_device)
        value = torch.as_tensor(rules[:, 2], device=torch_device)
        # zeroed[r, t] = 1 where rule r zeroes token t; each token is zeroed by at most one rule.
        zeroed = np.zeros((len(rules), len(self.source)), dtype=np.float32)
        zeroed[np.arange(len(rules)), rules[:, 0]] = 1.0
        zeroed_t = torch.as_tensor(zeroed, device=torch_device)

        def features(row: Any) -> tuple[Any, Any]:
            tokens = flat[offsets + row[source]]
            hit = (tokens[read] == value).to(torch.float32)
            return tokens, base * (1.0 - hit @ zeroed_t)

        return features


def identity(size: int) -> np.ndarray:
    """The lookup that takes a column's values as they are."""
    return np.arange(size, dtype=np.int64)


class TokenNetwork:
    """An autoregressive token model trained with the door's DP-SGD (shared by the neural and
    hybrid generators). Tokens before ``n_given`` are conditioned on, not learned."""

    def __init__(self, vocab: list[int], n_given: int, params: dict[str, np.ndarray]) -> None:
        self.vocab, self.n_given = list(vocab), n_given
        self.params = params

    @classmethod
    def train(
        cls, table: Any, part: str, vocab: list[int], n_given: int, featurize: TokenFeatures,
        n_estimate: float, settings: dict[str, Any], rng: np.random.Generator,
    ) -> tuple[TokenNetwork, dict[str, Any]]:
        """Calibrate, charge and run DP-SGD; returns the network and the run's public facts.

        ``featurize`` maps one of the door's rows to its tokens and their weights in the loss (0
        for the ``n_given`` conditioning tokens and for undefined ones), from public maps only;
        the door computes each row's gradient of the loss it gives (see DpsgdTrainer.step).
        """
        torch = require_torch()

        dev = device()
        params = init_parameters(vocab, settings["embed"], settings["hidden"], rng)
        layout = TokenLayout(vocab, dev)
        dimension = int(sum(p.size for p in params.values()))
        accountant = table.accountant
        sampling_rate, steps, multiplier = cheapest_batch(
            accountant, part, n_estimate, settings["batch_size"], settings["epochs"]
        )
        plan = DpsgdPlan(sampling_rate, steps, multiplier, settings["clipping_norm"], dimension)
        trainer = table.dpsgd(plan, settings["fine_bins"], part)
        features = featurize.on(dev)

        leaves = {k: torch.tensor(params[k], device=dev, requires_grad=True) for k in PARAMETER_NAMES}
        optimizer = torch.optim.Adam(leaves.values(), lr=settings["learning_rate"])

        def loss(p: Mapping[str, Any], row: Any) -> Any:
            tokens, weights = features(row)
            return -log_likelihood(dict(p), tokens, weights, layout)

        expected_batch = sampling_rate * max(n_estimate, 1.0)
        sizes = [params[k].size for k in PARAMETER_NAMES]
        for step in range(steps):
            advance(step, steps, "DP-SGD steps")
            noisy = trainer.step(loss, leaves) / expected_batch
            pieces = np.split(noisy.astype(np.float32), np.cumsum(sizes)[:-1])
            for name, piece in zip(PARAMETER_NAMES, pieces):
                leaves[name].grad = torch.as_tensor(piece.reshape(params[name].shape), device=dev)
            optimizer.step()
        trainer.finish()
        fitted = {k: v.detach().cpu().numpy() for k, v in leaves.items()}
        noise_ratio = multiplier / (max(n_estimate, 1.0) * math.sqrt(sampling_rate * settings["epochs"]))
        facts = {
            "noise_to_signal": noise_ratio,
            "sampling_rate": sampling_rate, "steps": steps, "noise_multiplier": multiplier,
            "clipping_norm": settings["clipping_norm"], "dimension": dimension,
            "grid": plan.grid, "steps_run": trainer.steps_run,
            "cross_check": _opacus_cross_check(plan, accountant.delta_for_curve),
        }
        logger.info("DP-SGD: %d steps at sampling rate %.4g, noise multiplier %.4g", steps, sampling_rate, multiplier)
        return cls(vocab, n_given, fitted), facts

    def sample(self, given: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Tokens (in network order) with the first ``n_given`` taken from ``given``."""
        torch = require_torch()
        dev = device()
        params = {k: torch.as_tensor(v, device=dev) for k, v in self.params.items()}
        return sample_tokens(params, TokenLayout(self.vocab, dev), given, self.n_given, rng)

    def to_dict(self) -> dict[str, Any]:
        return {
            "vocab": self.vocab, "n_given": self.n_given,
            "params": {k: v.tolist() for k, v in self.params.items()},
        }

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> TokenNetwork:
        params = {k: np.asarray(v, dtype=np.float32) for k, v in document["params"].items()}
        return cls(document["vocab"], document["n_given"], params)


def _opacus_cross_check(plan: DpsgdPlan, delta: float) -> dict[str, float] | None:
    """Epsilon of the DP-SGD run alone by dpsynth's curve and by Opacus's RDP accountant, or
    None when Opacus is not installed (a cross-check only: dpsynth's accounting stands alone).

    Opacus accounts continuous Gaussian noise; dpsynth's sound bound for the discrete noise
    (Zhu & Wang 2019) is never below it, and the gap is what exact noise costs."""
    try:
        from opacus.accountants.analysis.rdp import compute_rdp, get_privacy_spent
    except ImportError:
        return None

    orders = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 256))
    curve = compute_rdp(q=plan.sampling_rate, noise_multiplier=plan.noise_multiplier, steps=plan.steps, orders=orders)
    opacus_epsilon, _ = get_privacy_spent(orders=orders, rdp=curve, delta=delta)
    ours = rdp_epsilon(event_curve(plan.event()), delta)
    return {"delta": delta, "epsilon_dpsynth": float(ours), "epsilon_opacus": float(opacus_epsilon)}


class NeuralGenerator(Params):
    """DP-SGD autoregressive generator over the encoded columns (registry name ``neural``).

    Parameters
    ----------
    epochs : expected passes over the data (steps = epochs / sampling rate).
    batch_size : the largest expected Poisson batch (sampling rate = batch / DP row count); a
        half or a quarter of it is used where the accountant's bound makes that less noisy
        (:func:`cheapest_batch`).
    learning_rate : Adam's step size on the noisy mean gradient.
    clipping_norm : per-sample gradient L2 bound C.
    embed, hidden : widths of the token embeddings and of the two hidden layers.
    fine_bins : positions within each numeric bin that the network learns.
    random_state : None, an int or a numpy Generator for initialisation and sampling (the DP
        noise always comes from the door's NoiseSource).
    """

    name: ClassVar[str] = "neural"
    parts: ClassVar[tuple[str, ...]] = (NEURAL,)
    capabilities: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self, *, epochs: float = 2.0, batch_size: int = 512, learning_rate: float = 3e-3,
        clipping_norm: float = 1.0, embed: int = 16, hidden: int = 64, fine_bins: int = 16,
        random_state: None | int | np.random.Generator = None,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.clipping_norm = clipping_norm
        self.embed = embed
        self.hidden = hidden
        self.fine_bins = fine_bins
        self.random_state = random_state

    @staticmethod
    def check_extra() -> None:
        """Raise MissingExtraError unless torch can be imported."""
        require_torch()


    def _validate(self) -> None:
        for key in ("epochs", "learning_rate", "clipping_norm"):
            number(key, getattr(self, key), low=0.0, low_open=True)
        for key in ("batch_size", "embed", "hidden", "fine_bins"):
            value = getattr(self, key)
            integer(key, value)

    def _tokens(self, schema: Schema) -> tuple[list[int], list[int], list[tuple[int, int, int]]]:
        """Vocabulary and door-row index of each token (codes interleaved with fine positions),
        and the (fine token, code token, missing code) triples."""
        names = list(schema.encoded_columns)
        numeric = numeric_columns(schema)
        vocab, order, missing_fine = [], [], []
        for j, name in enumerate(names):
            column = schema.encoded(name)
            vocab.append(column.size)
            order.append(j)
            if name in numeric:
                vocab.append(self.fine_bins)
                order.append(len(names) + numeric.index(name))
                if column.missing_code is not None:
                    missing_fine.append((len(order) - 1, len(order) - 2, column.missing_code))
        return vocab, order, missing_fine

    def fit(self, table: Any, part: str = NEURAL) -> NeuralGenerator:
        """Spend ``part``: a DP row count (COUNT_SHARE of its zCDP allowance), then DP-SGD."""
        require_torch()
        self._validate()
        accountant = table.accountant
        if accountant.rho_remaining(part) <= 0:
            raise BudgetExceeded(f"part '{part}' has no budget left for the neural generator")
        # Initialisation and sampling only: DP-SGD holds for any data-independent initial weights
        # (Abadi et al. 2016), and its batches and noise come from the door's CSPRNG.
        rng = table.noise.sampling_rng if self.random_state is None else check_random_state(self.random_state)
        schema = table.require_schema()
        first = schema.encoded_columns[0]
        rho = COUNT_SHARE * accountant.rho_allowance(part)
        (sigma,) = accountant.calibrate(part, [PlannedMeasurement(table.sensitivity_scale, 1.0)], rho=rho)
        n_estimate = max(1.0, float(table.marginal((first,), sigma, part).sum()))
        vocab, order, missing_fine = self._tokens(schema)
        featurize = TokenFeatures(
            tuple(order), tuple(identity(size) for size in vocab), (1.0,) * len(order), tuple(missing_fine)
        )
        self.network_, self.training_ = TokenNetwork.train(
            table, part, vocab, 0, featurize, n_estimate, self.get_params(), rng
        )
        self.order_ = order
        self.schema_ = schema
        self.n_rows_estimate_ = round(n_estimate)
        self.warnings_ = underpowered(self.training_, part)
        self._rng = rng
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "network_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit first")

    @property
    def n_rows_estimate(self) -> int:
        """The DP row count measured by the fit (never the exact count)."""
        self._check_fitted()
        return int(self.n_rows_estimate_)

    def sample(self, n_rows: int | None = None, random_state: None | int | np.random.Generator = None) -> pd.DataFrame:
        """``n_rows`` synthetic rows (default: the DP row count); post-processing only."""
        self._check_fitted()
        n_rows = self.n_rows_estimate if n_rows is None else n_rows
        integer("n_rows", n_rows)
        rng = self._rng if random_state is None else check_random_state(random_state)
        tokens = self.network_.sample(np.zeros((int(n_rows), len(self.network_.vocab)), np.int64), rng)
        rows = np.empty_like(tokens)
        rows[:, self.order_] = tokens
        n_codes = len(self.schema_.encoded_columns)
        codes, fine = rows[:, :n_codes], rows[:, n_codes:]
        frame = decode(codes, self.schema_, rng)
        return refine_numeric(frame, codes, fine, self.schema_, self.fine_bins, rng)

    # ------------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """The fitted network (post-processing of DP-SGD) and the schema, as plain JSON values."""
        self._check_fitted()
        return {
            "dpsynth_model": FORMAT_VERSION, "method": self.name, "params": self.public_params(),
            "schema": self.schema_.to_dict(), "network": self.network_.to_dict(),
            "training": self.training_, "n_rows_estimate": self.n_rows_estimate_, "order": self.order_,
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], random_state: RandomState = None) -> Self:
        """The fitted generator :meth:`to_dict` describes; ``random_state`` draws its samples."""
        check_document(document, cls.name)
        generator = cls(**document["params"])
        generator.schema_ = Schema.from_dict(document["schema"])
        generator.network_ = TokenNetwork.from_dict(document["network"])
        generator.training_ = document["training"]
        generator.n_rows_estimate_ = document["n_rows_estimate"]
        generator.order_ = document["order"]
        generator._rng = check_random_state(random_state)
        return generator

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`to_dict` as one JSON file."""
        save_document(self.to_dict(), path)

    @classmethod
    def load(cls, path: str | os.PathLike, random_state: RandomState = None) -> Self:
        """A fitted generator read from :meth:`save`'s file; loading costs no privacy."""
        return cls.from_dict(load_document(path, cls.name), random_state)
