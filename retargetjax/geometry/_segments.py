"""Closest points between line segments (capsule distance), pure JAX, NaN-free."""

from __future__ import annotations

import jax.numpy as jnp

from ..types import Array


def segment_segment_closest(
    p0: Array, p1: Array, q0: Array, q1: Array, axis: int = -1
) -> tuple[Array, Array]:
    """Parameters ``(s, t)`` (each (...,), in [0, 1]) of the closest points
    ``p0 + s (p1 − p0)`` and ``q0 + t (q1 − q0)`` of two segments, whose coordinates lie
    along ``axis``; see :func:`segment_segment_distance` for the method."""
    d1 = p1 - p0
    d2 = q1 - q0
    r = p0 - q0
    a = jnp.sum(d1 * d1, axis=axis)
    e = jnp.sum(d2 * d2, axis=axis)
    f = jnp.sum(d2 * r, axis=axis)
    c = jnp.sum(d1 * r, axis=axis)
    b = jnp.sum(d1 * d2, axis=axis)
    eps = 1e-9
    denom = a * e - b * b
    s = jnp.where(
        denom > eps, jnp.clip((b * f - c * e) / jnp.where(denom > eps, denom, 1.0), 0, 1), 0.0
    )
    t = jnp.where(e > eps, (b * s + f) / jnp.where(e > eps, e, 1.0), 0.0)
    t_clamped = jnp.clip(t, 0.0, 1.0)
    s = jnp.where(
        t != t_clamped,
        jnp.where(a > eps, jnp.clip((b * t_clamped - c) / jnp.where(a > eps, a, 1.0), 0, 1), 0.0),
        s,
    )
    s = jnp.where(a > eps, s, 0.0)
    return s, t_clamped


def segment_segment_distance(p0: Array, p1: Array, q0: Array, q1: Array, axis: int = -1) -> Array:
    """Distance (..., ) between segments ``[p0, p1]`` and ``[q0, q1]`` (each (..., 3), or
    with the coordinates along ``axis``: frames last, ``(pairs, 3, frames)``, runs as long
    vector loops).

    Minimises ``|p0 + s·d1 − (q0 + t·d2)|`` over ``s, t ∈ [0, 1]``, with ``d1 = p1 − p0`` and
    ``d2 = q1 − q0``: the unconstrained ``s`` of the infinite lines is clamped, ``t`` is
    recomputed for that ``s`` and clamped, then ``s`` is recomputed for the clamped ``t``.
    Degenerate segments (spheres, ``d = 0``) and parallel segments are handled without a
    division by zero. Two capsules of radii ``r1, r2`` interpenetrate by
    ``max(0, r1 + r2 − distance)``.
    """
    s, t = segment_segment_closest(p0, p1, q0, q1, axis)
    s, t = jnp.expand_dims(s, axis), jnp.expand_dims(t, axis)
    closest = (p0 + s * (p1 - p0)) - (q0 + t * (q1 - q0))
    return jnp.sqrt(jnp.sum(closest * closest, axis=axis) + 1e-12)
