"""Door-side DP-SGD: Poisson sampling, per-sample clipping and exact integer noise.

The door (:meth:`dpsynth.data.PrivateTable.dpsgd`) charges a whole run before it starts and
hands back a :class:`DpsgdTrainer`. Each :meth:`DpsgdTrainer.step` draws a Poisson sample of the
private rows, asks the caller's function for their per-sample gradients, clips, sums, rounds
and adds noise, and returns only the noisy sum: the caller never holds an un-noised gradient
sum. It refuses to run more steps than were charged, and :meth:`DpsgdTrainer.finish` refuses
fewer, so the steps run are the steps charged.

Privacy argument (add or remove one row; the door refuses person-level units with more than
one row per person, whose subsampling would need group privacy):

1. Clipping each per-sample gradient to L2 norm ``C`` makes the batch sum move by at most ``C``
   when one row joins or leaves the batch. Norms are taken in float64 and clipped to
   ``C (1 - 1e-6)``, which absorbs the float error of the sum.
2. The sum is rounded to the grid ``gamma Z^d``. Each coordinate moves by at most ``gamma / 2``
   on each side, so the rounded sums of neighbouring batches differ by at most
   ``Delta = C + gamma sqrt(d)`` in L2. ``gamma = eta C / sqrt(d)`` (``eta`` = ``grid_fraction``,
   1% by default) makes ``Delta = (1 + eta) C``: the run is accounted at that inflated
   sensitivity.
3. The noise is ``gamma`` times a discrete Gaussian per coordinate with ``sigma / gamma``, drawn
   exactly by :func:`dpsynth.privacy.noise.discrete_gaussian` (integer arithmetic). No float
   Gaussian is used: float samplers leak through their low-order bits (Mironov 2012), and those
   of torch and Opacus are attackable in DP-SGD (Jin et al. 2022).
4. Without subsampling one step has the continuous Gaussian's Renyi curve, proven: for integer
   centres m, n the 1-d discrete Gaussian has sum_x P_m^alpha P_n^(1-alpha) =
   exp(alpha (alpha-1) (m-n)^2 / (2 sigma^2)) * theta(c) / theta(0), where
   theta(c) = sum_x exp(-(x-c)^2 / (2 sigma^2)) with c = alpha m + (1-alpha) n; by Poisson
   summation theta is a cosine series with positive coefficients, so theta(c) <= theta(0) and
   D_alpha <= alpha (m-n)^2 / (2 sigma^2) (the bound of Canonne, Kamath & Steinke 2020 for the
   discrete Gaussian). Independent coordinates add, so D_alpha <= alpha Delta^2 / (2 sigma^2),
   with no tau d slack (CKS 2020's tau d terms are not needed for one product draw at lattice
   centres).
5. With Poisson sampling at rate q, proven at integer orders in both directions ("add" and
   "remove"): Zhu & Wang 2019 (Thm. 6) bound the subsampled curve of ANY base mechanism that
   is (l, eps(l))-RDP at integer l, and point 4 gives eps(l) = l Delta^2 / (2 sigma^2) in both
   directions; joint convexity of sum p^alpha r^(1-alpha) gives a second valid bound, and the
   smaller is used at each order (:mod:`dpsynth.privacy.subsampling`). Steps compose
   additively. A fractional order gets the bound of the next integer (Renyi divergence does
   not decrease with the order). The continuous Gaussian's subsampled curve (Mironov, Talwar
   & Zhang 2019) is not used: its "add" direction rests on the continuous Gaussian's rotation
   invariance, which the lattice lacks. The event is never converted with the continuous
   Gaussian's privacy-loss distribution.

   Cost, measured with the accountant (noise multiplier over the one the continuous curve
   would allow, at the same share): 1.05x-1.13x for the neural benchmark's runs (Adult,
   q = 0.013, 153 steps, delta 1e-9, neural share 0.9 of epsilon 1 or 3; 1.09x for the hybrid
   share 0.18 at epsilon 3), 1.51x for q = 0.01, 1,000 steps and half of epsilon 1 at
   delta 1e-6, and about 10x for the hybrid share at epsilon 1 and batch 512: Zhu & Wang's
   factor 3 on the l >= 3 terms leaves log(1 + 2 P[Binomial(alpha, q) >= 3]) / (alpha - 1) per
   step however large the noise, and a small share cannot pay it at the orders the conversion
   needs. That floor shrinks like q^3, so the generators halve the batch where it pays
   (:func:`dpsynth.generators.neural.cheapest_batch`): at batch 128 the same share needs
   1.03x the continuous multiplier (1.64 against 1.59).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

import numpy as np

from dpsynth.errors import BudgetError, BudgetExceeded
from dpsynth.privacy.events import (
    DiscreteSubsampledGaussianMechanism,
    SubsampledGaussianMechanism,
)
from dpsynth.privacy.noise import discrete_gaussian
from dpsynth.validation import integer, number

_CLIP_MARGIN = 1e-6
_CHUNK = 64
# Rows whose sampling coins are drawn at a time (8 MiB): the coin stream does not depend on it.
COIN_BLOCK = 1 << 20


@dataclass(frozen=True)
class DpsgdPlan:
    """The public parameters of one DP-SGD run.

    ``noise_multiplier`` is sigma over the inflated sensitivity ``(1 + grid_fraction) C``;
    ``dimension`` is the number of gradient coordinates.
    """

    sampling_rate: float
    steps: int
    noise_multiplier: float
    clipping_norm: float
    dimension: int
    grid_fraction: float = 0.01

    def __post_init__(self) -> None:
        SubsampledGaussianMechanism(self.sampling_rate, self.noise_multiplier, self.steps)
        for name in ("clipping_norm", "grid_fraction"):
            number(name, getattr(self, name), low=0.0, low_open=True, error=BudgetError)
        integer("dimension", self.dimension, error=BudgetError)

    @property
    def grid(self) -> float:
        """gamma = eta C / sqrt(d): rounding adds at most eta C to the L2 sensitivity."""
        return self.grid_fraction * self.clipping_norm / math.sqrt(self.dimension)

    @property
    def sensitivity(self) -> float:
        """C + gamma sqrt(d), the L2 sensitivity of the rounded sum."""
        return self.clipping_norm + self.grid * math.sqrt(self.dimension)

    @property
    def sigma(self) -> float:
        """Standard deviation of the noise on the gradient sum, in gradient units."""
        return self.noise_multiplier * self.sensitivity

    @property
    def inclusion_threshold(self) -> int:
        """floor(q 2^63): a row joins a batch iff its uniform draw on [0, 2^63) falls below it."""
        return math.floor(Fraction(self.sampling_rate) * 2**63)

    def event(self) -> DiscreteSubsampledGaussianMechanism:
        return DiscreteSubsampledGaussianMechanism(
            self.sampling_rate,
            self.noise_multiplier,
            self.steps,
            clipping_norm=self.clipping_norm,
            grid=self.grid,
            dimension=self.dimension,
            label="DP-SGD",
        )


def _clipped_sum(per_sample: Any, clipping_norm: float) -> np.ndarray:
    """Sum of per-sample gradients (rows of a numpy array or torch tensor), each clipped to
    ``clipping_norm (1 - 1e-6)``; norms and the sum in float64 (in chunks of rows, so the
    float32 gradients are never copied whole). A row with a non-finite value counts as zero."""
    bound = clipping_norm * (1.0 - _CLIP_MARGIN)
    if hasattr(per_sample, "detach"):  # a torch tensor: clip where it lives (CPU or GPU)
        import torch

        grads = per_sample.detach()
        norms = torch.linalg.vector_norm(grads, dim=1, dtype=torch.float64)
        factor = torch.where(norms.isfinite(), (bound / norms.clamp_min(1e-300)).clamp(max=1.0), 0.0)
        total = torch.zeros(grads.shape[1], dtype=torch.float64, device=grads.device)
        for start in range(0, len(grads), _CHUNK):
            chunk = grads[start : start + _CHUNK].double().nan_to_num(0.0, posinf=0.0, neginf=0.0)
            total += factor[start : start + _CHUNK] @ chunk
        return total.cpu().numpy()
    grads = np.asarray(per_sample, dtype=np.float64)
    norms = np.linalg.norm(grads, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(np.isfinite(norms), np.minimum(1.0, bound / np.maximum(norms, 1e-300)), 0.0)
    return scale @ np.nan_to_num(grads, nan=0.0, posinf=0.0, neginf=0.0)


def _per_row_gradients(
    loss: Callable[[Mapping[str, Any], Any], Any], params: Mapping[str, Any], batch: np.ndarray
) -> Any:
    """Each row's gradient of ``loss`` (one row of the batch at a time, by vmap), flattened."""
    import torch
    from torch.func import grad, vmap

    detached = {name: value.detach() for name, value in params.items()}
    device = next(iter(detached.values())).device
    grads = vmap(grad(loss), in_dims=(None, 0))(detached, torch.as_tensor(batch, device=device))
    return torch.cat([grads[name].reshape(len(batch), -1) for name in detached], dim=1)


