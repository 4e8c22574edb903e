"""Padding to length buckets: the one helper behind every fixed-shape jitted call on the host.

A jitted function compiles once per input shape. Callers that see arrays of any length pad
them along the first axis to a *bucket* (a power of two, at least some minimum), so a whole
session compiles a handful of times; results are cut back to the real length.
"""

from __future__ import annotations

import numpy as np

__all__ = ["next_pow2", "pad_to_bucket"]


def next_pow2(n: int) -> int:
    """Smallest power of two ≥ ``n`` (and ≥ 1)."""
    return 1 << max(0, int(n) - 1).bit_length()


def pad_to_bucket(
    array: np.ndarray, minimum: int = 1, fill: np.ndarray | None = None
) -> np.ndarray:
    """``array`` (n, ...) padded along its first axis to ``max(minimum, next_pow2(n))`` rows:
    with ``fill`` (broadcast to one row) or, if ``None``, by repeating the last row. An array
    already at its bucket size is returned as it is."""
    array = np.asarray(array)
    n = array.shape[0]
    size = max(int(minimum), next_pow2(n))
    if size == n:
        return array
    if fill is None:
        if n == 0:
            raise ValueError("cannot repeat the last row of an empty array; pass fill")
        return array[np.minimum(np.arange(size), n - 1)]
    pad = np.broadcast_to(np.asarray(fill, array.dtype), (size - n, *array.shape[1:]))
    return np.concatenate([array, pad], axis=0)
