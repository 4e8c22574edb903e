"""Turn a parsed :class:`RobotDescription` into a jittable :class:`RobotModel`."""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
from scipy.spatial.transform import Rotation

from ..keypoints import CANONICAL_KEYPOINTS
from ._collision import bone_capsules, capsule_pairs, geom_capsules
from ._description import RobotDescription
from ._fk import NodeTables, local_transforms, sweep_levels
from ._model import RobotModel
from ._soles import (
    mesh_only_foot,
    sole_from_capsules,
    sole_from_inertia,
    sole_rails,
    welded_bodies,
)

__all__ = ["KeypointSpec", "build_model"]

#: A keypoint's placement: ``(body name, offset (3,) in that body's frame, m)``.
KeypointSpec = tuple[str, np.ndarray]


def _quat_wxyz(R: np.ndarray) -> np.ndarray:
    """Unit quaternion ``wxyz`` (4,) float64 of a rotation matrix, ``w ≥ 0``."""
    q = Rotation.from_matrix(R).as_quat()[[3, 0, 1, 2]]
    return q if q[0] >= 0 else -q


def _skew(k: np.ndarray) -> np.ndarray:
    return np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])


def build_model(
    desc: RobotDescription,
    keypoints: Mapping[str, KeypointSpec],
    feet: tuple[str, str],
    default_joint_pos: Mapping[str, float] | None = None,
    sole_points: np.ndarray | None = None,
    name: str | None = None,
    dtype: jnp.dtype = jnp.float32,
    facing: float = 0.0,
) -> RobotModel:
    """Assemble the model: FK node tables, limits, keypoints, feet, capsules, pairs, defaults.

    ``facing`` is the yaw (rad) of the robot's forward in its root frame (0 for +x, π for a
    robot whose toes point to −x): the soles' toe and heel are measured along it.
    """
    bodies = desc.bodies
    body_names = tuple(b.name for b in bodies)
    body_parents = tuple(b.parent for b in bodies)
    index_of = {n: i for i, n in enumerate(body_names)}

    # --- joints (actuated ones, then mimic followers resolved onto them) ---------------
    all_joints = [(bi, j) for bi, b in enumerate(bodies) for j in b.joints]
    actuated = [(bi, j) for bi, j in all_joints if j.mimic is None]
    joint_names = tuple(j.name for _, j in actuated)
    if len(set(joint_names)) != len(joint_names):
        dup = sorted({n for n in joint_names if joint_names.count(n) > 1})
        raise ValueError(f"{desc.path}: duplicate joint names {dup}")
    jindex = {n: i for i, n in enumerate(joint_names)}
    by_name = {j.name: j for _, j in all_joints}

    def resolve(joint, depth=0) -> tuple[int, float, float]:
        """(actuated index, scale, offset) with q_eff = scale · q[index] + offset."""
        if joint.mimic is None:
            return jindex[joint.name], 1.0, -joint.ref
        if depth > len(all_joints):
            raise ValueError(f"{desc.path}: mimic joints form a cycle at {joint.name!r}")
        src_name, mult, off = joint.mimic
        if src_name not in by_name:
            raise ValueError(f"{desc.path}: joint {joint.name!r} mimics unknown joint {src_name!r}")
        idx, s, o = resolve(by_name[src_name], depth + 1)
        return idx, mult * s, mult * o + off - joint.ref

    # --- FK nodes in creation order ------------------------------------------------------
    nodes: list[dict] = []
    body_last_node: list[int] = []
    n_act = len(joint_names)
    for bi, body in enumerate(bodies):
        parent_node = -1 if bi == 0 else body_last_node[body.parent]
        specs = body.joints if bi > 0 else []
        if not specs:
            specs = [None]
        for k, joint in enumerate(specs):
            # The root's file pose is only the free joint's initial value: FK overrides it.
            A = body.rot if (k == 0 and bi > 0) else np.eye(3)
            a = body.pos if (k == 0 and bi > 0) else np.zeros(3)
            zero3, zero33 = np.zeros(3), np.zeros((3, 3))
            node = {
                "id": len(nodes),
                "parent": parent_node,
                "A": A,
                "a": a,
                "S": zero33,
                "C": zero33,
                "s": zero3,
                "c": zero3,
                "l": zero3,
                "joint": n_act,
                "scale": 0.0,
                "offset": 0.0,
            }
            if joint is not None:
                idx, scale, offset = resolve(joint)
                node.update(joint=idx, scale=scale, offset=offset)
                K = _skew(joint.axis / np.linalg.norm(joint.axis))
                if joint.kind == "hinge":
                    S, C = A @ K, A @ K @ K
                    node.update(S=S, C=C, s=-S @ joint.anchor, c=-C @ joint.anchor)
                else:
                    node.update(l=A @ (joint.axis / np.linalg.norm(joint.axis)))
            nodes.append(node)
            parent_node = node["id"]
        body_last_node.append(parent_node)

    depth = []
    for node in nodes:
        depth.append(0 if node["parent"] < 0 else depth[node["parent"]] + 1)
    order = sorted(range(len(nodes)), key=lambda i: (depth[i], i))  # level order
    if depth[order[0]] != 0 or sum(d == 0 for d in depth) != 1:
        raise ValueError(f"{desc.path}: expected exactly one root body")
    new_id = {old: new for new, old in enumerate(order)}
    level_ranges, level_parents = [], []
    max_depth = max(depth)
    start = 1
    for d in range(1, max_depth + 1):
        members = [i for i in order if depth[i] == d]
        prev = [i for i in order if depth[i] == d - 1]
        prev_pos = {old: k for k, old in enumerate(prev)}
        level_ranges.append((start, start + len(members)))
        level_parents.append(tuple(prev_pos[nodes[i]["parent"]] for i in members))
        start += len(members)

    def stack(key):
        return np.stack([nodes[i][key] for i in order])

    # --- limits and defaults -------------------------------------------------------------
    lower = np.array([j.lower for _, j in actuated], dtype=np.float64)
    upper = np.array([j.upper for _, j in actuated], dtype=np.float64)
    velocity = np.array([j.velocity for _, j in actuated], dtype=np.float64)
    default_q = np.zeros(n_act)
    for jname, value in (default_joint_pos or {}).items():
        if jname not in jindex:
            raise KeyError(f"default pose names unknown joint {jname!r}; joints: {joint_names}")
        default_q[jindex[jname]] = value
    default_q = np.clip(default_q, lower, upper)

    # Load-time geometry (capsules, soles, rest pose) uses the FK sweep of
    # :func:`~retargetjax.robot._fk.sweep_levels` on the level-ordered tables, in float64.
    tables = NodeTables(
        node_rot=stack("A"),
        node_rot_sin=stack("S"),
        node_rot_cos=stack("C"),
        node_pos=stack("a"),
        node_pos_sin=stack("s"),
        node_pos_cos=stack("c"),
        node_pos_lin=stack("l"),
    )
    q_scale = np.array([nodes[i]["scale"] for i in order], np.float64)
    q_offset = np.array([nodes[i]["offset"] for i in order], np.float64)
    q_joint = np.array([nodes[i]["joint"] for i in order], np.int64)

    # The root's file orientation is the standing one (a y-up tree stood up by its root's
    # euler): rest-pose geometry and the default root pose use it.
    root_rot = np.asarray(bodies[0].rot, np.float64)

    def body_poses(q: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        q_node = np.concatenate([np.asarray(q, np.float64), [0.0]])[q_joint] * q_scale + q_offset
        rot, pos = sweep_levels(
            level_ranges, level_parents, root_rot, np.zeros(3), *local_transforms(tables, q_node)
        )
        out = [(root_rot, np.zeros(3))]
        out += [(rot[new_id[n]], pos[new_id[n]]) for n in body_last_node[1:]]
        return out

    # --- capsules ------------------------------------------------------------------------
    # A file whose only collision shapes are on the feet (contact points under the soles,
    # everything else drawn with visual-only meshes: Atlas in MuJoCo Menagerie) would leave
    # knees, hands and trunk with nothing to keep out of the floor or out of each other: its
    # visually drawn bodies get bones as mesh-only bodies do.
    on_feet = set().union(*(welded_bodies(index_of[f], bodies) for f in feet if f in index_of))
    feet_only = all(bi in on_feet for bi, body in enumerate(bodies) if body.geoms)
    cap_body, cap_p0, cap_p1, cap_r, cap_names = [], [], [], [], []
    for bi, body in enumerate(bodies):
        prims = [g for g in body.geoms if g.kind != "mesh"]
        caps = [(g.name, c) for g in prims for c in geom_capsules(g)]
        drawn_only = feet_only and not body.geoms and body.visual_shapes
        if drawn_only or (not prims and any(g.kind == "mesh" for g in body.geoms)):
            caps = [("bone", c) for c in bone_capsules(bi, bodies)]
        for gname, (p0, p1, r) in caps:
            cap_body.append(bi)
            cap_p0.append(p0)
            cap_p1.append(p1)
            cap_r.append(r)
            cap_names.append(f"{body.name}/{gname}")

    # --- feet and soles ------------------------------------------------------------------
    for foot in feet:
        if foot not in index_of:
            raise KeyError(f"foot body {foot!r} not in robot; bodies: {', '.join(body_names)}")
    foot_body = (index_of[feet[0]], index_of[feet[1]])
    zero_poses = body_poses(np.zeros(n_act))
    if sole_points is None:
        # Soles are measured with x forward: the zero pose turned by -facing about z.
        c, s = np.cos(facing), np.sin(facing)
        turn = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])
        facing_poses = [(turn @ R, turn @ t) for R, t in zero_poses]
        sole_points = np.stack(
            [
                sole_from_inertia(fb, bodies, facing_poses)
                if mesh_only_foot(fb, bodies)
                else sole_from_capsules(fb, bodies, facing_poses, cap_body, cap_p0, cap_p1, cap_r)
                for fb in foot_body
            ]
        )

    for side, fb in enumerate(foot_body):  # mesh-only feet whose shapes end above the sole
        for p0, p1, r in sole_rails(
            fb, bodies, zero_poses, sole_points[side], cap_body, cap_p0, cap_p1, cap_r
        ):
            cap_body.append(fb)
            cap_p0.append(p0)
            cap_p1.append(p1)
            cap_r.append(r)
            cap_names.append(f"{body_names[fb]}/sole_rail")
    cap_p0_arr = np.asarray(cap_p0, dtype=np.float64).reshape(-1, 3)
    cap_p1_arr = np.asarray(cap_p1, dtype=np.float64).reshape(-1, 3)
    cap_r_arr = np.asarray(cap_r, dtype=np.float64)

    # --- keypoints and sites -------------------------------------------------------------
    keypoints = dict(keypoints)
    for side, fb in zip(("left", "right"), foot_body):
        if f"{side}_toe" not in keypoints:  # the front centre of the sole
            keypoints[f"{side}_toe"] = (
                body_names[fb],
                0.5 * (sole_points[int(side == "right")][0] + sole_points[int(side == "right")][1]),
            )
    kp_names, kp_body, kp_offset = [], [], []
    for kname in CANONICAL_KEYPOINTS:
        if kname not in keypoints:
            continue
        bname, offset = keypoints[kname]
        if bname not in index_of:
            raise KeyError(
                f"keypoint {kname!r} names unknown body {bname!r}; bodies: {', '.join(body_names)}"
            )
        kp_names.append(kname)
        kp_body.append(index_of[bname])
        kp_offset.append(np.asarray(offset, dtype=np.float64))
    site_names, site_body, site_offset = [], [], []
    for bi, body in enumerate(bodies):
        for sname, spos in body.sites.items():
            site_names.append(sname)
            site_body.append(bi)
            site_offset.append(spos)
    for kname, kb, ko in zip(kp_names, kp_body, kp_offset):
        site_names.append(f"kp:{kname}")
        site_body.append(kb)
        site_offset.append(ko)

    # --- default root height: lowest sole point on z = 0 -----------------------------------
    default_poses = body_poses(default_q)
    lowest = min(
        (default_poses[fb][0] @ p + default_poses[fb][1])[2]
        for side, fb in enumerate(foot_body)
        for p in sole_points[side]
    )
    default_root = np.array([0.0, 0.0, -lowest])

    # --- collision pairs -----------------------------------------------------------------
    def world_caps(poses):
        p0 = np.array([poses[b][0] @ p + poses[b][1] for b, p in zip(cap_body, cap_p0)])
        p1 = np.array([poses[b][0] @ p + poses[b][1] for b, p in zip(cap_body, cap_p1)])
        return p0.reshape(-1, 3), p1.reshape(-1, 3)

    zw, dw = world_caps(zero_poses), world_caps(default_poses)
    pairs = capsule_pairs(
        bodies, cap_body, [zw[0], dw[0]], [zw[1], dw[1]], cap_r_arr, desc.excluded_pairs
    )

    body_node = tuple(new_id[body_last_node[b]] for b in range(len(bodies)))
    np_dtype = np.dtype(dtype)

    def f(x) -> jax.Array:
        # Cast on the host: a device-side cast would compile one XLA op per shape.
        return jnp.asarray(np.asarray(x, dtype=np.float64).astype(np_dtype))

    with jax.ensure_compile_time_eval():
        model = RobotModel(
            name=name or desc.name,
            body_names=body_names,
            body_parents=body_parents,
            joint_names=joint_names,
            joint_body=tuple(bi for bi, _ in actuated),
            joint_kind=tuple(j.kind for _, j in actuated),
            keypoint_names=tuple(kp_names),
            keypoint_body=tuple(kp_body),
            foot_body=foot_body,
            capsule_body=tuple(cap_body),
            capsule_names=tuple(cap_names),
            site_names=tuple(site_names),
            site_body=tuple(site_body),
            level_ranges=tuple(level_ranges),
            level_parents=tuple(level_parents),
            body_node=body_node,
            node_joint=tuple(int(nodes[i]["joint"]) for i in order),
            source=str(desc.path),
            joint_lower=f(lower),
            joint_upper=f(upper),
            velocity_limit=f(velocity),
            default_joint_pos=f(default_q),
            default_root_pos=f(default_root),
            default_root_quat=f(_quat_wxyz(root_rot)),
            keypoint_offset=f(np.asarray(kp_offset).reshape(-1, 3)),
            sole_points=f(sole_points),
            capsule_p0=f(cap_p0_arr),
            capsule_p1=f(cap_p1_arr),
            capsule_radius=f(cap_r_arr),
            collision_pairs=jnp.asarray(pairs, dtype=jnp.int32),
            site_offset=f(np.asarray(site_offset).reshape(-1, 3)),
            node_rot=f(stack("A")),
            node_rot_sin=f(stack("S")),
            node_rot_cos=f(stack("C")),
            node_pos=f(stack("a")),
            node_pos_sin=f(stack("s")),
            node_pos_cos=f(stack("c")),
            node_pos_lin=f(stack("l")),
            node_q_scale=f([nodes[i]["scale"] for i in order]),
            node_q_offset=f([nodes[i]["offset"] for i in order]),
        )
    return model