class TrainingRows(Protocol):
    """The door's rows for DP-SGD: how many, and the rows at given positions (int64, one row each)."""

    def __len__(self) -> int: ...

    def take(self, positions: np.ndarray) -> np.ndarray: ...


class RowsInMemory:
    """Training rows held as one int64 matrix."""

    def __init__(self, rows: np.ndarray) -> None:
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def take(self, positions: np.ndarray) -> np.ndarray:
        return self._rows[positions]


class DpsgdTrainer:
    """One charged DP-SGD run over private rows (created by the door, not by callers)."""

    def __init__(self, rows: TrainingRows, plan: DpsgdPlan, rng: np.random.Generator) -> None:
        self._rows = rows
        self.plan = plan
        self._rng = rng
        self.steps_run = 0

    @property
    def steps_charged(self) -> int:
        return self.plan.steps

    def step(self, loss: Callable[[Mapping[str, Any], Any], Any], params: Mapping[str, Any]) -> np.ndarray:
        """The noisy sum, over one Poisson-sampled batch, of each row's clipped gradient of
        ``loss`` with respect to ``params`` (float64, length d, flattened in ``params``' order).

        ``loss(params, row)`` is the loss of ONE row (an int64 torch tensor in the door's row
        layout). The trainer computes every sampled row's gradient itself, with
        ``torch.func.vmap(grad(loss))``: the caller never receives a row or a batch, and one
        row's gradient cannot depend on another row (vmap maps the loss over rows
        independently); clipping bounds what any loss reveals of its row.
        """
        if self.steps_run >= self.plan.steps:
            raise BudgetExceeded(
                f"DP-SGD step {self.steps_run + 1} was not charged: the run was charged "
                f"{self.plan.steps} steps"
            )
        plan = self.plan
        self.steps_run += 1
        # Poisson sampling with probability q' = floor(q 2^63) / 2^63: q itself for q >= 2^-10
        # (a double there is a multiple of 2^-62), never above it. A float test U < q would
        # include a row with probability ceil(q 2^53) / 2^53, up to 2^-53 above the accounted q.
        # Where q' < q the accounting at q still holds: sampling at q' is sampling at q followed
        # by an independent one at q'/q inside the base mechanism, which leaves its integer-order
        # curve no higher (joint convexity), and that curve is all that the bounds of
        # dpsynth.privacy.subsampling use.
        # The coins are drawn COIN_BLOCK rows at a time, so rows that never fit in memory can be
        # sampled; each coin is one 64-bit draw, so the stream is the same at any block size.
        threshold = np.uint64(plan.inclusion_threshold)
        n_rows = len(self._rows)
        chosen = [
            start + np.flatnonzero(
                self._rng.integers(0, 2**63, size=min(COIN_BLOCK, n_rows - start), dtype=np.uint64) < threshold
            )
            for start in range(0, n_rows, COIN_BLOCK)
        ]
        batch = self._rows.take(np.concatenate([np.empty(0, dtype=np.int64), *chosen]))
        total = np.zeros(plan.dimension)
        if len(batch):
            total = _clipped_sum(_per_row_gradients(loss, params, batch), plan.clipping_norm)
            if total.shape != (plan.dimension,):
                raise BudgetError(
                    f"per-sample gradients must have {plan.dimension} coordinates per row; "
                    f"got shape {total.shape}"
                )
        grid = plan.grid
        lattice = np.rint(total / grid).astype(np.int64)
        noise = discrete_gaussian(plan.sigma / grid, plan.dimension, self._rng)
        return grid * (lattice + noise).astype(np.float64)

    def finish(self) -> int:
        """Check that every charged step ran; returns the number of steps."""
        if self.steps_run != self.plan.steps:
            raise BudgetError(
                f"DP-SGD ran {self.steps_run} steps but {self.plan.steps} were charged"
            )
        return self.steps_run
