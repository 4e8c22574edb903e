"""Floating: the human stands on a foot but no robot foot is near the floor."""

from __future__ import annotations

import numpy as np

from ..types import NDArray

__all__ = ["FLOAT_HEIGHT_M", "floating_frames", "floating_metrics"]

#: A robot foot touches the floor when a sole point is lower than this (m).
FLOAT_HEIGHT_M = 0.02


def floating_frames(sole_points: NDArray, contact: NDArray) -> NDArray:
    """(T,) bool: ``any_f contact_tf`` and ``min_{f,p} z_tfp ≥ 0.02``.

    The human has a foot on the ground at frame ``t``, yet no sole point of either robot foot
    is within 2 cm of the floor (points below the floor count as touching it).
    """
    lowest = np.asarray(sole_points, np.float64)[..., 2].reshape(len(sole_points), -1).min(axis=1)
    return np.asarray(contact, bool).any(axis=1) & (lowest >= FLOAT_HEIGHT_M)


def floating_metrics(sole_points: NDArray, contact: NDArray) -> dict[str, float]:
    """Floating metrics from sole points (T, 2, P, 3) and human contacts (T, 2).

    - ``floating_frames_frac``: ``#floating / #{t : any_f contact_tf}``
      (:func:`floating_frames`; 0 when the human never touches the floor);
    - ``floating_frames``: ``#floating``.
    """
    floating = floating_frames(sole_points, contact)
    support = int(np.asarray(contact, bool).any(axis=1).sum())
    return {
        "floating_frames_frac": float(floating.sum() / support) if support else 0.0,
        "floating_frames": float(floating.sum()),
    }
