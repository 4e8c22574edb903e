"""The robot's kinematic tree in its file pose, as the topology reads it: world poses of the
bodies at rest, their points (origin, sites, collision-shape ends), the tree's ancestors,
subtrees and paths, joint axes in the world, and offsets in a body's frame.

The rest pose puts the root body at the origin, turned by its own file orientation (MJCF
``quat``/``euler``/``axisangle``/``xyaxes``/``zaxis`` of the root body, a URDF's joint from
a bare ``world`` link): dm_control's CMU humanoid is drawn y-up and its root's
``euler="90 0 0"`` stands it up. That orientation is also the model's standing root
orientation (``RobotModel.default_root_quat``)."""

from __future__ import annotations

import numpy as np

from ._collision import geom_capsules
from ._description import RobotDescription

__all__ = ["Placement", "rest_body_poses"]


#: A keypoint's placement: ``(body name, offset (3,) in that body's frame, m)``.
Placement = tuple[str, np.ndarray]


def rest_body_poses(desc: RobotDescription) -> tuple[np.ndarray, np.ndarray]:
    """World rotations (B, 3, 3) and positions (B, 3) of every body in the file pose.

    The root sits at the origin with its file orientation (see the module docstring).
    """
    rots, poss = [], []
    for body in desc.bodies:
        if body.parent < 0:
            rots.append(np.asarray(body.rot, np.float64))
            poss.append(np.zeros(3))
        else:
            R, t = rots[body.parent], poss[body.parent]
            rots.append(R @ body.rot)
            poss.append(t + R @ body.pos)
    return np.array(rots), np.array(poss)


def _world_points(desc: RobotDescription, rots: np.ndarray, poss: np.ndarray, i: int) -> np.ndarray:
    """Body origin, sites and collision-shape end points of body ``i`` (world, m)."""
    body = desc.bodies[i]
    pts = [poss[i]]
    pts += [poss[i] + rots[i] @ s for s in body.sites.values()]
    for g in body.geoms:
        for p0, p1, _r in geom_capsules(g):
            pts += [poss[i] + rots[i] @ p0, poss[i] + rots[i] @ p1]
    return np.array(pts)


def _lowest(desc: RobotDescription, rots: np.ndarray, poss: np.ndarray, i: int) -> float:
    """Lowest z of body ``i``'s origin, sites and collision shapes (with their radii)."""
    body = desc.bodies[i]
    z = [poss[i][2]] + [(poss[i] + rots[i] @ s)[2] for s in body.sites.values()]
    for g in body.geoms:
        for p0, p1, r in geom_capsules(g):
            z += [(poss[i] + rots[i] @ p)[2] - r for p in (p0, p1)]
    return float(min(z))


class _Tree:
    def __init__(self, parents: list[int]) -> None:
        self.parents = parents
        self.children: list[list[int]] = [[] for _ in parents]
        for i, p in enumerate(parents):
            if p >= 0:
                self.children[p].append(i)

    def ancestors(self, i: int) -> list[int]:
        """``i`` and its ancestors, ``i`` first."""
        out = [i]
        while self.parents[out[-1]] >= 0:
            out.append(self.parents[out[-1]])
        return out

    def lca(self, nodes: list[int]) -> int:
        common = self.ancestors(nodes[0])[::-1]
        for n in nodes[1:]:
            anc = self.ancestors(n)[::-1]
            k = 0
            while k < min(len(common), len(anc)) and common[k] == anc[k]:
                k += 1
            common = common[:k]
        return common[-1]

    def subtree(self, i: int) -> list[int]:
        out, stack = [], [i]
        while stack:
            n = stack.pop()
            out.append(n)
            stack.extend(self.children[n])
        return sorted(out)

    def path(self, top: int, bottom: int) -> list[int]:
        """Nodes from ``top`` down to ``bottom`` (``top`` must be an ancestor)."""
        anc = self.ancestors(bottom)
        return anc[: anc.index(top) + 1][::-1]


def _axis_world(desc: RobotDescription, rots: np.ndarray, i: int) -> np.ndarray | None:
    joints = desc.bodies[i].joints
    if not joints:
        return None
    return rots[i] @ joints[0].axis


def _offset(rots: np.ndarray, poss: np.ndarray, body: int, point: np.ndarray) -> np.ndarray:
    """``point`` (world) in the frame of ``body``."""
    return rots[body].T @ (np.asarray(point) - poss[body])


def _moving_ancestor(desc: RobotDescription, tree: _Tree, i: int) -> int:
    """``i`` or its nearest ancestor that a joint moves (the root when none)."""
    for a in tree.ancestors(i):
        if desc.bodies[a].joints or desc.bodies[a].parent < 0:
            return a
    return 0


def _world(placement: Placement, rots, poss, bodies) -> np.ndarray:
    names = [b.name for b in bodies]
    i = names.index(placement[0])
    return poss[i] + rots[i] @ placement[1]


def _is_axis(desc: RobotDescription, rots: np.ndarray, i: int, axis: int) -> bool:
    a = _axis_world(desc, rots, i)
    return a is not None and abs(a[axis]) > 0.7


def _moving_between(desc: RobotDescription, tree: _Tree, top: int, n: int) -> bool:
    return any(desc.bodies[a].joints for a in tree.path(top, n)[1:])
