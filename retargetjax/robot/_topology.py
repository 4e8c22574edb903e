"""Canonical keypoints of a robot from its kinematic tree and rest pose, not from its names.

The robot is read in its file pose (all joints at zero) in its own frame (its root turned by
the root body's own orientation in the file, see :mod:`._topology_tree`), which MJCF and
URDF both take as x forward, y left, z up (a tree that lies flat is refused with a hint); a
robot whose feet point elsewhere (iCub's root frame has x backwards) is first turned about z
so that they point along x (see :mod:`._topology_facing`), and left is then +y. Then:

* **legs**: the lowest bodies (within 15 % of the robot's height above its lowest point) hang
  below one body, the lowest common ancestor, which is the *pelvis*; two of its child
  subtrees hold them, the legs. The foot (and the ankle keypoint) is the last moving body
  of each leg going down (a toe link ahead of it is not the foot), or a foot welded a
  shin's length below the knee when nothing moves below it (the classic MuJoCo humanoid's
  two-link legs, see :func:`._topology_legs._welded_foot`); the knee the moving body
  nearest half way between the top of the leg and the foot; the hip the moving body above
  the knee whose axis is a roll (along x), else the first. The leg with the larger y is the
  left one, whatever the names say.
* **arms**: the moving bodies outside the legs that reach farthest to +y and to −y; their
  lowest common ancestor is the upper trunk, which carries the *torso* keypoint (a chest
  point on the vertical through the shoulders, two thirds of the way up from the pelvis).
  Along each arm, whatever its rest pose (hanging, sideways or forward): the elbow is the
  first joint whose axis is across the upper arm (a twist joint's axis runs along it), at
  least 8 % of the height and a quarter of the arm's reach down it from the shoulder; the
  shoulder is the first joint back up from the elbow that is neither at the elbow's centre
  nor an upper-arm twist (so a clavicle link inboard of it is passed), and a joint with no
  such shoulder (one below a clavicle yaw, as on Atlas) is passed when a later joint is an
  elbow; the wrist the last moving body before the fingers branch, with the hand 0.4
  forearm lengths beyond it. An arm without a wrist joint takes its wrist and hand from the
  far end of the forearm's collision shapes. Arms welded to the trunk (a model where only
  the legs move, the legs hanging from a waist under the chest) give only their shoulders,
  the first body off the midline, which place the chest on the arms' branch body and the
  head.
* **head**: the highest point (body origin, site or collision shape) on the upper trunk
  outside the arms, when it stands clearly above the shoulders (cameras and lidars on the
  head count; a head collision sphere is best). A head made of meshes only is placed where a
  human's proportions put it: 0.6 pelvis-to-shoulder heights above the shoulders.

A robot without arms or head simply lacks those keypoints; extra chains (grippers,
sensors, cameras, IMU frames) are never legs or arms since they neither reach the floor
nor stick out sideways on both sides. :func:`infer_robot_keypoints` raises a
:class:`RobotFileError` when no two leg chains exist. A leg is a chain of at least three
moving links (hip, knee, ankle; a welded foot counts as the ankle) whose first one stands
at least a quarter of the robot's height above its lowest one; chains to the floor that are
not legs (an assembly's placeholder links, gears, a wheeled base's steering) are ignored.
Chains that hang from a body which a spine joint lifts above the rest of the trunk are an
upper body's arms, not legs (the robot is refused), and :func:`check_legs` applies the same
tests to feet found by names or a keypoints YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _topology_facing, _topology_legs
from ._description import RobotDescription, RobotFileError
from ._topology_arms import _arm_chain, _place_arm, _welded_shoulders
from ._topology_legs import (
    _LEG_MIN_DROP,
    _LEG_MIN_LINKS,
    _is_leg,
    _leg_shape,
    _sole_points,
    _up_hint,
)
from ._topology_tree import (
    Placement,
    _is_axis,
    _lowest,
    _moving_ancestor,
    _offset,
    _Tree,
    _world,
    _world_points,
    rest_body_poses,
)

__all__ = ["RobotTopology", "infer_robot_keypoints", "proportion_warnings"]


@dataclass
class RobotTopology:
    """What :func:`infer_robot_keypoints` found."""

    #: Canonical keypoint → (body name, offset in the body frame, m).
    keypoints: dict[str, Placement]
    #: (left, right) foot body names.
    feet: tuple[str, str]
    #: (2, 4, 3) sole points in each foot frame (toe +y, toe −y, heel +y, heel −y), or
    #: ``None`` to let the model builder take them from the foot's collision shapes.
    sole_points: np.ndarray | None = None
    #: Named chains (body indices, root first): ``left_leg``, ``right_leg``, ``left_arm``…
    chains: dict[str, list[int]] = field(default_factory=dict)
    #: Index of the pelvis body.
    pelvis: int = 0
    #: Yaw (rad) of the robot's forward in its root frame: 0 when it faces +x, π for −x.
    facing: float = 0.0


def infer_robot_keypoints(desc: RobotDescription) -> RobotTopology:
    """Canonical keypoints, feet and chains of ``desc`` from its tree and rest pose.

    See the module docstring for the rules. Raises:
        RobotFileError: the tree has no two leg chains (one line naming the file and what
            was expected).
    """
    bodies = desc.bodies
    B = len(bodies)
    rots, poss = rest_body_poses(desc)
    tree = _Tree([b.parent for b in bodies])
    moving = [bool(b.joints) and b.parent >= 0 for b in bodies]
    low_z = np.array([_lowest(desc, rots, poss, i) for i in range(B)])
    z_min, z_max = float(low_z.min()), float(poss[:, 2].max())
    height = max(z_max - z_min, 1e-6)
    where = str(desc.path)
    if B < 5:
        raise RobotFileError(
            f"{where}: {B} bodies; expected a humanoid tree (a pelvis with two legs)"
        )

    low = [i for i in range(B) if low_z[i] < z_min + 0.15 * height and i > 0]
    if not low:
        raise RobotFileError(
            f"{where}: no body hangs below the root; expected two leg chains{_up_hint(poss)}"
        )
    pelvis = tree.lca(low)
    legs = [c for c in tree.children[pelvis] if set(tree.subtree(c)) & set(low)]
    if len(legs) >= 2:
        # Chains to the floor that are no legs (an assembly's placeholder links, gears, a
        # stand) are dropped; when fewer than two legs remain, say what the chains lack.
        shapes = {c: _leg_shape(desc, tree, moving, rots, poss, c) for c in legs}
        real = [c for c in legs if _is_leg(shapes[c], height)]
        if len(real) < 2:
            found_legs = "; ".join(
                f"{bodies[c].name}: {n} moving link{'s' if n != 1 else ''} reaching "
                f"{100 * drop:.0f} cm down"
                for c in legs[:6]
                for n, drop in [shapes[c]]
            )
            raise RobotFileError(
                f"{where}: the chains going down from body {bodies[pelvis].name!r} are not "
                f"legs ({found_legs}); expected two legs, each a chain of at least "
                f"{_LEG_MIN_LINKS} moving links (hip, knee, ankle) reaching at least "
                f"{100 * _LEG_MIN_DROP * height:.0f} cm down ({_LEG_MIN_DROP:.0%} of the "
                f"robot's height){_up_hint(poss)}"
            )
        legs = real
    if len(legs) < 2:
        raise RobotFileError(
            f"{where}: the lowest bodies ({', '.join(bodies[i].name for i in low[:6])}) hang "
            "from one chain; expected two leg chains going down from one body (a humanoid)"
            f"{_up_hint(poss)}"
        )
    if len(legs) > 2:
        raise RobotFileError(
            f"{where}: {len(legs)} chains reach the floor from body {bodies[pelvis].name!r} "
            f"({', '.join(bodies[c].name for c in legs[:6])}); expected a biped: two leg "
            f"chains (a quadruped or a wheeled base is not a humanoid){_up_hint(poss)}"
        )

    below = _topology_legs._trunk_below(desc, tree, moving, poss, pelvis, height)
    if below is not None:  # an upper body's hanging arms (IHMC Alex), not legs
        raise _topology_legs._trunk_error(where, desc, poss, pelvis, below)
    # The rules below read the robot with x forward: turn a robot facing elsewhere onto it
    # (offsets in body frames do not change).
    facing = _topology_facing.robot_facing(desc, tree, moving, rots, poss, legs)
    if facing:
        turn = _topology_facing.turn_about_z(-facing)
        rots, poss = turn @ rots, poss @ turn.T
    feet, leg_chains = [], []
    for root in legs:
        sub = [n for n in tree.subtree(root) if moving[n]] or [root]
        lowest = min(sub, key=lambda n: (round(poss[n][2], 3), -len(tree.ancestors(n))))
        chain = tree.path(root, lowest)
        # The foot (ankle) is where the leg stops going down: a toe link ahead of it is not.
        # A toe lies well forward (+x) of the ankle, level with it, and bends about a pitch
        # axis; an ankle-roll link a few cm beside or ahead of the ankle pitch is the foot.
        mov = [n for n in chain if moving[n]] or [chain[-1]]
        welded = _topology_legs._welded_foot(desc, tree, moving, rots, poss, mov)
        foot = mov[-1] if welded is None else welded
        for k in range(2, len(mov)):
            later = [(mov[m - 1], mov[m]) for m in range(k + 1, len(mov))]
            reach = poss[mov[-1]] - poss[mov[k]]
            leg_length = poss[mov[0]][2] - poss[mov[k]][2]
            if (
                later
                and all(
                    abs(poss[b][2] - poss[a][2]) < np.linalg.norm((poss[b] - poss[a])[:2])
                    for a, b in later
                )
                and reach[0] > max(abs(reach[1]), 0.1 * leg_length)
                and not any(_is_axis(desc, rots, b, 0) for _a, b in later)
            ):
                foot = mov[k]
                break
        feet.append(foot)
        leg_chains.append(tree.path(root, foot))
    # Left is +y in the robot's frame.
    y_leg = [np.mean([poss[n][1] for n in ch]) for ch in leg_chains]
    if y_leg[0] < y_leg[1]:
        feet.reverse()
        leg_chains.reverse()
        legs.reverse()

    found: dict[str, Placement] = {"pelvis": (bodies[pelvis].name, np.zeros(3))}
    chains: dict[str, list[int]] = {}
    for side, chain, foot in zip(("left", "right"), leg_chains, feet):
        chains[f"{side}_leg"] = chain
        mov = [n for n in chain if moving[n]] or [chain[0]]
        top_z, foot_z = poss[mov[0]][2], poss[foot][2]
        middle = [n for n in mov if n not in (mov[0], foot)]
        knee = None
        if middle:
            knee = min(middle, key=lambda n: abs(poss[n][2] - 0.5 * (top_z + foot_z)))
        upper = mov[: mov.index(knee)] if knee is not None else mov[:1]
        hip = next((n for n in upper if _is_axis(desc, rots, n, 0)), upper[0])
        found[f"{side}_hip"] = (bodies[hip].name, np.zeros(3))
        if knee is not None:
            found[f"{side}_knee"] = (bodies[knee].name, np.zeros(3))
        found[f"{side}_ankle"] = (bodies[foot].name, np.zeros(3))

    sole = _sole_points(desc, tree, rots, poss, feet)

    # --- arms, torso, head ---------------------------------------------------------------
    in_legs = {n for root in legs for n in tree.subtree(root)}
    upper_body = [i for i in range(B) if i not in in_legs]
    hip_half_width = 0.5 * abs(poss[leg_chains[0][0]][1] - poss[leg_chains[1][0]][1])
    side_limit = max(0.5 * hip_half_width, 0.03)
    pelvis_z = poss[pelvis][2]
    left_seed = [i for i in upper_body if moving[i] and poss[i][1] > side_limit]
    right_seed = [i for i in upper_body if moving[i] and poss[i][1] < -side_limit]
    arms: dict[str, list[int]] = {}
    trunk = None
    if left_seed and right_seed:
        ls = max(left_seed, key=lambda i: poss[i][1])
        rs = min(right_seed, key=lambda i: poss[i][1])
        branch = tree.lca([ls, rs])
        if branch not in in_legs and poss[ls][2] > z_min + 0.3 * height:
            trunk = branch
            for side, seed in (("left", ls), ("right", rs)):
                root = tree.path(branch, seed)[1]
                chain = _arm_chain(tree, moving, poss, root)
                if sum(moving[n] for n in chain) >= 2:
                    arms[side] = chain
            if len(arms) < 2:
                arms = {}
    shoulder_mid = None
    for side, chain in arms.items():
        chains[f"{side}_arm"] = chain
        _place_arm(desc, tree, rots, poss, moving, chain, side, height, found)
    arm_roots = [ch[0] for ch in arms.values()]
    welded = (
        None
        if arms
        else _welded_shoulders(
            desc, tree, rots, poss, upper_body, in_legs, side_limit, height, z_min
        )
    )
    if welded is not None:
        # Arms fixed to the trunk: their shoulders still place the chest and the head.
        trunk, shoulders, arm_roots = welded
        for side, n in shoulders.items():
            found[f"{side}_shoulder"] = (bodies[n].name, np.zeros(3))
    if arms or welded is not None:
        shoulder_mid = 0.5 * (
            _world(found["left_shoulder"], rots, poss, bodies)
            + _world(found["right_shoulder"], rots, poss, bodies)
        )
    if trunk is not None and shoulder_mid is not None:
        trunk_body = _moving_ancestor(desc, tree, trunk)
        chest = shoulder_mid.copy()
        chest[2] = pelvis_z + 2.0 / 3.0 * (shoulder_mid[2] - pelvis_z)
        found["torso"] = (bodies[trunk_body].name, _offset(rots, poss, trunk_body, chest))
        arm_nodes = {n for root in arm_roots for n in tree.subtree(root)}
        head_region = [n for n in tree.subtree(trunk) if n not in arm_nodes]
        points = [(p, n) for n in head_region for p in _world_points(desc, rots, poss, n)]
        top_z = max(p[2] for p, _ in points)
        if top_z > shoulder_mid[2] + 0.25 * (shoulder_mid[2] - pelvis_z):
            top = [(p, n) for p, n in points if p[2] > top_z - 0.03]
            head_point = np.mean([p for p, _ in top], axis=0)
            owner = max(top, key=lambda pn: pn[0][2])[1]
            head_body = _face_part_parent(desc, tree, _moving_ancestor(desc, tree, owner))
            found["head"] = (bodies[head_body].name, _offset(rots, poss, head_body, head_point))
            chains["head"] = tree.path(trunk, owner)
        elif any(g.kind == "mesh" for n in head_region for g in bodies[n].geoms):
            # A head we cannot see (mesh only, meshes are never opened): where a human's
            # proportions put it, above the shoulders on the upper trunk.
            head_point = shoulder_mid + np.array([0.0, 0.0, 0.6 * (shoulder_mid[2] - pelvis_z)])
            found["head"] = (bodies[trunk_body].name, _offset(rots, poss, trunk_body, head_point))
    elif upper_body:
        # No arms: the torso is the trunk two thirds of the way to its top.
        top = max(upper_body, key=lambda i: poss[i][2])
        if poss[top][2] > pelvis_z + 0.05 * height:
            target = pelvis_z + 2.0 / 3.0 * (poss[top][2] - pelvis_z)
            path = tree.path(pelvis, top) if pelvis in tree.ancestors(top) else [pelvis]
            below = [n for n in path if moving[n] and poss[n][2] <= target] or [pelvis]
            body = below[-1]
            point = poss[body].copy()
            point[2] = target
            found["torso"] = (bodies[body].name, _offset(rots, poss, body, point))
    return RobotTopology(
        keypoints=found,
        feet=(bodies[feet[0]].name, bodies[feet[1]].name),
        sole_points=sole,
        chains=chains,
        pelvis=pelvis,
        facing=facing,
    )


def proportion_warnings(
    desc: RobotDescription, keypoints: dict[str, Placement], tolerance: float = 0.3
) -> list[str]:
    """Keypoints far from where a human's proportions put them, one line each.

    With the pelvis ``P`` and the shoulders' middle ``S`` (rest pose), the chest is expected
    at ``S`` lowered to ``P_z + 2/3 (S_z − P_z)``, the neck ``0.2 (S_z − P_z)`` above ``S``
    and the head ``0.6 (S_z − P_z)`` above ``S``; a keypoint farther than ``tolerance (S_z −
    P_z)`` from its expected point is reported with its body and the distance.
    """
    rots, poss = rest_body_poses(desc)
    names = [b.name for b in desc.bodies]

    def world(key: str) -> np.ndarray | None:
        if key not in keypoints or keypoints[key][0] not in names:
            return None
        i = names.index(keypoints[key][0])
        return poss[i] + rots[i] @ np.asarray(keypoints[key][1], float)

    pelvis, ls, rs = world("pelvis"), world("left_shoulder"), world("right_shoulder")
    if pelvis is None or ls is None or rs is None:
        return []
    s = 0.5 * (ls + rs)
    trunk = s[2] - pelvis[2]
    if trunk <= 1e-3:
        return []
    up = np.array([0.0, 0.0, 1.0])
    expected = {
        "torso": np.array([s[0], s[1], pelvis[2] + 2.0 / 3.0 * trunk]),
        "neck": s + 0.2 * trunk * up,
        "head": s + 0.6 * trunk * up,
    }
    out = []
    for key, point in expected.items():
        actual = world(key)
        if actual is None:
            continue
        dist = float(np.linalg.norm(actual - point))
        if dist > tolerance * trunk:
            out.append(
                f"{key} on body {keypoints[key][0]!r} is {100 * dist:.0f} cm from where a "
                f"human's proportions put it (expected about {np.round(point, 2).tolist()} m "
                "in the rest pose); check it, or set it in a keypoints YAML"
            )
    return out


def _face_part_parent(desc, tree, body: int) -> int:
    """``body``, or the head it hangs from when it is a face part: a moving leaf beside at
    least one other (HRP-4C's eyebrow, eyelid, eye, cheek and mouth links on its neck). The
    head keypoint rides on the head, not on an eyebrow that could track it alone."""
    parent = tree.parents[body]
    if tree.children[body] or parent < 0:
        return body
    head = _moving_ancestor(desc, tree, parent)
    beside = [
        n
        for n in tree.subtree(head)
        if n != head
        and not tree.children[n]
        and desc.bodies[n].joints
        and _moving_ancestor(desc, tree, tree.parents[n]) == head
    ]
    return head if len(beside) >= 2 else body
