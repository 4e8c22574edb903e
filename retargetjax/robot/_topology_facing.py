"""Which way a robot faces in its own root frame, from its feet (or its knees, or its names).

MJCF and URDF files usually put x forward, but not all do (iCub's ``root_link`` has x
pointing backwards). The topology therefore reads the facing off the legs in the file pose:

* the **side axis** is the horizontal direction from one leg to the other (the mean of each
  leg chain's body origins); forward is perpendicular to it, ``f0 = side × up`` up to sign;
* the **sign** comes from the feet: a foot's sole reaches farther forward of the ankle (the
  toes) than behind it (the heel). For each leg the ankle is the first moving body within
  15 % of the leg's drop above its lowest moving body; the cue is the centre of the collision
  shapes hanging from the ankle below it (else of its welded frames and sites: a sole frame,
  skin taxels), relative to the ankle, averaged over both feet.

When the feet say nothing (mesh-only feet: no shapes, no frames below the ankles, or a sole
centred under the ankle), the **knees** decide: a knee is the hinge on a leg whose axis runs
along the side axis, in the middle half of the leg's drop, with limits that bend it much
farther one way (``s = sign`` of the larger of ``|lower|``, ``|upper|``); bending it by
``s·ε`` moves the foot by ``s·ε a × (p_foot − p_knee)``, which is backwards (a knee bends the
shin back). The knees' votes cancel when their limits are mirrored about one world axis (Poppy
Humanoid's URDF: both knees turn about −x, one bends to +y, the other to −y).

When neither the feet nor the knees decide, the **names** do: bodies whose name (or joint's
name) says left or right (:mod:`._names`) and that stand at least 1 cm off the legs' midline
vote for the forward that puts left-named bodies on its left and right-named ones on its
right; a share of at least 80 % of the votes (two at least) decides. Else, of the two
candidates, the one nearer the file's +x is kept.

"Root frame" here is the root turned by its own file orientation (see :mod:`._topology_tree`).

The yaw of the detected forward is snapped to the nearest multiple of 90° when within 15° of
one (files are drawn along their axes).
"""

from __future__ import annotations

import numpy as np

from ._collision import geom_capsules
from ._description import RobotDescription
from ._names import body_sides
from ._topology_tree import _Tree

__all__ = ["robot_facing", "turn_about_z"]

#: A sole whose centre lies less than this far (m) ahead of or behind its ankle says nothing.
_MIN_CUE_M = 0.005
#: A detected yaw within this angle of a multiple of 90° is snapped onto it.
_SNAP_RAD = np.radians(15.0)


def turn_about_z(yaw: float) -> np.ndarray:
    """The rotation (3, 3) by ``yaw`` (rad) about +z."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _sole_cue(desc, tree: _Tree, moving, rots, poss, chain: list[int]) -> np.ndarray | None:
    """Horizontal offset (2,) of one foot's sole centre from its ankle, or ``None``."""
    mov = [n for n in chain if moving[n]]
    if len(mov) < 2:
        return None
    drop = poss[mov[0]][2] - poss[mov[-1]][2]
    ankle = next(n for n in mov if poss[n][2] <= poss[mov[-1]][2] + 0.15 * drop)
    below = tree.subtree(ankle)
    shapes, frames = [], []
    for n in below:
        for g in desc.bodies[n].geoms:
            for p0, p1, _r in geom_capsules(g):
                shapes += [poss[n] + rots[n] @ p0, poss[n] + rots[n] @ p1]
        frames += [poss[n] + rots[n] @ s for s in desc.bodies[n].sites.values()]
        if n != ankle:
            frames.append(poss[n])
    for pts in (shapes, frames):
        low = [p for p in pts if p[2] < poss[ankle][2] - 0.01]
        if low:
            cue = np.mean(low, axis=0)[:2] - poss[ankle][:2]
            if np.linalg.norm(cue) >= _MIN_CUE_M:
                return cue
    # Mesh-only feet say nothing: their links' centres of mass are no cue (TALOS's lie
    # behind its ankles).
    return None


#: A knee's limits must bend it this many times farther one way than the other.
_KNEE_ASYMMETRY = 3.0


