"""Arms of a robot's topology: the chain from an arm's root to its wrist, and the shoulder,
elbow, wrist and hand keypoints placed along it."""

from __future__ import annotations

import numpy as np

from ._topology_tree import (
    _axis_world,
    _moving_between,
    _offset,
    _Tree,
    _world_points,
)

__all__ = ["_arm_chain", "_place_arm", "_welded_shoulders"]


def _arm_chain(tree: _Tree, moving: list[bool], poss: np.ndarray, root: int) -> list[int]:
    """Arm root to its wrist: down the moving bodies, stopping where fingers branch."""
    chain = [root]
    while True:
        kids = [c for c in tree.children[chain[-1]] if any(moving[n] for n in tree.subtree(c))]
        if len(kids) != 1:
            return chain
        chain.append(kids[0])


#: Joint centres closer than this (m) are one point (an elbow's twist and bend, say).
_SAME_CENTRE = 0.01
#: The elbow's share of the way from the shoulder to the arm's tip: a human upper arm is
#: about 40-55 % of shoulder to wrist, less to the fingertips; a clavicle or an upper-arm
#: twist link a few cm from the shoulder falls well short of it.
_UPPER_ARM_SHARE = (0.25, 0.8)


def _arm_tip(desc, tree, rots, poss, chain: list[int], start: np.ndarray) -> np.ndarray:
    """The point of the arm (hand and fingers included) farthest from ``start``."""
    pts = np.concatenate(
        [_world_points(desc, rots, poss, n) for n in tree.subtree(chain[0])], axis=0
    )
    return pts[int(np.argmax(np.linalg.norm(pts - start, axis=1)))]


def _across(desc, rots, n: int, direction: np.ndarray) -> bool:
    """Whether body ``n``'s joint axis is across ``direction`` (a bend, not a twist)."""
    axis = _axis_world(desc, rots, n)
    length = float(np.linalg.norm(direction))
    return axis is not None and length > 1e-9 and abs(axis @ direction) < 0.5 * length


def _shoulder_for(desc, rots, poss, before: list[int], elbow: int, swing: bool = False):
    """The shoulder for an elbow: going back up the arm from the elbow, the first joint that
    is neither at the elbow's centre nor a twist of the upper arm (axis along it), so an
    upper-arm twist link below the shoulder and a clavicle link inboard of it are passed.
    When there is none, the arm's first joint, or ``None`` with ``swing`` (nothing up the arm
    swings the upper arm to that elbow: it is no elbow)."""
    for n in reversed(before):
        upper = poss[elbow] - poss[n]
        if np.linalg.norm(upper) > _SAME_CENTRE and _across(desc, rots, n, upper):
            return n
    return None if swing else before[0]


def _place_arm(desc, tree, rots, poss, moving, chain, side, height, found) -> None:
    """Shoulder, elbow, wrist and hand of one arm, whatever its rest pose (hanging, sideways
    or forward): the elbow is the first joint whose axis is across the upper arm (shoulder
    to elbow) at least 8 % of the height and a quarter of the arm's reach from the shoulder;
    the shoulder is found back up the arm from it (:func:`_shoulder_for`). A joint that no
    joint up the arm swings (every one's axis runs along the segment to it, as Atlas's
    shoulder yaw on its long, near-vertical clavicle does for the shoulder roll below it) is
    an elbow only when no joint further down is one."""
    bodies = desc.bodies
    mov = [n for n in chain if moving[n]]
    tip = _arm_tip(desc, tree, rots, poss, chain, poss[mov[0]])
    elbow = shoulder = None
    for swing in (True, False):
        for k in range(1, len(mov)):
            n = mov[k]
            s = _shoulder_for(desc, rots, poss, mov[:k], n, swing)
            if s is None:
                continue
            upper = float(np.linalg.norm(poss[n] - poss[s]))
            share = upper / max(upper + float(np.linalg.norm(tip - poss[n])), 1e-9)
            lo, hi = _UPPER_ARM_SHARE
            if (
                upper >= 0.08 * height
                and lo <= share <= hi
                and _across(desc, rots, n, poss[n] - poss[s])
            ):
                elbow, shoulder = n, s
                break
        if elbow is not None:
            break
    if elbow is None and len(mov) > 1:
        elbow = mov[-1]
        shoulder = _shoulder_for(desc, rots, poss, mov[:-1], elbow)
    if shoulder is None:
        shoulder = mov[0]
    found[f"{side}_shoulder"] = (bodies[shoulder].name, np.zeros(3))
    if elbow is None:
        return
    found[f"{side}_elbow"] = (bodies[elbow].name, np.zeros(3))
    upper = poss[elbow] - poss[shoulder]
    upper_len = max(float(np.linalg.norm(upper)), 1e-6)
    after = [
        n
        for n in mov[mov.index(elbow) + 1 :]
        if np.linalg.norm(poss[n] - poss[elbow]) > 0.3 * upper_len
        and any(j.kind == "hinge" for j in bodies[n].joints)  # a gripper's slide is no wrist
    ]
    hinges = [
        n for n in mov[mov.index(elbow) + 1 :] if any(j.kind == "hinge" for j in bodies[n].joints)
    ]
    twist = hinges[-1] if hinges else None
    if twist is not None and not _forearm_twist(desc, tree, rots, poss, elbow, twist, upper_len):
        twist = None
    if after and twist is None:
        wrist = after[-1]
        hand = poss[wrist] + 0.4 * (poss[wrist] - poss[elbow])
        found[f"{side}_wrist"] = (bodies[wrist].name, np.zeros(3))
        found[f"{side}_hand"] = (bodies[wrist].name, _offset(rots, poss, wrist, hand))
        return
    # No wrist joint (or only a forearm twist near the elbow): the far end of the forearm's
    # shapes (or a forearm as long as the upper arm), on the forearm's last body.
    last = elbow if twist is None else twist
    tip = _forearm_tip(desc, tree, rots, poss, last, poss[elbow])
    if np.linalg.norm(tip - poss[elbow]) < 0.3 * upper_len:
        tip = poss[elbow] + upper
    wrist_point = poss[elbow] + 0.85 * (tip - poss[elbow])
    found[f"{side}_wrist"] = (bodies[last].name, _offset(rots, poss, last, wrist_point))
    found[f"{side}_hand"] = (bodies[last].name, _offset(rots, poss, last, tip))


