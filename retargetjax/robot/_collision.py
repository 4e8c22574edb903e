"""Collision capsules from primitive geoms, automatic bone capsules, and collision pairs.

Everything here runs once at load time, in numpy.

* sphere → zero-length capsule; capsule → itself.
* cylinder (radius r, half-length h) → capsule on the same axis with radius r and segment
  half-length ``max(h − r, 0)``, so its ends reach the cylinder's flat faces.
* box / ellipsoid (half sizes, longest a ≥ b ≥ c) → capsules along the longest axis with
  radius ``c``, segment half-length ``max(a − c, 0)``, ``n = min(3, ceil(b / c))`` of them
  spread over ``±(b − c)`` along the middle axis (a flat foot box becomes 3 rails whose
  bottom is the box bottom).
* A body whose collision geometry is only meshes gets an automatic capsule along each bone
  (origin → child origin), radius ``clip(0.15·length, 0.02, 0.05)`` m, shortened by the
  radius at the child end; a mesh-only leaf gets a 3 cm sphere at its origin (a mesh-only
  foot whose shapes end over 1 cm above its sole also gets two rails along the sole,
  ``_soles.sole_rails``). When a file's only collision shapes are on the feet, the bodies
  it draws with visual-only geoms get bones too. Bare frames
  (sensor, skin and sole frames: no joint, shape or child) are bones only for a body that
  has no other child, and then only the farthest one.

Collision pairs (``collision_pairs``): every pair of capsules on two bodies that

1. are at least 3 joints apart in the tree, counting bodies welded by fixed joints as one
   (so parent–child, grandparent and siblings of a common parent are excluded),
2. are not excluded by the file (MJCF ``<contact><exclude>``), and
3. do not already touch or overlap at the zero pose or at the default standing pose.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._description import BodySpec, GeomSpec

__all__ = ["bone_capsules", "box_rails", "capsule_pairs", "geom_capsules", "segment_distance"]


def geom_capsules(geom: GeomSpec) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Capsules ``(p0, p1, radius)`` in the body frame approximating one primitive geom."""
    if geom.kind == "sphere":
        return [(geom.pos.copy(), geom.pos.copy(), float(geom.size[0]))]
    if geom.kind == "cylinder" and float(geom.size[1]) < 0.25 * float(geom.size[0]):
        # A flat disc (a foot pad, a toe plate), thinner than half its radius: rails across
        # it, as a box, not a ball whose bottom would hang a radius below the disc.
        r, h = float(geom.size[0]), float(geom.size[1])
        disc = GeomSpec("box", geom.name, geom.pos, geom.rot, np.array([r, r, h]))
        return geom_capsules(disc)
    if geom.kind in ("capsule", "cylinder"):
        r, h = float(geom.size[0]), float(geom.size[1])
        half = h if geom.kind == "capsule" else max(h - r, 0.0)
        d = geom.rot[:, 2] * half
        return [(geom.pos - d, geom.pos + d, r)]
    if geom.kind in ("box", "ellipsoid"):
        order = np.argsort(-geom.size, kind="stable")
        a, b, c = (float(geom.size[i]) for i in order)
        long_axis, mid_axis = geom.rot[:, order[0]], geom.rot[:, order[1]]
        radius = c
        d = long_axis * max(a - radius, 0.0)
        n = int(min(3, max(1, np.ceil(b / max(c, 1e-9) - 1e-9))))
        spread = max(b - radius, 0.0)
        offsets = [0.0] if n == 1 else list(np.linspace(-spread, spread, n))
        return [(geom.pos + o * mid_axis - d, geom.pos + o * mid_axis + d, radius) for o in offsets]
    return []