def _knee_cue(desc, moving, rots, poss, chain: list[int], f0: np.ndarray) -> float | None:
    """Forward along ``f0`` (+1) or against it (−1) from one leg's knee, or ``None``."""
    mov = [n for n in chain if moving[n]]
    if len(mov) < 3:
        return None
    top, low = poss[mov[0]][2], poss[mov[-1]][2]
    drop = top - low
    side = np.array([-f0[1], f0[0], 0.0])
    for n in mov:
        for joint in desc.bodies[n].joints:
            if joint.kind != "hinge" or not np.isfinite([joint.lower, joint.upper]).all():
                continue
            where = poss[n] + rots[n] @ joint.anchor
            if not (low + 0.25 * drop <= where[2] <= top - 0.25 * drop):
                continue
            axis = rots[n] @ joint.axis
            if abs(axis @ side) < 0.9:
                continue
            far, near = (
                max(abs(joint.lower), abs(joint.upper)),
                min(abs(joint.lower), abs(joint.upper)),
            )
            if far < _KNEE_ASYMMETRY * near + 0.1:
                continue
            bend = 1.0 if abs(joint.upper) > abs(joint.lower) else -1.0
            backward = bend * np.cross(axis, poss[mov[-1]] - where)[:2]
            along = float(backward @ f0)
            if abs(along) > 1e-6:
                return -float(np.sign(along))
    return None


#: Bodies closer than this (m) to the legs' midline say nothing about their side.
_NAME_MIN_OFF_M = 0.01
#: The share of side-named bodies that must agree for the names to decide the facing.
_NAME_MAJORITY = 0.8


def _name_cue(desc, poss, middle: np.ndarray, f0: np.ndarray) -> float | None:
    """+1 when the side-named bodies put left on ``f0``'s left, −1 when on its right."""
    left_of_f0 = np.array([-f0[1], f0[0]])
    agree = disagree = 0
    for i, side in enumerate(body_sides(desc)):
        off = float((poss[i][:2] - middle) @ left_of_f0)
        if side is None or abs(off) < _NAME_MIN_OFF_M:
            continue
        if (off > 0) == (side == "left"):
            agree += 1
        else:
            disagree += 1
    total = agree + disagree
    if total >= 2 and agree >= _NAME_MAJORITY * total:
        return 1.0
    if total >= 2 and disagree >= _NAME_MAJORITY * total:
        return -1.0
    return None


def robot_facing(
    desc: RobotDescription,
    tree: _Tree,
    moving: list[bool],
    rots: np.ndarray,
    poss: np.ndarray,
    leg_roots: list[int],
) -> float:
    """Yaw (rad) of the robot's forward in its root frame: 0 for +x, π for −x.

    ``leg_roots`` are the two legs' first bodies below the pelvis, in either order. See the
    module docstring for the rule.
    """
    leg_chains = []
    for root in leg_roots:
        sub = [n for n in tree.subtree(root) if moving[n]] or [root]
        lowest = min(sub, key=lambda n: (round(poss[n][2], 3), -len(tree.ancestors(n))))
        leg_chains.append(tree.path(root, lowest))
    mid = [np.mean([poss[n][:2] for n in ch], axis=0) for ch in leg_chains]
    side = mid[0] - mid[1]
    if np.linalg.norm(side) < 1e-6:
        return 0.0
    side /= np.linalg.norm(side)
    f0 = np.array([side[1], -side[0]])  # side × up, forward or backward
    cues = [_sole_cue(desc, tree, moving, rots, poss, ch) for ch in leg_chains]
    told = [float(c @ f0) for c in cues if c is not None]
    signal = float(np.mean(told)) if told else 0.0
    if abs(signal) < _MIN_CUE_M:
        knees = [_knee_cue(desc, moving, rots, poss, ch, f0) for ch in leg_chains]
        vote = sum(k for k in knees if k is not None)
        names = None if vote else _name_cue(desc, poss, 0.5 * (mid[0] + mid[1]), f0)
        if vote:
            forward = f0 if vote > 0 else -f0
        elif names is not None:
            forward = f0 if names > 0 else -f0
        else:  # nothing says: of the two, keep the one nearer the file's +x
            forward = f0 if f0[0] >= 0 else -f0
    else:
        forward = f0 if signal > 0 else -f0
    yaw = float(np.arctan2(forward[1], forward[0]))
    snapped = float(np.round(yaw / (0.5 * np.pi)) * 0.5 * np.pi)
    if abs(yaw - snapped) < _SNAP_RAD:
        yaw = snapped
    if abs(yaw) < 1e-9:
        return 0.0
    return yaw