def _forearm_tip(desc, tree, rots, poss, body: int, elbow: np.ndarray) -> np.ndarray:
    """The end of the forearm's shapes: the point of ``body`` and the bodies welded below it
    farthest from the ``elbow`` (world point)."""
    welded = [
        n for n in tree.subtree(body) if n == body or not _moving_between(desc, tree, body, n)
    ]
    pts = np.concatenate([_world_points(desc, rots, poss, n) for n in welded])
    return pts[int(np.argmax(np.linalg.norm(pts - elbow, axis=1)))]


def _forearm_twist(desc, tree, rots, poss, elbow: int, wrist: int, upper_len: float) -> bool:
    """Whether the wrist candidate ``wrist`` is a forearm twist near the elbow (PND Adam
    Lite's ``wristYaw``, 8 cm below the elbow on a 26 cm upper arm): the last joint of the
    arm, under 0.6 upper arms from the elbow, turning about the forearm, with its own shapes
    reaching at least 0.3 upper arms further down. The wrist is then at the forearm's end."""
    if any(desc.bodies[n].joints for n in tree.subtree(wrist) if n != wrist):
        return False
    near = float(np.linalg.norm(poss[wrist] - poss[elbow]))
    if near >= 0.6 * upper_len:
        return False
    tip = _forearm_tip(desc, tree, rots, poss, wrist, poss[elbow])
    forearm = tip - poss[elbow]
    reach = float(np.linalg.norm(forearm))
    return reach >= near + 0.3 * upper_len and not _across(desc, rots, wrist, forearm)


def _welded_shoulders(desc, tree, rots, poss, upper_body, in_legs, side_limit, height, z_min):
    """Shoulders of arms welded to the trunk (no joints, as in a legs-only training model):
    the first body off the midline on each of the two chains reaching farthest sideways,
    when both leave one trunk body above the legs and each spans 20 % of the height.
    Returns ``(trunk, {side: shoulder}, arm roots)`` or ``None``."""
    left = [i for i in upper_body if poss[i][1] > side_limit]
    right = [i for i in upper_body if poss[i][1] < -side_limit]
    if not left or not right:
        return None
    ls = max(left, key=lambda i: poss[i][1])
    rs = min(right, key=lambda i: poss[i][1])
    branch = tree.lca([ls, rs])
    if branch in in_legs or poss[ls][2] <= z_min + 0.3 * height:
        return None
    shoulders, roots = {}, []
    for side, seed in (("left", ls), ("right", rs)):
        path = tree.path(branch, seed)
        pts = np.concatenate([_world_points(desc, rots, poss, n) for n in tree.subtree(path[1])])
        if float(np.ptp(pts, axis=0).max()) < 0.2 * height:
            return None
        shoulders[side] = next(n for n in path[1:] if abs(poss[n][1]) > side_limit)
        roots.append(path[1])
    return branch, shoulders, roots