def bone_capsules(
    body_index: int, bodies: list[BodySpec]
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Automatic capsules for a mesh-only body: one per child bone, or a sphere at a leaf.

    Bare frames (a child with no joint, no shape and no children: skin taxels, IMU and
    force-sensor frames, sole frames) are no bones when the body has a real child: iCub's
    shin carries 39 skin frames, and a capsule to each made ~10,000 collision pairs. A body
    whose children are all bare frames keeps one bone, to the farthest of them.
    """
    indices = [i for i, b in enumerate(bodies) if b.parent == body_index]
    has_children = {b.parent for b in bodies}
    real = [bodies[i] for i in indices if bodies[i].joints or bodies[i].geoms or i in has_children]
    children = [bodies[i] for i in indices]
    if not real and children:
        children = [max(children, key=lambda b: float(np.linalg.norm(b.pos)))]
    elif real:
        children = real
    out = []
    for child in children:
        length = float(np.linalg.norm(child.pos))
        if length < 1e-3:
            continue
        radius = float(np.clip(0.15 * length, 0.02, 0.05))
        direction = child.pos / length
        end = direction * max(length - radius, 0.0)
        out.append((np.zeros(3), end, radius))
    if not out and not children:
        out.append((np.zeros(3), np.zeros(3), 0.03))
    return out


def box_rails(robot: Any) -> list[tuple[int, ...]]:
    """Capsule indices of every box (or ellipsoid) given as two or more rails: capsules on
    the same body with the same geom name (``robot``: anything with ``capsule_body`` and
    ``capsule_names``), outer rails first and last as :func:`geom_capsules` spreads them."""
    groups: dict[tuple[int, str], list[int]] = {}
    for c, (body, name) in enumerate(zip(robot.capsule_body, robot.capsule_names)):
        groups.setdefault((int(body), name), []).append(c)
    return [tuple(g) for g in groups.values() if len(g) >= 2]


def segment_distance(p0: np.ndarray, p1: np.ndarray, q0: np.ndarray, q1: np.ndarray) -> float:
    """Shortest distance between segments ``p0p1`` and ``q0q1`` (clamped closest points)."""
    d1, d2, r = p1 - p0, q1 - q0, p0 - q0
    a, e, f = d1 @ d1, d2 @ d2, d2 @ r
    eps = 1e-12
    if a <= eps and e <= eps:
        return float(np.linalg.norm(r))
    if a <= eps:
        s, t = 0.0, np.clip(f / e, 0.0, 1.0)
    else:
        c = d1 @ r
        if e <= eps:
            t, s = 0.0, np.clip(-c / a, 0.0, 1.0)
        else:
            b = d1 @ d2
            denom = a * e - b * b
            s = np.clip((b * f - c * e) / denom, 0.0, 1.0) if denom > eps else 0.0
            t = (b * s + f) / e
            if t < 0.0:
                t, s = 0.0, np.clip(-c / a, 0.0, 1.0)
            elif t > 1.0:
                t, s = 1.0, np.clip((b - c) / a, 0.0, 1.0)
    return float(np.linalg.norm((p0 + d1 * s) - (q0 + d2 * t)))


def _rigid_groups(bodies: list[BodySpec]) -> list[int]:
    """Representative body of each body's welded group (walk up through joint-less bodies)."""
    rep = []
    for i, body in enumerate(bodies):
        j = i
        while j > 0 and not bodies[j].joints:
            j = bodies[j].parent
        rep.append(j if i > 0 else 0)
        del body
    return rep


def _tree_distance(a: int, b: int, parents: list[int]) -> int:
    def chain(x: int) -> list[int]:
        out = [x]
        while parents[x] >= 0:
            x = parents[x]
            out.append(x)
        return out

    ca, cb = chain(a), chain(b)
    sb = {x: i for i, x in enumerate(cb)}
    for i, x in enumerate(ca):
        if x in sb:
            return i + sb[x]
    return len(ca) + len(cb)


def capsule_pairs(
    bodies: list[BodySpec],
    capsule_body: list[int],
    world_p0: list[np.ndarray],
    world_p1: list[np.ndarray],
    radius: np.ndarray,
    excluded: set[frozenset[str]],
    min_tree_distance: int = 3,
) -> np.ndarray:
    """(P, 2) int32 capsule pairs that may collide (rules in the module docstring).

    ``world_p0``/``world_p1`` hold each capsule's end points at the poses to test (a list of
    (C, 3) arrays, one per pose); a pair touching in any of them is dropped.
    """
    rep = _rigid_groups(bodies)
    # Parents in the welded tree: a group's parent is the group of its representative's parent.
    parents = [(-1 if i == 0 else rep[bodies[i].parent]) for i in range(len(bodies))]
    pairs = []
    n = len(capsule_body)
    for i in range(n):
        for j in range(i + 1, n):
            bi, bj = capsule_body[i], capsule_body[j]
            gi, gj = rep[bi], rep[bj]
            if gi == gj or _tree_distance(gi, gj, parents) < min_tree_distance:
                continue
            if frozenset((bodies[bi].name, bodies[bj].name)) in excluded:
                continue
            touching = any(
                segment_distance(p0[i], p1[i], p0[j], p1[j]) <= radius[i] + radius[j]
                for p0, p1 in zip(world_p0, world_p1)
            )
            if not touching:
                pairs.append((i, j))
    return np.asarray(pairs, dtype=np.int32).reshape(-1, 2)
