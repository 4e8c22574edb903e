"""Arms of a robot's topology: the chain from an arm's root to its wrist, and the shoulder,
elbow, wrist and hand keypoints placed along it."""

from __future__ import annotations

import numpy as np

from ._topology_tree import (
    _axis_world,
    _is_axis,
    _moving_between,
    _offset,
    _Tree,
    _world_points,
)

__all__ = ["_arm_chain", "_place_arm"]


def _arm_chain(tree: _Tree, moving: list[bool], poss: np.ndarray, root: int) -> list[int]:
    """Arm root to its wrist: down the moving bodies, stopping where fingers branch."""
    chain = [root]
    while True:
        kids = [c for c in tree.children[chain[-1]] if any(moving[n] for n in tree.subtree(c))]
        if len(kids) != 1:
            return chain
        chain.append(kids[0])


def _place_arm(desc, tree, rots, poss, moving, chain, side, height, found) -> None:
    bodies = desc.bodies
    mov = [n for n in chain if moving[n]]
    first = mov[0]
    elbow = None
    for n in mov[1:]:
        d = poss[n] - poss[first]
        dist = float(np.linalg.norm(d))
        axis = _axis_world(desc, rots, n)
        if dist >= 0.08 * height and axis is not None and abs(axis @ d) < 0.5 * dist:
            elbow = n
            break
    if elbow is None:
        elbow = mov[-1] if len(mov) > 1 else None
    before = mov[: mov.index(elbow)] if elbow is not None else mov
    shoulder = next((n for n in before if _is_axis(desc, rots, n, 0)), before[0])
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
    if after:
        wrist = after[-1]
        hand = poss[wrist] + 0.4 * (poss[wrist] - poss[elbow])
        found[f"{side}_wrist"] = (bodies[wrist].name, np.zeros(3))
        found[f"{side}_hand"] = (bodies[wrist].name, _offset(rots, poss, wrist, hand))
        return
    # No wrist joint: the far end of the forearm's shapes (or a forearm as long as the arm).
    welded = [
        n for n in tree.subtree(elbow) if n == elbow or not _moving_between(desc, tree, elbow, n)
    ]
    pts = np.concatenate([_world_points(desc, rots, poss, n) for n in welded])
    dist = np.linalg.norm(pts - poss[elbow], axis=1)
    tip = pts[int(np.argmax(dist))]
    if dist.max() < 0.3 * upper_len:
        tip = poss[elbow] + upper
    wrist_point = poss[elbow] + 0.85 * (tip - poss[elbow])
    found[f"{side}_wrist"] = (bodies[elbow].name, _offset(rots, poss, elbow, wrist_point))
    found[f"{side}_hand"] = (bodies[elbow].name, _offset(rots, poss, elbow, tip))
