"""The torch network of the neural generators: an autoregressive model over token columns.

Each row is a sequence of tokens (encoded codes, within-bin positions), token t taking values
0..V_t-1. In the style of NADE (Larochelle & Murray 2011), the context of token t is the sum of
learned embeddings of the tokens before it plus a position vector; a two-layer MLP maps it to
logits over token t's values. Context sums make a whole sequence one pass (an exclusive cumsum)
in training and one MLP call per column in sampling. Parameters are a plain dict of tensors,
initialised from a numpy Generator (no global torch seed), so ``torch.func`` can take
per-sample gradients of the pure :func:`log_likelihood`. Only this module imports torch, and
only when a neural generator runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dpsynth.errors import MissingExtraError

PARAMETER_NAMES = ("embed", "position", "w1", "b1", "w2", "b2", "w_out", "b_out")
# Rows drawn at a time when sampling (bounds the logits held: rows x vocabulary).
SAMPLE_BLOCK = 65_536


def require_torch() -> Any:
    """torch, or :class:`MissingExtraError` naming the extra that installs it."""
    try:
        import torch
    except ImportError as error:
        raise MissingExtraError(
            "the neural and hybrid generators need torch: pip install 'dpsynth[neural]'"
        ) from error
    return torch


def device() -> Any:
    """CUDA when present, else the CPU."""
    torch = require_torch()
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def init_parameters(
    vocab: list[int], embed: int, hidden: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Glorot-scaled random weights (float32) for tokens with ``vocab[t]`` values each."""
    total, length = int(sum(vocab)), len(vocab)

    def glorot(rows: int, cols: int) -> np.ndarray:
        return rng.normal(0.0, np.sqrt(2.0 / (rows + cols)), (rows, cols)).astype(np.float32)

    return {
        "embed": glorot(total, embed),
        "position": glorot(length, embed),
        "w1": glorot(embed, hidden),
        "b1": np.zeros(hidden, np.float32),
        "w2": glorot(hidden, hidden),
        "b2": np.zeros(hidden, np.float32),
        "w_out": glorot(hidden, total),
        "b_out": np.zeros(total, np.float32),
    }


class TokenLayout:
    """Where each token's values sit in the shared embedding and output rows."""

    def __init__(self, vocab: list[int], torch_device: Any) -> None:
        torch = require_torch()
        self.vocab = list(vocab)
        offsets = np.concatenate([[0], np.cumsum(vocab)[:-1]]).astype(np.int64)
        self.offsets = torch.as_tensor(offsets, device=torch_device)
        total = int(sum(vocab))
        mask = np.full((len(vocab), total), -np.inf, dtype=np.float32)
        for t, (start, size) in enumerate(zip(offsets, vocab)):
            mask[t, start : start + size] = 0.0
        self.mask = torch.as_tensor(mask, device=torch_device)


def _hidden(params: dict[str, Any], context: Any) -> Any:
    torch = require_torch()
    h = torch.relu(context @ params["w1"] + params["b1"])
    h = torch.relu(h @ params["w2"] + params["b2"])
    return h @ params["w_out"] + params["b_out"]


def log_likelihood(params: dict[str, Any], tokens: Any, weights: Any, layout: TokenLayout) -> Any:
    """Weighted sum over tokens of log p(token_t | tokens before t); works on one row
    (``tokens`` of shape (T,)) or a batch (B, T)."""
    torch = require_torch()
    embedded = params["embed"][tokens + layout.offsets]
    context = torch.cumsum(embedded, dim=-2) - embedded + params["position"]
    logits = _hidden(params, context) + layout.mask
    log_probs = torch.log_softmax(logits, dim=-1)
    chosen = torch.gather(log_probs, -1, (tokens + layout.offsets).unsqueeze(-1)).squeeze(-1)
    return (chosen * weights).sum(dim=-1)


def sample_tokens(
    params: dict[str, Any],
    layout: TokenLayout,
    given: np.ndarray,
    n_given: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw the tokens after the first ``n_given`` (whose values are ``given[:, :n_given]``).

    Each token is drawn from the model's conditional given all tokens before it, with
    inverse-CDF sampling on uniforms from ``rng``. Rows are drawn SAMPLE_BLOCK at a time: the
    network's logits span the whole vocabulary, so memory is that of one block, not of n rows.
    """
    torch = require_torch()
    out = np.array(given, dtype=np.int64, copy=True)
    n_rows, length = out.shape
    dev = layout.offsets.device
    with torch.no_grad():
        for first in range(0, n_rows, SAMPLE_BLOCK):
            block = out[first : first + SAMPLE_BLOCK]
            context = torch.zeros((len(block), params["embed"].shape[1]), device=dev)
            for t in range(length):
                if t >= n_given:
                    start = int(layout.offsets[t])
                    size = layout.vocab[t]
                    logits = _hidden(params, context + params["position"][t])[:, start : start + size]
                    probs = torch.softmax(logits.double(), dim=-1).cpu().numpy()
                    cumulative = np.cumsum(probs, axis=1)
                    draws = rng.random((len(block), 1)) * cumulative[:, -1:]
                    block[:, t] = np.minimum((cumulative <= draws).sum(axis=1), size - 1)
                index = torch.as_tensor(block[:, t], device=dev) + layout.offsets[t]
                context = context + params["embed"][index]
    return out
